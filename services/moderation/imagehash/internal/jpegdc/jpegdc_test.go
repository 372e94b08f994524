package jpegdc

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func testJPEG(t testing.TB, w, h int, gray bool) []byte {
	var img image.Image
	if gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = uint8(i * 7)
		}
		img = g
	} else {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				m.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), uint8(x ^ y), 255})
			}
		}
		img = m
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSizes: the reduced image is ceil(w/8) x ceil(h/8) for colour and
// grey files of awkward sizes.
func TestSizes(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {8, 8}, {9, 17}, {100, 37}, {257, 130}} {
		for _, gray := range []bool{false, true} {
			img, err := Decode(bytes.NewReader(testJPEG(t, sz[0], sz[1], gray)))
			if err != nil {
				t.Fatalf("%v gray=%v: %v", sz, gray, err)
			}
			if b := img.Bounds(); b.Dx() != (sz[0]+7)/8 || b.Dy() != (sz[1]+7)/8 {
				t.Errorf("%v gray=%v: got %v", sz, gray, b)
			}
		}
	}
}

// FuzzDecode: whatever the bytes, Decode returns an image of the size its
// header implies, or an error; it never panics.
func FuzzDecode(f *testing.F) {
	f.Add(testJPEG(f, 64, 48, false))
	f.Add(testJPEG(f, 33, 20, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width*cfg.Height > 1<<22 {
			return
		}
		img, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		if r := img.Bounds(); r.Dx() != (cfg.Width+7)/8 || r.Dy() != (cfg.Height+7)/8 {
			t.Fatalf("decoded %v for %dx%d", r, cfg.Width, cfg.Height)
		}
	})
}
