// Package btyd holds the buy-till-you-die models of customer-base analysis:
// BG/NBD for how many purchases a customer will make and whether they are
// still active (Fader, Hardie & Lee 2005, "Counting your customers the easy
// way"), Pareto/NBD for the same questions in its original form
// (Schmittlein, Morrison & Colombo 1987), and Gamma-Gamma for how much each
// purchase is worth (Fader, Hardie & Lee 2005, "RFM and CLV: Using iso-value
// curves for customer base analysis"), combined into customer lifetime value
// by a Scorer.
//
// Models are fitted by maximum likelihood over the log of their parameters,
// so that they stay positive: Nelder-Mead finds the basin, BFGS with the
// analytic gradient polishes it. Likelihoods are computed in log space.
// Customers with the same (x, t_x, T) share one likelihood term, which makes
// fits on data dated by day fast however many customers there are.
package btyd
