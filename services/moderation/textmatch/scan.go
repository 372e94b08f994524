package textmatch

import (
	"fmt"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Span is a half-open byte range [Start, End) of the original text.
type Span struct {
	Start, End int
}

// Normalizer applies the normalisation pipeline. It is immutable and safe
// for concurrent use.
type Normalizer struct {
	opts Options
	// ascii[b] is kind<<8 | symbol for ASCII byte b after every enabled
	// step; for kindLeetSym the symbol is the letter it may stand for.
	ascii [128]uint16
	// alt[b] is the second letter of leet digit b (LeetAlt), or zero.
	alt [128]uint8
}

// NewNormalizer checks opts and builds the per-byte tables. Returns an
// error if the leet table has non-ASCII keys or non-letter values.
func NewNormalizer(opts Options) (*Normalizer, error) {
	n := &Normalizer{opts: opts}
	leet := opts.Leet
	if leet == nil {
		leet = DefaultLeet()
	}
	for b := 0; b < 128; b++ {
		c := byte(b)
		kind, sym := kindHard, c
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			kind = kindWord
		case c >= 'A' && c <= 'Z':
			kind = kindWord
			if opts.has(StepCaseFold) {
				sym = c + 'a' - 'A'
			}
		case c == ' ', c == '\t', c == '\n', c == '\r', c == '\v', c == '\f':
			kind = kindSpace
		case opts.has(StepSeparators) && (containsByte(softASCII, c) || c < ' ' || c == 0x7F):
			// The other C0 controls and DEL (NUL included) print as
			// nothing on most pages, so "at\x00tack" reads "attack":
			// soft, like the dot of "k.i.l.l".
			kind = kindSoft
		}
		n.ascii[b] = uint16(kind)<<8 | uint16(sym)
	}
	if opts.has(StepLeet) {
		for k, v := range leet {
			if k >= 0x80 || k < 0x21 || v >= 0x80 || !unicode.IsLetter(v) {
				return nil, fmt.Errorf("leet mapping %q→%q: keys must be printable ASCII and values ASCII letters", k, v)
			}
			v = unicode.ToLower(v)
			if k >= '0' && k <= '9' || unicode.IsLetter(k) {
				n.ascii[k] = uint16(kindWord)<<8 | uint16(v)
			} else {
				n.ascii[k] = uint16(kindLeetSym)<<8 | uint16(v)
			}
		}
	}
	alt := opts.LeetAlt
	if alt == nil {
		alt = DefaultLeetAlt()
	}
	if opts.has(StepLeet) {
		for k, v := range alt {
			if k < '0' || k > '9' || v >= 0x80 || !unicode.IsLetter(v) {
				return nil, fmt.Errorf("second leet reading %q→%q: keys must be digits and values ASCII letters", k, v)
			}
			if _, ok := leet[k]; !ok {
				if opts.LeetAlt == nil {
					continue // the default, for a table without this digit
				}
				return nil, fmt.Errorf("second leet reading %q→%q: %q is not in the leet table", k, v, k)
			}
			if rune(n.ascii[k]&0xFF) == unicode.ToLower(v) {
				continue
			}
			n.alt[k] = uint8(unicode.ToLower(v))
		}
	}
	return n, nil
}

// leetAlt is the letter of leet digit text[i], which has a second reading:
// the second where the first would make a double letter, that is beside
// that letter or beside the same digit ("ki11" and "ki1l" are kill: "ii"
// is rare in words, "ll" common), the first otherwise ("k1ll").
func (n *Normalizer) leetAlt(text string, i int) rune {
	c := text[i]
	first := n.ascii[c]
	if i > 0 && n.doubles(text[i-1], c, first) || i+1 < len(text) && n.doubles(text[i+1], c, first) {
		return rune(n.alt[c])
	}
	return rune(first & 0xFF)
}

