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
		{StepNFKC | StepDiacritics, "が", "か\u3099"}, // kana voicing kept
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
}
