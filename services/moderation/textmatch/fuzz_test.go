package textmatch

import (
	"testing"
	"unicode/utf8"
)

// FuzzFindAll checks the scanner never panics and that every hit and every
// normalised rune maps to a span inside the text on rune boundaries.
func FuzzFindAll(f *testing.F) {
	for _, s := range []string{"", "kill", "k.i.l.l", "I h a t e you", "ｋｉｌｌ", "kіll", "k\u200bill",
		"kiiiilll", "sh!t $$ !!!", "قتـــل", "死ね死ね", "attack   the", "\xff\xfe", "a\u0301\u0301b",
		"ﷺ", "ß ẞ", "🇰🇮🇱🇱", "x $", "a b c d e f", "ki11 k1ll 1i1 111l", "ｶﾞ か゛ シ\u3099シ\u3099 ﾞ\u3099"} {
		f.Add(s)
	}
	m := mustCompile(f, []Term{{Text: "kill"}, {Text: "attack the"}, {Text: "ass"}, {Text: "قتل"}, {Text: "死ね"},
		{Text: "hatred", Fuzzy: 1}, {Text: "sub", Substring: true}, {Text: "a b"}}, Options{})
	f.Fuzz(func(t *testing.T, text string) {
		for _, h := range m.FindAll(text, nil) {
			checkSpan(t, text, int(h.Start), int(h.End))
		}
		out, spans := m.Normalizer().Normalize(nil, nil, text)
		if !utf8.Valid(out) {
			t.Fatalf("Normalize(%q) is not UTF-8: %q", text, out)
		}
		if utf8.RuneCount(out) != len(spans) {
			t.Fatalf("Normalize(%q): %d runes, %d spans", text, utf8.RuneCount(out), len(spans))
		}
		for _, sp := range spans {
			checkSpan(t, text, sp.Start, sp.End)
		}
	})
}
