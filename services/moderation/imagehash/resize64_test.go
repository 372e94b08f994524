package imagehash

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/corona10/goimagehash"
)

// TestFastHash64Exact: the exact fast resize path (YCbCr images) gives
// goimagehash's bits for every chroma subsampling and awkward sizes,
// shrinking and enlarging. TestHash64MatchesGoimagehash covers the test
// images (the upright JPEGs among them take this path).
func TestFastHash64Exact(t *testing.T) {
	h := NewHasher()
	check := func(name string, img *image.YCbCr) {
		t.Helper()
		if b := img.Bounds(); b.Dx() > 9 || b.Dy() > 8 {
			if _, ok := h.phashYCbCr(img); !ok && (b.Dx() != 64 || b.Dy() != 64) {
				t.Fatalf("%s: fast path not taken", name)
			}
		}
		p, _ := h.hash64(TypePHash, img)
		d, _ := h.hash64(TypeDHash, img)
		a, _ := h.hash64(TypeAHash, img)
		gp, _ := goimagehash.PerceptionHash(img)
		gd, _ := goimagehash.DifferenceHash(img)
		ga, _ := goimagehash.AverageHash(img)
		if uint64(p) != gp.GetHash() || uint64(d) != gd.GetHash() || uint64(a) != ga.GetHash() {
			t.Errorf("%s: fast %s/%s/%s, goimagehash %016x/%016x/%016x", name, p, d, a, gp.GetHash(), gd.GetHash(), ga.GetHash())
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {9, 8}, {63, 65}, {64, 64}, {200, 150}, {1001, 333}} {
		for _, r := range ratios {
			img := image.NewYCbCr(image.Rect(0, 0, sz[0], sz[1]), r)
			for i := range img.Y {
				img.Y[i] = uint8(rng.IntN(256))
			}
			for i := range img.Cb {
				img.Cb[i], img.Cr[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
			}
			check(r.String()+" "+img.Bounds().String(), img)
		}
	}
}

// TestFastHash64Oriented: for every EXIF orientation and the chroma
// subsamplings image/draw converts directly, hashing a stored YCbCr image
// with its orientation gives goimagehash's bits for the upright picture
// (Orient), without the rotated copy.
func TestFastHash64Oriented(t *testing.T) {
	h := NewHasher()
	rng := rand.New(rand.NewPCG(3, 4))
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440}
	for _, sz := range [][2]int{{5, 3}, {63, 65}, {200, 150}, {301, 97}} {
		for _, r := range ratios {
			img := image.NewYCbCr(image.Rect(0, 0, sz[0], sz[1]), r)
			for i := range img.Y {
				img.Y[i] = uint8(rng.IntN(256))
			}
			for i := range img.Cb {
				img.Cb[i], img.Cr[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
			}
			for o := 2; o <= 8; o++ {
				up := Orient(img, o)
				for _, typ := range []string{TypePHash, TypeDHash, TypeAHash} {
					got, ok := h.hashOriented(typ, img, o)
					if !ok {
						t.Fatalf("%v %s o=%d %s: fast path not taken", sz, r, o, typ)
					}
					want, _ := goimagehash64(typ, up)
					if got != want {
						t.Errorf("%v %s o=%d %s: fast %s, goimagehash %s", sz, r, o, typ, got, want)
					}
				}
			}
		}
	}
}
