package textmatch

import (
	"testing"
	"unicode/utf8"
)

// only returns Options with just step s enabled.
func only(s Step) Options { return Options{Disable: AllSteps &^ s} }

func mustNorm(t *testing.T, o Options) *Normalizer {
	t.Helper()
	n, err := NewNormalizer(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNormalizeSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		step     Step
		in, want string
	}{
		// No step at all: punctuation runs become one space.
		{0, "Kill  the. Bomb!", "Kill the Bomb"},
		{StepIgnorables, "k\u200bi\u200dl\u00adl\ufeff", "kill"},
		{StepIgnorables, "قتـــل", "قتل"},
		{StepIgnorables, "kill\u200b", "kill"},
		{StepIgnorables, "k\u0080i\u009fll", "kill"},
		{StepNFKC, "ｋｉｌｌ", "kill"},
		{StepNFKC, "𝐤𝐢𝐥𝐥", "kill"},
		{StepNFKC, "ⓚⓘⓛⓛ", "kill"},
		{StepNFKC, "ﬁght", "fight"},
		{StepNFKC, "é", "e\u0301"},
		{StepNFKC | StepDiacritics, "kíll", "kill"},
		{StepNFKC | StepDiacritics, "ki\u0301ll", "kill"},
		{StepNFKC | StepDiacritics, "ǖ", "u"},
		{StepNFKC | StepDiacritics, "ёж", "еж"},
		{StepNFKC | StepDiacritics, "قَتَلَ", "قتل"},
		// Kana voicing kept, composed whatever form the text uses.
		{StepNFKC | StepDiacritics, "が", "が"},
		{StepNFKC, "か\u3099 か゛ ｶﾞ ﾊﾟ ウ\u3099 ヲ\u3099", "が が ガ パ ヴ ヺ"},
		{StepNFKC, "ﾞか ん\u3099", "\u3099か ん\u3099"},
		{StepDiacritics, "ki\u0301ll", "kill"},
		{StepCaseFold, "KiLL", "kill"},
		{StepCaseFold, "STRASSE Straße", "strasse strasse"},
		{StepCaseFold, "ΣΟΦΟΣ σοφος", "σοφοσ σοφοσ"},
		{StepCaseFold, "УБИТЬ", "убить"},
		{StepConfusables, "kіll", "kill"},     // Cyrillic і
		{StepConfusables, "аttасk", "attack"}, // Cyrillic а, с
		{StepConfusables, "ΚΙΛΛ", "kiΛΛ"},     // Greek capitals (Λ has no Latin twin)
		{StepConfusables, "ѕсum", "scum"},
		{StepConfusables, "\U0001F1F0\U0001F1EE\U0001F1F1\U0001F1F1", "kill"}, // regional indicators
		{StepConfusables, "ﻙ", "ﻙ"},
		{StepConfusables, "ك", "ک"},
		{StepLeet, "k1ll h4te", "kill hate"},
		{StepLeet, "sh!t @ss $hit", "shit ass shit"},
		{StepLeet, "kill!", "kill"},
		{StepLeet, "5h17", "shit"},
		// '1' is 'l' beside an 'i' or another '1', 'i' elsewhere.
		{StepLeet, "ki11 ki1l 1ick", "kill kill lick"},
		{StepLeet, "k1ll s1ck musl1m", "kill sick muslim"},
		{StepLeet, "a11ah he11 111", "allah hell lll"},
		{StepSqueeze, "kiiiiillll", "kiiilll"},
		{StepSqueeze, "kill kil", "kill kil"},
		{StepSqueeze, "goooood", "goood"},
		{StepSeparators, "k.i.l.l", "kill"},
		{StepSeparators, "k-i-l-l k_i_l_l", "kill kill"},
		{StepSeparators, "I h a t e women", "Ihate women"},
		{StepSeparators, "are v i l e. Or s c u m!", "are vile Or scum"},
		{StepSeparators, "end. Kill", "end Kill"},
		{StepSeparators, "don't", "dont"},
		{0, "k.i.l.l", "k i l l"},
		// All steps together.
		{AllSteps, "Ｋ.1.ⅼ.ⅼ", "kill"},
		{AllSteps, "I w4nt to k\u200b1\u200bl\u200bl all", "i want to kill all"},
		{AllSteps, "  Attack   THE  ", "attack the"},
		{AllSteps, "", ""},
		{AllSteps, "!!!", ""},
		{AllSteps, "死ね死ね", "死ね死ね"},
	}
	for _, tt := range tests {
		n := mustNorm(t, only(tt.step))
		if got := n.String(tt.in); got != tt.want {
			t.Errorf("step %08b: Normalize(%q) = %q, want %q", tt.step, tt.in, got, tt.want)
		}
	}
}

func TestNormalizeSpans(t *testing.T) {
	t.Parallel()
	n := mustNorm(t, Options{})
	text := "Ｋ1\u200bll ok"
	out, spans := n.Normalize(nil, nil, text)
	if utf8.RuneCount(out) != len(spans) {
		t.Fatalf("%d runes, %d spans", utf8.RuneCount(out), len(spans))
	}
	if string(out) != "kill ok" {
		t.Fatalf("got %q", out)
	}
	if text[spans[0].Start:spans[3].End] != "Ｋ1\u200bll" {
		t.Errorf("spans %v cover %q", spans, text[spans[0].Start:spans[3].End])
	}
}

func TestCustomLeet(t *testing.T) {
	t.Parallel()
	n := mustNorm(t, Options{Leet: map[rune]rune{'2': 'z'}})
	if got := n.String("2ero h4te"); got != "zero h4te" {
		t.Errorf("got %q", got)
	}
	if _, err := NewNormalizer(Options{Leet: map[rune]rune{'4': '9'}}); err == nil {
		t.Error("want error for a non-letter leet value")
	}
	// No second reading for '1' without '1' in the table, or when
	// switched off.
	if got := n.String("ki11"); got != "ki11" {
		t.Errorf("got %q", got)
	}
	if got := mustNorm(t, Options{LeetAlt: map[rune]rune{}}).String("ki11"); got != "kiii" {
		t.Errorf("LeetAlt off: got %q", got)
	}
	for _, alt := range []map[rune]rune{{'2': 'z'}, {'1': '7'}, {'@': 'a'}} {
		if _, err := NewNormalizer(Options{LeetAlt: alt}); err == nil {
			t.Errorf("LeetAlt %q: want an error", alt)
		}
	}
}