// doubles reports whether byte d beside leet digit c (ASCII table entry
// e) is c itself or a letter equal to c's first reading.
func (n *Normalizer) doubles(d, c byte, e uint16) bool {
	return d == c || d < utf8.RuneSelf && n.ascii[d] == e && n.alt[d] == 0
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// Normalize appends the normalised form of text to dst and, for each rune
// of the result, the span of original bytes it came from to spans. Hard
// separators appear as one ' '. It is the same pipeline Matcher fuses into
// its scan, exposed for tests, tools and term compilation.
func (n *Normalizer) Normalize(dst []byte, spans []Span, text string) ([]byte, []Span) {
	var sc scanner
	sc.init(n, nil, text)
	sc.rec = true
	sc.out, sc.spans = dst, spans
	sc.run()
	return sc.out, sc.spans
}

// String is Normalize without the spans.
func (n *Normalizer) String(text string) string {
	b, _ := n.Normalize(nil, nil, text)
	return string(b)
}

// Ring of the most recent symbols: long enough for the longest pattern.
const (
	ringSize = 64
	ringMask = ringSize - 1
	// MaxTermRunes is the longest term, in normalised runes.
	MaxTermRunes = ringSize - 2
)

// Symbol flags.
const (
	fSoft    = 1 << iota // a soft separator precedes this symbol
	fNoSpace             // a no-space script character or symbol: a boundary itself
	fSpace               // this symbol is a hard separator
	// fAfterSpace: a hard separator precedes this symbol. fastLetters sets
	// it on a token's first letter instead of writing the separator's own
	// entry; resolve reads it as it reads fSpace on the entry before.
	fAfterSpace
)

// symInfo is what the ring remembers of a symbol. n is the symbol's index
// plus one: the fast loop leaves the entries of letters inside a word
// unwritten, and a stale entry (n of an older symbol, or zero) marks such
// a letter, which can neither start nor end a word-bounded hit.
type symInfo struct {
	start, word, n int32
	flags          uint8
}

// set writes an entry field by field (a composite literal goes through
// the stack and stalls store forwarding in the fast loop).
func (e *symInfo) set(start, word, n int32, flags uint8) {
	e.start, e.word, e.n, e.flags = start, word, n, flags
}

// Pending separator kinds, ordered: a run takes the strongest.
const (
	sepNone uint8 = iota
	sepSoft
	sepSpace
	sepHard
)

// scanner is the fused normalise-and-match loop. It lives on the caller's
// stack: one scan allocates nothing but the hits it appends.
type scanner struct {
	n    *Normalizer
	m    *Matcher
	d    *dfa
	text string

	s        uint32 // automaton state id
	nsym     int32  // symbols emitted so far
	prev     rune   // last word symbol, for squeezing; -1 after a hard separator
	sep      uint8
	sep0     uint8 // the pending separator's original kind
	sepStart int32
	sepEnd   int32
	tokLen   int32 // runes in the current token
	word     int32
	pend     uint32 // state whose outputs wait for the next symbol; 0 none
	pend2    uint32 // a second one, reached through a stretch marker
	pendSym  int32
	runLen   int32 // length of the run of the last symbol (squeezing)
	// lastEnd is where the last symbol (with its run) ends in the text:
	// the only symbol whose end is ever read, since a pending candidate is
	// resolved before the next symbol is pushed.
	lastEnd int32

	squeeze, separators bool
	// fast enables fastLetters: no substring terms (so letters inside a
	// word need no ring entry) and squeezing on.
	fast bool

	hits []Hit

	// leetFrom and leetEnd: isWordStart's last walk over leet symbols,
	// from leetFrom to the first other byte at leetEnd.
	leetFrom, leetEnd int

	rec     bool
	markers bool // record run markers (term compilation) instead of letters
	out     []byte
	spans   []Span

	ring [ringSize]symInfo
}

func (sc *scanner) init(n *Normalizer, m *Matcher, text string) {
	sc.n, sc.m, sc.text = n, m, text
	if m != nil {
		sc.d = m.d
	}
	sc.prev = -1
	sc.squeeze = n.opts.has(StepSqueeze)
	sc.separators = n.opts.has(StepSeparators)
	sc.fast = m != nil && !m.anySubstring && !m.generalOnly && sc.squeeze
}

// run scans the whole text.
func (sc *scanner) run() {
	text := sc.text
	n := sc.n
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			e := n.ascii[c]
			kind, sym := uint8(e>>8), rune(e&0xFF)
			if kind == kindWord {
				if n.alt[c] != 0 {
					sc.wordSym(n.leetAlt(text, i), i, i+1, 0)
					i++
					continue
				}
				if sc.pend|sc.pend2 != 0 && sc.fast && sc.sep == sepNone && sc.runLen <= 1 && sym != sc.prev {
					// A candidate before a new letter: resolved as wordSym
					// would, so the fast loop can take the letter. Else,
					// at 100,000 terms where most word prefixes are
					// candidates, the general path would keep every
					// letter of the word.
					sc.resolve(false)
				}
				if sc.sep == sepNone && sc.pend == 0 && sc.runLen <= 1 && !sc.rec && sc.d != nil {
					if sc.fast {
						i = sc.fastLetters(text, i)
					} else {
						i = sc.fastWord(text, i)
					}
					continue
				}
				sc.wordSym(sym, i, i+1, 0)
				i++
				continue
			}
			if kind == kindLeetSym {
				if i+1 < len(text) && sc.isWordStart(i+1) || c == '$' && sc.sep == sepNone && sc.nsym > 0 && sc.ring[(sc.nsym-1)&ringMask].flags&fSpace == 0 {
					sc.wordSym(sym, i, i+1, 0)
				} else {
					sc.sepChar(kindHard, i, i+1)
				}
				i++
				continue
			}
			sc.sepChar(kind, i, i+1)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i = sc.slowRune(r, i, i+size)
	}
	sc.finish()
}

