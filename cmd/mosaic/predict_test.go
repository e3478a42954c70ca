package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	segment "github.com/segmentio/analytics-go/v3"
)

// sendShop sends, with the real Segment SDK, the history of n customers
// of a shop over the year before now: orders with products and revenue,
// email and push deliveries and opens, page views. Even customers open
// their pushes and odd ones their emails, at 19:00 UTC on Tuesdays; the
// first 40% stop buying after the first half of the year. Customers fall
// into five groups that buy pairs of products from their own part of the
// catalogue. It returns each
// customer's bought products.
func sendShop(t *testing.T, m *Main, writeKey string, n int, now time.Time) map[string][]string {
	t.Helper()
	seg, err := segment.NewWithConfig(writeKey, segment.Config{Endpoint: m.URL(), Interval: 20 * time.Millisecond, BatchSize: 250})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var products []string
	for i := range 40 {
		products = append(products, fmt.Sprintf("sku-%02d", i))
	}
	bought := map[string][]string{}
	start := now.Add(-365 * 24 * time.Hour)
	tuesday := time.Date(2020, 1, 7, 19, 0, 0, 0, time.UTC) // a Tuesday
	for c := range n {
		user := fmt.Sprintf("c%d", c)
		end := now
		if c < n*4/10 {
			end = start.Add(180 * 24 * time.Hour)
		}
		rate := 0.02 + rng.Float64()*0.06 // purchases per day
		for day := start.Add(time.Duration(rng.IntN(60*24)) * time.Hour); day.Before(end); day = day.Add(time.Duration(24/rate*float64(time.Hour)*expGap(rng)) + time.Hour) {
			pair := (c%5)*4 + rng.IntN(4) // five groups of customers with their own tastes
			items := []string{products[2*pair], products[2*pair+1]}
			bought[user] = append(bought[user], items...)
			_ = seg.Enqueue(segment.Track{UserId: user, Event: "Order Completed", Timestamp: day,
				Properties: segment.NewProperties().SetRevenue(20+rng.Float64()*40).
					Set("products", []map[string]any{{"product_id": items[0]}, {"product_id": items[1]}})})
			_ = seg.Enqueue(segment.Page{UserId: user, Name: "Checkout", Timestamp: day.Add(-time.Minute)})
		}
		for k := range 6 {
			sent := now.Add(-time.Duration(k*7+1) * 24 * time.Hour)
			open := tuesday.AddDate(0, 0, 7*((int(sent.Sub(tuesday).Hours())/24)/7))
			_ = seg.Enqueue(segment.Track{UserId: user, Event: "Email Delivered", Timestamp: sent})
			_ = seg.Enqueue(segment.Track{UserId: user, Event: "Push Delivered", Timestamp: sent})
			favourite, other := "Push Opened", "Email Opened"
			if c%2 == 1 {
				favourite, other = other, favourite
			}
			if k < 5 {
				_ = seg.Enqueue(segment.Track{UserId: user, Event: favourite, Timestamp: open})
			}
			if k == 0 {
				_ = seg.Enqueue(segment.Track{UserId: user, Event: other, Timestamp: open.Add(-5 * time.Hour)})
			}
		}
	}
	if err := seg.Close(); err != nil {
		t.Fatal(err)
	}
	return bought
}

// expGap returns an exponential variate with mean 1: the gaps between
// purchases of a Poisson process.
func expGap(rng *rand.Rand) float64 { return rng.ExpFloat64() }

