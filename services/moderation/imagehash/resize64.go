package imagehash

import (
	"image"
	"math"

	"github.com/corona10/goimagehash/etcs"
	ghtransforms "github.com/corona10/goimagehash/transforms"
)

// Exact fast path for the 64-bit hashes of JPEG (YCbCr) images.
//
// goimagehash shrinks the image with nfnt/resize's bilinear filter, which
// for an *image.YCbCr first copies the whole image into an interleaved
// 4:4:4 buffer (36 MB for 12 MP), then filters rows and columns with
// 8-bit integer weights, 3 channels, a bounds branch per tap. The result is
// integer arithmetic (sums of int16 weight × uint8 sample, truncating
// division, clamping), so it does not depend on the order of summation.
// ycbcrResizer computes the same integers:
//
//   - the planes are read in place (no 4:4:4 copy);
//   - each output column's taps are resolved once (border clamping applied,
//     zero weights dropped, taps that land on the same sample merged: a
//     4:2:0 chroma sample is shared by two luma columns, so chroma costs
//     half);
//   - a chroma row shared by two luma rows is filtered once;
//   - buffers live in the Hasher and are reused.
//
// The shrunk image is then handed to goimagehash's own grey conversion, DCT
// and median/mean code, so every step after the resize is goimagehash's.
// TestHash64MatchesGoimagehash checks bit identity on every test image.

// taps is one filter row: sample indices and weights, and the sum of the
// weights nfnt divides by.
type taps struct {
	start []int32 // per output: index into idx/w
	idx   []int32
	w     []int32
	sum   []int32
}

// weights8 reproduces nfnt/resize createWeights8 (blur 1, bilinear kernel)
// for inLen samples shrunk to outLen, then resolves each output's taps to
// sample indices (clamped to [0, inLen-1] as nfnt's resizeYCbCr does) and
// divides indices by div (2 for subsampled chroma), merging equal ones.
func (t *taps) weights8(inLen, outLen, div int) {
	scale := float64(inLen) / float64(outLen)
	filterLength := 2 * int(math.Max(math.Ceil(scale), 1))
	filterFactor := math.Min(1./scale, 1)
	t.start, t.idx, t.w, t.sum = t.start[:0], t.idx[:0], t.w[:0], t.sum[:0]
	maxX := inLen - 1
	for y := 0; y < outLen; y++ {
		interpX := scale*(float64(y)+0.5) - 0.5
		start := int(interpX) - filterLength/2 + 1
		interpX -= float64(start)
		t.start = append(t.start, int32(len(t.idx)))
		var sum int32
		for i := 0; i < filterLength; i++ {
			in := (interpX - float64(i)) * filterFactor
			in = math.Abs(in)
			k := 0.0
			if in <= 1 {
				k = 1 - in
			}
			c := int32(int16(k * 256))
			if c == 0 {
				continue
			}
			xi := start + i
			switch {
			case uint(xi) < uint(maxX):
			case xi >= maxX:
				xi = maxX
			default:
				xi = 0
			}
			xi /= div
			sum += c
			if n := len(t.idx); n > int(t.start[y]) && t.idx[n-1] == int32(xi) {
				t.w[n-1] += c
				continue
			}
			t.idx = append(t.idx, int32(xi))
			t.w = append(t.w, c)
		}
		t.sum = append(t.sum, sum)
	}
	t.start = append(t.start, int32(len(t.idx)))
}

// apply returns the clamped, truncated weighted mean for output o over
// samples row[idx].
func (t *taps) apply(o int, row []uint8) uint8 {
	var p int32
	a, b := t.start[o], t.start[o+1]
	idx, w := t.idx[a:b], t.w[a:b]
	for i, x := range idx {
		p += w[i] * int32(row[x])
	}
	return clampUint8(p / t.sum[o])
}

func clampUint8(in int32) uint8 {
	if uint32(in) < 256 {
		return uint8(in)
	}
	if in > 255 {
		return 255
	}
	return 0
}

type ycbcrResizer struct {
	hy, hc, vy taps // horizontal (luma, chroma), vertical
	tmp        [3][]uint8
	rgb        [3][]uint8 // planar RGB of a rotated source
	acc        []int32
}

// chromaDiv returns the horizontal and vertical chroma subsampling of r as
// nfnt's ycc conversion applies it, or ok=false for ratios it does not
// know.
func chromaDiv(r image.YCbCrSubsampleRatio) (h, v int, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 1, 1, true
	case image.YCbCrSubsampleRatio422:
		return 2, 1, true
	case image.YCbCrSubsampleRatio420:
		return 2, 2, true
	case image.YCbCrSubsampleRatio440:
		return 1, 2, true
	case image.YCbCrSubsampleRatio411:
		return 4, 1, true
	case image.YCbCrSubsampleRatio410:
		return 4, 2, true
	}
	return 0, 0, false
}

