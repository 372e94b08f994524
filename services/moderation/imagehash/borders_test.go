package imagehash

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// noisy returns a w×h picture with no flat rows or columns.
func noisy(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(1, 2))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	return m
}

// framed draws pic inside a w×h canvas of colour c at offset off.
func framed(pic image.Image, w, h int, off image.Point, c color.Color) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	draw.Draw(m, pic.Bounds().Add(off), pic, pic.Bounds().Min, draw.Src)
	return m
}

func TestTrimBorders(t *testing.T) {
	t.Parallel()
	black, white, grey := color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}, color.RGBA{90, 90, 90, 255}
	pic := noisy(160, 90)
	tests := []struct {
		name string
		img  image.Image
		want image.Rectangle // zero: not trimmed
	}{
		{"no bars", pic, image.Rectangle{}},
		{"letterbox", framed(pic, 160, 130, image.Pt(0, 20), black), image.Rect(0, 20, 160, 110)},
		{"pillarbox", framed(pic, 200, 90, image.Pt(20, 0), black), image.Rect(20, 0, 180, 90)},
		{"white frame", framed(pic, 180, 110, image.Pt(10, 10), white), image.Rect(10, 10, 170, 100)},
		{"grey, one side", framed(pic, 160, 100, image.Pt(0, 10), grey), image.Rect(0, 10, 160, 100)},
		{"uneven bars", framed(pic, 160, 125, image.Pt(0, 30), black), image.Rect(0, 30, 160, 120)},
		{"bar under 2%", framed(pic, 160, 91, image.Pt(0, 1), black), image.Rectangle{}},
		{"flat all over", image.NewUniform(black), image.Rectangle{}},
		{"all black canvas", framed(image.NewRGBA(image.Rect(0, 0, 0, 0)), 100, 100, image.Point{}, black), image.Rectangle{}},
		{"would leave a sliver", framed(noisy(160, 10), 160, 100, image.Pt(0, 45), black), image.Rectangle{}},
		{"tiny", noisy(3, 3), image.Rectangle{}},
		{"sub-image origin", framed(pic, 200, 130, image.Pt(20, 20), black).SubImage(image.Rect(10, 10, 190, 120)), image.Rect(20, 20, 180, 110)},
		{"grey image", func() image.Image {
			g := image.NewGray(image.Rect(0, 0, 160, 130))
			draw.Draw(g, g.Bounds(), framed(pic, 160, 130, image.Pt(0, 20), black), image.Point{}, draw.Src)
			return g
		}(), image.Rect(0, 20, 160, 110)},
		{"ycbcr (jpeg)", jpegRoundTrip(t, framed(pic, 160, 128, image.Pt(0, 16), black), 90), image.Rect(0, 16, 160, 106)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoded{Image: tt.img, Orientation: 6, Reduced: 8}
			got, ok := TrimBorders(d)
			if tt.want.Empty() {
				if ok || got.Image != d.Image {
					t.Fatalf("trimmed to %v, want untouched", got.Image.Bounds())
				}
				return
			}
			if !ok {
				t.Fatalf("not trimmed, want %v", tt.want)
			}
			gb := got.Image.Bounds()
			slack := 0
			if strings.HasPrefix(tt.name, "ycbcr") {
				slack = 8 // JPEG ringing leaves up to a block's worth of bar
			}
			if abs(gb.Min.X-tt.want.Min.X) > slack || abs(gb.Min.Y-tt.want.Min.Y) > slack ||
				abs(gb.Max.X-tt.want.Max.X) > slack || abs(gb.Max.Y-tt.want.Max.Y) > slack || got.Orientation != 6 || got.Reduced != 8 {
				t.Fatalf("got %v (orientation %d, reduced %d), want %v", got.Image.Bounds(), got.Orientation, got.Reduced, tt.want)
			}
		})
	}
}

func jpegRoundTrip(t testing.TB, m image.Image, quality int) image.Image {
	img, err := jpeg.Decode(bytes.NewReader(jpegBytes(t, m, quality)))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestTrimBordersRealPhotos letterboxes and pillarboxes real photos (bars
// of 15 % a side, JPEG-encoded as a platform would) and checks that the
// trimmed copy matches the original where the padded one mostly does not.
func TestTrimBordersRealPhotos(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes ~50 photos")
	}
	h := NewHasher()
	var padHitPDQ, trimHitPDQ, padHitPH, trimHitPH, total int
	for _, rel := range robustPhotos {
		p := filepath.Join(pdqData, "images", rel)
		needData(t, p)
		img := decodeFile(t, p).Upright()
		if b := img.Bounds(); max(b.Dx(), b.Dy()) > 1000 {
			img = scale(img, 1000/float64(max(b.Dx(), b.Dy())))
		}
		orig := toRGBA(img)
		op := h.PDQ(orig)
		oph, _ := PHash(orig)
		// A photo with a frame of its own loses it too: then the trimmed
		// copy matches the trimmed original (a bank built with trimming).
		otp, otph := op, oph
		if od, ok := TrimBorders(Decoded{Image: orig}); ok {
			otp = h.PDQ(od.Image)
			otph, _ = PHash(od.Image)
		}
		b := orig.Bounds()
		bx, by := b.Dx()*15/100, b.Dy()*15/100
		for _, pad := range []*image.RGBA{
			framed(orig, b.Dx(), b.Dy()+2*by, image.Pt(0, by), color.Black),
			framed(orig, b.Dx()+2*bx, b.Dy(), image.Pt(bx, 0), color.Black),
		} {
			d, err := DecodeBytes(jpegBytes(t, pad, 90), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			td, ok := TrimBorders(d)
			if !ok {
				t.Errorf("%s %v: bars not found", rel, pad.Bounds())
				continue
			}
			total++
			pp, tp := h.PDQ(d.Image), h.PDQ(td.Image)
			pph, _ := PHash(d.Image)
			tph, _ := PHash(td.Image)
			if pp.Hash.Distance(op.Hash) <= 31 {
				padHitPDQ++
			}
			if min(tp.Hash.Distance(op.Hash), tp.Hash.Distance(otp.Hash)) <= 31 {
				trimHitPDQ++
			} else {
				t.Logf("%s: trimmed PDQ %d bits from the original", rel, tp.Hash.Distance(op.Hash))
			}
			if pph.Distance(oph) <= 10 {
				padHitPH++
			}
			if min(tph.Distance(oph), tph.Distance(otph)) <= 10 {
				trimHitPH++
			} else {
				t.Logf("%s: trimmed pHash %d bits from the original", rel, tph.Distance(oph))
			}
		}
	}
	t.Logf("letterboxed/pillarboxed copies (15%% bars, JPEG q90): %d; matched without trimming PDQ %d pHash %d; with trimming PDQ %d pHash %d",
		total, padHitPDQ, padHitPH, trimHitPDQ, trimHitPH)
	if trimHitPH*10 < total*9 || trimHitPDQ*10 < total*8 {
		t.Errorf("recall after trimming PDQ %d/%d, pHash %d/%d, want ≥ 80%% and 90%%", trimHitPDQ, total, trimHitPH, total)
	}
}

func jpegBytes(t testing.TB, m image.Image, quality int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
