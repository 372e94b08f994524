package textmatch

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Term is one literal to find.
type Term struct {
	// Text is the term as written; it is normalised like the scanned text.
	Text string
	// Substring lets the term match inside words; by default it must start
	// and end on word boundaries.
	Substring bool
	// Fuzzy is the edit distance tolerated: 0 (exact) or 1. Distance 1
	// adds the term's adjacent transpositions (first letter kept) when it
	// has at least FuzzyMinRunes runes, deletions and insertions of a
	// letter from FuzzyDelRunes and substitutions from FuzzySubstRunes.
	Fuzzy int
}

// Limits of fuzzy matching: shorter terms have too many real-word
// neighbours for an edit to be safe.
const (
	FuzzyMinRunes   = 4
	FuzzyDelRunes   = 5
	FuzzySubstRunes = 6
)

// Hit is one occurrence of a term in the original text.
type Hit struct {
	Term       int32 // index into the terms given to Compile
	Start, End int32 // byte span in the original text
	Word       int32 // index of the word the hit starts in (for proximity)
	Fuzzy      bool  // found through a fuzzy variant, not the term itself
}

// Matcher finds all terms in one pass over text. It is immutable and safe
// for concurrent use.
type Matcher struct {
	n      *Normalizer
	d      *dfa
	nterms int
	// anySubstring is false when every term needs word boundaries: then a
	// candidate that ends inside a word is rejected without looking at
	// its patterns, which at 100,000 terms (most word prefixes are terms)
	// is most of the matching work.
	anySubstring bool
	// fast is fastLetters' view of the bytes: folded letter<<8 | automaton
	// class for ASCII letters and digits, the separator kind (sepSoft,
	// sepSpace, sepHard) for ASCII separators, fastLeet for leet symbols
	// (their letter<<8 | class is in leet), fastAlt for leet digits with a
	// second reading, zero for non-ASCII bytes.
	fast [256]uint16
	leet [128]uint16
	// word is fastWord's view: the normaliser's ASCII table with the leet
	// digits that have a second reading made hard separators, so that
	// fastWord stops there and the general path reads them in context.
	word [128]uint16
	// generalOnly turns fastLetters off, for tests that compare it with
	// the general path.
	generalOnly bool
	// pf rejects most texts no term can match before the scan; nil when
	// the term set is too large for it.
	pf *prefilter
}

// patInfo is what resolve needs of a pattern (8 bytes, two words of a
// sparse block): stored with each state's outputs, so that a candidate
// reads them where it reads the state.
type patInfo struct {
	term      int32
	runes     int16 // length in symbols, markers excluded
	substring bool
	fuzzy     bool
}

// TermError says why a term cannot be compiled.
type TermError struct {
	Index int    // index of the term
	Text  string // the term as given
	Msg   string
}

func (e *TermError) Error() string { return fmt.Sprintf("term %d %q: %s", e.Index, e.Text, e.Msg) }

// NormalizeTerm returns the normalised form of a term as Compile sees it
// (runs of a letter shown as one, two or three letters), or an error if the
// term is empty after normalisation or too long.
func (n *Normalizer) NormalizeTerm(text string) (string, error) {
	b, _ := n.Normalize(nil, nil, text)
	return trimTerm(string(b))
}

// termPattern is the automaton pattern of a term: normalised symbols with
// run markers, and its length in symbols (markers excluded).
func (n *Normalizer) termPattern(text string) (string, int, error) {
	var sc scanner
	sc.init(n, nil, text)
	sc.rec, sc.markers = true, true
	sc.run()
	s, err := trimTerm(string(sc.out))
	if err != nil {
		return "", 0, err
	}
	runes := 0
	for _, r := range s {
		if r != markDouble {
			runes++
		}
	}
	return s, runes, nil
}

func trimTerm(s string) (string, error) {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	switch {
	case s == "":
		return "", fmt.Errorf("term is empty after normalisation")
	case utf8.RuneCountInString(s) > MaxTermRunes:
		return "", fmt.Errorf("term is longer than %d runes after normalisation", MaxTermRunes)
	}
	return s, nil
}

// Compile normalises terms and builds the automaton. Returns a *TermError
// for the first term that is empty after normalisation, too long, or asks
// for an unsupported fuzzy distance.
func Compile(terms []Term, opts Options) (*Matcher, error) {
	n, err := NewNormalizer(opts)
	if err != nil {
		return nil, err
	}
	m := &Matcher{n: n, nterms: len(terms)}
	pats, infos, err := n.patterns(terms)
	if err != nil {
		return nil, err
	}
	d, err := buildDFA(pats, opts.DenseBudget, true, infos)
	if err != nil {
		return nil, fmt.Errorf("compiling %d terms: %w", len(terms), err)
	}
	m.d = d
	m.pf = newPrefilter(n, pats, infos)
	for _, p := range infos {
		m.anySubstring = m.anySubstring || p.substring
	}
	for c := 0; c < utf8.RuneSelf; c++ {
		switch e := n.ascii[c]; uint8(e >> 8) {
		case kindWord:
			m.fast[c] = e&0xFF<<8 | uint16(d.cls[byte(e)])
		case kindSoft:
			m.fast[c] = uint16(sepSoft)
		case kindSpace:
			m.fast[c] = uint16(sepSpace)
		case kindHard:
			m.fast[c] = uint16(sepHard)
		case kindLeetSym:
			m.fast[c] = fastLeet
			m.leet[c] = e&0xFF<<8 | uint16(d.cls[byte(e)])
		}
	}
	m.word = n.ascii
	for c, a := range n.alt {
		if a != 0 {
			// Read in context: by fastLetters' own branch, by the general
			// path where fastWord stops.
			m.fast[c], m.word[c] = fastAlt, uint16(kindHard)<<8
		}
	}
	return m, nil
}