// resize returns nfnt/resize.Resize(w, h, in, resize.Bilinear) for an
// *image.YCbCr at origin (0, 0), bit for bit, as a 4:4:4 YCbCr image.
func (z *ycbcrResizer) resize(in *image.YCbCr, w, h int) (*image.YCbCr, bool) {
	hd, vd, ok := chromaDiv(in.SubsampleRatio)
	W, H := in.Rect.Dx(), in.Rect.Dy()
	if !ok || in.Rect.Min != (image.Point{}) || W <= 0 || H <= 0 {
		return nil, false
	}
	if W == w && H == h {
		return nil, false // nfnt returns the input itself: let the caller use it
	}
	// Pass 1: every input row to w columns; tmp is transposed (w rows of H).
	z.hy.weights8(W, w, 1)
	z.hc.weights8(W, w, hd)
	for c := range z.tmp {
		if cap(z.tmp[c]) < w*H {
			z.tmp[c] = make([]uint8, w*H)
		}
		z.tmp[c] = z.tmp[c][:w*H]
	}
	ty, tcb, tcr := z.tmp[0], z.tmp[1], z.tmp[2]
	lastCRow := -1
	for y := 0; y < H; y++ {
		yrow := in.Y[y*in.YStride : y*in.YStride+W]
		for o := 0; o < w; o++ {
			ty[o*H+y] = z.hy.apply(o, yrow)
		}
		cy := y / vd
		if cy == lastCRow {
			for o := 0; o < w; o++ {
				tcb[o*H+y] = tcb[o*H+y-1]
				tcr[o*H+y] = tcr[o*H+y-1]
			}
			continue
		}
		lastCRow = cy
		cb := in.Cb[cy*in.CStride:]
		cr := in.Cr[cy*in.CStride:]
		for o := 0; o < w; o++ {
			tcb[o*H+y] = z.hc.apply(o, cb)
			tcr[o*H+y] = z.hc.apply(o, cr)
		}
	}
	// Pass 2: each of the w transposed rows (H samples) to h outputs.
	z.vy.weights8(H, h, 1)
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio444)
	for x := 0; x < w; x++ {
		for o := 0; o < h; o++ {
			out.Y[o*out.YStride+x] = z.vy.apply(o, ty[x*H:(x+1)*H])
			out.Cb[o*out.CStride+x] = z.vy.apply(o, tcb[x*H:(x+1)*H])
			out.Cr[o*out.CStride+x] = z.vy.apply(o, tcr[x*H:(x+1)*H])
		}
	}
	return out, true
}

// The three hashes from an already shrunk image, with goimagehash's own
// grey conversion, DCT and median or mean, in goimagehash's bit order.

func (h *Hasher) phashSmall(small image.Image) Hash64 {
	if cap(h.px64) < 4096 {
		h.px64 = make([]float64, 4096)
	}
	pixels := h.px64[:4096]
	ghtransforms.Rgb2GrayFast(small, &pixels)
	ghtransforms.DCT2DFast64(&pixels)
	flat := ghtransforms.FlattenPixelsFast64(pixels, 8, 8)
	median := etcs.MedianOfPixelsFast64(flat)
	var v uint64
	for i, p := range flat {
		if p > median {
			v |= 1 << uint(64-i-1)
		}
	}
	return Hash64(v)
}

func dhashSmall(small image.Image) Hash64 {
	px := ghtransforms.Rgb2Gray(small)
	var v uint64
	idx := 0
	for i := range px {
		for j := 0; j < len(px[i])-1; j++ {
			if px[i][j] < px[i][j+1] {
				v |= 1 << uint(64-idx-1)
			}
			idx++
		}
	}
	return Hash64(v)
}

func ahashSmall(small image.Image) Hash64 {
	flat := ghtransforms.FlattenPixels(ghtransforms.Rgb2Gray(small), 8, 8)
	avg := etcs.MeanOfPixels(flat)
	var v uint64
	for i, p := range flat {
		if p > avg {
			v |= 1 << uint(len(flat)-i-1)
		}
	}
	return Hash64(v)
}

// hashSize is the size goimagehash shrinks to for each 64-bit type.
func hashSize(typ string) (int, int, bool) {
	switch typ {
	case TypePHash:
		return 64, 64, true
	case TypeDHash:
		return 9, 8, true
	case TypeAHash:
		return 8, 8, true
	}
	return 0, 0, false
}