// waitProfiles waits until the profile stage has applied every event in
// the log.
func waitProfiles(t *testing.T, m *Main) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for m.Profiles.Processed() < m.Log.LastSeq() {
		select {
		case <-ctx.Done():
			t.Fatalf("profiles at %d of %d events after 30s", m.Profiles.Processed(), m.Log.LastSeq())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type predictedProfile struct {
	ID        string         `json:"id"`
	Predicted map[string]any `json:"predicted"`
}

// TestPredictionsEndToEnd: orders and engagement sent with the real SDK,
// a fit run with the real CLI, and the predicted traits on the profiles,
// their explanations, the models and the recommendations through the API;
// a restart keeps them, and a backtest as of a past date sees only what
// was known then.
func TestPredictionsEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		dir := t.TempDir()
		m := startMain(t, append([]string{"--data", dir, "--predict-every", "0"}, serveArgs...)...)
		src := createSource(t, m, "shop")
		now := time.Now().UTC()
		const customers = 150
		bought := sendShop(t, m, src.WriteKey, customers, now)
		waitProfiles(t, m)
		// An audience on a predicted trait, made before any fit: empty
		// until the fit, which makes it fill.
		if status, body := do(t, "POST", m.URL()+"/api/v1/audiences", adminHeader(),
			`{"key":"predicted_any","condition":{"trait":"predicted.churn_risk","op":">=","value":0}}`); status != 201 {
			t.Fatalf("create an audience on predicted.churn_risk = %d %s", status, body)
		}
		poll(t, m, "/api/v1/audiences/predicted_any/members", "empty before the fit", func(b []byte) bool { return strings.Contains(string(b), `"total":0`) })

		var stdout, stderr bytes.Buffer
		if code := run([]string{"predict", "fit", "--server", m.URL(), "--admin-token", testToken}, &stdout, &stderr); code != 0 {
			t.Fatalf("mosaic predict fit = %d: %s", code, stderr.String())
		}
		if !strings.Contains(stdout.String(), fmt.Sprintf("predicted traits for %d profiles", customers)) {
			t.Errorf("mosaic predict fit printed %q, want traits for %d profiles", stdout.String(), customers)
		}

		checkModels(t, m, 1, true)
		for _, c := range []int{0, 1, customers - 2, customers - 1} {
			checkPredicted(t, m, fmt.Sprintf("c%d", c), c, bought)
		}
		churned, active := meanChurn(t, m, 0, customers*4/10), meanChurn(t, m, customers*4/10, customers)
		if !(churned > active+0.1) {
			t.Errorf("mean churn_risk of customers who stopped buying = %.3f, of active ones %.3f; want the first clearly higher", churned, active)
		}
		checkExplanations(t, m, "user_id:c3")

		// The audience made before the fit fills with every customer; one
		// made now at the midpoint holds exactly those at or above it.
		poll(t, m, "/api/v1/audiences/predicted_any/members", "filled by the fit", func(b []byte) bool {
			return strings.Contains(string(b), fmt.Sprintf(`"total":%d`, customers))
		})
		threshold := (churned + active) / 2
		want := 0
		for c := range customers {
			if churnRisk(t, m, c) >= threshold {
				want++
			}
		}
		if want == 0 || want == customers {
			t.Fatalf("%d of %d customers at or above churn_risk %.3f: the check would prove nothing", want, customers, threshold)
		}
		if status, body := do(t, "POST", m.URL()+"/api/v1/audiences", adminHeader(),
			fmt.Sprintf(`{"key":"at_risk","condition":{"trait":"predicted.churn_risk","op":">=","value":%g}}`, threshold)); status != 201 {
			t.Fatalf("create at_risk = %d %s", status, body)
		}
		poll(t, m, "/api/v1/audiences/at_risk/members", fmt.Sprintf("%d members", want), func(b []byte) bool {
			return strings.Contains(string(b), fmt.Sprintf(`"total":%d`, want))
		})

		// Bad input is refused with a clear message.
		for _, body := range []string{`{"as_of":"tomorrow"}`, `{"as_of":"` + now.AddDate(0, 1, 0).Format(time.DateOnly) + `"}`, `{"asof":"2020-01-01"}`} {
			if status, resp := do(t, "POST", m.URL()+"/api/v1/predictions/fit", adminHeader(), body); status != 400 {
				t.Errorf("POST /predictions/fit %s = %d %s, want 400", body, status, resp)
			}
		}

		// A restart keeps the predictions, and the activity for the next fit.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Fatal(err)
		}
		m = startMain(t, append([]string{"--data", dir, "--predict-every", "0"}, serveArgs...)...)
		getProfile(t, m, "user_id:c1", func(profileJSON) bool { return true }) // loaded
		waitProfiles(t, m)
		checkPredicted(t, m, "c1", 1, bought)
		asOf := now.AddDate(0, -2, 0).Format(time.DateOnly)
		stdout.Reset()
		if code := run([]string{"predict", "fit", "--as-of", asOf, "--server", m.URL(), "--admin-token", testToken}, &stdout, &stderr); code != 0 {
			t.Fatalf("mosaic predict fit --as-of %s = %d: %s", asOf, code, stderr.String())
		}
		models := checkModels(t, m, 2, false)
		if got := models["bgnbd"].AsOf.Format(time.DateOnly); got != asOf {
			t.Errorf("bgnbd as_of = %s, want %s", got, asOf)
		}
		if models["bgnbd"].N != customers {
			t.Errorf("bgnbd fitted on %d customers after a restart, want %d: the activity was not kept", models["bgnbd"].N, customers)
		}
	})
}

