package blur

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// checkerboard has sharp detail that a blur must destroy.
func checkerboard(w, h, cell int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, 0, 0, 255}
			if (x/cell+y/cell)%2 == 0 {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func TestImageDestroysDetail(t *testing.T) {
	src := checkerboard(1200, 800, 10)
	out := Image(src, Options{})
	if b := out.Bounds(); b.Dx() != 320 || b.Dy() != 213 {
		t.Fatalf("output %v, want 320x213", b)
	}
	// Every output pixel is near the mean grey: no checker survives.
	for i := 0; i < len(out.Pix); i += 4 {
		if v := out.Pix[i]; v < 100 || v > 155 {
			t.Fatalf("pixel %d has value %d: detail leaked", i/4, v)
		}
	}
}

func TestJPEGRoundTripAndSmallImages(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {3, 200}, {640, 480}} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, checkerboard(size[0], size[1], 2)); err != nil {
			t.Fatal(err)
		}
		out, err := JPEG(buf.Bytes(), Options{})
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		img, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%v: output is not a JPEG: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() > 320 || b.Dy() > 320 || b.Dx() < 1 {
			t.Fatalf("%v: output %v", size, b)
		}
	}
	if _, err := JPEG([]byte("not an image"), Options{}); err == nil {
		t.Fatal("garbage decoded")
	}
	if _, err := png.Decode(bytes.NewReader(Placeholder())); err != nil {
		t.Fatal(err)
	}
}

func FuzzJPEG(f *testing.F) {
	var buf bytes.Buffer
	_ = png.Encode(&buf, checkerboard(8, 8, 2))
	f.Add(buf.Bytes())
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := JPEG(b, Options{MaxSide: 32})
		if err == nil && len(out) == 0 {
			t.Fatal("no output and no error")
		}
	})
}
