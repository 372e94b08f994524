// Package blur renders evidence images so that a reviewer sees roughly
// what is there without seeing it: the image is averaged down to a grid of
// Cells×Cells blocks (on its longer side) and smoothly scaled back up to at
// most MaxSide pixels. The original pixels never leave the server unless a
// permitted reviewer asks for them, and then through an audited path.
package blur

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

// Options shape the rendering. The zero value means the defaults.
type Options struct {
	Cells   int // blocks on the longer side; 12 when zero
	MaxSide int // longer side of the output; 320 when zero
}

func (o Options) withDefaults() Options {
	if o.Cells <= 0 {
		o.Cells = 12
	}
	if o.MaxSide <= 0 {
		o.MaxSide = 320
	}
	return o
}

// JPEG decodes data (JPEG, PNG, GIF, WebP, BMP, TIFF, within imagehash's
// decoding limits), blurs it and returns it as a JPEG.
func JPEG(data []byte, o Options) ([]byte, error) {
	d, err := imagehash.DecodeBytes(data, imagehash.Limits{})
	if err != nil {
		return nil, fmt.Errorf("blurring: %w", err)
	}
	out := Image(d.Upright(), o)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 75}); err != nil {
		return nil, fmt.Errorf("encoding blurred image: %w", err)
	}
	return buf.Bytes(), nil
}

// Image returns a blurred, downscaled copy of src.
func Image(src image.Image, o Options) *image.RGBA {
	o = o.withDefaults()
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	// Grid size, keeping the aspect ratio.
	gw, gh := o.Cells, o.Cells
	if w >= h {
		gh = max(1, (o.Cells*h+w/2)/w)
	} else {
		gw = max(1, (o.Cells*w+h/2)/h)
	}
	gw, gh = min(gw, w), min(gh, h)
	// Average every source pixel into its grid cell.
	sum := make([][4]uint64, gw*gh)
	cnt := make([]uint64, gw*gh)
	rgba, _ := src.(image.RGBA64Image)
	for y := 0; y < h; y++ {
		cy := y * gh / h
		for x := 0; x < w; x++ {
			var c color.RGBA64
			if rgba != nil {
				c = rgba.RGBA64At(b.Min.X+x, b.Min.Y+y)
			} else {
				r, g, bl, a := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
				c = color.RGBA64{uint16(r), uint16(g), uint16(bl), uint16(a)}
			}
			i := cy*gw + x*gw/w
			sum[i][0] += uint64(c.R)
			sum[i][1] += uint64(c.G)
			sum[i][2] += uint64(c.B)
			sum[i][3] += uint64(c.A)
			cnt[i]++
		}
	}
	cells := make([][3]float64, gw*gh)
	for i := range cells {
		if cnt[i] == 0 {
			continue
		}
		// Composite over mid grey so transparency does not reveal shapes.
		a := float64(sum[i][3]) / float64(cnt[i]) / 65535
		for k := range 3 {
			v := float64(sum[i][k]) / float64(cnt[i]) / 257 // premultiplied, 0..255
			cells[i][k] = v + 128*(1-a)
		}
	}
	// Scale up bilinearly between cell centres.
	ow, oh := w, h
	if ow > o.MaxSide || oh > o.MaxSide {
		if w >= h {
			ow, oh = o.MaxSide, max(1, o.MaxSide*h/w)
		} else {
			ow, oh = max(1, o.MaxSide*w/h), o.MaxSide
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		fy := (float64(y)+0.5)*float64(gh)/float64(oh) - 0.5
		y0, ty := clampSplit(fy, gh)
		for x := 0; x < ow; x++ {
			fx := (float64(x)+0.5)*float64(gw)/float64(ow) - 0.5
			x0, tx := clampSplit(fx, gw)
			x1, y1 := min(x0+1, gw-1), min(y0+1, gh-1)
			var px [3]uint8
			for k := range 3 {
				top := cells[y0*gw+x0][k]*(1-tx) + cells[y0*gw+x1][k]*tx
				bot := cells[y1*gw+x0][k]*(1-tx) + cells[y1*gw+x1][k]*tx
				px[k] = uint8(min(255, max(0, top*(1-ty)+bot*ty+0.5)))
			}
			i := out.PixOffset(x, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = px[0], px[1], px[2], 255
		}
	}
	return out
}

func clampSplit(f float64, n int) (int, float64) {
	if f <= 0 {
		return 0, 0
	}
	if f >= float64(n-1) {
		return n - 1, 0
	}
	i := int(f)
	return i, f - float64(i)
}

// Placeholder is a plain grey PNG, served when stored media cannot be
// decoded (so nothing undecoded is ever passed through blurred).
func Placeholder() []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
