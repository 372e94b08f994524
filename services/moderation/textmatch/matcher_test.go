package textmatch

import (
	"slices"
	"strings"
	"testing"
)

func mustCompile(t testing.TB, terms []Term, o Options) *Matcher {
	t.Helper()
	m, err := Compile(terms, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// found returns the original substrings of all hits of term 0.
func found(m *Matcher, text string) []string {
	var out []string
	for _, h := range m.FindAll(text, nil) {
		out = append(out, text[h.Start:h.End])
	}
	return out
}

func TestMatcherBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		term Term
		text string
		want []string
	}{
		{Term{Text: "kill"}, "I will kill you", []string{"kill"}},
		{Term{Text: "kill"}, "what a skill", nil},
		{Term{Text: "kill"}, "killer app", nil},
		{Term{Text: "kill", Substring: true}, "killer skills", []string{"kill", "kill"}},
		{Term{Text: "kill"}, "KILL!", []string{"KILL"}},
		{Term{Text: "kill"}, "k1ll", []string{"k1ll"}},
		{Term{Text: "kill"}, "ki11 them", []string{"ki11"}},
		{Term{Text: "kill"}, "KI1L", []string{"KI1L"}},
		{Term{Text: "kill"}, "to ki11", []string{"ki11"}},
		{Term{Text: "kill"}, "sk1ll ski11", nil},
		{Term{Text: "sick"}, "s1ck", []string{"s1ck"}},
		{Term{Text: "アジアの女"}, "アジジジジアの女", []string{"アジジジジアの女"}},
		{Term{Text: "アジアの女"}, "ｱｼﾞｼﾞｼﾞｱの女", []string{"ｱｼﾞｼﾞｼﾞｱの女"}},
		{Term{Text: "アジアの女"}, "アシ\u3099シ\u3099シ\u3099アの女", []string{"アシ\u3099シ\u3099シ\u3099アの女"}},
		{Term{Text: "アジアの女"}, "アシアの女", nil},
		{Term{Text: "ki11"}, "kill", []string{"kill"}},
		{Term{Text: "kill"}, "k.i.l.l them", []string{"k.i.l.l"}},
		{Term{Text: "kill"}, "k i l l them", []string{"k i l l"}},
		{Term{Text: "kill"}, "kiiiiilllll", []string{"kiiiiilllll"}},
		{Term{Text: "kill"}, "ｋｉｌｌ", []string{"ｋｉｌｌ"}},
		{Term{Text: "kill"}, "kіll", []string{"kіll"}},
		{Term{Text: "kill"}, "k\u200bi\u200bl\u200bl", []string{"k\u200bi\u200bl\u200bl"}},
		// Control characters print as nothing: C0 (NUL included) and DEL
		// are soft separators, C1 are dropped.
		{Term{Text: "attack"}, "we at\x00tack now", []string{"at\x00tack"}},
		{Term{Text: "attack"}, "a\x01t\x1ft\x7fack", []string{"a\x01t\x1ft\x7fack"}},
		{Term{Text: "attack"}, "at\u0080ta\u009fck", []string{"at\u0080ta\u009fck"}},
		{Term{Text: "attack"}, "attack\x00ers", []string{"attack"}}, // as "attack.ers": a possible boundary
		{Term{Text: "attack"}, "at\u0085tack", nil},
		{Term{Text: "kill"}, "kíll", []string{"kíll"}},
		{Term{Text: "kill"}, "#kill", []string{"kill"}},
		{Term{Text: "kill"}, "kill🔪", []string{"kill"}},
		{Term{Text: "arse"}, "sparse", nil},
		{Term{Text: "ass"}, "as long as", nil},
		{Term{Text: "ass"}, "asss", []string{"asss"}},
		{Term{Text: "god"}, "good", nil},
		{Term{Text: "god"}, "goood", []string{"goood"}},
		{Term{Text: "kill"}, "kil", nil},
		{Term{Text: "kill"}, "kiiiilll", []string{"kiiiilll"}},
		{Term{Text: "hmmm"}, "hmm", []string{"hmm"}},
		{Term{Text: "lo*ng"}, "looooong", []string{"looooong"}},
		{Term{Text: "hate"}, "I h a t e women", []string{"h a t e"}},
		{Term{Text: "attack the"}, "we attack   the base", []string{"attack   the"}},
		{Term{Text: "attack the"}, "we attack theatre", nil},
		{Term{Text: "bomb the"}, "Bomb  the", []string{"Bomb  the"}},
		// Non-Latin scripts.
		{Term{Text: "убить"}, "надо убить всех", []string{"убить"}},
		{Term{Text: "убить"}, "УБИТЬ!", []string{"УБИТЬ"}},
		{Term{Text: "قتل"}, "يجب قتل الجميع", []string{"قتل"}},
		{Term{Text: "قتل"}, "يجب قَتْل الجميع", []string{"قَتْل"}},
		{Term{Text: "قتل"}, "يجب قتـــل الجميع", []string{"قتـــل"}},
		{Term{Text: "死ね"}, "お前は死ねばいい", []string{"死ね"}},
		{Term{Text: "杀"}, "我要杀了你", []string{"杀"}},
		{Term{Text: "fuck"}, "死fuck", []string{"fuck"}},
	}
	for _, tt := range tests {
		m := mustCompile(t, []Term{tt.term}, Options{})
		if got := found(m, tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("%+v in %q: got %q, want %q", tt.term, tt.text, got, tt.want)
		}
	}
}

