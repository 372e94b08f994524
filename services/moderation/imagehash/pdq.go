package imagehash

import (
	"image"
	"image/color"
	"math"
	"slices"
)

// PDQ algorithm, after "The TMK+PDQF and PDQ algorithms" (Meta,
// 2017-10-09) and the pdq/ folder of facebook/ThreatExchange:
//
//  1. luma Y = 0.299 R + 0.587 G + 0.114 B per pixel, in float32;
//  2. two passes of a 1-D box filter along rows then columns (a "Jarosz"
//     tent), the window being ceil(side/128), so each of the 64x64 output
//     cells averages about a 1/64th of each side;
//  3. decimate to 64x64 by sampling the centres of the cells;
//  4. quality = the sum of quantised neighbour differences of that 64x64
//     image / 90, capped at 100;
//  5. D A Dᵀ with the 16x64 DCT-II matrix (frequencies 1–16, DC dropped)
//     gives 16x16 coefficients; bit i*16+j is set when coefficient (i,j)
//     is greater than the median of all 256.
//
// Arithmetic is float32 in the reference's order, so for the same luma the
// bits agree with the C++ reference; differences from other
// implementations come from decoders, not from the hash.

const (
	pdqMinDim   = 5 // smaller images hash to zero with quality 0, as in the reference
	jaroszPass  = 2
	lumaR       = float32(0.299)
	lumaG       = float32(0.587)
	lumaB       = float32(0.114)
	pdqOutSide  = 64
	pdqCoeffDim = 16
)

// dctMatrix is the 16x64 DCT matrix. It is a pure function of constants, so
// computing it on each Hasher (NewHasher) keeps the package free of
// package-level state at the cost of a few microseconds.
func dctMatrix() *[pdqCoeffDim * pdqOutSide]float32 {
	var d [pdqCoeffDim * pdqOutSide]float32
	scale := float64(float32(math.Sqrt(2.0 / 64.0)))
	for i := 0; i < pdqCoeffDim; i++ {
		for j := 0; j < pdqOutSide; j++ {
			d[i*pdqOutSide+j] = float32(scale * math.Cos((math.Pi/2.0/64.0)*float64(i+1)*float64(2*j+1)))
		}
	}
	return &d
}

// Hasher computes hashes with reusable buffers. The zero value is not
// usable; call NewHasher. A Hasher is not safe for concurrent use.
type Hasher struct {
	dct       *[pdqCoeffDim * pdqOutSide]float32
	buf1      []float32
	buf2      []float32
	colSums   []float32
	small     [pdqOutSide * pdqOutSide]float32
	t16x64    [pdqCoeffDim * pdqOutSide]float32
	coeffs    [256]float32
	aux       [256]float32
	sortBuf   [256]float32
	maxRetain int
	rz        ycbcrResizer // exact fast resize for the 64-bit hashes
	px64      []float64
}

// NewHasher returns a Hasher. It keeps its luma buffers (8 bytes a pixel)
// and, for EXIF-rotated JPEGs, its RGB planes (3 bytes a pixel) between
// calls for images up to 16 megapixels and frees larger ones after use, so a
// worker that met one huge image does not keep 128 MB forever.
func NewHasher() *Hasher {
	return &Hasher{dct: dctMatrix(), maxRetain: 16_000_000}
}

// PDQ hashes img as it is (no orientation applied).
func (h *Hasher) PDQ(img image.Image) PDQResult {
	return h.pdqOriented(img, 1, false, nil)
}

// PDQDecoded hashes the upright image of d without materialising the
// rotation: the orientation is applied while reading luma.
func (h *Hasher) PDQDecoded(d Decoded) PDQResult {
	return h.pdqOriented(d.Image, d.Orientation, false, nil)
}

// PDQDihedral returns the hashes of img (upright per orientation o, 1 for
// none) and of its seven rotations and flips, indexed by Dihedral, with the
// one shared quality. Costs one hash plus seven median selections.
func (h *Hasher) PDQDihedral(img image.Image, o int) ([8]Hash256, int) {
	var out [8]Hash256
	r := h.pdqOriented(img, o, true, &out)
	return out, r.Quality
}

