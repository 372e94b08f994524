package gen_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/firehose/internal/gen"
	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// TestBankedBurst: the first BankedBurst posts carry copies of one
// demo-bank picture, and every copy matches the same entry of each bank
// (a cluster); the post after them is drawn as usual.
func TestBankedBurst(t *testing.T) {
	t.Parallel()
	eng := demoEngine(t)
	g := gen.New(gen.Options{Seed: 3, BankedBurst: 4})
	entries := map[string]int{}
	for i := range 5 {
		p := g.Next()
		if i == 4 {
			if len(p.Media) != 0 {
				t.Fatalf("post 5 has %d pictures; after the burst, pictures come at the configured rates (0 here)", len(p.Media))
			}
			break
		}
		if len(p.Media) != 1 {
			t.Fatalf("post %d has %d pictures, want the banked copy", i+1, len(p.Media))
		}
		d, err := imagehash.DecodeBytes(p.Media[0].Data, imagehash.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := eng.Evaluate(context.Background(), p, engine.Image{MediaID: p.Media[0].ID, Decoded: d})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range v.Matches {
			entries[m.Bank+":"+m.EntryID]++
		}
	}
	// One entry per bank (the demo picture is in the PDQ and the pHash
	// bank), each matched by all four copies.
	banks := map[string]bool{}
	for k, n := range entries {
		bank, _, _ := strings.Cut(k, ":")
		if n != 4 || banks[bank] {
			t.Fatalf("the burst matched entries %v, want one entry per bank, each by the 4 copies", entries)
		}
		banks[bank] = true
	}
	if len(entries) == 0 {
		t.Fatal("the burst matched no bank entry")
	}
}

// TestMix: generated posts are valid events, deterministic for a seed, and
// the mix is what was asked: text matches, banked pictures that match the
// demo bank by hash, and innocent pictures that do not.
func TestMix(t *testing.T) {
	t.Parallel()
	eng := demoEngine(t)
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

// demoEngine matches with the repository's demo rules and banks.
func demoEngine(t *testing.T) *engine.Engine {
	t.Helper()
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
	return engine.New(rules, engine.WithBanks(set))
}
