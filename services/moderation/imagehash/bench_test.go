package imagehash

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/corona10/goimagehash"
)

// benchFiles are the photos the hashing benchmark cycles through: the four
// 12-megapixel phone JPEGs, the 1600x1004 bridge and the 256-px LabelMe
// photos, a mix of what a feed carries.
func benchFiles(t testing.TB) [][]byte {
	var out [][]byte
	for _, rel := range []string{
		"reg-test-input/exif-rotn/exif-rotn-1.jpg", "reg-test-input/exif-rotn/exif-rotn-6.jpg",
		"bridge-mods/aaa-orig.jpg", "misc-images/c.png",
		"reg-test-input/labelme-subset/q0122.jpg", "reg-test-input/labelme-subset/q2821.jpg",
	} {
		p := filepath.Join(pdqData, "images", rel)
		needData(t, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func BenchmarkDecodeHashPDQ(b *testing.B) {
	files := benchFiles(b)
	h := NewHasher()
	for i := 0; b.Loop(); i++ {
		d, err := DecodeBytes(files[i%len(files)], Limits{})
		if err != nil {
			b.Fatal(err)
		}
		h.PDQDecoded(d)
	}
}

func BenchmarkDecodeHashPHash(b *testing.B) {
	files := benchFiles(b)
	for i := 0; b.Loop(); i++ {
		d, err := DecodeBytes(files[i%len(files)], Limits{})
		if err != nil {
			b.Fatal(err)
		}
		PHash(d.Upright())
	}
}

// TestBenchHashing prints BENCH lines: images per second on one core for our
// decode+hash paths against the plain image.Decode + goimagehash path, in
// the same process. Runs only with VIGIL_BENCH=1.
func TestBenchHashing(t *testing.T) {
	if os.Getenv("VIGIL_BENCH") != "1" {
		t.Skip("set VIGIL_BENCH=1")
	}
	files := benchFiles(t)
	big := files[:2] // 12 MP JPEGs
	h := NewHasher()
	run := func(fs [][]byte, f func([]byte)) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				f(fs[i%len(fs)])
			}
		})
	}
	ours := func(b []byte) {
		d, err := DecodeBytes(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		PHash(d.Upright())
	}
	base := func(b []byte) {
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		goimagehash.PerceptionHash(img)
	}
	line := func(name string, o, bl testing.BenchmarkResult, bname string) {
		fmt.Printf("BENCH %s %.2f images/s vs %s %.2f images/s ratio %.2f\n", name,
			1e9/float64(o.NsPerOp()), bname, 1e9/float64(bl.NsPerOp()), float64(bl.NsPerOp())/float64(o.NsPerOp()))
	}
	// The fast path: DC-only (1/8-scale) JPEG decoding, then the same
	// goimagehash pHash of the small upright image. Not bit-identical with
	// the plain path (docs/hashing.md: measured distances).
	fast := func(b []byte) {
		d, err := DecodeReduced(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		PHash(d.Upright())
	}
	baseBig, baseMix := run(big, base), run(files, base)
	line("imagehash/phash-12MP-jpeg-reduced", run(big, fast), baseBig, "image.Decode+goimagehash")
	line("imagehash/phash-mix-reduced", run(files, fast), baseMix, "image.Decode+goimagehash")
	line("imagehash/phash-12MP-jpeg", run(big, ours), baseBig, "image.Decode+goimagehash")
	line("imagehash/phash-mix", run(files, ours), baseMix, "image.Decode+goimagehash")
	pdqAll := func(b []byte) {
		d, err := DecodeBytes(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		h.HashAll(d, HashOptions{Types: []string{TypePDQ, TypePHash}, Dihedral: true})
	}
	pdq := run(files, func(b []byte) {
		d, _ := DecodeBytes(b, Limits{})
		h.PDQDecoded(d)
	})
	fmt.Printf("BENCH imagehash/pdq-mix %.2f images/s\n", 1e9/float64(pdq.NsPerOp()))
	pdqBig := run(big, func(b []byte) {
		d, _ := DecodeBytes(b, Limits{})
		h.PDQDecoded(d)
	})
	fmt.Printf("BENCH imagehash/pdq-12MP-jpeg %.2f images/s\n", 1e9/float64(pdqBig.NsPerOp()))
	pdqFast := run(big, func(b []byte) {
		d, _ := DecodeReduced(b, Limits{})
		h.PDQDecoded(d)
	})
	line("imagehash/pdq-12MP-jpeg-reduced", pdqFast, pdqBig, "DecodeBytes+PDQ")
	both := run(files, pdqAll)
	fmt.Printf("BENCH imagehash/pdq-dihedral+phash-mix %.2f images/s (one decode for both hashes)\n", 1e9/float64(both.NsPerOp()))
	bothFast := run(files, func(b []byte) {
		d, err := DecodeReduced(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		h.HashAll(d, HashOptions{Types: []string{TypePDQ, TypePHash}, Dihedral: true})
	})
	line("imagehash/pdq-dihedral+phash-mix-reduced", bothFast, both, "DecodeBytes+HashAll")
	dec := run(big, func(b []byte) { DecodeBytes(b, Limits{}) })
	fmt.Printf("BENCH imagehash/decode-12MP-jpeg %.2f images/s\n", 1e9/float64(dec.NsPerOp()))
	decFast := run(big, func(b []byte) { DecodeReduced(b, Limits{}) })
	line("imagehash/decode-12MP-jpeg-reduced", decFast, dec, "DecodeBytes")
}