// PDQ hashes img with a temporary Hasher. Prefer a long-lived Hasher in
// loops.
func PDQ(img image.Image) PDQResult { return NewHasher().PDQ(img) }

func (h *Hasher) pdqOriented(img image.Image, o int, dihedral bool, out *[8]Hash256) PDQResult {
	b := img.Bounds()
	w, ht := b.Dx(), b.Dy()
	if o >= 5 && o <= 8 {
		w, ht = ht, w
	}
	if w < pdqMinDim || ht < pdqMinDim {
		return PDQResult{}
	}
	n := w * ht
	if cap(h.buf1) < n {
		h.buf1 = make([]float32, n)
		h.buf2 = make([]float32, n)
	}
	luma, tmp := h.buf1[:n], h.buf2[:n]
	fillLuma(img, o, luma)
	h.downsample(luma, tmp, ht, w)
	if n > h.maxRetain {
		h.buf1, h.buf2, h.colSums = nil, nil, nil
	}
	q := quality(&h.small)
	h.dct64To16()
	res := PDQResult{Hash: h.bits(&h.coeffs), Quality: q}
	if dihedral {
		for d := Original; d <= FlipMinus1; d++ {
			if d == Original {
				out[d] = res.Hash
				continue
			}
			dihedralCoeffs(d, &h.coeffs, &h.aux)
			out[d] = h.bits(&h.aux)
		}
	}
	return res
}

// fillLuma writes the float luma of the upright image (orientation o) into
// dst, row-major. Alpha is dropped, not premultiplied, and 16-bit grey is
// clamped to 255 rather than scaled: that is what Pillow's conversion to RGB
// does before Meta's reference hashes an image, and matching Meta's
// published hashes requires the same.
func fillLuma(img image.Image, o int, dst []float32) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow := w
	if o >= 5 && o <= 8 {
		ow = h
	}
	if o < 1 || o > 8 {
		o = 1
	}
	// Build a per-stored-row accessor then scatter through the orientation
	// map. For o == 1 the scatter is a straight row copy.
	row := make([]float32, w)
	put := func(sy int) {
		if o == 1 {
			copy(dst[sy*w:(sy+1)*w], row)
			return
		}
		for sx := 0; sx < w; sx++ {
			x, y := dstCoord(o, sx, sy, w, h)
			dst[y*ow+x] = row[sx]
		}
	}
	switch m := img.(type) {
	case *image.YCbCr:
		// JPEG's Y is defined as 0.299R+0.587G+0.114B: reading it directly
		// skips a colour conversion and its chroma upsampling error.
		for y := 0; y < h; y++ {
			p := m.Y[(y)*m.YStride : (y)*m.YStride+w]
			for x, v := range p {
				row[x] = float32(v)
			}
			put(y)
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range p {
				row[x] = float32(v)
			}
			put(y)
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+2*w]
			for x := 0; x < w; x++ {
				v := uint16(p[2*x])<<8 | uint16(p[2*x+1])
				row[x] = float32(min(v, 255))
			}
			put(y)
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				row[x] = luma8(p[4*x], p[4*x+1], p[4*x+2])
			}
			put(y)
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				row[x] = luma8(p[4*x], p[4*x+1], p[4*x+2])
			}
			put(y)
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				row[x] = luma8(p[8*x], p[8*x+2], p[8*x+4])
			}
			put(y)
		}
	case *image.Paletted:
		var lut [256]float32
		for i, c := range m.Palette {
			r, g, bb := straightRGB(c)
			lut[i] = luma8(r, g, bb)
		}
		for y := 0; y < h; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range p {
				row[x] = lut[v]
			}
			put(y)
		}
	case *image.CMYK:
		for y := 0; y < h; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				r, g, bb := color.CMYKToRGB(p[4*x], p[4*x+1], p[4*x+2], p[4*x+3])
				row[x] = luma8(r, g, bb)
			}
			put(y)
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bb := straightRGB(img.At(b.Min.X+x, b.Min.Y+y))
				row[x] = luma8(r, g, bb)
			}
			put(y)
		}
	}
}