// fastLeet marks leet symbols in Matcher.fast (above the separator kinds),
// fastAlt leet digits with a second reading.
const (
	fastLeet = uint16(sepHard) + 1
	fastAlt  = fastLeet + 1
)

// fastLetters is the scan loop for plain ASCII text when no term is a
// substring term and squeezing is on (fastWord serves the others). Its
// letter loop costs, per letter, one table load (Matcher.fast folds case
// and leet digits into the automaton class), one transition load and a few
// register operations, and calls nothing, so its state stays in registers.
// It writes the ring only where resolve and the general path look: the
// first letter of each token (a possible start, flagged fAfterSpace after
// a hard separator) and the last symbol on return. Letters inside a word
// keep stale entries, which resolve reads as "not a start"; symbol count
// and token length are kept as offsets from i, so letters do not update
// them.
//
// Around the letter loop it handles runs of one letter (the marker is fed
// when a different letter follows), runs of ASCII separators between
// letters that normalise to one hard or one soft separator (resolving a
// candidate that ends before them), leet symbols read as letters, and
// sparse states. Anything else (non-ASCII, other leet symbols, a space
// that may be soft between single letters, a candidate followed by neither
// a separator nor a different letter) is left to the general path: it
// returns the index of the first byte it did not consume. The caller
// guarantees a letter at text[i].
func (sc *scanner) fastLetters(text string, i int) int {
	// Few locals live across the letter loop (the automaton, the pending
	// candidate and the run length are read through sc), so that Go keeps
	// the loop's own values in registers.
	tab := &sc.m.fast
	base := unsafe.Pointer(unsafe.SliceData(sc.d.trans))
	limit := sc.d.denseLimit
	s := sc.s
	// The symbol count and the token length grow by one per letter, like
	// i: kept as offsets from i, they change only off the letter path.
	nsymOff, tokOff := int(sc.nsym)-i, int(sc.tokLen)-i
	// prev is the folded letter of the last symbol, shifted as in tab
	// (compared with an entry's high byte without a shift); 0 after a
	// separator.
	var prev uint16
	if sc.prev > 0 && sc.prev < utf8.RuneSelf {
		prev = uint16(sc.prev) << 8
	}
	// sc.runLen is the last symbol's run, when leaving inside one; sc.pend
	// a candidate ending at the last symbol, resolved at a separator (the
	// caller guarantees none pends on entry).
	sc.runLen = 1
	if tab[text[i]]&0xFF00 != prev {
		// The first letter may start a hit: after a separator or a
		// no-space character the general path saw, or at the start.
		sc.ring[sc.nsym&ringMask].set(int32(i), sc.word, sc.nsym+1, 0)
	}
	for {
		// The letter path: nothing in this loop calls a function, so its
		// state stays in registers (a call would spill it every byte).
		// One test per letter stops it at a sparse state and at a
		// candidate alike: flagged ids are above every dense id.
		for s < limit && i < len(text) {
			e := tab[text[i]]
			// The letter and the class in separate values: masking e in
			// place made Go spill it to the stack every letter.
			letter, cls := e&0xFF00, uint32(uint8(e))
			if letter == 0 || letter == prev {
				break
			}
			s = transAt(base, s+cls)
			prev = letter
			i++
		}
		if s&matchFlag != 0 {
			s &^= matchFlag
			if i < len(text) {
				n2 := tab[text[i]]
				if n2 >= 0x100 && n2&0xFF00 != prev {
					// A different letter follows: the candidate ends
					// inside a word, and resolve would reject all of it.
					continue
				}
				if n2 != 0 {
					// An ASCII separator: resolved there if it is plain.
					// Or the same letter: the end of its run decides.
					sc.pend = s
					continue
				}
			}
			sc.pend = s
			break
		}
		if i >= len(text) {
			break
		}
		e := tab[text[i]]
		sym := e & 0xFF00
		if sym != 0 && sym != prev {
			// A letter in a sparse state (large automata). A candidate
			// it completes is handled after the letter loop, which its
			// flag (above limit) stops at once.
			s = sc.d.slow(s, uint8(e))
			prev = sym
			i++
			continue
		}
		if e == fastLeet || e == fastAlt {
			// A leet symbol the general path reads as a letter: before a
			// letter ("sh!t", "@ss"), or a '$' ending a word ("infidel$",
			// right after a letter here); or a leet digit with a second
			// reading ("ki11"), read in context as the general path reads
			// it. A run is left to the general path. A candidate before
			// it ends inside a word: dropped.
			var le uint16
			if e == fastLeet {
				le = sc.m.leet[text[i]]
				if !(i+1 < len(text) && tab[text[i+1]] >= 0x100 || text[i] == '$') {
					break
				}
			} else {
				r := sc.n.leetAlt(text, i)
				le = uint16(r)<<8 | uint16(sc.d.cls[byte(r)])
			}
			if le&0xFF00 == prev {
				break
			}
			s = sc.d.next(s, uint8(le))
			prev = le & 0xFF00
			sc.pend = 0
			i++
			continue // a candidate is handled after the letter loop
		}
		if sym != 0 {
			// A run of one letter: find its end.
			j := i + 1
			for j < len(text) && tab[text[j]]&0xFF00 == sym {
				j++
			}
			nsymOff -= j - i
			sc.runLen = int32(j-i) + 1
			i = j
			if i >= len(text) || tab[text[i]]>>8 == 0 {
				break // the general path feeds the marker
			}
			// A different letter follows: feed the run's marker now.
			// A candidate it completes, or one pending before the run,
			// ends inside a word: dropped, as resolve would drop it (no
			// substring terms, ASCII letter).
			sc.pend = 0
			mk := sc.d.clsS
			if sc.runLen == 2 {
				mk = sc.d.clsD
			}
			s = sc.d.next(s, mk) &^ matchFlag
			sc.runLen = 1
			continue
		}
		// A run of ASCII separators [i, j): handled here when a
		// plain letter follows and it is one hard or one soft
		// separator. One space between words is the common case.
		j, sep := i+1, sepSpace
		if text[i] != ' ' || j >= len(text) || tab[text[j]] < 0x100 {
			for j, sep = i, sepNone; j < len(text); j++ {
				k := tab[text[j]]
				if k-1 >= uint16(sepHard) {
					break
				}
				sep = max(sep, uint8(k))
			}
		}
		if j == i || j >= len(text) {
			break
		}
		next := tab[text[j]] & 0xFF00
		if next == 0 ||
			sep == sepSoft && next == prev || // a run across the separator
			sep == sepSpace && i+tokOff == 1 && sc.separators && (j+1 >= len(text) || tab[text[j+1]]>>8 == 0) { // maybe "h a t e"
			break // not one plain separator
		}
		nsym := int32(i + nsymOff)
		if sc.pend != 0 {
			// A candidate before a separator: a boundary follows,
			// as the general path would resolve it.
			sc.pendSym, sc.lastEnd = nsym-1, int32(i)
			if last := &sc.ring[(nsym-1)&ringMask]; last.n != nsym {
				last.set(int32(i-1), sc.word, nsym, 0)
			}
			sc.resolve(true) // clears sc.pend
		}
		if sep == sepSoft {
			// "don't", "k.i.l.l": the token goes on; the letter
			// after the separator may start a hit.
			sc.ring[nsym&ringMask].set(int32(j), sc.word, nsym+1, fSoft)
			nsymOff -= j - i
			tokOff -= j - i
			i = j
			continue
		}
		// The ' ' symbol, whose entry stays unwritten (the next
		// letter carries fAfterSpace), then a token start.
		s = sc.d.next(s, sc.d.cls[' ']) &^ matchFlag // no term ends with a space
		sc.word++
		sc.ring[(nsym+1)&ringMask].set(int32(j), sc.word, nsym+2, fAfterSpace)
		nsymOff = int(nsym) + 1 - j
		tokOff = -j
		prev = 0
		i = j
		continue
	}
	nsym := int32(i + nsymOff)
	if sc.pend != 0 {
		sc.pendSym = nsym - 1
	}
	sc.s, sc.nsym, sc.tokLen, sc.lastEnd = s, nsym, int32(i+tokOff), int32(i)
	// The last symbol is a letter whose run ends at i; write its entry
	// unless a separator or the general path did.
	if last := &sc.ring[(nsym-1)&ringMask]; last.n != nsym {
		last.set(int32(i)-sc.runLen, sc.word, nsym, 0)
	}
	sc.prev = rune(prev >> 8)
	return i
}

