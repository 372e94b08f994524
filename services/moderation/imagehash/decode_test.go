package imagehash

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func encodeTest(t testing.TB, format string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 8), 90, 255})
		}
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case FormatJPEG:
		err = jpeg.Encode(&buf, img, nil)
	case FormatPNG:
		err = png.Encode(&buf, img)
	case FormatGIF:
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader forges a PNG whose IHDR claims w x h and whose data is absent:
// a decompression-bomb shape that must be refused from the header alone.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestDecodeFormats(t *testing.T) {
	for _, f := range []string{FormatJPEG, FormatPNG, FormatGIF} {
		d, err := DecodeBytes(encodeTest(t, f), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.Format != f || d.Bounds() != image.Rect(0, 0, 40, 30) || d.Orientation != 1 {
			t.Errorf("%s: got %s %v o=%d", f, d.Format, d.Bounds(), d.Orientation)
		}
	}
	// WebP from the shared data.
	p := pdqImage(t, "misc-images/modes/F.webp")
	b, _ := os.ReadFile(p)
	if d, err := DecodeBytes(b, Limits{}); err != nil || d.Format != FormatWebP {
		t.Errorf("webp: %v %v", d.Format, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	jpg := encodeTest(t, FormatJPEG)
	tests := []struct {
		name string
		in   []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrUndecodable},
		{"text", []byte("hello, this is not an image"), Limits{}, ErrUndecodable},
		{"truncated jpeg", jpg[:len(jpg)/2], Limits{}, ErrUndecodable},
		{"jpeg header only", jpg[:20], Limits{}, ErrUndecodable},
		{"zero size png", pngHeader(0, 0), Limits{}, ErrUndecodable},
		{"png bomb header", pngHeader(100000, 100000), Limits{}, ErrTooLarge},
		{"png long side", pngHeader(20000, 10), Limits{}, ErrTooLarge},
		{"png over pixel cap", pngHeader(1000, 1000), Limits{MaxPixels: 999_999}, ErrTooLarge},
		{"png header no data", pngHeader(100, 100), Limits{}, ErrUndecodable},
		{"over byte cap", jpg, Limits{MaxBytes: int64(len(jpg) - 1)}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBytes(tt.in, tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			other := ErrTooLarge
			if tt.want == ErrTooLarge {
				other = ErrUndecodable
			}
			if errors.Is(err, other) {
				t.Fatalf("%v wraps both sentinels", err)
			}
		})
	}
	// Decode (reader) applies the byte cap without reading everything.
	if _, err := Decode(bytes.NewReader(make([]byte, 1<<20)), Limits{MaxBytes: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("reader over cap: %v", err)
	}
}

// FuzzDecode: whatever the bytes, DecodeBytes returns an image or an error
// wrapping exactly one sentinel, never panics, and never decodes more pixels
// than the cap (a tight cap keeps each input's allocation small).
func FuzzDecode(f *testing.F) {
	for _, fm := range []string{FormatJPEG, FormatPNG, FormatGIF} {
		f.Add(encodeTest(f, fm))
	}
	f.Add(pngHeader(100000, 100000))
	for _, rel := range []string{"misc-images/wee.jpg", "python-threatexchange/RANDOM_IMAGE_BASE64.png"} {
		if b, err := os.ReadFile(filepath.Join(pdqData, "images", rel)); err == nil {
			f.Add(b)
		}
	}
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 4096}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeBytes(b, lim)
		if err != nil {
			if errors.Is(err, ErrUndecodable) == errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v must wrap exactly one sentinel", err)
			}
			return
		}
		r := d.Image.Bounds()
		if r.Empty() || int64(r.Dx())*int64(r.Dy()) > lim.MaxPixels {
			t.Fatalf("decoded %v beyond limits", r)
		}
		if d.Orientation < 1 || d.Orientation > 8 {
			t.Fatalf("orientation %d", d.Orientation)
		}
		// The hashers must cope with whatever decoded, and so must border
		// trimming, which stays inside the image.
		NewHasher().PDQDecoded(d)
		if td, ok := TrimBorders(d); ok {
			if tr := td.Image.Bounds(); tr.Empty() || !tr.In(r) || tr == r {
				t.Fatalf("trimmed %v to %v", r, tr)
			}
			NewHasher().PDQDecoded(td)
		}
	})
}
