// Package mosaic is the dictionary of the Mosaic customer data platform: the
// domain types every part shares and the small contracts between parts.
//
// Data flows one way:
//
//	SDKs / HTTP ──► collect ──► event log (durable, the truth) ──► engine
//	                                                                │
//	                         dedupe ─► identity ─► profile ─► audiences ─► activate
//
// collect validates and normalises Segment-spec calls and appends them to the
// event log (package eventlog), answering only once they are durable. The
// engine tails the log in sequence order and derives everything else from it;
// its first stage removes duplicates by (source, messageId). The store
// (package store, with store/sqlite) holds configuration, checkpoints of
// derived state and everything the admin API (package api) queries.
//
// This package imports nothing from the module and no driver.
package mosaic
