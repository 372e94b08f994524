package hashbank

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

var update = flag.Bool("update", false, "rewrite rules/banks/demo.csv and demo-phash.jsonl from demoimage")

const banksDir = "../../../rules/banks"

func demoBanks(t *testing.T) (Bank, Bank) {
	h := imagehash.NewHasher()
	pdq := Bank{Name: "demo", HashType: imagehash.TypePDQ, Source: "vigil-demo",
		Category: DefaultCategory}
	ph := Bank{Name: "demo-phash", HashType: imagehash.TypePHash, Source: "vigil-demo", Category: DefaultCategory}
	for i := 0; i < demoimage.Count; i++ {
		if !demoimage.Banked(i) {
			continue
		}
		img := demoimage.Image(i)
		r := h.PDQ(img)
		p, err := imagehash.PHash(img)
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("demo-%d", i)
		pdq.Entries = append(pdq.Entries, Entry{ID: id, Hash: r.Hash.String(), ExternalID: fmt.Sprintf("demoimage.Image(%d)", i)})
		ph.Entries = append(ph.Entries, Entry{ID: id, Hash: p.String(), ExternalID: fmt.Sprintf("demoimage.Image(%d)", i)})
	}
	return pdq, ph
}

func writeJSONL(t *testing.T, path string, b Bank) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"bank":%q,"type":%q,"threshold":%d,"category":%q,"severity":"critical","source":%q}`+"\n",
		b.Name, b.HashType, Default64BitThreshold, b.Category, b.Source)
	for _, e := range b.Entries {
		fmt.Fprintf(&buf, `{"id":%q,"hash":%q,"external_id":%q}`+"\n", e.ID, e.Hash, e.ExternalID)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDemoBank: the demo banks in rules/banks match the banked demo
// pictures, also after JPEG re-encoding (the firehose may post JPEGs), and
// match none of the others.
func TestDemoBank(t *testing.T) {
	if *update {
		pdq, ph := demoBanks(t)
		var buf bytes.Buffer
		buf.WriteString("# Demo bank: PDQ hashes of demoimage.Image(0..4), synthetic pictures the demo firehose posts.\n")
		buf.WriteString("# Regenerate with: go test ./hashbank -run TestDemoBank -update\n")
		if err := WriteCSV(&buf, pdq); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(banksDir, "demo.csv"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		writeJSONL(t, filepath.Join(banksDir, "demo-phash.jsonl"), ph)
	}
	banks, err := LoadDir(banksDir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(banks)
	if err != nil {
		t.Fatal(err)
	}
	h := imagehash.NewHasher()
	for i := 0; i < demoimage.Count; i++ {
		img := demoimage.Image(i)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
			t.Fatal(err)
		}
		d, err := imagehash.DecodeBytes(buf.Bytes(), imagehash.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		ms, hs, err := set.MatchImage(h, d, fmt.Sprintf("m%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if hs.PDQ.Quality < 50 {
			t.Errorf("demo image %d: PDQ quality %d", i, hs.PDQ.Quality)
		}
		byBank := map[string]string{}
		for _, m := range ms {
			byBank[m.Bank] = m.EntryID
			t.Logf("image %d: %s/%s d=%d", i, m.Bank, m.EntryID, m.Distance)
		}
		want := ""
		if demoimage.Banked(i) {
			want = fmt.Sprintf("demo-%d", i)
		}
		for _, bank := range []string{"demo", "demo-phash"} {
			if byBank[bank] != want {
				t.Errorf("image %d, bank %s: matched %q, want %q", i, bank, byBank[bank], want)
			}
		}
	}
}

// TestDemoImagesDistinct: the pictures are far apart in every hash, so the
// unbanked ones are realistic near-miss innocents.
func TestDemoImagesDistinct(t *testing.T) {
	h := imagehash.NewHasher()
	var pdqs []imagehash.Hash256
	var phs []imagehash.Hash64
	for i := 0; i < demoimage.Count; i++ {
		pdqs = append(pdqs, h.PDQ(demoimage.Image(i)).Hash)
		p, _ := imagehash.PHash(demoimage.Image(i))
		phs = append(phs, p)
	}
	for i := range pdqs {
		for j := i + 1; j < len(pdqs); j++ {
			if d := pdqs[i].Distance(pdqs[j]); d <= 2*DefaultPDQThreshold {
				t.Errorf("PDQ %d vs %d: distance %d", i, j, d)
			}
			if d := phs[i].Distance(phs[j]); d <= 2*Default64BitThreshold {
				t.Errorf("pHash %d vs %d: distance %d", i, j, d)
			}
		}
	}
}

// TestMatchImageLetterboxed: a banked picture re-posted with black bars
// (a video frame in a 16:9 player, a screenshot) still matches, once per
// entry, through the border-trimmed second look; unbanked ones still don't.
func TestMatchImageLetterboxed(t *testing.T) {
	t.Parallel()
	banks, err := LoadDir(banksDir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(banks)
	if err != nil {
		t.Fatal(err)
	}
	h := imagehash.NewHasher()
	for i := 0; i < demoimage.Count; i++ {
		img := demoimage.Image(i)
		b := img.Bounds()
		bar := b.Dy() / 4
		boxed := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+2*bar))
		draw.Draw(boxed, boxed.Bounds(), image.Black, image.Point{}, draw.Src)
		draw.Draw(boxed, b.Add(image.Pt(0, bar)), img, b.Min, draw.Src)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, boxed, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		d, err := imagehash.DecodeBytes(buf.Bytes(), imagehash.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		ms, _, err := set.MatchImage(h, d, "m")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, m := range ms {
			got[m.Bank+"/"+m.EntryID]++
		}
		for _, bank := range []string{"demo", "demo-phash"} {
			key := fmt.Sprintf("%s/demo-%d", bank, i)
			if want := map[bool]int{true: 1}[demoimage.Banked(i)]; got[key] != want || len(ms) != 2*want {
				t.Errorf("letterboxed image %d: matches %v, want %s %d time(s)", i, got, key, want)
			}
		}
	}
}
