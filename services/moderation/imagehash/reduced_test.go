package imagehash

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation/imagehash/internal/jpegdc"
)

// TestReducedDistances: over every test image, the fast path (DecodeReduced:
// DC-only decoding of large JPEGs) gives hashes within matching distance of
// the canonical path (DecodeBytes). It logs each distance; docs/hashing.md
// records them.
func TestReducedDistances(t *testing.T) {
	h := NewHasher()
	reduced := 0
	var maxP, maxQ, sumP, sumQ int
	for _, p := range testImages(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if Sniff(b) != FormatJPEG {
			continue // DecodeReduced is DecodeBytes for every other format
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil || min(cfg.Width, cfg.Height) < 8*ReducedMinSide {
			continue // decoded in full, the same code as DecodeBytes
		}
		full, err := DecodeBytes(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		fast, err := DecodeReduced(b, Limits{})
		if err != nil {
			t.Fatalf("%s: DecodeReduced: %v (DecodeBytes succeeded)", p, err)
		}
		hf, err := h.HashAll(full, HashOptions{Types: []string{TypePDQ, TypePHash}})
		if err != nil {
			t.Fatal(err)
		}
		hr, err := h.HashAll(fast, HashOptions{Types: []string{TypePDQ, TypePHash}})
		if err != nil {
			t.Fatal(err)
		}
		dp, dq := hf.PHash.Distance(hr.PHash), hf.PDQ.Hash.Distance(hr.PDQ.Hash)
		if fast.Reduced != 8 {
			t.Fatalf("%s: %dx%d JPEG not reduced", p, cfg.Width, cfg.Height)
		}
		reduced++
		if fb, rb := full.Bounds(), fast.Bounds(); rb.Dx() != (fb.Dx()+7)/8 || rb.Dy() != (fb.Dy()+7)/8 {
			t.Errorf("%s: reduced %v for full %v", p, rb, fb)
		}
		maxP, maxQ, sumP, sumQ = max(maxP, dp), max(maxQ, dq), sumP+dp, sumQ+dq
		t.Logf("%-60s %v -> %v  phash d=%d  pdq d=%2d (quality %d -> %d)", filepath.Base(p), full.Bounds().Size(), fast.Bounds().Size(), dp, dq, hf.PDQ.Quality, hr.PDQ.Quality)
		if dp > 10 || dq > 31 {
			t.Errorf("%s: fast path too far from canonical: phash %d, pdq %d", p, dp, dq)
		}
	}
	if reduced == 0 {
		t.Fatal("no test image took the reduced path")
	}
	t.Logf("%d images on the reduced path: phash distance max %d mean %.1f, pdq max %d mean %.1f",
		reduced, maxP, float64(sumP)/float64(reduced), maxQ, float64(sumQ)/float64(reduced))
}

// blockMeanDiff returns the largest difference between a luma pixel of the
// 1/8 image and the mean of its 8x8 block in the full image (whole blocks
// only).
func blockMeanDiff(full, red *image.YCbCr) int {
	worst := 0
	fb := full.Bounds()
	for by := 0; by < fb.Dy()/8; by++ {
		for bx := 0; bx < fb.Dx()/8; bx++ {
			s := 0
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					s += int(full.Y[full.YOffset(8*bx+x, 8*by+y)])
				}
			}
			worst = max(worst, abs((s+32)/64-int(red.Y[red.YOffset(bx, by)])))
		}
	}
	return worst
}

// TestReducedProgressive: the DC decoder on the progressive test files
// (Meta's rotated bridge photos and two small ones), which are below the
// size DecodeReduced reduces, so jpegdc is called directly: its pixels are
// the block means of image/jpeg's decode.
func TestReducedProgressive(t *testing.T) {
	n := 0
	for _, p := range testImages(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if Sniff(b) != FormatJPEG || !bytes.Contains(b[:min(len(b), 1<<16)], []byte{0xff, 0xc2}) {
			continue
		}
		full, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		red, err := jpegdc.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		fy, ok1 := full.(*image.YCbCr)
		ry, ok2 := red.(*image.YCbCr)
		if !ok1 || !ok2 {
			continue // grey files: covered by jpegdc's own tests
		}
		n++
		if worst := blockMeanDiff(fy, ry); worst > 3 {
			t.Errorf("%s: DC pixel differs from the block mean by up to %d", p, worst)
		}
	}
	if n == 0 {
		t.Fatal("no progressive test file")
	}
	t.Logf("%d progressive JPEGs checked", n)
}

// TestReducedMatchesDecoder: the DC decoder's 1/8 image is the 8x8 block
// mean of image/jpeg's full decode, to within JPEG's own rounding, for
// baseline and progressive files and every chroma subsampling.
func TestReducedMatchesDecoder(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 1040, 1100))
	for y := 0; y < 1100; y++ {
		for x := 0; x < 1040; x++ {
			i := src.PixOffset(x, y)
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = uint8(x/5+y/9), uint8(x*y/1000), uint8(255-y/5), 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	full, err := DecodeBytes(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := DecodeReduced(buf.Bytes(), Limits{})
	if err != nil || fast.Reduced != 8 {
		t.Fatalf("reduced decode: %v, Reduced=%d", err, fast.Reduced)
	}
	fy, ok1 := full.Image.(*image.YCbCr)
	ry, ok2 := fast.Image.(*image.YCbCr)
	if !ok1 || !ok2 || fy.SubsampleRatio != ry.SubsampleRatio {
		t.Fatalf("want YCbCr images with one subsampling, got %T %T", full.Image, fast.Image)
	}
	if worst := blockMeanDiff(fy, ry); worst > 3 {
		t.Errorf("DC pixel differs from the block mean by up to %d", worst)
	}
	// Truncated data fails the same way as on the full path.
	if _, err := DecodeReduced(buf.Bytes()[:buf.Len()/2], Limits{}); err == nil {
		t.Error("truncated JPEG accepted")
	}
}