// dstCoord is the inverse of srcCoord: where stored pixel (sx, sy) lands in
// the upright image.
func dstCoord(o, sx, sy, w, h int) (int, int) {
	switch o {
	case 2:
		return w - 1 - sx, sy
	case 3:
		return w - 1 - sx, h - 1 - sy
	case 4:
		return sx, h - 1 - sy
	case 5:
		return sy, sx
	case 6:
		return h - 1 - sy, sx
	case 7:
		return h - 1 - sy, w - 1 - sx
	case 8:
		return sy, w - 1 - sx
	}
	return sx, sy
}

func luma8(r, g, b uint8) float32 {
	return float32(float32(lumaR*float32(r))+float32(lumaG*float32(g))) + float32(lumaB*float32(b))
}

// straightRGB returns 8-bit non-premultiplied RGB for any colour.
func straightRGB(c color.Color) (uint8, uint8, uint8) {
	switch v := c.(type) {
	case color.NRGBA:
		return v.R, v.G, v.B
	case color.RGBA:
		if v.A == 0xff || v.A == 0 {
			return v.R, v.G, v.B
		}
	case color.Gray:
		return v.Y, v.Y, v.Y
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)
}

// downsample runs the Jarosz filter over luma (rows x cols) and decimates
// into h.small.
func (h *Hasher) downsample(luma, tmp []float32, rows, cols int) {
	if rows == pdqOutSide && cols == pdqOutSide {
		copy(h.small[:], luma)
		return
	}
	wr := (cols + 2*pdqOutSide - 1) / (2 * pdqOutSide) // window along rows
	wc := (rows + 2*pdqOutSide - 1) / (2 * pdqOutSide) // window along columns
	if cap(h.colSums) < cols {
		h.colSums = make([]float32, cols)
	}
	sums := h.colSums[:cols]
	for range jaroszPass {
		for i := 0; i < rows; i++ {
			box1D(luma[i*cols:(i+1)*cols], tmp[i*cols:(i+1)*cols], wr)
		}
		boxCols(tmp, luma, rows, cols, wc, sums)
	}
	for i := 0; i < pdqOutSide; i++ {
		ini := int((float64(i) + 0.5) * float64(rows) / pdqOutSide)
		for j := 0; j < pdqOutSide; j++ {
			inj := int((float64(j) + 0.5) * float64(cols) / pdqOutSide)
			h.small[i*pdqOutSide+j] = luma[ini*cols+inj]
		}
	}
}

// box1D is a running-sum box filter whose window shrinks at both ends. The
// order of float32 additions and subtractions is that of the reference, so
// results agree bit for bit.
func box1D(in, out []float32, win int) {
	half := (win + 2) / 2
	n := len(in)
	var sum float32
	cur := 0
	ri, li, oi := 0, 0, 0
	for range half - 1 {
		sum += in[ri]
		cur++
		ri++
	}
	for range win - half + 1 {
		sum += in[ri]
		cur++
		out[oi] = sum / float32(cur)
		ri++
		oi++
	}
	for range n - win {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(cur)
		li++
		ri++
		oi++
	}
	for range half - 1 {
		sum -= in[li]
		cur--
		out[oi] = sum / float32(cur)
		li++
		oi++
	}
}

