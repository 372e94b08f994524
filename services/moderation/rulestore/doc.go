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
//
// BankReloader does the same for the hash banks: the union of the bank
// files and the banks stored in Postgres (a stored bank replaces a file
// bank of the same name), reloaded when postgres.BanksChannel announces an
// import, and the engine rebuilt with Reloader.Rebuild. It owns the
// bad-entry guard and keeps its quarantines in Postgres, so every worker
// and a restart agree, and a rule engineer's confirmation reaches them all.
package rulestore
