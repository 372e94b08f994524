// Package ruleset parses, validates and compiles keyword rule files (YAML,
// documented in docs/rules.md) into an immutable Set that is safe to share
// across goroutines.
//
// Compile collects every problem of every file into an ErrorList of
// file:line:col errors wrapping moderation.ErrInvalid. A Set holds one
// textmatch automaton for the literal terms of all rules (and the literal
// prefilters of their regular expressions); Match scans a post once, then
// evaluates only the rules that had a candidate term (plus the few that can
// fire without one), so matching costs about the same for ten rules or ten
// thousand and allocates nothing when nothing matches.
package ruleset