func (h *Hasher) fromSmall(typ string, small image.Image) Hash64 {
	switch typ {
	case TypePHash:
		return h.phashSmall(small)
	case TypeDHash:
		return dhashSmall(small)
	}
	return ahashSmall(small)
}

// phashYCbCr, dhashYCbCr, ahashYCbCr: goimagehash's hashes of an upright
// YCbCr image through the exact fast resize (ok=false: not applicable).
func (h *Hasher) phashYCbCr(in *image.YCbCr) (Hash64, bool) { return h.hashYCbCr(TypePHash, in) }
func (h *Hasher) dhashYCbCr(in *image.YCbCr) (Hash64, bool) { return h.hashYCbCr(TypeDHash, in) }
func (h *Hasher) ahashYCbCr(in *image.YCbCr) (Hash64, bool) { return h.hashYCbCr(TypeAHash, in) }

func (h *Hasher) hashYCbCr(typ string, in *image.YCbCr) (Hash64, bool) {
	w, ht, ok := hashSize(typ)
	if !ok {
		return 0, false
	}
	small, ok := h.rz.resize(in, w, ht)
	if !ok {
		return 0, false
	}
	return h.fromSmall(typ, small), true
}

// hashOriented is goimagehash's hash of Orient(in, o) without building the
// rotated full-size RGBA copy (ok=false: not applicable).
func (h *Hasher) hashOriented(typ string, in *image.YCbCr, o int) (Hash64, bool) {
	switch in.SubsampleRatio {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440:
		// the ratios image/draw converts with YCbCrToRGB's formula
	default:
		return 0, false
	}
	w, ht, ok := hashSize(typ)
	if !ok {
		return 0, false
	}
	small, ok := h.rz.resizeOriented(in, o, w, ht)
	if in.Rect.Dx()*in.Rect.Dy() > h.maxRetain {
		h.rz.rgb = [3][]uint8{} // as for the PDQ buffers: do not keep a huge image's
	}
	if !ok {
		return 0, false
	}
	return h.fromSmall(typ, small), true
}

// hash64Decoded is hash64 of d's upright image; *upright caches the
// upright copy when one has to be made.
func (h *Hasher) hash64Decoded(typ string, d Decoded, upright *image.Image) (Hash64, error) {
	if y, ok := d.Image.(*image.YCbCr); ok && d.Orientation >= 2 && d.Orientation <= 8 {
		if v, ok := h.hashOriented(typ, y, d.Orientation); ok {
			return v, nil
		}
	}
	if *upright == nil {
		*upright = d.Upright()
	}
	return h.hash64(typ, *upright)
}

// hash64 computes one 64-bit hash type of img, bit-identical to
// goimagehash: through the exact fast resize for YCbCr images, through
// goimagehash itself otherwise.
func (h *Hasher) hash64(typ string, img image.Image) (Hash64, error) {
	if y, ok := img.(*image.YCbCr); ok {
		var v Hash64
		switch typ {
		case TypePHash:
			v, ok = h.phashYCbCr(y)
		case TypeDHash:
			v, ok = h.dhashYCbCr(y)
		case TypeAHash:
			v, ok = h.ahashYCbCr(y)
		default:
			ok = false
		}
		if ok {
			return v, nil
		}
	}
	return goimagehash64(typ, img)
}

// Rotated JPEGs. The upright copy goimagehash is given (Orient) is an
// *image.RGBA made by image/draw's YCbCr→RGB conversion and permuted; nfnt
// then filters it as RGBA. orientedResizer computes the same integers from
// the YCbCr planes: one conversion to planar R, G, B (color.YCbCrToRGB's
// formula, which image/draw inlines), then the two bilinear passes along the upright
// axes, reading the source through the orientation instead of copying it.