// fastWord is the inner loop for ASCII letters inside a word when
// fastLetters is off (substring terms, which need every letter's ring
// entry, or squeezing off), with the scanner state in registers: one table
// load for the normaliser, one for the automaton, one ring store per byte.
// It returns where it stopped: at anything else, after a byte that
// completes a term, or before a new letter that follows a squeezed run
// (the marker is fed by the general path).
func (sc *scanner) fastWord(text string, i int) int {
	d := sc.d
	trans, limit := d.trans, d.denseLimit
	if len(trans) == 0 {
		limit = 0
	}
	base := unsafe.Pointer(unsafe.SliceData(trans))
	asc := &sc.m.word
	s, nsym, prev, run, tok, word := sc.s, sc.nsym, sc.prev, sc.runLen, sc.tokLen, sc.word
	squeeze := sc.squeeze
	anySub := sc.m.anySubstring
	for ; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			break
		}
		e := asc[c]
		if uint8(e>>8) != kindWord {
			// One plain space between two words of several letters: emit
			// the hard separator here rather than in the general path.
			if c != ' ' || tok == 1 || run > 1 || i+1 >= len(text) {
				break
			}
			if c2 := text[i+1]; c2 >= utf8.RuneSelf || uint8(asc[c2]>>8) != kindWord {
				break
			}
			sc.ring[nsym&ringMask].set(int32(i), word, nsym+1, fSpace)
			nsym++
			word++
			prev, run, tok = -1, 0, 0
			cl := uint32(d.cls[' '])
			if s < limit {
				s = transAt(base, s+cl)
			} else {
				s = d.slow(s, uint8(cl))
			}
			s &^= matchFlag // no term ends with a space
			continue
		}
		sym := rune(e & 0xFF)
		if sym == prev && squeeze {
			run++
			tok++
			sc.lastEnd = int32(i + 1)
			continue
		}
		if run > 1 {
			break
		}
		tok++
		run = 1
		sc.ring[nsym&ringMask].set(int32(i), word, nsym+1, 0)
		sc.lastEnd = int32(i + 1)
		nsym++
		prev = sym
		cl := uint32(d.cls[byte(sym)])
		if s < limit {
			s = transAt(base, s+cl)
		} else {
			s = d.slow(s, uint8(cl))
		}
		if s&matchFlag != 0 {
			s &^= matchFlag
			if !anySub && i+1 < len(text) {
				// A different ASCII letter follows: the candidate ends
				// inside a word, and with no substring terms resolve would
				// reject all of it, so the scan goes on in registers.
				if c2 := text[i+1]; c2 < utf8.RuneSelf {
					if e2 := asc[c2]; uint8(e2>>8) == kindWord && rune(e2&0xFF) != sym {
						continue
					}
				}
			}
			sc.pend, sc.pendSym = s, nsym-1
			i++
			break
		}
	}
	sc.s, sc.nsym, sc.prev, sc.runLen, sc.tokLen, sc.word = s, nsym, prev, run, tok, word
	return i
}

