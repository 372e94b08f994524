// Package hashindex finds every stored hash within a Hamming radius of a
// query, in sub-linear time, for 64-bit (pHash, dHash, aHash) and 256-bit
// (PDQ) perceptual hashes.
//
// It implements multi-index hashing (Norouzi, Punjani and Fleet, "Fast
// Search in Hamming Space with Multi-Index Hashing", CVPR 2012): each hash
// is cut into m disjoint chunks and each chunk position has a table of
// entries keyed by the chunk's bits. If two hashes are within distance r,
// then by the pigeonhole principle some chunk differs in at most r/m bits
// (the refined split: with r = q*m + a, one of the first a+1 chunks is
// within q, or one of the others within q-1). A query probes every key within
// that small radius in each table and verifies the candidates with a full
// popcount. Results are exact: every stored hash within r is returned, and
// nothing farther; a property test checks this against a linear scan.
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