type modelJSON struct {
	Name    string             `json:"name"`
	Version int                `json:"version"`
	Status  string             `json:"status"`
	Error   string             `json:"error"`
	Params  map[string]float64 `json:"params"`
	// LogLikelihood of the fit.
	LogLikelihood float64            `json:"log_likelihood"`
	AsOf          time.Time          `json:"as_of"`
	FitAt         time.Time          `json:"fit_at"`
	N             int                `json:"n"`
	Quality       map[string]float64 `json:"quality"`
}

// checkModels checks the latest fit's models; with all, that every model
// was fitted with its parameters (a backtest before any message was sent
// has no channel rates).
func checkModels(t *testing.T, m *Main, version int, all bool) map[string]modelJSON {
	t.Helper()
	status, body := do(t, "GET", m.URL()+"/api/v1/predictions/models", adminHeader(), "")
	var out struct{ Models []modelJSON }
	if err := json.Unmarshal(body, &out); status != 200 || err != nil {
		t.Fatalf("GET /predictions/models = %d %s", status, body)
	}
	byName := map[string]modelJSON{}
	for _, md := range out.Models {
		byName[md.Name] = md
		if md.Version != version || md.Status != "ok" || md.FitAt.IsZero() {
			t.Errorf("model %s = version %d, status %s (%s); want version %d, ok", md.Name, md.Version, md.Status, md.Error, version)
		}
	}
	want := map[string][]string{"bgnbd": {"r", "alpha", "a", "b"}, "gamma_gamma": {"p", "q", "gamma"},
		"purchase_propensity": {"intercept"}, "item_to_item": {"neighbours"}, "rfm": nil, "churn": nil, "best_channel": {"rate_email", "rate_push"}, "best_hour": nil}
	for name, params := range want {
		if !all && name != "bgnbd" {
			continue
		}
		md, ok := byName[name]
		if !ok {
			t.Errorf("models = %v, want %s among them", out.Models, name)
			continue
		}
		for _, p := range params {
			if _, ok := md.Params[p]; !ok {
				t.Errorf("model %s params = %v, want %s", name, md.Params, p)
			}
		}
	}
	if auc := byName["purchase_propensity"].Quality["auc"]; all && !(auc > 0.5 && auc <= 1) {
		t.Errorf("purchase_propensity auc = %v, want a holdout AUC", auc)
	}
	return byName
}

