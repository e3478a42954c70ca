package btyd

import (
	"context"
	"math"
	"testing"
)

var cdnowPareto = ParetoNBD{R: 0.553, Alpha: 10.58, S: 0.606, Beta: 11.67}

func TestParetoNBDRecoversParameters(t *testing.T) {
	// Simulate Pareto/NBD customers directly: exponential lifetimes.
	rng := newRand(31)
	truth := ParetoNBD{R: 0.8, Alpha: 8, S: 0.7, Beta: 12}
	var cs []customer
	for range 3000 {
		T := 30 + 40*rng.Float64()
		lambda := gammaVariate(rng, truth.R) / truth.Alpha
		life := rng.ExpFloat64() / (gammaVariate(rng, truth.S) / truth.Beta)
		var c customer
		c.T = T
		for t := rng.ExpFloat64() / lambda; t < math.Min(T, life); t += rng.ExpFloat64() / lambda {
			c.X, c.Tx = c.X+1, t
		}
		cs = append(cs, c)
	}
	_, rep, err := FitParetoNBD(context.Background(), summaries(cs), FitOptions{})
	if err != nil {
		t.Fatalf("FitParetoNBD: %v", err)
	}
	checkRecovered(t, rep, truth.Params())
}

func TestParetoNBDPAlive(t *testing.T) {
	m := cdnowPareto
	recent, silent := m.PAlive(5, 38, 39), m.PAlive(5, 3, 39)
	if !(recent > 0.8 && recent <= 1 && silent >= 0 && silent < recent) {
		t.Errorf("PAlive(5, 38, 39) = %.3f and PAlive(5, 3, 39) = %.3f; want a recent buyer near 1 and a silent one lower", recent, silent)
	}
	if p := m.PAlive(0, 0, 39); !(p > 0 && p < 1) {
		t.Errorf("PAlive(0, 0, 39) = %.3f; want strictly between 0 and 1 (Pareto/NBD customers can leave without buying)", p)
	}
}
