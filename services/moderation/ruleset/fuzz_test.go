package ruleset

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// FuzzCompile: any input either compiles or returns ErrInvalid; never a
// panic.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(operators))
	f.Add([]byte("rules:\n  - id: a\n    description: d\n    category: spam\n    severity: low\n    keywords: [x y]\n"))
	f.Add([]byte("lists: {a: [b]}\nrules: [{id: r, category: hate, severity: high, match: {near: ['@a', c], within: 0}}]"))
	f.Add([]byte("rules: [{id: r, category: hate, severity: high, regex: '(?i)abc+'}]"))
	f.Add([]byte("&a [*a]"))
	// Syntax errors whose position is corrected after yaml.v3.
	f.Add([]byte("rules: [a,\n  b\n"))
	f.Add([]byte("{\"rules\": [\n {\"id\": \"a\" \"x\": 1}\n]}"))
	f.Add([]byte("rules:\n  - id: a\n   b: c\n"))
	f.Add([]byte("rules:\n  - id: a\x01\n    keywords: [caf\xe9]\n"))
	f.Add([]byte("rules: [{id: r, category: hate, severity: high, keywords: ['k.*ll', '(a|b)']}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Compile([]File{{Name: "f.yaml", Data: data}})
		if err != nil {
			if !errors.Is(err, moderation.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		s.Match("kill the attack the x y abc", "", nil)
	})
}

// FuzzMatch: every span of every match lies inside the text on rune
// boundaries.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"I will kill you", "k.i.l.l", "FREE bitcoin 12", "a sparse arse", "cut ... throats",
		"\xff\xfe", "убить", "buy cheap buy cheap buy", `if you say "I hate women"`} {
		f.Add(s)
	}
	set, err := Compile([]File{{Name: "t.yaml", Data: []byte(operators)}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range set.Match(text, "", nil) {
			for _, sp := range m.Spans {
				if sp.Start < 0 || sp.End > len(text) || sp.Start >= sp.End {
					t.Fatalf("span %+v outside %q", sp, text)
				}
				if utf8.ValidString(text) && (!utf8.RuneStart(text[sp.Start]) || sp.End < len(text) && !utf8.RuneStart(text[sp.End])) {
					t.Fatalf("span %+v splits a rune of %q", sp, text)
				}
			}
		}
	})
}
