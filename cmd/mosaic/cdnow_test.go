package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestCDNOWThroughTheProduct reproduces the published BG/NBD and
// Gamma-Gamma results from the raw CDNOW log through Mosaic's own import
// and API: the log imported as "Order Completed" events, a fit as of the
// end of the 39-week calibration period, the parameters read from
// GET /api/v1/predictions/models (Fader, Hardie & Lee 2005; Fader &
// Hardie 2013). The predict package checks the models alone; this checks
// what a user of Mosaic gets.
func TestCDNOWThroughTheProduct(t *testing.T) {
	// The shared data sits next to the repository (see docs/predictions.md).
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "cdnow", "cdnowElog.csv"))
	if err != nil {
		t.Fatalf("the CDNOW data set is missing (%v); check out the shared data next to the repository so that ../shared/data/cdnow holds cdnowElog.csv", err)
	}
	// A row number makes each row its own order: a customer may have two
	// identical rows (same day, same amount), which are two purchases.
	var csv bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for i := 0; sc.Scan(); i++ {
		if i == 0 {
			fmt.Fprintf(&csv, "%s,row\n", sc.Text())
			continue
		}
		fmt.Fprintf(&csv, "%s,%d\n", sc.Text(), i)
	}
	file := filepath.Join(t.TempDir(), "cdnowElog.csv")
	if err := os.WriteFile(file, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	m := startMain(t, "--data", t.TempDir(), "--predict-every", "0")
	createSource(t, m, "cdnow")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"import", "--server", m.URL(), "--admin-token", testToken, "--source", "cdnow",
		"--event", "Order Completed", "--map", "user_id=masterid,timestamp=date,revenue=sales", "--key", "row", file}, &stdout, &stderr); code != 0 {
		t.Fatalf("mosaic import = %d: %s %s", code, stdout.String(), stderr.String())
	}
	waitProfiles(t, m)
	if code := run([]string{"predict", "fit", "--as-of", "1997-09-30", "--server", m.URL(), "--admin-token", testToken}, &stdout, &stderr); code != 0 {
		t.Fatalf("mosaic predict fit --as-of 1997-09-30 = %d: %s", code, stderr.String())
	}
	models := checkModels(t, m, 1, false)
	for _, tc := range []struct {
		model, param string
		want         float64
	}{
		{"bgnbd", "r", 0.243}, {"bgnbd", "alpha", 4.414}, {"bgnbd", "a", 0.793}, {"bgnbd", "b", 2.426},
		{"gamma_gamma", "p", 6.25}, {"gamma_gamma", "q", 3.74}, {"gamma_gamma", "gamma", 15.44},
	} {
		if got := models[tc.model].Params[tc.param]; math.Abs(got-tc.want) > 0.01 {
			t.Errorf("%s %s = %.4f, want %.3f ± 0.01 as published", tc.model, tc.param, got, tc.want)
		}
	}
	if got := models["bgnbd"].LogLikelihood; math.Abs(got-(-9582.4)) > 0.5 {
		t.Errorf("bgnbd log-likelihood = %.2f, want -9582.4 as published", got)
	}
	if n := models["bgnbd"].N; n != 2357 {
		t.Errorf("bgnbd fitted on %d customers, want the 2,357 of the CDNOW sample", n)
	}
}