func TestMatcherManyTerms(t *testing.T) {
	t.Parallel()
	terms := []Term{{Text: "he"}, {Text: "she"}, {Text: "his"}, {Text: "hers"}, {Text: "she sells", Substring: true}, {Text: "sea", Substring: true}}
	m := mustCompile(t, terms, Options{})
	text := "ushers: she sells seashells, hers and his"
	var got []string
	for _, h := range m.FindAll(text, nil) {
		got = append(got, terms[h.Term].Text+"="+text[h.Start:h.End])
	}
	want := []string{"she=she", "she sells=she sells", "sea=sea", "hers=hers", "his=his"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestMatcherWords(t *testing.T) {
	t.Parallel()
	m := mustCompile(t, []Term{{Text: "cut"}, {Text: "throats"}}, Options{})
	hits := m.FindAll("I will cut their female throats.", nil)
	if len(hits) != 2 || hits[1].Word-hits[0].Word != 3 {
		t.Fatalf("hits %+v", hits)
	}
}

func TestFuzzy(t *testing.T) {
	t.Parallel()
	m := mustCompile(t, []Term{{Text: "hate", Fuzzy: 1}, {Text: "hatred", Fuzzy: 1}, {Text: "kill"}}, Options{})
	for _, s := range []string{"I haet you", "so much hatrd", "hatred", "hayred", "hatrexd", "hatreds", "h.a.t.r.e.x.d"} {
		if len(m.FindAll(s, nil)) == 0 {
			t.Errorf("fuzzy: no hit in %q", s)
		}
	}
	// Insertions need FuzzyDelRunes runes ("haste" is not "hate") and keep
	// the first letter.
	for _, s := range []string{"klil", "I have a hat", "ahte", "haste", "xhatred"} {
		if h := m.FindAll(s, nil); len(h) != 0 {
			t.Errorf("fuzzy: unexpected hit in %q: %+v", s, h)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for _, terms := range [][]Term{{{Text: ""}}, {{Text: "!!!"}}, {{Text: strings.Repeat("ab", 200)}}, {{Text: "x", Fuzzy: 2}}} {
		if _, err := Compile(terms, Options{}); err == nil {
			t.Errorf("Compile(%q): want error", terms[0].Text)
		}
	}
}

func TestRaw(t *testing.T) {
	t.Parallel()
	r, err := NewRaw([]string{"he", "she", "his", "hers"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Count("ushers"); got != 3 {
		t.Errorf("Count = %d, want 3", got)
	}
	// A tiny dense budget forces sparse rows: same answers.
	r2, _ := NewRaw([]string{"he", "she", "his", "hers"}, 1)
	if got := r2.Count("ushers ahishers"); got != r.Count("ushers ahishers") {
		t.Errorf("sparse Count = %d, want %d", got, r.Count("ushers ahishers"))
	}
}

func TestZeroAllocs(t *testing.T) {
	m := mustCompile(t, []Term{{Text: "kill"}, {Text: "attack the"}, {Text: "убить"}}, Options{})
	dst := make([]Hit, 0, 16)
	// Hits; none (the prefilter rejects it, ASCII); none with emoji, a
	// fullwidth letter, "…" and "’" (the prefilter reads the runes).
	for _, text := range []string{"RT @someone: I will k1ll them, attack the base! убить ｋｉｌｌ 死ね",
		"RT @someone: what a lovely day at the beach with everyone, see you all soon!",
		"RT @someone: what a lovely day 😂😂 at the beach… with ｅveryone, don’t go"} {
		allocs := testing.AllocsPerRun(100, func() { dst = m.FindAll(text, dst[:0]) })
		if allocs != 0 {
			t.Errorf("FindAll(%q) allocates %.1f times per run", text, allocs)
		}
	}
	if m.pf == nil || m.pf.filter("RT @someone: what a lovely day 😂😂 at the beach… with ｅveryone, don’t go") {
		t.Error("prefilter missing or passing a text without terms")
	}
}
