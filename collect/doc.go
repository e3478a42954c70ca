// Package collect is Mosaic's Segment-compatible HTTP Tracking API: it
// takes identify, track, page, screen, group and alias calls from any
// Segment or RudderStack SDK, validates and normalises them, and answers
// 200 only once they are durably in the event log.
//
// # Endpoints
//
// Mounted at /v1/. Every endpoint takes POST, and OPTIONS for a CORS
// preflight:
//
//	/v1/identify  /v1/i      one identify call
//	/v1/track     /v1/t      one track call
//	/v1/page      /v1/p      one page call
//	/v1/screen    /v1/s      one screen call
//	/v1/group     /v1/g      one group call
//	/v1/alias     /v1/a      one alias call
//	/v1/batch     /v1/import {"batch": [messages], "context", "integrations", "sentAt", "writeKey"}
//
// The one-letter paths are the ones analytics.js (analytics-next) posts to.
// A single call's type comes from the path (a "type" in its body is
// ignored); a batch item's from its own "type".
//
// Success is 200 with {"success": true}. If some messages of a batch were
// rejected, it is still 200, with their list:
//
//	{"success": true, "rejected": [{"index": 3, "code": "missing_identity", "message": "..."}]}
//
// Errors are {"error": {"code": "...", "message": "..."}}; the message says
// what is wrong and what to do.
//
// # Authentication
//
// HTTP Basic with the source's write key as user name and an empty password
// (base64 of "<key>:"; a key encoded without the colon works too), or a
// "writeKey" string field in the body (a single call's body or the batch's
// top level). If both are given, the header wins. An admin token
// (Authorization: Bearer) is never accepted here.
//
// # CORS
//
// Every response, errors included, has Access-Control-Allow-Origin (the
// request's Origin, or * without one) and exposes Retry-After. A preflight
// is answered 204 with Allow-Methods POST, Allow-Headers echoing
// Access-Control-Request-Headers (or naming Authorization, Content-Type,
// Content-Encoding and X-Retry-Count) and Max-Age 86400.
//
// # Bodies and limits
//
// JSON, UTF-8, as application/json, text/plain (sendBeacon and
// analytics.js send it), application/x-www-form-urlencoded (the RudderStack
// Node SDK labels its gzipped JSON so), application/octet-stream, any +json
// type, or without Content-Type; Content-Encoding gzip (the
// RudderStack SDKs) or none. Limits (Options):
//
//	body, as sent and inflated    500 KiB   413 too_large
//	one message (as received)      32 KiB   rejected: too_large
//	messages in a batch             2,500   413 too_large
//	batch context + integrations    8 KiB   413 too_large (they are copied into every message)
//	nesting in a message               32   rejected: too_deep (the message object counts 1)
//	in flight at once                 512   429 too_many_requests, Retry-After: 1
//
// # Problems with the whole request
//
// Nothing is stored and nothing quarantined:
//
//	401 unauthorized       no write key, an unknown or deleted one, a Bearer token
//	404 not_found          no such endpoint
//	405 method_not_allowed not POST or OPTIONS
//	413 too_large          body, batch size or batch context over the limits
//	415 unsupported_media  a Content-Type none of those above (e.g. application/xml)
//	400 bad_encoding       a Content-Encoding other than gzip, or corrupt gzip
//	400 invalid_json       not JSON, or not UTF-8 (anywhere in the body)
//	400 invalid_field      a body that is not an object; "batch" not an array; the
//	                       batch's context or integrations not objects, or its sentAt
//	                       not a date-time
//	400 too_deep           the batch's context or integrations nest too deep
//	400 empty_batch        no "batch" array, or an empty one
//	429 too_many_requests  too many requests in flight; Retry-After: 1
//	503 unavailable        disk full, event log or store failing; Retry-After: 5.
//	                       Nothing is acknowledged: retry.
//
// # Problems with one message
//
// Checked in this order, the first one found is reported. The message is
// kept in its source's quarantine (index, code, reason and the raw bytes). In
// a batch the others are stored and the answer is 200 listing the rejected
// indexes; if every message was rejected it is 400 all_rejected with the
// same list. A single call is answered with the code's status: 413 for
// too_large, 400 for the others.
//
//	invalid_field     a batch item that is not an object
//	too_large         over 32 KiB
//	too_deep          nested more than 32 levels
//	invalid_field     a \u0000 escape or an unpaired surrogate escape (\uD800-\uDFFF)
//	                  in any key or string (Mosaic refuses them so that every store
//	                  keeps the same data: PostgreSQL's jsonb cannot hold \u0000),
//	                  or a known field of the wrong type: userId, anonymousId,
//	                  previousId, groupId (string or number); type, messageId, event,
//	                  name, category, timestamp, sentAt (string);
//	                  context, integrations, properties, traits (object). null is
//	                  always allowed and means absent. Fields are checked in the
//	                  order they come.
//	unknown_type      a batch item without "type", or not one of identify, track,
//	                  page, screen, group, alias (lower case)
//	missing_identity  neither userId nor anonymousId (a non-empty string or a
//	                  number); for alias, no userId
//	invalid_field     alias without previousId, group without groupId
//	missing_event     track without a non-empty "event"
//	invalid_field     timestamp or sentAt not an ISO-8601 date-time, or so far
//	                  apart that the corrected timestamp leaves the years 1-9999
//
// # What is stored
//
// Each accepted message becomes one log record (mosaic.Event, its Message
// the normalised JSON):
//
//   - "type" and "messageId" first; messageId is the client's, or a random
//     UUID if it is missing, null or empty. Duplicate messageIds are stored:
//     deduplication happens after the log.
//   - every other field as sent, byte for byte and in order: context,
//     integrations, properties, traits and unknown fields are never decoded.
//     Numeric ids stay numbers. A field given twice keeps its last value.
//   - in a batch, the top-level context and integrations are merged into each
//     message's own (the message's keys win), and the batch's sentAt applies
//     to messages without their own.
//   - "originalTimestamp": the client's timestamp as sent, if it sent one.
//   - "timestamp": corrected for the client's clock skew, receivedAt -
//     (sentAt - timestamp), when there is a sentAt; the client's timestamp
//     when there is none; receivedAt when the client sent no timestamp.
//     Future timestamps are not clamped (Segment does not clamp them).
//   - "sentAt" as sent (the message's own, or the batch's), and
//     "receivedAt", the server's clock when the request arrived, both in UTC.
//   - "writeKey", a client "receivedAt" and "originalTimestamp" are dropped.
//
// # Metrics
//
// When Options.Registerer is set:
//
//	mosaic_collect_requests_total{route,status}   requests by path and HTTP status
//	mosaic_collect_events_total                   messages durably appended
//	mosaic_collect_received_bytes_total           body bytes as sent (compressed if gzip)
//	mosaic_collect_rejected_events_total{code}    messages quarantined, by error code
//	mosaic_collect_append_seconds                 histogram: Append time, incl. the group commit
//	mosaic_collect_in_flight_requests             requests being handled (429 at MaxInFlight)
//
// Timestamps are accepted in RFC 3339 form (2024-05-01T12:00:00.123Z or with
// an offset), with the offset written +0000, without a zone (taken as UTC),
// or as a date alone.
package collect
