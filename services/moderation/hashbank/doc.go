// Package hashbank holds banks of known-bad image hashes and matches posted
// images against them.
//
// A Bank is a named set of hashes of one type (PDQ, pHash, dHash or aHash)
// with per-entry labels and a per-bank threshold; banks live as CSV or
// JSON-lines files under rules/banks/ (LoadDir, format in docs/hashing.md)
// and in Postgres (postgres.BankStore). NewSet compiles banks into an
// immutable Set with one hashindex per hash type, so a lookup costs a few
// microseconds whatever the bank size, and Set.Match turns an image's
// hashes into moderation.Match values carrying bank, entry, hash type,
// distance, category and severity.
//
// A Guard sits after the Set: an entry that suddenly matches an abnormal
// share of all media (a bank poisoned with the hash of a popular meme, or a
// blank image) is quarantined so it stops producing flags, the caller is told
// through a callback so it can raise an alert metric, and a rule engineer
// releases it with Confirm. Time comes from an injected Clock.
//
// Typical use by the ingest worker, one Hasher per goroutine:
//
//	d, err := imagehash.DecodeBytes(data, limits)      // ErrTooLarge / ErrUndecodable → dead letter
//	ms, _, err := set.MatchImage(hasher, d, media.ID)
//	ms = guard.Observe(ms)
//
// imagehash.DecodeReduced (same limits, same errors) is the fast path for
// matching: large JPEGs are decoded at 1/8 scale, several times faster; its
// hashes are within a few bits of the canonical ones, not identical
// (docs/hashing.md).
package hashbank
