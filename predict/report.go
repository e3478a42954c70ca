package predict

import "time"

// ModelReport describes one fitted model so that a marketer or an operator
// can see what the predictions on a profile came from and how good they are.
// Every fit in this tree returns one.
type ModelReport struct {
	// Name identifies the model, e.g. "bgnbd", "gamma_gamma",
	// "purchase_propensity".
	Name string
	// Params holds the fitted parameters under their names in the
	// literature: BG/NBD r, alpha, a, b; Gamma-Gamma p, q, gamma;
	// Pareto/NBD r, alpha, s, beta.
	Params map[string]float64
	// LogLikelihood is the maximised log-likelihood over the whole data set
	// (not per customer), comparable with published figures. Zero for models
	// not fitted by maximum likelihood.
	LogLikelihood float64
	// FitAt is when the fit ran; AsOf is the date the data were cut at and
	// treated as now.
	FitAt, AsOf time.Time
	// N is the number of customers (or examples) the model was fitted on.
	N int
	// Quality holds the model's quality figures, documented per model in
	// docs/predictions.md (for example "auc" and "brier" for propensity).
	Quality map[string]float64
}
