// Package demoimage draws the deterministic synthetic pictures used by the
// demo: the firehose posts them, and rules/banks/demo.csv holds the hashes
// of some of them, so a local stack shows hash matches end to end without
// shipping any real harmful (or copyrighted) image.
//
// The pictures are a pure function of their number: the same on every
// machine and every run. A test in hashbank checks that the demo bank still
// matches them.
package demoimage