// checkPredicted checks the predicted traits on customer c's profile.
func checkPredicted(t *testing.T, m *Main, user string, c int, bought map[string][]string) {
	t.Helper()
	var p predictedProfile
	status, body := do(t, "GET", m.URL()+"/api/v1/profiles/user_id:"+user, adminHeader(), "")
	if err := json.Unmarshal(body, &p); status != 200 || err != nil {
		t.Fatalf("GET profile %s = %d %s", user, status, body)
	}
	for _, name := range []string{"p_alive", "purchases_90d", "clv_365d", "churn_risk", "purchase_30d", "rfm_r", "rfm_f", "rfm_m"} {
		if v, ok := p.Predicted[name].(float64); !ok || v < 0 {
			t.Errorf("%s: predicted.%s = %v, want a number", user, name, p.Predicted[name])
		}
	}
	for _, name := range []string{"p_alive", "churn_risk", "purchase_30d"} {
		if v, _ := p.Predicted[name].(float64); v > 1 {
			t.Errorf("%s: predicted.%s = %v, want a probability", user, name, v)
		}
	}
	if seg, _ := p.Predicted["rfm_segment"].(string); seg == "" {
		t.Errorf("%s: predicted.rfm_segment = %v, want a segment", user, p.Predicted["rfm_segment"])
	}
	wantChannel := "push"
	if c%2 == 1 {
		wantChannel = "email"
	}
	if p.Predicted["best_channel"] != wantChannel {
		t.Errorf("%s: predicted.best_channel = %v, want %s", user, p.Predicted["best_channel"], wantChannel)
	}
	if p.Predicted["best_hour"] != float64(24+19) {
		t.Errorf("%s: predicted.best_hour = %v, want 43 (Tue 19:00)", user, p.Predicted["best_hour"])
	}
	recs, _ := p.Predicted["recommended_products"].([]any)
	if len(recs) == 0 {
		t.Errorf("%s: predicted.recommended_products = %v, want products", user, p.Predicted["recommended_products"])
	}
	for _, r := range recs {
		if slices.Contains(bought[user], r.(string)) {
			t.Errorf("%s: recommended %v, which they bought already", user, r)
		}
	}
	status, body = do(t, "GET", m.URL()+"/api/v1/profiles/user_id:"+user+"/recommendations?limit=2", adminHeader(), "")
	var rr struct {
		Recommendations []struct{ Product string } `json:"recommendations"`
	}
	if err := json.Unmarshal(body, &rr); status != 200 || err != nil || len(rr.Recommendations) == 0 || len(rr.Recommendations) > 2 {
		t.Errorf("GET recommendations?limit=2 of %s = %d %s, want 1 or 2", user, status, body)
	}
}

func meanChurn(t *testing.T, m *Main, from, to int) float64 {
	t.Helper()
	var sum float64
	for c := from; c < to; c++ {
		sum += churnRisk(t, m, c)
	}
	return sum / float64(to-from)
}

// churnRisk returns customer c's predicted churn_risk.
func churnRisk(t *testing.T, m *Main, c int) float64 {
	t.Helper()
	var p predictedProfile
	_, body := do(t, "GET", m.URL()+fmt.Sprintf("/api/v1/profiles/user_id:c%d", c), adminHeader(), "")
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p.Predicted["churn_risk"].(float64)
}

func checkExplanations(t *testing.T, m *Main, ref string) {
	t.Helper()
	status, body := do(t, "GET", m.URL()+"/api/v1/profiles/"+ref+"/predictions", adminHeader(), "")
	var out struct {
		Version int `json:"version"`
		Traits  map[string]struct {
			Value  any            `json:"value"`
			Model  string         `json:"model"`
			Inputs map[string]any `json:"inputs"`
		} `json:"traits"`
	}
	if err := json.Unmarshal(body, &out); status != 200 || err != nil || out.Version != 1 {
		t.Fatalf("GET %s/predictions = %d %s", ref, status, body)
	}
	for name, want := range map[string][]string{
		"p_alive": {"x", "t_x_weeks", "T_weeks"}, "clv_365d": {"expected_order_value"},
		"churn_risk": {"purchase_risk", "engagement_risk"}, "purchase_30d": {"features", "top_contributions"},
		"rfm_segment": {"recency_days", "frequency", "monetary"}, "best_channel": {"email", "push"},
		"best_hour": {"label"}, "recommended_products": {"recommendations"},
	} {
		tr, ok := out.Traits[name]
		if !ok || tr.Model == "" {
			t.Errorf("%s/predictions: trait %s = %+v, want it with its model", ref, name, tr)
			continue
		}
		for _, in := range want {
			if _, ok := tr.Inputs[in]; !ok {
				t.Errorf("%s/predictions: %s inputs = %v, want %s", ref, name, tr.Inputs, in)
			}
		}
	}
	if status, body := do(t, "GET", m.URL()+"/api/v1/profiles/user_id:nobody/predictions", adminHeader(), ""); status != 404 {
		t.Errorf("predictions of an unknown profile = %d %s, want 404", status, body)
	}
}
