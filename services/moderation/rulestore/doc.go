// Package rulestore turns rule files into the engine the workers run: it
// reads a rules directory or a published version (ReadDir, Compile), and
// keeps a worker's engine current (Reloader): the newest published version
// at start, then each new one within moments of `vigilctl rules publish`,
// announced over Postgres LISTEN/NOTIFY and checked by a slow poll.
//
// A swap is one atomic pointer store. The ingest worker loads the pointer
// once per batch, so every message of a batch is matched by one version,
// the switch happens between batches, and no message is dropped or
// processed twice because of it. A version that fails to compile is logged
// and counted, and the last good engine stays active.
package rulestore
