package textmatch

import (
	"bufio"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// dataDir is the shared test data, a sibling of the repository.
var dataDir = filepath.Join("..", "..", "..", "..", "shared", "data")

// needData skips (or, with VIGIL_INTEGRATION=require, fails) when the
// shared data directory is missing.
func needData(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(dataDir, sub)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("VIGIL_INTEGRATION") == "require" {
			t.Fatalf("shared data missing: %v", err)
		}
		t.Skipf("shared data missing: %v", err)
	}
	return p
}

// loadTweets returns the tweet texts of the Davidson corpus.
func loadTweets(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(needData(t, "davidson-tweets"), "labeled_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows[1:] {
		out = append(out, r[len(r)-1])
	}
	return out
}

// loadLines reads a one-term-per-line list.
func loadLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// An obfuscation rewrites a term the way evaders do.
type obfuscation struct {
	name  string
	latin bool // applies to Latin-script terms only
	f     func(string) string
}

func mapRunes(s string, f func(i int, r rune) string) string {
	var b strings.Builder
	i := 0
	for _, r := range s {
		b.WriteString(f(i, r))
		i++
	}
	return b.String()
}

var leetOut = map[rune]string{'a': "4", 'e': "3", 'i': "1", 'o': "0", 's': "$", 't': "7"}
var homoglyph = map[rune]string{'a': "а", 'e': "е", 'o': "о", 'p': "р", 'c': "с", 'x': "х", 'y': "у", 'i': "і", 's': "ѕ"}

var obfuscations = []obfuscation{
	{"plain", false, func(s string) string { return s }},
	{"upper", false, strings.ToUpper},
	{"leet", true, func(s string) string {
		return mapRunes(s, func(i int, r rune) string {
			if l, ok := leetOut[r]; ok && i > 0 {
				return l
			}
			return string(r)
		})
	}},
	// "ki11", "a11ah": a doubled l written as ones.
	{"leet-11", true, func(s string) string { return strings.ReplaceAll(s, "ll", "11") }},
	{"fullwidth", true, func(s string) string {
		return mapRunes(s, func(_ int, r rune) string {
			if r >= '!' && r <= '~' {
				return string(r - '!' + '！')
			}
			return string(r)
		})
	}},
	{"math-bold", true, func(s string) string {
		return mapRunes(s, func(_ int, r rune) string {
			if r >= 'a' && r <= 'z' {
				return string(r - 'a' + 0x1D41A)
			}
			return string(r)
		})
	}},
	{"homoglyph", true, func(s string) string {
		return mapRunes(s, func(_ int, r rune) string {
			if h, ok := homoglyph[r]; ok {
				return h
			}
			return string(r)
		})
	}},
	{"zero-width", false, func(s string) string {
		return mapRunes(s, func(i int, r rune) string {
			if i > 0 && r != ' ' {
				return "\u200b" + string(r)
			}
			return string(r)
		})
	}},
	{"diacritics", true, func(s string) string {
		return norm.NFC.String(mapRunes(s, func(_ int, r rune) string {
			if strings.ContainsRune("aeiou", r) {
				return string(r) + "\u0301"
			}
			return string(r)
		}))
	}},
	{"stretched", false, func(s string) string {
		done := false
		return mapRunes(s, func(i int, r rune) string {
			if !done && i > 0 && unicode.IsLetter(r) {
				done = true
				return strings.Repeat(string(r), 4)
			}
			return string(r)
		})
	}},
	{"dotted", true, func(s string) string {
		return mapRunes(s, func(i int, r rune) string {
			if i > 0 && r != ' ' {
				return "." + string(r)
			}
			return string(r)
		})
	}},
	{"spaced", true, func(s string) string {
		return mapRunes(s, func(i int, r rune) string {
			if i > 0 && r != ' ' {
				return " " + string(r)
			}
			return string(r)
		})
	}},
	{"hashtag", false, func(s string) string { return "#" + strings.ReplaceAll(s, " ", "") }},
	{"combined", true, func(s string) string {
		// leet + homoglyph + zero-width + stretched + upper-case first.
		out := mapRunes(s, func(i int, r rune) string {
			switch {
			case i == 0:
				return strings.ToUpper(string(r))
			case r == 'i' || r == 'o':
				return leetOut[r] + "\u200d"
			case homoglyph[r] != "":
				return homoglyph[r] + homoglyph[r] + homoglyph[r]
			}
			return string(r)
		})
		return out
	}},
	{"arabic-tatweel-harakat", false, func(s string) string {
		return mapRunes(s, func(i int, r rune) string {
			if r >= 0x620 && r <= 0x64A {
				return string(r) + "\u064E\u0640"
			}
			return string(r)
		})
	}},
	{"halfwidth-kana", false, func(s string) string { return norm.NFKC.String(s) }}, // identity on NFKC; plus width forms below
}

// Evasion terms: violent-extremism vocabulary plus non-Latin terms from
// LDNOOBW (single words, so word boundaries apply in spaced scripts).
var evasionTerms = []string{"kill", "murder", "behead", "bomb", "shoot", "stab", "attack the", "massacre",
	"terrorist", "jihad", "slaughter", "execute", "hate", "infidels", "genocide"}

// Decoys contain a term inside a longer word and must not match.
var decoys = []string{"skill", "skilled", "killer", "roadkill", "bombastic", "bombard", "shooter", "stabilize",
	"stable", "hated", "hater", "whatever", "chateau", "attacker", "murderer", "jihadist", "executive",
	"slaughterhouse", "massacred", "genocidal", "Scunthorpe", "cocktail", "assassin", "classic", "therapist",
	"skillful", "killjoy", "establish", "sunhat", "bombe", "execution"}

