package hashindex

import (
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

// pdqImages is Meta's PDQ reference image set, a sibling of the repository
// root (see ../shared/data/pdq/SOURCE.md beside the repository).
const pdqImages = "../../../../shared/data/pdq/images"

// photoVariants returns the eight PDQ dihedral hashes (imagehash.PDQDihedral,
// in its order) of every photo of the reference set, or nil when the data
// is absent.
func photoVariants(t testing.TB) [][8][4]uint64 {
	t.Helper()
	var paths []string
	filepath.WalkDir(pdqImages, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(".jpg.png.webp", filepath.Ext(p)) && filepath.Ext(p) != "" {
			paths = append(paths, p)
		}
		return nil
	})
	slices.Sort(paths)
	h := imagehash.NewHasher()
	var out [][8][4]uint64
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		d, err := imagehash.DecodeReduced(b, imagehash.Limits{})
		if err != nil {
			continue
		}
		hs, q := h.PDQDihedral(d.Image, d.Orientation)
		out = appendVariants(out, hs, q)
	}
	return out
}

// appendVariants appends an image's eight dihedral hashes as one query
// set, unless the image has no usable hash (quality 0).
func appendVariants(out [][8][4]uint64, hs [8]imagehash.Hash256, quality int) [][8][4]uint64 {
	if quality == 0 {
		return out
	}
	var v [8][4]uint64
	for k := range hs {
		v[k] = hs[k]
	}
	return append(out, v)
}

// syntheticVariants returns the eight PDQ dihedral hashes of n random
// smooth images (sums of a few random blobs and gradients, 96×96), so that
// benchmarks and tests have many structured variant sets, not only the few
// reference photos.
func syntheticVariants(rng *rand.Rand, n int) [][8][4]uint64 {
	h := imagehash.NewHasher()
	out := make([][8][4]uint64, 0, n)
	const side = 96
	img := image.NewGray(image.Rect(0, 0, side, side))
	for len(out) < n {
		type blob struct{ x, y, r, a float64 }
		var bs []blob
		for range 3 + rng.IntN(8) {
			bs = append(bs, blob{rng.Float64() * side, rng.Float64() * side, 4 + rng.Float64()*30, rng.Float64()*200 - 100})
		}
		gx, gy := rng.Float64()*2-1, rng.Float64()*2-1
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				v := 128 + gx*float64(x-side/2) + gy*float64(y-side/2) + rng.Float64()*20
				for _, b := range bs {
					dx, dy := float64(x)-b.x, float64(y)-b.y
					if dx*dx+dy*dy < b.r*b.r {
						v += b.a
					}
				}
				img.SetGray(x, y, color.Gray{Y: uint8(min(255, max(0, v)))})
			}
		}
		hs, q := h.PDQDihedral(img, 1)
		out = appendVariants(out, hs, q)
	}
	return out
}
