package engine_test

import (
	"bytes"
	"context"
	"image/png"
	"path/filepath"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

func demoEngine(t *testing.T) *engine.Engine {
	t.Helper()
	rules, err := ruleset.LoadDir(filepath.Join("..", "..", "..", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	return engine.New(rules, engine.WithBanks(demoBanks(t)))
}

// demoBanks is the repository's demo hash banks.
func demoBanks(t *testing.T) *hashbank.Set {
	t.Helper()
	banks, err := hashbank.LoadDir(filepath.Join("..", "..", "..", "rules", "banks"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := hashbank.NewSet(banks)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func decoded(t *testing.T, i int) imagehash.Decoded {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, demoimage.Image(i)); err != nil {
		t.Fatal(err)
	}
	d, err := imagehash.DecodeBytes(buf.Bytes(), imagehash.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	e := demoEngine(t)
	post := moderation.Post{ID: "p1", Text: "we will attack the parade", Lang: "en"}
	v, err := e.Evaluate(context.Background(), post)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Matches) != 1 || v.Matches[0].RuleID != "demo.attack-call" {
		t.Fatalf("text matches = %+v", v.Matches)
	}
	post.Text = "a picture of my garden"
	for i := range demoimage.Count {
		v, err := e.Evaluate(context.Background(), post, engine.Image{MediaID: "m1", Decoded: decoded(t, i)})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Flagged(); got != demoimage.Banked(i) {
			t.Fatalf("demo image %d: flagged %v, want %v (matches %+v)", i, got, demoimage.Banked(i), v.Matches)
		}
		for _, m := range v.Matches {
			if m.Bank == "" || m.MediaID != "m1" || m.Hash == "" {
				t.Fatalf("demo image %d: incomplete bank match %+v", i, m)
			}
		}
	}
}

func TestEvaluateWithoutBanksIgnoresImages(t *testing.T) {
	t.Parallel()
	rules, err := ruleset.LoadDir(filepath.Join("..", "..", "..", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := engine.New(rules).Evaluate(context.Background(), moderation.Post{ID: "p"}, engine.Image{MediaID: "m", Decoded: decoded(t, 0)})
	if err != nil || v.Flagged() {
		t.Fatalf("verdict %+v, err %v", v, err)
	}
}

// TestEvaluateBanksAlone: an engine without rules (nil) matches images
// against its banks and no text.
func TestEvaluateBanksAlone(t *testing.T) {
	t.Parallel()
	post := moderation.Post{ID: "p", Text: "we will attack the parade", Lang: "en"}
	v, err := engine.New(nil, engine.WithBanks(demoBanks(t))).Evaluate(context.Background(), post, engine.Image{MediaID: "m", Decoded: decoded(t, 0)})
	if err != nil || !v.Flagged() || v.RuleVersion != 0 {
		t.Fatalf("verdict %+v, err %v; want the banked picture matched", v, err)
	}
	for _, m := range v.Matches {
		if m.Bank == "" {
			t.Fatalf("text matched without rules: %+v", m)
		}
	}
}
