// Package live runs the prediction models of package predict and its
// subpackages inside Mosaic: it gathers each profile's orders and
// engagement from the profile stage (Observer, an engine.ProfileObserver),
// fits the models on demand and on a schedule (Service.Fit), and keeps the
// predicted traits of the latest fit for the API and for audience
// conditions (Service.Predicted).
//
// The models themselves stay pure libraries; this package is where they
// meet the store, the clock and the engine. docs/predictions.md describes
// the traits for the people who read them.
package live
