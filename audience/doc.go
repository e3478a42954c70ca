// Package audience is the condition language of audiences: the JSON tree
// that is stored, the text form people type, and the evaluator that decides
// whether a profile matches at a given moment and when that answer can next
// change by time alone.
//
// The package is pure: it knows nothing of storage or of how profiles are
// built. The engine implements [Subject] over a profile and calls
// [Evaluate]; [Dependencies] tells it which audiences an update can affect;
// the timer it keeps per profile is [Result.NextChange].
//
// The two forms convert both ways without loss:
//
//	tree, err := audience.Decode(jsonBytes) // or audience.Parse(text)
//	text := audience.Format(tree)          // tree.MarshalJSON() gives the JSON back
//
// docs/audiences.md describes the language for its users.
package audience
