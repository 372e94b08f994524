// Package textmatch finds many literal terms in user text after normalising
// away the tricks people use to dodge keyword filters, and reports every hit
// as a byte span of the original text.
//
// It is a pure engine: it imports nothing of Vigil's, keeps no package-level
// mutable state, and a compiled *Matcher is immutable and safe for concurrent
// use by any number of goroutines.
//
// # Normalisation pipeline
//
// Both the terms (at compile time) and the text (during the scan) go through
// the same pipeline, one rune at a time, fused into the matching loop so the
// text is never copied:
//
//  1. StepIgnorables: default-ignorable code points (zero-width space and
//     joiners, soft hyphen, bidi controls, variation selectors, tag
//     characters, Hangul fillers), the C1 controls (U+0080–U+009F but NEL)
//     and the Arabic tatweel are dropped, as if they were not there.
//  2. StepNFKC: compatibility decomposition (NFKD, the decomposing half of
//     NFKC): fullwidth, mathematical, circled, superscript letters and
//     ligatures become plain letters. Matching works on decomposed text, so
//     NFC, NFD, NFKC and NFKD inputs all normalise alike. Kana are the
//     exception: a voiced kana stays composed (ガ), and a kana followed by
//     a voicing mark in any form (combining, spacing ゛, halfwidth ﾞ) is
//     composed, so that a stretched "ジジジ" squeezes like a Latin run.
//  3. StepDiacritics: combining marks of the Latin, Greek and Cyrillic
//     diacritic blocks, Arabic harakat and Hebrew points are removed
//     (é→e, ё→е). Marks that are letters in other scripts (Indic vowel
//     signs, kana voicing marks) are kept.
//  4. StepCaseFold: full case folding (ß→ss, ς→σ, ı→i, K→k).
//  5. StepConfusables: homoglyphs in the spirit of Unicode TR39 skeletons
//     are folded to their Latin prototype for the scripts covered (Cyrillic,
//     Greek, Latin extensions such as ø, ł, đ, and regional-indicator
//     letters), so "kіll" with a Cyrillic і is "kill". Arabic/Persian yeh
//     and kaf variants are unified too.
//  6. StepLeet: a configurable table maps digits and symbols to letters
//     (4→a, 3→e, 1→i, 0→o, 5→s, 7→t, 8→b, 9→g, @→a, $→s, !→i, |→l, +→t).
//     Digits are always mapped; symbols only when a letter or digit follows
//     (and "$" also at the end of a word), so "kill!" still ends a word
//     while "sh!t" is "shit" and "infidel$" is "infidels". A digit may have
//     a second reading (Options.LeetAlt; by default '1' is also 'l'),
//     taken where the first would double a letter: beside an 'i' or the
//     same digit. "k1ll" is kill, and so are "ki11" and "ki1l".
//  7. StepSqueeze: runs of one letter are squeezed, keeping whether the run
//     had one, two, or three or more letters: a term's single letter matches
//     a run of one or of three or more, its double letter a run of two or
//     more. "kiiiilll" is "kill", but "as" is not "ass" and "good" is not
//     "god". Normalize shows runs of three or more as three letters.
//  8. StepSeparators: separator-insensitive matching. A run of ". - _ ' ’ *
//     ~ ` ·" or of ASCII control characters (NUL to U+001F but white space,
//     and DEL, which print as nothing) between two letters is a soft
//     separator: it is removed (k.i.l.l is kill) but still counts as a
//     possible word boundary. Spaces between
//     single letters ("h a t e") are soft separators as well. Every other
//     run of punctuation or white space is a hard separator, normalised to
//     one space, which phrases match. A phrase also matches with its words
//     run together (#attackthe).
//
// # Word boundaries
//
// Terms match on word boundaries unless compiled with Substring. A boundary
// is the start or end of the text, a hard or soft separator, or a character
// of a script written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar)
// or a symbol such as an emoji: Chinese and Japanese terms match anywhere,
// while "kill" does not match inside "skill".
//
// # Matching
//
// All terms of a Matcher go into one Aho-Corasick automaton, compiled into a
// dense byte-class DFA (premultiplied state ids, match flag in the
// transition word) so the inner loop is one table load per byte, with an
// ASCII fast path for the normaliser. An automaton too large for its
// memory budget keeps dense rows for its shallow states only; every
// deeper state is a compact block (its edges, those inherited along its
// failure chain, and its outputs) laid out depth-first, so that a step or
// a candidate costs about one cache miss. Terms may opt into fuzzy matching
// (Fuzzy: 1), which adds their deletion, insertion, adjacent-transposition
// and, for long terms, substitution variants to the same automaton.
//
// # Prefilter
//
// With few terms most texts match none, and the normalising scan costs
// several times a plain automaton. A Matcher of up to about a hundred
// terms therefore also holds a prefilter: a DFA over the raw bytes, built by
// subset construction from an over-approximation of the pipeline (every
// reading of every byte, runs as one letter, soft separators and spaces
// skippable, runes outside ASCII through the per-rune steps), which proves
// in about one table load per byte that no term can match. FindAll returns
// at once for such texts and scans the others as before, so hits never
// depend on it. It scans a text in two halves at once, the first running
// on until it meets the second's state, to break the chain of dependent
// loads. A fuzzy term enters it as a few pieces of the term, one of which
// every variant holds unedited (a prefix and a suffix with a letter
// between them, by the pigeonhole principle), so that fuzzy terms cost
// it about as much as exact ones. Larger term sets, recognised by the
// size of the prefilter's trie before its construction is tried, compile
// without one, and so do sets whose pieces are estimated to be common
// enough in text that most posts would pass.
package textmatch