// isWordStart reports whether the rune at text[i:] is a letter or digit.
// Leet symbols count when a word character follows them ("$$4").
func (sc *scanner) isWordStart(i int) bool {
	// Every symbol of a run of leet symbols asks about the same end: the
	// walk is remembered, or "$$$…" would cost the square of its length.
	if i >= sc.leetFrom && i <= sc.leetEnd && sc.leetEnd > 0 {
		i = sc.leetEnd
	} else {
		sc.leetFrom = i
	}
	for i < len(sc.text) && sc.text[i] < utf8.RuneSelf && uint8(sc.n.ascii[sc.text[i]]>>8) == kindLeetSym {
		i++
	}
	sc.leetEnd = i
	if i == len(sc.text) {
		return false
	}
	c := sc.text[i]
	if c < utf8.RuneSelf {
		return uint8(sc.n.ascii[c]>>8) == kindWord
	}
	r, _ := utf8.DecodeRuneInString(sc.text[i:])
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// nextIsBoundary reports whether the token that begins with the rune ending
// at byte i is one rune long: what follows is not a word character.
func (sc *scanner) nextIsBoundary(i int) bool {
	for i < len(sc.text) {
		c := sc.text[i]
		if c < utf8.RuneSelf {
			k := uint8(sc.n.ascii[c] >> 8)
			if k == kindSoft && i+1 < len(sc.text) && sc.isWordStart(i+1) {
				return false // "k_i_l_l": the token goes on
			}
			return k != kindWord
		}
		r, size := utf8.DecodeRuneInString(sc.text[i:])
		if isIgnorable(r) || unicode.Is(unicode.Mn, r) {
			i += size
			continue
		}
		return !(unicode.IsLetter(r) || unicode.IsNumber(r))
	}
	return true
}

// slowRune runs a non-ASCII rune at text[a:b] through the pipeline and
// returns where the next rune starts (past a kana voicing mark it took).
func (sc *scanner) slowRune(r rune, a, b int) int {
	o := sc.n.opts
	if r == utf8.RuneError && b-a == 1 {
		sc.sepChar(kindHard, a, b)
		return b
	}
	if o.has(StepIgnorables) && isIgnorable(r) {
		return b
	}
	if o.has(StepNFKC) {
		if isKana(r) {
			// Voiced kana stay composed (ガ, not カ and a mark), so that a
			// stretched "ガガガ" is a run of one letter; a base followed by
			// a voicing mark in any form is composed to match.
			r, b = sc.voiced(r, b)
		} else if dec := norm.NFKD.PropertiesString(sc.text[a:b]).Decomposition(); dec != nil {
			if d, size := utf8.DecodeRune(dec); size == len(dec) && isKana(d) {
				r, b = sc.voiced(d, b) // halfwidth ｶ, perhaps with ﾞ
			} else {
				for len(dec) > 0 {
					d, size := utf8.DecodeRune(dec)
					dec = dec[size:]
					sc.foldRune(d, a, b)
				}
				return b
			}
		}
	}
	sc.foldRune(r, a, b)
	return b
}

// isKana reports hiragana and katakana letters (voicing marks excluded).
func isKana(r rune) bool {
	return r >= 0x3041 && r <= 0x3096 || r >= 0x309D && r <= 0x309F || r >= 0x30A1 && r <= 0x30FF
}

// voiced composes kana r with a voicing mark at text[b:] in any of its
// forms (combining, spacing, halfwidth), returning the composed kana and
// the end of the mark, or r and b when there is none or they do not
// compose.
func (sc *scanner) voiced(r rune, b int) (rune, int) {
	if b >= len(sc.text) {
		return r, b
	}
	m, size := utf8.DecodeRuneInString(sc.text[b:])
	switch m {
	case 0x3099, 0x309B, 0xFF9E:
		m = 0x3099
	case 0x309A, 0x309C, 0xFF9F:
		m = 0x309A
	default:
		return r, b
	}
	if c := composeKana(r, m); c != 0 {
		return c, b + size
	}
	return r, b
}

// composeKana is the canonical composition of kana r and combining mark m
// (U+3099 or U+309A), or zero. Voiced kana sit one or two code points
// after their base, except a few irregular ones; the candidate is checked
// against its canonical decomposition.
func composeKana(r, m rune) rune {
	cands := [2]rune{r + 1, r + 2}
	switch {
	case r == 'う':
		cands[0] = 'ゔ'
	case r == 'ウ':
		cands[0] = 'ヴ'
	case r >= 'ワ' && r <= 'ヲ':
		cands[0] = r + 'ヷ' - 'ワ'
	}
	var buf [2 * utf8.UTFMax]byte
	want := utf8.AppendRune(utf8.AppendRune(buf[:0], r), m)
	for _, c := range cands {
		var cb [utf8.UTFMax]byte
		n := utf8.EncodeRune(cb[:], c)
		if dec := norm.NFD.Properties(cb[:n]).Decomposition(); string(dec) == string(want) {
			return c
		}
	}
	return 0
}

// foldRune applies the per-rune steps after decomposition.
func (sc *scanner) foldRune(r rune, a, b int) {
	o := sc.n.opts
	if r < utf8.RuneSelf {
		sc.asciiRune(byte(r), a, b)
		return
	}
	if o.has(StepDiacritics) && isStrippableMark(r) {
		return
	}
	if o.has(StepConfusables) {
		r = confusableUpper(r)
	}
	if o.has(StepCaseFold) {
		if r == 'ß' || r == 'ẞ' {
			sc.asciiRune('s', a, b)
			sc.asciiRune('s', a, b)
			return
		}
		r = unicode.ToLower(unicode.ToUpper(r))
	}
	if o.has(StepConfusables) {
		r = confusableLower(r)
	}
	if r < utf8.RuneSelf {
		sc.asciiRune(byte(r), a, b)
		return
	}
	switch k := classifyRune(r); k {
	case kindWord:
		var f uint8
		if isNoSpace(r) {
			f = fNoSpace
		}
		if unicode.IsMark(r) && sc.nsym > 0 && sc.sep == sepNone {
			// A kept combining mark continues the previous letter.
			f = sc.ring[(sc.nsym-1)&ringMask].flags & fNoSpace
		}
		sc.wordSym(r, a, b, f)
	case kindSoft:
		if !sc.separators {
			k = kindHard
		}
		sc.sepChar(k, a, b)
	default:
		sc.sepChar(k, a, b)
	}
}

// asciiRune handles an ASCII rune produced by decomposition or folding.
func (sc *scanner) asciiRune(c byte, a, b int) {
	e := sc.n.ascii[c]
	kind, sym := uint8(e>>8), rune(e&0xFF)
	switch kind {
	case kindWord:
		sc.wordSym(sym, a, b, 0)
	case kindLeetSym:
		if b < len(sc.text) && sc.isWordStart(b) {
			sc.wordSym(sym, a, b, 0)
		} else {
			sc.sepChar(kindHard, a, b)
		}
	default:
		sc.sepChar(kind, a, b)
	}
}

// sepChar records one separator character at byte a.
func (sc *scanner) sepChar(kind uint8, a, b int) {
	var k uint8
	switch kind {
	case kindIgnore:
		return
	case kindSoft:
		k = sepSoft
	case kindSpace:
		k = sepSpace
	default:
		k = sepHard
	}
	if sc.sep == sepNone {
		sc.sepStart = int32(a)
	}
	sc.sepEnd = int32(b)
	if k > sc.sep {
		sc.sep = k
	}
}

// wordSym emits one word symbol for original bytes [a,b).
func (sc *scanner) wordSym(sym rune, a, b int, flags uint8) {
	if sc.sep != sepNone {
		kind := sc.sep
		sc.sep0 = kind
		sc.sep = sepNone
		if kind == sepSpace && sc.separators && sc.tokLen == 1 && sc.nextIsBoundary(b) {
			kind = sepSoft // "h a t e"
		}
		if kind == sepSoft && sc.separators && sc.nsym > 0 {
			flags |= fSoft
			if sc.sep0 != sepSoft {
				sc.tokLen = 0 // a new spaced-out letter
			}
		} else {
			if sc.nsym > 0 {
				sc.hardSep(int(sc.sepStart), int(sc.sepEnd))
			}
			sc.tokLen = 0
		}
	}
	sc.tokLen++
	if sc.squeeze && sym == sc.prev {
		sc.runLen++
		sc.lastEnd = int32(b)
		if sc.rec {
			sc.spans[len(sc.spans)-1].End = b
		}
		return
	}
	if sc.runLen > 1 {
		sc.endRun()
	}
	sc.runLen = 1
	if sc.pend|sc.pend2 != 0 {
		sc.resolve(flags&(fSoft|fNoSpace) != 0)
	}
	sc.push(sym, a, b, flags)
	sc.prev = sym
}

// Run markers. A squeezed run of one letter is fed to the automaton as the
// letter followed by markDouble (a run of two) or markStretch (three or
// more). Terms carry markDouble after a doubled letter. markStretch follows
// a term's markDouble edge when there is one and is ignored otherwise, so a
// term's single letter matches a run of one or of three or more ("kiiill"
// is "kill") and its double letter a run of two or more, while "as" is not
// "ass" and "good" is not "god".
const (
	markDouble  = 0x01
	markStretch = 0x02
)

// endRun feeds the marker for the run that just ended.
func (sc *scanner) endRun() {
	run := sc.runLen
	sc.runLen = 1
	if sc.rec {
		last := sc.spans[len(sc.spans)-1]
		switch {
		case sc.markers:
			sc.out = append(sc.out, markDouble)
		case run == 2:
			sc.out = utf8.AppendRune(sc.out, sc.prev)
			sc.spans = append(sc.spans, last)
		default:
			sc.out = utf8.AppendRune(utf8.AppendRune(sc.out, sc.prev), sc.prev)
			sc.spans = append(sc.spans, last, last)
		}
		return
	}
	d := sc.d
	if d == nil {
		return
	}
	if run == 2 {
		sc.pend = 0 // terms ending in a single letter do not match a double
		s := d.next(sc.s, d.cls[markDouble])
		if s&matchFlag != 0 {
			s &^= matchFlag
			sc.pend, sc.pendSym = s, sc.nsym-1
		}
		sc.s = s
		return
	}
	s := d.next(sc.s, d.cls[markStretch])
	if s&matchFlag != 0 {
		s &^= matchFlag
		if sc.pend == 0 {
			sc.pend, sc.pendSym = s, sc.nsym-1
		} else {
			sc.pend2 = s
		}
	}
	sc.s = s
}

// hardSep emits the ' ' symbol for a hard separator spanning [a,b).
func (sc *scanner) hardSep(a, b int) {
	if sc.runLen > 1 {
		sc.endRun()
	}
	sc.runLen = 0
	if sc.pend|sc.pend2 != 0 {
		sc.resolve(true)
	}
	sc.push(' ', a, b, fSpace)
	sc.word++
	sc.prev = -1
}

// push appends a symbol to the ring and feeds it to the automaton.
func (sc *scanner) push(sym rune, a, b int, flags uint8) {
	sc.ring[sc.nsym&ringMask].set(int32(a), sc.word, sc.nsym+1, flags)
	sc.lastEnd = int32(b)
	sc.nsym++
	if sc.rec {
		sc.out = utf8.AppendRune(sc.out, sym)
		sc.spans = append(sc.spans, Span{a, b})
		return
	}
	d := sc.d
	if d == nil {
		return
	}
	s := sc.s
	if sym < utf8.RuneSelf {
		s = d.next(s, d.cls[byte(sym)])
	} else {
		var buf [utf8.UTFMax]byte
		k := utf8.EncodeRune(buf[:], sym)
		for j := 0; j < k; j++ {
			s = d.next(s&^matchFlag, d.cls[buf[j]])
		}
	}
	if s&matchFlag != 0 {
		s &^= matchFlag
		sc.pend, sc.pendSym = s, sc.nsym-1
	}
	sc.s = s
}

// finish flushes the pending match at the end of the text.
func (sc *scanner) finish() {
	if sc.runLen > 1 {
		sc.endRun()
	}
	if sc.pend|sc.pend2 != 0 {
		sc.resolve(true)
	}
}

// resolve reports the patterns recognised at symbol pendSym, now that what
// follows it is known: boundaryAfter says whether a word boundary follows.
func (sc *scanner) resolve(boundaryAfter bool) {
	st, j := sc.pend, sc.pendSym
	if st == 0 {
		st, sc.pend2 = sc.pend2, 0
	}
	sc.pend = 0
	if sc.pend2 != 0 {
		sc.pend = sc.pend2
		sc.pend2 = 0
		defer sc.resolve(boundaryAfter)
	}
	m := sc.m
	last := &sc.ring[j&ringMask]
	endOK := boundaryAfter || last.flags&fNoSpace != 0
	if !endOK && !m.anySubstring {
		return
	}
	outs := sc.d.outputs(st)
	for k := range outs {
		p := &outs[k]
		start := j - int32(p.runes) + 1
		if start < 0 || j-start >= ringSize-1 {
			continue
		}
		first := &sc.ring[start&ringMask]
		if !p.substring {
			if !endOK || first.n != start+1 {
				continue // an unwritten entry is a letter inside a word
			}
			if start > 0 && first.flags&(fSoft|fNoSpace|fAfterSpace) == 0 {
				if before := &sc.ring[(start-1)&ringMask]; before.n != start || before.flags&(fSpace|fNoSpace) == 0 {
					continue
				}
			}
		}
		sc.hits = append(sc.hits, Hit{Term: p.term, Start: first.start, End: sc.lastEnd, Word: first.word, Fuzzy: p.fuzzy})
	}
}
