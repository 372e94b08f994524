package imagehash

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// duel times a and b on every file, alternating, for rounds passes, and
// returns each one's best pass in seconds per image. The dev machine is
// shared: a neighbour's burst slows whichever contender is running, so
// alternating and keeping the best pass compares like with like.
func duel(fs [][]byte, rounds int, a, b func([]byte)) (float64, float64) {
	ta, tb := math.Inf(1), math.Inf(1)
	for r := 0; r < rounds; r++ {
		for i, f := range []func([]byte){a, b} {
			start := time.Now()
			for _, x := range fs {
				f(x)
			}
			s := time.Since(start).Seconds() / float64(len(fs))
			if i == 0 {
				ta = min(ta, s)
			} else {
				tb = min(tb, s)
			}
		}
	}
	return ta, tb
}

func duelLine(name, bname string, fs [][]byte, rounds int, a, b func([]byte)) {
	ta, tb := duel(fs, rounds, a, b)
	fmt.Printf("BENCH %s %.2f images/s vs %s %.2f images/s ratio %.2f\n", name, 1/ta, bname, 1/tb, tb/ta)
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
	const rounds = 5
	must := func(d Decoded, err error) Decoded {
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	phashOnly := HashOptions{Types: []string{TypePHash}}
	// The plain path of the issue: image.Decode, then goimagehash.
	plain := func(b []byte) {
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		goimagehash.PerceptionHash(img)
	}
	// Canonical: safe decode in full, EXIF orientation applied, pHash
	// bit-identical with goimagehash (exact fast resize for YCbCr).
	canonical := func(b []byte) { h.HashAll(must(DecodeBytes(b, Limits{})), phashOnly) }
	// Fast path: DC-only (1/8-scale) decoding of large JPEGs, then the same
	// hash of the small image. Not bit-identical with the plain path
	// (docs/hashing.md gives the distances).
	fast := func(b []byte) { h.HashAll(must(DecodeReduced(b, Limits{})), phashOnly) }

	// The canonical 64-bit hash from an already decoded image: the exact
	// resize against goimagehash on the same image.
	var decoded [][]byte
	var imgs []image.Image
	for _, b := range big {
		imgs = append(imgs, must(DecodeBytes(b, Limits{})).Image)
		decoded = append(decoded, []byte{byte(len(imgs) - 1)})
	}
	duelLine("imagehash/phash-exact-from-decoded-12MP", "goimagehash.PerceptionHash", decoded, rounds,
		func(i []byte) { h.HashAll(Decoded{Image: imgs[i[0]], Orientation: 1}, phashOnly) },
		func(i []byte) { goimagehash.PerceptionHash(imgs[i[0]]) })
	duelLine("imagehash/phash-12MP-jpeg-reduced", "image.Decode+goimagehash", big, rounds, fast, plain)
	duelLine("imagehash/phash-mix-reduced", "image.Decode+goimagehash", files, rounds, fast, plain)
	duelLine("imagehash/phash-12MP-jpeg", "image.Decode+goimagehash", big, rounds, canonical, plain)
	duelLine("imagehash/phash-mix", "image.Decode+goimagehash", files, rounds, canonical, plain)

	pdqCanon := func(b []byte) { h.PDQDecoded(must(DecodeBytes(b, Limits{}))) }
	pdqFast := func(b []byte) { h.PDQDecoded(must(DecodeReduced(b, Limits{}))) }
	duelLine("imagehash/pdq-12MP-jpeg-reduced", "DecodeBytes+PDQ", big, rounds, pdqFast, pdqCanon)
	duelLine("imagehash/pdq-mix-reduced", "DecodeBytes+PDQ", files, rounds, pdqFast, pdqCanon)
	all := HashOptions{Types: []string{TypePDQ, TypePHash}, Dihedral: true}
	duelLine("imagehash/pdq-dihedral+phash-mix-reduced", "DecodeBytes+HashAll", files, rounds,
		func(b []byte) { h.HashAll(must(DecodeReduced(b, Limits{})), all) },
		func(b []byte) { h.HashAll(must(DecodeBytes(b, Limits{})), all) })
	duelLine("imagehash/decode-12MP-jpeg-reduced", "DecodeBytes", big, rounds,
		func(b []byte) { must(DecodeReduced(b, Limits{})) },
		func(b []byte) { must(DecodeBytes(b, Limits{})) })
}