// patterns returns the automaton's patterns for terms, a term's one
// after the other: its own, its phrase run together, its fuzzy
// variants. Returns a *TermError as Compile does.
func (n *Normalizer) patterns(terms []Term) ([]string, []patInfo, error) {
	pats := make([]string, 0, len(terms))
	var infos []patInfo // per pattern; resolve reads them from the automaton's outputs
	for i, t := range terms {
		p, runes, err := n.termPattern(t.Text)
		if err != nil {
			return nil, nil, &TermError{Index: i, Text: t.Text, Msg: err.Error()}
		}
		if t.Fuzzy < 0 || t.Fuzzy > 1 {
			return nil, nil, &TermError{Index: i, Text: t.Text, Msg: "fuzzy distance must be 0 or 1"}
		}
		pats = append(pats, p)
		infos = append(infos, patInfo{term: int32(i), runes: int16(runes), substring: t.Substring})
		if strings.Contains(p, " ") {
			// Phrases also match run together (#attackthe, a.t.t.a.c.k.t.h.e).
			glued := strings.ReplaceAll(p, " ", "")
			pats = append(pats, glued)
			infos = append(infos, patInfo{term: int32(i), runes: int16(runes - strings.Count(p, " ")), substring: t.Substring})
		}
		if t.Fuzzy == 1 {
			human, _ := n.NormalizeTerm(t.Text)
			seen := map[string]bool{p: true}
			for _, v := range fuzzyVariants([]rune(human)) {
				vp, vr, err := n.termPattern(string(v))
				if err != nil || vr < 3 || seen[vp] {
					continue
				}
				seen[vp] = true
				pats = append(pats, vp)
				infos = append(infos, patInfo{term: int32(i), runes: int16(vr), substring: t.Substring, fuzzy: true})
			}
		}
	}
	return pats, infos, nil
}

// Normalizer returns the normaliser the matcher applies.
func (m *Matcher) Normalizer() *Normalizer { return m.n }

// Len is the number of terms.
func (m *Matcher) Len() int { return m.nterms }

// MemBytes is the approximate heap size of the compiled automaton and
// prefilter.
func (m *Matcher) MemBytes() int {
	if m.pf != nil {
		return m.d.memBytes() + m.pf.memBytes()
	}
	return m.d.memBytes()
}

// States is the number of automaton states.
func (m *Matcher) States() int { return m.d.nStates }

// FindAll appends every hit in text to dst, in order of their end, and
// returns it. It allocates only when dst must grow. A text the prefilter
// proves free of hits (most posts, for a hundred terms or so) is not
// scanned.
func (m *Matcher) FindAll(text string, dst []Hit) []Hit {
	if m.pf != nil && !m.pf.filter(text) {
		return dst
	}
	var sc scanner
	sc.init(m.n, m, text)
	sc.hits = dst
	sc.run()
	return sc.hits
}

// fuzzyVariants lists the distinct distance-1 variants of rs (deletions,
// adjacent transpositions, insertions of a-z after the first rune of a
// word of ASCII letters, and for long terms substitutions by a-z), never
// touching the first rune or a space.
func fuzzyVariants(rs []rune) [][]rune {
	if len(rs) < FuzzyMinRunes {
		return nil
	}
	seen := map[string]bool{string(rs): true}
	var out [][]rune
	add := func(v []rune) {
		if len(v) < 3 || seen[string(v)] {
			return
		}
		seen[string(v)] = true
		out = append(out, v)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i] == ' ' {
			continue
		}
		if len(rs) >= FuzzyDelRunes {
			add(append(append([]rune{}, rs[:i]...), rs[i+1:]...))
		}
		if i+1 < len(rs) && rs[i+1] != ' ' && rs[i] != rs[i+1] {
			v := append([]rune{}, rs...)
			v[i], v[i+1] = v[i+1], v[i]
			add(v)
		}
		if len(rs) >= FuzzyDelRunes && rs[i-1] < utf8.RuneSelf && rs[i-1] != ' ' {
			insertAll(rs, i, add)
		}
		if len(rs) >= FuzzySubstRunes && rs[i] < utf8.RuneSelf {
			for c := 'a'; c <= 'z'; c++ {
				if c != rs[i] {
					v := append([]rune{}, rs...)
					v[i] = c
					add(v)
				}
			}
		}
	}
	if n := len(rs); n >= FuzzyDelRunes && rs[n-1] < utf8.RuneSelf && rs[n-1] != ' ' {
		insertAll(rs, n, add)
	}
	return out
}

// insertAll adds the variants of rs with a letter a-z inserted at i.
func insertAll(rs []rune, i int, add func([]rune)) {
	for c := 'a'; c <= 'z'; c++ {
		v := make([]rune, 0, len(rs)+1)
		add(append(append(append(v, rs[:i]...), c), rs[i:]...))
	}
}
