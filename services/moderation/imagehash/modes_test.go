package imagehash

import (
	"bytes"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/corona10/goimagehash"
	_ "golang.org/x/image/webp"
)

// TestColourModes: the bridge converted by Pillow to every colour mode Go
// can decode must still match the original (the dithered 1-bit image is
// logged, not asserted: it is a different picture at pixel level).
func TestColourModes(t *testing.T) {
	dir := filepath.Join(pdqData, "images/misc-images/modes")
	needData(t, dir)
	h := NewHasher()
	orig := decodeFile(t, filepath.Join(dir, "original.jpg"))
	ref := h.PDQDecoded(orig).Hash
	refP, _ := PHash(orig.Image)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if filepath.Ext(name) == ".md" {
			continue
		}
		d := decodeFile(t, filepath.Join(dir, name))
		r := h.PDQDecoded(d)
		p, _ := PHash(d.Upright())
		dist, pd := r.Hash.Distance(ref), p.Distance(refP)
		t.Logf("%-12s %-18T pdq d=%3d q=%3d  phash d=%2d", name, d.Image, dist, r.Quality, pd)
		n++
		if name == "1.png" {
			continue
		}
		if dist > 31 || r.Quality < 50 {
			t.Errorf("%s: PDQ distance %d (quality %d) from original", name, dist, r.Quality)
		}
		if pd > 10 {
			t.Errorf("%s: pHash distance %d from original", name, pd)
		}
	}
	if n < 13 {
		t.Errorf("only %d mode images", n)
	}
}

// testImages lists every image file under the PDQ data and the goimagehash
// samples, for tests that run over all of them.
func testImages(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, root := range []string{filepath.Join(pdqData, "images"), "../../../../shared/data/goimagehash"} {
		needData(t, root)
		filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				switch filepath.Ext(p) {
				case ".jpg", ".jpeg", ".png", ".webp", ".gif":
					out = append(out, p)
				}
			}
			return nil
		})
	}
	return out
}

// TestHash64MatchesGoimagehash: our 64-bit hashes are bit-identical to
// goimagehash on image.Decode's output for every test image (images with an
// EXIF rotation are compared on the upright image).
func TestHash64MatchesGoimagehash(t *testing.T) {
	h := NewHasher()
	fast := 0
	for _, p := range testImages(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := DecodeBytes(b, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		hs, err := h.HashAll(d, HashOptions{Types: []string{TypePHash, TypeDHash, TypeAHash}})
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: image.Decode: %v", p, err)
		}
		if d.Orientation != 1 {
			img = Orient(img, d.Orientation)
		}
		if _, ok := d.Image.(*image.YCbCr); ok {
			fast++ // through the exact fast resize (resize64.go)
		}
		ph, _ := goimagehash.PerceptionHash(img)
		dh, _ := goimagehash.DifferenceHash(img)
		ah, _ := goimagehash.AverageHash(img)
		if uint64(hs.PHash) != ph.GetHash() || uint64(hs.DHash) != dh.GetHash() || uint64(hs.AHash) != ah.GetHash() {
			t.Errorf("%s: ours %s/%s/%s, goimagehash %016x/%016x/%016x", p, hs.PHash, hs.DHash, hs.AHash,
				ph.GetHash(), dh.GetHash(), ah.GetHash())
		}
	}
	if fast == 0 {
		t.Error("no test image took the exact fast path")
	}
	t.Logf("%d JPEGs (upright or rotated) through the exact fast resize", fast)
}

// TestGoimagehashPublishedDistances checks the distances goimagehash's own
// tests assert on its sample photos.
func TestGoimagehashPublishedDistances(t *testing.T) {
	rows := readCSV(t, "../../../../shared/data/goimagehash/distances.csv")
	cache := map[string]Decoded{}
	get := func(name string) Decoded {
		if d, ok := cache[name]; ok {
			return d
		}
		d := decodeFile(t, filepath.Join("../../../../shared/data/goimagehash", name))
		cache[name] = d
		return d
	}
	checked := 0
	for _, r := range rows {
		if r["width"] != "8" || r["height"] != "8" {
			continue
		}
		typ := map[string]string{"PerceptionHash": TypePHash, "DifferenceHash": TypeDHash, "AverageHash": TypeAHash}[r["method"]]
		if typ == "" {
			continue
		}
		a, _ := Hash64Of(typ, get(r["image_a"]).Upright())
		b, _ := Hash64Of(typ, get(r["image_b"]).Upright())
		want, _ := strconv.Atoi(r["distance"])
		if got := a.Distance(b); got != want {
			t.Errorf("%s %s vs %s: distance %d, want %d", typ, r["image_a"], r["image_b"], got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no rows checked")
	}
}
