package imagehash

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// robustPhotos are mutually unrelated real photos (one per scene).
var robustPhotos = []string{
	"bridge-mods/aaa-orig.jpg",
	"reg-test-input/pen-and-coaster.png",
	"misc-images/c.png", // same coaster, different photo: must not match pen-and-coaster
	"reg-test-input/labelme-subset/q0003.jpg",
	"reg-test-input/labelme-subset/q0004.jpg",
	"reg-test-input/labelme-subset/q0122.jpg",
	"reg-test-input/labelme-subset/q0291.jpg",
	"reg-test-input/labelme-subset/q0746.jpg",
	"reg-test-input/labelme-subset/q1050.jpg",
	"reg-test-input/labelme-subset/q2821.jpg",
	"reg-test-input/exif-rotn/exif-rotn-1.jpg",
	"../../goimagehash/sample1.jpg",
	"../../goimagehash/sample2.jpg",
}

func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

func scale(img image.Image, f float64) image.Image {
	b := img.Bounds()
	w, h := max(1, int(float64(b.Dx())*f)), max(1, int(float64(b.Dy())*f))
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

type transform struct {
	name string
	f    func(t *testing.T, img *image.RGBA) image.Image
}

var transforms = []transform{
	{"resize50", func(_ *testing.T, m *image.RGBA) image.Image { return scale(m, 0.5) }},
	{"resize25", func(_ *testing.T, m *image.RGBA) image.Image { return scale(m, 0.25) }},
	{"jpeg30", func(t *testing.T, m *image.RGBA) image.Image { return jpegRoundTrip(t, m, 30) }},
	{"crop5", func(_ *testing.T, m *image.RGBA) image.Image {
		b := m.Bounds()
		dx, dy := b.Dx()/20, b.Dy()/20
		return toRGBA(m.SubImage(image.Rect(dx, dy, b.Dx()-dx, b.Dy()-dy)))
	}},
	{"grey", func(_ *testing.T, m *image.RGBA) image.Image {
		g := image.NewGray(m.Bounds())
		draw.Draw(g, g.Bounds(), m, image.Point{}, draw.Src)
		return g
	}},
	{"watermark", func(_ *testing.T, m *image.RGBA) image.Image {
		out := toRGBA(m)
		b := out.Bounds()
		// Small text, scaled to the image like a platform watermark: about
		// a fifth of the width, in the bottom-right corner.
		txt := "@vigil_repost"
		tw := 7 * len(txt)
		mark := image.NewRGBA(image.Rect(0, 0, tw+4, 17))
		d := &font.Drawer{Dst: mark, Src: image.NewUniform(color.RGBA{255, 255, 255, 230}), Face: basicfont.Face7x13, Dot: fixed.P(2, 13)}
		d.DrawString(txt)
		sw := max(b.Dx()/5, 20)
		sh := sw * mark.Bounds().Dy() / mark.Bounds().Dx()
		dst := image.Rect(b.Dx()-sw-b.Dx()/40, b.Dy()-sh-b.Dy()/40, b.Dx()-b.Dx()/40, b.Dy()-b.Dy()/40)
		draw.ApproxBiLinear.Scale(out, dst, mark, mark.Bounds(), draw.Over, nil)
		return out
	}},
	{"bright+20", func(_ *testing.T, m *image.RGBA) image.Image { return brightness(m, 1.2) }},
	{"bright-20", func(_ *testing.T, m *image.RGBA) image.Image { return brightness(m, 0.8) }},
	{"hflip", func(_ *testing.T, m *image.RGBA) image.Image { return Orient(m, 2) }},
}

func brightness(m *image.RGBA, f float64) image.Image {
	out := image.NewRGBA(m.Bounds())
	for i, v := range m.Pix {
		if i%4 == 3 {
			out.Pix[i] = v
			continue
		}
		out.Pix[i] = uint8(min(255, float64(v)*f+0.5))
	}
	return out
}

type robustResult struct {
	hit, total int
}

func (r robustResult) recall() float64 {
	if r.total == 0 {
		return 0
	}
	return float64(r.hit) / float64(r.total)
}

// TestRobustness hashes transformed copies of real photos and matches them
// against the originals, the way a bank would (PDQ: distance ≤ 31, hashes of
// quality < 50 ignored, dihedral variants for the mirrored copy; pHash:
// distance ≤ 10). It prints per-transform recall and the false-match rate
// between different photos; docs/hashing.md records the table.
func TestRobustness(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: hashes ~130 transformed photos")
	}
	h := NewHasher()
	type orig struct {
		name    string
		img     *image.RGBA
		pdq     [8]Hash256
		quality int
		phash   Hash64
	}
	var origs []orig
	for _, rel := range robustPhotos {
		p := filepath.Join(pdqData, "images", rel)
		needData(t, p)
		d := decodeFile(t, p)
		img := d.Upright()
		// The phone photo is 12 MP: scale to a feed-sized 1600 px so the
		// test stays fast; the hash of the scaled photo is the original.
		if b := img.Bounds(); max(b.Dx(), b.Dy()) > 1600 {
			img = scale(img, 1600/float64(max(b.Dx(), b.Dy())))
		}
		m := toRGBA(img)
		hs, q := h.PDQDihedral(m, 1)
		ph, _ := PHash(m)
		origs = append(origs, orig{name: filepath.Base(rel), img: m, pdq: hs, quality: q, phash: ph})
	}
	pdqRes := map[string]*robustResult{}
	phRes := map[string]*robustResult{}
	// The same copies as a feed delivers them, JPEG files (quality 95),
	// through the canonical decoder and through the fast path
	// (DecodeReduced): the fast path must match as often.
	type pathRes struct{ pdq, ph robustResult }
	plainRes, fastRes := map[string]*pathRes{}, map[string]*pathRes{}
	reducedCopies, copies := 0, 0
	match := func(res *pathRes, hs Hashes, o orig) {
		res.ph.total++
		if hs.PHash.Distance(o.phash) <= 10 {
			res.ph.hit++
		}
		if o.quality >= 50 {
			res.pdq.total++
			best := 256
			for _, v := range o.pdq {
				best = min(best, hs.PDQ.Hash.Distance(v))
			}
			if hs.PDQ.Quality >= 50 && best <= 31 {
				res.pdq.hit++
			}
		}
	}
	var pdqFalse, pdqPairs, phFalse, phPairs int
	for _, tr := range transforms {
		pdqRes[tr.name], phRes[tr.name] = &robustResult{}, &robustResult{}
		for i, o := range origs {
			img := tr.f(t, o.img)
			r := h.PDQ(img)
			{
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
					t.Fatal(err)
				}
				opt := HashOptions{Types: []string{TypePDQ, TypePHash}}
				pd, err := DecodeBytes(buf.Bytes(), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				fd, err := DecodeReduced(buf.Bytes(), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				copies++
				if fd.Reduced != 0 {
					reducedCopies++
				}
				ph, _ := h.HashAll(pd, opt)
				fh, _ := h.HashAll(fd, opt)
				if plainRes[tr.name] == nil {
					plainRes[tr.name], fastRes[tr.name] = &pathRes{}, &pathRes{}
				}
				match(plainRes[tr.name], ph, o)
				match(fastRes[tr.name], fh, o)
			}
			ph, _ := PHash(img)
			// pHash recall is over every photo; PDQ recall over photos whose
			// original is usable (quality ≥ 50), and a transformed copy whose
			// quality fell below 50 counts as a miss.
			phRes[tr.name].total++
			if ph.Distance(o.phash) <= 10 {
				phRes[tr.name].hit++
			}
			if o.quality >= 50 {
				pdqRes[tr.name].total++
				best := 256
				for _, v := range o.pdq {
					best = min(best, r.Hash.Distance(v))
				}
				if r.Quality >= 50 && best <= 31 {
					pdqRes[tr.name].hit++
				} else {
					t.Logf("PDQ miss: %s %s: best distance %d, quality %d", o.name, tr.name, best, r.Quality)
				}
			}
			// False matches: the transformed copy against every other photo.
			for j, other := range origs {
				if j == i {
					continue
				}
				phPairs++
				if ph.Distance(other.phash) <= 10 {
					phFalse++
					t.Logf("pHash false match: %s(%s) ~ %s", o.name, tr.name, other.name)
				}
				if o.quality >= 50 && other.quality >= 50 && r.Quality >= 50 {
					pdqPairs++
					for _, v := range other.pdq {
						if r.Hash.Distance(v) <= 31 {
							pdqFalse++
							t.Logf("PDQ false match: %s(%s) ~ %s", o.name, tr.name, other.name)
							break
						}
					}
				}
			}
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n| transform | PDQ recall (≤31, dihedral) | pHash recall (≤10) |\n|---|---|---|\n")
	for _, tr := range transforms {
		p, q := pdqRes[tr.name], phRes[tr.name]
		fmt.Fprintf(&sb, "| %s | %d/%d = %.2f | %d/%d = %.2f |\n", tr.name, p.hit, p.total, p.recall(), q.hit, q.total, q.recall())
	}
	fmt.Fprintf(&sb, "\nfalse matches between different photos: PDQ %d of %d pairs, pHash %d of %d pairs\n", pdqFalse, pdqPairs, phFalse, phPairs)
	fmt.Fprintf(&sb, "\nas JPEG files (q95), canonical DecodeBytes vs fast DecodeReduced (%d of %d copies decoded at 1/8 scale):\n", reducedCopies, copies)
	fmt.Fprintf(&sb, "| transform | PDQ plain | PDQ fast | pHash plain | pHash fast |\n|---|---|---|---|---|\n")
	for _, tr := range transforms {
		p, f := plainRes[tr.name], fastRes[tr.name]
		fmt.Fprintf(&sb, "| %s | %d/%d | %d/%d | %d/%d | %d/%d |\n", tr.name, p.pdq.hit, p.pdq.total, f.pdq.hit, f.pdq.total, p.ph.hit, p.ph.total, f.ph.hit, f.ph.total)
		if f.pdq.hit < p.pdq.hit || f.ph.hit < p.ph.hit {
			t.Errorf("%s: fast path recall below the canonical path's", tr.name)
		}
	}
	t.Log(sb.String())

	floors := map[string][2]float64{ // PDQ, pHash
		"resize50": {0.95, 0.95}, "resize25": {0.9, 0.9}, "jpeg30": {0.9, 0.9}, "crop5": {0, 0.25}, // PDQ's global DCT does not survive crops
		"grey": {0.95, 0.95}, "watermark": {0.9, 0.9}, "bright+20": {0.8, 0.8}, "bright-20": {0.9, 0.9},
		"hflip": {0.7, 0}, // pHash has no dihedral variants
	}
	for name, f := range floors {
		if r := pdqRes[name].recall(); r < f[0] {
			t.Errorf("PDQ recall for %s = %.2f, floor %.2f", name, r, f[0])
		}
		if r := phRes[name].recall(); r < f[1] {
			t.Errorf("pHash recall for %s = %.2f, floor %.2f", name, r, f[1])
		}
	}
	if float64(pdqFalse) > 0.01*float64(pdqPairs) || float64(phFalse) > 0.01*float64(phPairs) {
		t.Errorf("false-match rate above 1%%")
	}
}

// TestBridgeModsMatch: Meta's own edits of the bridge photo all match it.
func TestBridgeModsMatch(t *testing.T) {
	dir := filepath.Join(pdqData, "images/bridge-mods")
	needData(t, dir)
	h := NewHasher()
	orig := decodeFile(t, filepath.Join(dir, "aaa-orig.jpg"))
	ref := h.PDQDecoded(orig).Hash
	refP, _ := PHash(orig.Image)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		d := decodeFile(t, filepath.Join(dir, e.Name()))
		r := h.PDQDecoded(d)
		p, _ := PHash(d.Image)
		t.Logf("%-22s pdq d=%2d q=%3d  phash d=%2d", e.Name(), r.Hash.Distance(ref), r.Quality, p.Distance(refP))
		if dist := r.Hash.Distance(ref); dist > 31 || r.Quality < 50 {
			t.Errorf("%s: PDQ distance %d quality %d", e.Name(), dist, r.Quality)
		}
	}
}
