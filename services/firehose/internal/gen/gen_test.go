package gen_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/firehose/internal/gen"
	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// TestMix: generated posts are valid events, deterministic for a seed, and
// the mix is what was asked: text matches, banked pictures that match the
// demo bank by hash, and innocent pictures that do not.
func TestMix(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..", "..")
	rules, err := ruleset.LoadDir(filepath.Join(root, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	banks, err := hashbank.LoadDir(filepath.Join(root, "rules", "banks"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := hashbank.NewSet(banks)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(rules, engine.WithBanks(set))
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	opts := gen.Options{Seed: 7, MatchRate: 0.05, ImageRate: 0.2, BankedImageRate: 0.05, Now: now}
	g, again := gen.New(opts), gen.New(opts)
	var textFlags, bankFlags, images, innocent int
	const n = 1000
	for range n {
		p := g.Next()
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if b2, _ := json.Marshal(again.Next()); string(b) != string(b2) {
			t.Fatal("same seed, different posts")
		}
		p, err = moderation.DecodePost(b)
		if err != nil {
			t.Fatalf("generated post is invalid: %v", err)
		}
		var imgs []engine.Image
		for _, m := range p.Media {
			d, err := imagehash.DecodeBytes(m.Data, imagehash.Limits{})
			if err != nil {
				t.Fatalf("generated picture: %v", err)
			}
			imgs = append(imgs, engine.Image{MediaID: m.ID, Decoded: d})
		}
		images += len(imgs)
		v, err := eng.Evaluate(context.Background(), p, imgs...)
		if err != nil {
			t.Fatal(err)
		}
		bank := false
		for _, m := range v.Matches {
			if m.Bank != "" {
				bank = true
			} else {
				textFlags++
			}
		}
		switch {
		case bank:
			bankFlags++
		case len(imgs) > 0:
			innocent++
		}
	}
	if textFlags < 30 || textFlags > 75 || bankFlags < 30 || bankFlags > 75 || innocent < 150 || innocent > 250 {
		t.Fatalf("of %d posts: %d text matches, %d bank matches, %d innocent pictures (%d pictures)", n, textFlags, bankFlags, innocent, images)
	}
}