func TestEvasionSuite(t *testing.T) {
	tweets := loadTweets(t)
	ld := needData(t, "ldnoobw")
	terms := append([]string{}, evasionTerms...)
	nonLatin := map[string]bool{}
	for _, lang := range []string{"ar", "fa", "ru", "zh", "ja", "ko", "th", "hi"} {
		n := 0
		for _, w := range loadLines(t, filepath.Join(ld, lang+".txt")) {
			if n == 8 || strings.ContainsAny(w, " .0123456789") || !hasNonLatin(w) {
				continue
			}
			terms = append(terms, w)
			nonLatin[w] = true
			n++
		}
	}
	ts := make([]Term, len(terms))
	for i, w := range terms {
		ts[i] = Term{Text: w}
	}
	m := mustCompile(t, ts, Options{})
	rng := rand.New(rand.NewPCG(3, 4))
	var hits []Hit
	insert := func(word string) (string, int, int) {
		tw := tweets[rng.IntN(len(tweets))]
		fields := strings.Fields(tw)
		k := rng.IntN(len(fields) + 1)
		pre := strings.Join(fields[:k], " ")
		if pre != "" {
			pre += " "
		}
		post := strings.Join(fields[k:], " ")
		if post != "" {
			post = " " + post
		}
		return pre + word + post, len(pre), len(pre) + len(word)
	}
	type stat struct{ n, found int }
	per := map[string]*stat{}
	var total stat
	for ti, term := range terms {
		for _, ob := range obfuscations {
			if ob.latin && nonLatin[term] {
				continue
			}
			if ob.name == "arabic-tatweel-harakat" && !strings.ContainsFunc(term, func(r rune) bool { return r >= 0x620 && r <= 0x64A }) {
				continue
			}
			variant := ob.f(term)
			if ob.name == "leet-11" && variant == term {
				continue
			}
			text, a, b := insert(variant)
			hits = m.FindAll(text, hits[:0])
			ok := false
			for _, h := range hits {
				if int(h.Term) == ti && int(h.Start) >= a && int(h.End) <= b {
					ok = true
				}
			}
			s := per[ob.name]
			if s == nil {
				s = &stat{}
				per[ob.name] = s
			}
			s.n++
			total.n++
			if ok {
				s.found++
				total.found++
			} else {
				t.Logf("missed %s variant %q of %q", ob.name, variant, term)
			}
		}
	}
	for _, ob := range obfuscations {
		if s := per[ob.name]; s != nil {
			t.Logf("recall %-24s %3d/%3d = %.3f", ob.name, s.found, s.n, float64(s.found)/float64(s.n))
		}
	}
	recall := float64(total.found) / float64(total.n)
	t.Logf("evasion recall: %d/%d = %.3f over %d terms (%d non-Latin)", total.found, total.n, recall, len(terms), len(nonLatin))
	if recall < 0.97 {
		t.Errorf("evasion recall %.3f, want ≥ 0.97", recall)
	}

	// Decoys, plain and obfuscated (upper, zero-width, fullwidth).
	var fp, nd int
	for _, d := range decoys {
		for _, ob := range []string{"plain", "upper", "zero-width", "fullwidth", "leet"} {
			var f func(string) string
			for _, o := range obfuscations {
				if o.name == ob {
					f = o.f
				}
			}
			variant := f(d)
			text, a, b := insert(variant)
			hits = m.FindAll(text, hits[:0])
			nd++
			for _, h := range hits {
				if int(h.Start) < b && int(h.End) > a {
					fp++
					t.Logf("decoy %q (%s) matched term %q", variant, ob, terms[h.Term])
					break
				}
			}
		}
	}
	t.Logf("decoy false-positive rate: %d/%d = %.3f", fp, nd, float64(fp)/float64(nd))
	if fp != 0 {
		t.Errorf("%d decoys matched, want 0", fp)
	}
}

func hasNonLatin(s string) bool {
	for _, r := range s {
		if r >= 0x250 {
			return true
		}
	}
	return false
}

// TestCorpusSpans runs every Davidson tweet through a realistic matcher and
// checks that every span lies inside the text on rune boundaries.
func TestCorpusSpans(t *testing.T) {
	tweets := loadTweets(t)
	terms := make([]Term, 0, 200)
	for _, w := range loadLines(t, filepath.Join(needData(t, "ldnoobw"), "en.txt")) {
		terms = append(terms, Term{Text: w})
	}
	m := mustCompile(t, terms, Options{})
	var hits []Hit
	total := 0
	for _, tw := range tweets {
		hits = m.FindAll(tw, hits[:0])
		total += len(hits)
		for _, h := range hits {
			checkSpan(t, tw, int(h.Start), int(h.End))
		}
	}
	t.Logf("%d hits of %d English LDNOOBW terms in %d tweets", total, len(terms), len(tweets))
	if total < 1000 {
		t.Errorf("only %d hits: the matcher misses plain terms", total)
	}
}

func checkSpan(t testing.TB, text string, a, b int) {
	t.Helper()
	if a < 0 || b > len(text) || a >= b {
		t.Fatalf("span [%d,%d) outside %q", a, b, text)
	}
	// Boundaries as utf8 decodes the text: invalid bytes are one rune each.
	okA, okB := false, b == len(text)
	for i := 0; i < len(text); {
		okA = okA || i == a
		okB = okB || i == b
		_, n := utf8.DecodeRuneInString(text[i:])
		i += n
	}
	if !okA || !okB {
		t.Fatalf("span [%d,%d) splits a rune in %q", a, b, text)
	}
}