// boxCols applies box1D down every column at once, sweeping rows so memory
// is read sequentially. Each column sees the same sequence of float32
// operations as box1D would give it.
func boxCols(in, out []float32, rows, cols, win int, sums []float32) {
	clear(sums)
	half := (win + 2) / 2
	cur := 0
	ri, li, oi := 0, 0, 0
	addRow := func(r int) {
		src := in[r*cols : (r+1)*cols]
		for j, v := range src {
			sums[j] += v
		}
	}
	subRow := func(r int) {
		src := in[r*cols : (r+1)*cols]
		for j, v := range src {
			sums[j] -= v
		}
	}
	write := func(r int) {
		dst := out[r*cols : (r+1)*cols]
		d := float32(cur)
		for j, s := range sums {
			dst[j] = s / d
		}
	}
	for range half - 1 {
		addRow(ri)
		cur++
		ri++
	}
	for range win - half + 1 {
		addRow(ri)
		cur++
		write(oi)
		ri++
		oi++
	}
	for range rows - win {
		addRow(ri)
		subRow(li)
		write(oi)
		li++
		ri++
		oi++
	}
	for range half - 1 {
		subRow(li)
		cur--
		write(oi)
		li++
		oi++
	}
}

func quality(a *[pdqOutSide * pdqOutSide]float32) int {
	sum := 0
	for i := 0; i < 63; i++ {
		for j := 0; j < 64; j++ {
			d := int(float32(float32(a[i*64+j]-a[(i+1)*64+j])*100) / 255)
			sum += abs(d)
		}
	}
	for i := 0; i < 64; i++ {
		for j := 0; j < 63; j++ {
			d := int(float32(float32(a[i*64+j]-a[i*64+j+1])*100) / 255)
			sum += abs(d)
		}
	}
	return min(sum/90, 100)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dct64To16 computes coeffs = D A Dᵀ, summing in the reference's order.
func (h *Hasher) dct64To16() {
	d, a, t := h.dct, &h.small, &h.t16x64
	for i := 0; i < 16; i++ {
		pd := d[i*64 : i*64+64]
		for j := 0; j < 64; j++ {
			var s float32
			for k := 0; k < 64; k++ {
				s += float32(pd[k] * a[k*64+j])
			}
			t[i*64+j] = s
		}
	}
	for i := 0; i < 16; i++ {
		pt := t[i*64 : i*64+64]
		for j := 0; j < 16; j++ {
			pd := d[j*64 : j*64+64]
			var s float32
			for k := 0; k < 64; k++ {
				s += float32(pt[k] * pd[k])
			}
			h.coeffs[i*16+j] = s
		}
	}
}

// bits sets bit k when coefficient k exceeds the median. The median is the
// 128th smallest of the 256 values (what Torben's method returns for an
// even count), so about half the bits are set.
func (h *Hasher) bits(c *[256]float32) Hash256 {
	h.sortBuf = *c
	slices.Sort(h.sortBuf[:])
	med := h.sortBuf[127]
	var out Hash256
	for k, v := range c {
		if v > med {
			out[k>>6] |= 1 << (k & 63)
		}
	}
	return out
}

// dihedralCoeffs derives the DCT of a rotated or flipped image from the
// original's: mirroring a 64-sample axis negates the odd-frequency
// coefficients along it (our index 0 is frequency 1) and a quarter turn
// transposes.
func dihedralCoeffs(d Dihedral, a, b *[256]float32) {
	for i := 0; i < 16; i++ {
		for j := 0; j < 16; j++ {
			v := a[i*16+j]
			switch d {
			case Rotate90:
				if j&1 == 0 {
					v = -v
				}
				b[j*16+i] = v
			case Rotate180:
				if (i+j)&1 == 1 {
					v = -v
				}
				b[i*16+j] = v
			case Rotate270:
				if i&1 == 0 {
					v = -v
				}
				b[j*16+i] = v
			case FlipX:
				if i&1 == 0 {
					v = -v
				}
				b[i*16+j] = v
			case FlipY:
				if j&1 == 0 {
					v = -v
				}
				b[i*16+j] = v
			case FlipPlus1:
				b[j*16+i] = v
			case FlipMinus1:
				if (i+j)&1 == 1 {
					v = -v
				}
				b[j*16+i] = v
			default:
				b[i*16+j] = v
			}
		}
	}
}
