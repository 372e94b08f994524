package imagehash

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"

	"golang.org/x/image/draw"
)

// withExif inserts an APP1 Exif segment carrying orientation o right after
// the SOI marker of a JPEG.
func withExif(t *testing.T, j []byte, o int, bo binary.ByteOrder) []byte {
	t.Helper()
	var tiff bytes.Buffer
	if bo == binary.LittleEndian {
		tiff.WriteString("II*\x00")
	} else {
		tiff.WriteString("MM\x00*")
	}
	le := func(v any) { binary.Write(&tiff, bo, v) }
	le(uint32(8))                                          // IFD0 offset
	le(uint16(1))                                          // one entry
	le(uint16(0x0112))                                     // Orientation
	le(uint16(3))                                          // SHORT
	le(uint32(1))                                          // count
	le(uint16(o))                                          // value
	le(uint16(0))                                          // padding
	le(uint32(0))                                          // next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...) //
	var out bytes.Buffer
	out.Write(j[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(j[2:])
	return out.Bytes()
}

// stored returns the pixels a camera would store so that orientation o
// shows img upright: the inverse of Orient.
func stored(img image.Image, o int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := srcCoord(o, x, y, sw, sh)
			out.Set(sx, sy, img.At(x, y))
		}
	}
	return out
}

func TestExifRoundTrip(t *testing.T) {
	src := decodeFile(t, pdqImage(t, "bridge-mods/aaa-orig.jpg")).Image
	small := image.NewRGBA(image.Rect(0, 0, 400, 251))
	draw.CatmullRom.Scale(small, small.Bounds(), src, src.Bounds(), draw.Src, nil)
	h := NewHasher()
	ref := h.PDQ(small).Hash
	refP, _ := PHash(small)
	for o := 1; o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, stored(small, o), &jpeg.Options{Quality: 95}); err != nil {
				t.Fatal(err)
			}
			d, err := DecodeBytes(withExif(t, buf.Bytes(), o, bo), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Orientation != o {
				t.Fatalf("orientation %d read as %d", o, d.Orientation)
			}
			if d.Bounds() != small.Bounds() {
				t.Fatalf("o=%d: upright bounds %v", o, d.Bounds())
			}
			got := h.PDQDecoded(d).Hash
			p, _ := PHash(d.Upright())
			if dist := got.Distance(ref); dist > 8 {
				t.Errorf("o=%d: PDQ distance %d from upright original", o, dist)
			}
			if dist := p.Distance(refP); dist > 4 {
				t.Errorf("o=%d: pHash distance %d from upright original", o, dist)
			}
		}
	}
}

func TestExifGarbageIsIgnored(t *testing.T) {
	for _, b := range [][]byte{
		nil, []byte("II*\x00"), []byte("MM\x00*\x00\x00\x00\x08\x00\x05"), []byte("II*\x00\xff\xff\xff\xff"),
	} {
		if o := tiffOrientation(b); o != 0 {
			t.Errorf("tiffOrientation(%q) = %d", b, o)
		}
	}
}