// rgbPlanes converts in to planar R, G, B (w*h bytes each) in z's buffers.
func (z *ycbcrResizer) rgbPlanes(in *image.YCbCr) (r, g, b []uint8) {
	W, H := in.Rect.Dx(), in.Rect.Dy()
	n := W * H
	for c := range z.rgb {
		if cap(z.rgb[c]) < n {
			z.rgb[c] = make([]uint8, n)
		}
		z.rgb[c] = z.rgb[c][:n]
	}
	r, g, b = z.rgb[0], z.rgb[1], z.rgb[2]
	hd, vd, _ := chromaDiv(in.SubsampleRatio)
	hs := uint(hd >> 1) // 1, 2, 4 → shift 0, 1, 2
	for y := 0; y < H; y++ {
		yrow := in.Y[y*in.YStride : y*in.YStride+W]
		crow := (y / vd) * in.CStride
		cb := in.Cb[crow : crow+(W-1)>>hs+1]
		cr := in.Cr[crow : crow+(W-1)>>hs+1]
		o := y * W
		rr, gg, bb := r[o:o+W], g[o:o+W], b[o:o+W]
		for x, yy := range yrow {
			// color.YCbCrToRGB, written out (image/draw inlines the same).
			ci := x >> hs
			yy1 := int32(yy) * 0x10101
			cb1 := int32(cb[ci]) - 128
			cr1 := int32(cr[ci]) - 128
			rv := yy1 + 91881*cr1
			if uint32(rv)&0xff000000 == 0 {
				rv >>= 16
			} else {
				rv = ^(rv >> 31)
			}
			gv := yy1 - 22554*cb1 - 46802*cr1
			if uint32(gv)&0xff000000 == 0 {
				gv >>= 16
			} else {
				gv = ^(gv >> 31)
			}
			bv := yy1 + 116130*cb1
			if uint32(bv)&0xff000000 == 0 {
				bv >>= 16
			} else {
				bv = ^(bv >> 31)
			}
			rr[x], gg[x], bb[x] = uint8(rv), uint8(gv), uint8(bv)
		}
	}
	return r, g, b
}

// resizeOriented returns nfnt/resize.Resize(w, h, Orient(in, o), Bilinear)
// for EXIF orientation o in 2..8, bit for bit, as an *image.RGBA.
func (z *ycbcrResizer) resizeOriented(in *image.YCbCr, o, w, h int) (*image.RGBA, bool) {
	_, _, ok := chromaDiv(in.SubsampleRatio)
	W, H := in.Rect.Dx(), in.Rect.Dy()
	if !ok || in.Rect.Min != (image.Point{}) || W <= 0 || H <= 0 || o < 2 || o > 8 {
		return nil, false
	}
	uw, uh := W, H // upright size
	if o >= 5 {
		uw, uh = H, W
	}
	if uw == w && uh == h {
		return nil, false
	}
	planes := [3][]uint8{}
	planes[0], planes[1], planes[2] = z.rgbPlanes(in)
	// Pass 1 along upright x. flipX: upright x runs backwards over the
	// source axis it reads.
	z.hy.weights8(uw, w, 1)
	flipX := o == 2 || o == 3 || o == 6 || o == 7
	if flipX {
		for i, x := range z.hy.idx {
			z.hy.idx[i] = int32(uw-1) - x
		}
	}
	for c := range z.tmp {
		if cap(z.tmp[c]) < w*uh {
			z.tmp[c] = make([]uint8, w*uh)
		}
		z.tmp[c] = z.tmp[c][:w*uh]
	}
	if o <= 4 {
		// Upright rows are source rows (reversed for 3 and 4).
		for uy := 0; uy < uh; uy++ {
			sy := uy
			if o >= 3 {
				sy = H - 1 - uy
			}
			for c, p := range planes {
				row := p[sy*W : (sy+1)*W]
				t := z.tmp[c]
				for ox := 0; ox < w; ox++ {
					t[ox*uh+uy] = z.hy.apply(ox, row)
				}
			}
		}
	} else {
		// Upright rows are source columns (reversed for 7 and 8): sum whole
		// source rows, one accumulator per column.
		if cap(z.acc) < W {
			z.acc = make([]int32, W)
		}
		acc := z.acc[:W]
		for c, p := range planes {
			t := z.tmp[c]
			for ox := 0; ox < w; ox++ {
				clear(acc)
				a, b := z.hy.start[ox], z.hy.start[ox+1]
				for k := a; k < b; k++ {
					wt := z.hy.w[k]
					row := p[int(z.hy.idx[k])*W : int(z.hy.idx[k]+1)*W]
					acc := acc[:len(row)]
					for sx, v := range row {
						acc[sx] += wt * int32(v)
					}
				}
				sum := z.hy.sum[ox]
				for sx, v := range acc {
					uy := sx
					if o >= 7 {
						uy = W - 1 - sx
					}
					t[ox*uh+uy] = clampUint8(v / sum)
				}
			}
		}
	}
	// Pass 2 along upright y, as in resize.
	z.vy.weights8(uh, h, 1)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for oy := 0; oy < h; oy++ {
			i := oy*out.Stride + 4*x
			out.Pix[i+0] = z.vy.apply(oy, z.tmp[0][x*uh:(x+1)*uh])
			out.Pix[i+1] = z.vy.apply(oy, z.tmp[1][x*uh:(x+1)*uh])
			out.Pix[i+2] = z.vy.apply(oy, z.tmp[2][x*uh:(x+1)*uh])
			out.Pix[i+3] = 255
		}
	}
	return out, true
}
