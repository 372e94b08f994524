// Package hashindex finds every stored hash within a Hamming radius of a
// query, in sub-linear time, for 64-bit (pHash, dHash, aHash) and 256-bit
// (PDQ) perceptual hashes.
//
// It implements multi-index hashing (Norouzi, Punjani and Fleet, "Fast
// Search in Hamming Space with Multi-Index Hashing", CVPR 2012): each hash
// is cut into m disjoint chunks and each chunk position has a table of
// entries keyed by the chunk's bits. If two hashes are within distance r,
// then by the pigeonhole principle some chunk differs in at most r/m bits
// (the refined split: with r = q*m + a, one of a+1 chunks is within q, or
// one of the others within q-1). A query probes every key within that small
// radius in each table and verifies the candidates with a full popcount.
// Results are exact: every stored hash within r is returned, and nothing
// farther; a property test checks this against a linear scan.
//
// The cost of a query is memory latency, not arithmetic, so the layout is
// built to touch few cache lines:
//
//   - every table is compressed-sparse-row: 2^16+1 uint32 offsets and one
//     flat array of entries (no maps, no per-bucket slices);
//   - the hashes themselves are stored sorted by chunk 0, so table 0 needs
//     no entries of its own;
//   - 64-bit tables store, per entry, a 32-bit signature (chunk 0 and part
//     of another chunk) instead of a position: with the bucket's own chunk
//     that is 48 of the 64 bits, so a candidate is rejected inside its
//     bucket, and the few that pass are found again through table 0;
//   - 256-bit (PDQ) chunks go in pairs: a hash within r has, in some pair,
//     d_a+d_b ≤ R (the Rs summing to r+1-pairs), so each table of the pair
//     is probed at R/2 and every entry carries its partner chunk's 16 bits;
//     d_a+d_b ≤ R is checked in the bucket and only ~1% of the candidates
//     (at r = 31) read the 32-byte hash;
//   - all buckets of a query are gathered first, and their offsets, their
//     buckets and the PDQ candidates' hashes are prefetched in tight
//     assembly loops (amd64) so that all misses of a round are in flight
//     together; elsewhere a loop of independent loads touches them;
//   - with AVX2 (checked when the index is built; a pure-Go fallback gives
//     identical results), 64-bit buckets are filtered by assembly kernels:
//     eight signatures (or four table-0 hashes) per vector, XOR,
//     nibble-table popcount, compare, the first 24 entries of a bucket
//     whatever its length, so there is one predictable branch per bucket
//     instead of mispredicted loop exits on every uneven bucket; without
//     it a bucket is scanned four entries per branch. The rare 64-bit
//     signatures that pass are found again in table 0 in batched rounds of
//     misses;
//   - PDQ buckets are filtered on their partner chunks by an AVX2 kernel
//     too (sixteen 16-bit fingerprints per vector, a bucket's first 32
//     entries in one branch), or four at a time in SWAR without it;
//     several queries are gathered and filtered by group (an owner query
//     and the queries moved from it, see below): one pass over the
//     owner's slots reads each member's bucket from the orbit's offsets,
//     through a window that stays within the bucket's own lines;
//   - PDQ hashes are stored with their bits permuted so that each chunk
//     holds DCT coefficients of one parity class in transpose pairs: a
//     rotation or flip of the image then maps each chunk's key within a
//     small orbit, whose buckets are adjacent (layout.go), and
//     SearchMany256 on the eight dihedral hashes reads neighbouring
//     buckets instead of eight scattered sets, each query whose chunk key
//     is in an earlier one's orbit reusing that query's bucket slots;
//   - a hash reached through several tables is reported once, by the
//     first (table, query) pair that reaches it and is within r: no
//     visited set, no per-query allocation; SearchMany256 keeps a small
//     set of the positions it reported instead (a near hash is reached by
//     many pairs of eight variants, and the first-pair check cost more).
//
// An Index is immutable once built and safe for concurrent queries from any
// number of goroutines. Add returns a new Index that shares the built tables
// and keeps the added hashes in a small linearly-scanned tail until the tail
// is large enough to be worth a rebuild, so a bank change never blocks
// readers and never costs a full rebuild per entry.
//
// The package imports nothing of Vigil's: hashes are plain words (one
// uint64 for 64-bit hashes, four for 256-bit ones, in the word order the
// caller uses for its own Hamming distance).
package hashindex
