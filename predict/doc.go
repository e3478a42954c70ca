// Package predict turns customers' histories into predictions a marketer can
// act on: how many more times a customer will buy and what that is worth
// (package btyd), whether they will buy in the next 30 days (package
// propensity), what to suggest to them (package recommend), and, here, the
// small pure functions around those models: the purchase summary the
// buy-till-you-die models read, RFM scores and segments, churn risk, the best
// channel and the best hour of the week to reach a customer.
//
// Everything in this tree is a pure library over plain Go values: no storage,
// no HTTP, no clock. The engine gathers each profile's orders and engagement
// events, calls these functions and writes the results as predicted traits.
// docs/predictions.md explains each prediction for the people who read them.
package predict
