package imagehash

import (
	"image"
	"image/color"
)

// Border trimming ("unletterboxing"). A re-upload of a video frame or a
// screenshot often gains flat bars: black letterbox bars above and below,
// pillarbox bars at the sides, a white frame. Perceptual hashes see the
// whole picture, so bars move both PDQ and pHash far from the original's
// hash. TrimBorders finds such bars so that the content can be hashed as
// well; matching hashes both (see hashbank.Set.MatchImage), so trimming can
// add a match but never lose one.

const (
	// borderTolerance is how far, in 8-bit luma, a bar pixel may be from
	// the bar's colour: JPEG noise and ringing next to the picture stay
	// inside it, while picture rows almost never do.
	borderTolerance = 12
	// borderMinFraction is the thinnest bar worth trimming, as a fraction
	// of the side it cuts (1/50 = 2 %): a thin dark edge hardly moves a
	// hash.
	borderMinFraction = 50
	// borderMaxFraction bounds what trimming may leave: at least 1/4 of each
	// side, so a mostly flat picture is not cut down to a detail.
	borderMaxFraction = 4
)

// TrimBorders returns d cropped to the picture inside flat bars along any of
// its sides, and true; or d unchanged and false when no side has a bar at
// least 2 % of the image thick, when trimming would leave less than a
// quarter of a side, or when the image is flat all over. A bar is a run of
// whole rows (or columns) of one colour in luma, within a small tolerance.
// The result shares pixels with d (a sub-image) and keeps its orientation
// and reduction, so it hashes like any decoded image.
func TrimBorders(d Decoded) (Decoded, bool) {
	img := d.Image
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return d, false
	}
	r := contentRect(lumaReader(img), img.Bounds())
	if r == img.Bounds() || r.Empty() {
		return d, false
	}
	out := d
	out.Image = sub.SubImage(r)
	return out, true
}

// contentRect returns b without the bars along its sides, or b itself when
// there are none worth trimming.
func contentRect(luma func(x, y int) uint8, b image.Rectangle) image.Rectangle {
	w, h := b.Dx(), b.Dy()
	if w < borderMaxFraction || h < borderMaxFraction {
		return b
	}
	row := func(y int) lineOf { return lineOf{n: w, at: func(i int) uint8 { return luma(b.Min.X+i, y) }} }
	// Rows first, then columns inside the rows kept, so that the columns'
	// bars are judged without the rows' bars (a letterboxed and
	// pillarboxed frame loses both).
	top := barWidth(h, func(i int) lineOf { return row(b.Min.Y + i) })
	if top == h {
		return b // flat all over: nothing to find a picture in
	}
	bottom := barWidth(h-top, func(i int) lineOf { return row(b.Max.Y - 1 - i) })
	r := image.Rect(b.Min.X, b.Min.Y+trimmed(top, h), b.Max.X, b.Max.Y-trimmed(bottom, h))
	rows := r.Dy()
	colIn := func(x int) lineOf {
		return lineOf{n: rows, at: func(i int) uint8 { return luma(x, r.Min.Y+i) }}
	}
	left := barWidth(w, func(i int) lineOf { return colIn(b.Min.X + i) })
	right := barWidth(w-left, func(i int) lineOf { return colIn(b.Max.X - 1 - i) })
	r.Min.X += trimmed(left, w)
	r.Max.X -= trimmed(right, w)
	if r.Dx()*borderMaxFraction < w || r.Dy()*borderMaxFraction < h {
		return b
	}
	return r
}

// trimmed is n if a bar of n lines out of side is thick enough to trim,
// else 0.
func trimmed(n, side int) int {
	if n*borderMinFraction < side || n < 2 {
		return 0
	}
	return n
}

// lineOf is one row or column of luma values.
type lineOf struct {
	n  int
	at func(i int) uint8
}

// flat reports whether every value of l is within borderTolerance of c.
func (l lineOf) flat(c uint8) bool {
	lo, hi := int(c)-borderTolerance, int(c)+borderTolerance
	for i := 0; i < l.n; i++ {
		if v := int(l.at(i)); v < lo || v > hi {
			return false
		}
	}
	return true
}

// barWidth counts the lines, from the outside in, that are flat in the
// colour of the first line's first pixel, up to limit lines.
func barWidth(limit int, line func(i int) lineOf) int {
	if limit == 0 {
		return 0
	}
	c := line(0).at(0)
	n := 0
	for n < limit && line(n).flat(c) {
		n++
	}
	return n
}

// lumaReader returns a function reading the 8-bit luma of img at (x, y),
// straight from the pixel buffer for the types decoders return most.
func lumaReader(img image.Image) func(x, y int) uint8 {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) uint8 { return m.Y[m.YOffset(x, y)] }
	case *image.Gray:
		return func(x, y int) uint8 { return m.Pix[m.PixOffset(x, y)] }
	case *image.RGBA:
		return func(x, y int) uint8 {
			p := m.Pix[m.PixOffset(x, y):]
			return lumaOf(uint32(p[0]), uint32(p[1]), uint32(p[2]))
		}
	case *image.NRGBA:
		return func(x, y int) uint8 {
			p := m.Pix[m.PixOffset(x, y):]
			return lumaOf(uint32(p[0]), uint32(p[1]), uint32(p[2]))
		}
	}
	return func(x, y int) uint8 { return color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y }
}

// lumaOf is ITU-R BT.601 luma, as color.GrayModel computes it, from 8-bit
// samples.
func lumaOf(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
}
