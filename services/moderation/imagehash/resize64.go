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
	crow       [2][]uint8
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

// phashYCbCr is goimagehash.PerceptionHash for a YCbCr image, with the
// exact fast resize.
func (h *Hasher) phashYCbCr(in *image.YCbCr) (Hash64, bool) {
	small, ok := h.rz.resize(in, 64, 64)
	if !ok {
		return 0, false
	}
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
	return Hash64(v), true
}

// dhashYCbCr is goimagehash.DifferenceHash with the exact fast resize.
func (h *Hasher) dhashYCbCr(in *image.YCbCr) (Hash64, bool) {
	small, ok := h.rz.resize(in, 9, 8)
	if !ok {
		return 0, false
	}
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
	return Hash64(v), true
}

// ahashYCbCr is goimagehash.AverageHash with the exact fast resize.
func (h *Hasher) ahashYCbCr(in *image.YCbCr) (Hash64, bool) {
	small, ok := h.rz.resize(in, 8, 8)
	if !ok {
		return 0, false
	}
	flat := ghtransforms.FlattenPixels(ghtransforms.Rgb2Gray(small), 8, 8)
	avg := etcs.MeanOfPixels(flat)
	var v uint64
	for i, p := range flat {
		if p > avg {
			v |= 1 << uint(len(flat)-i-1)
		}
	}
	return Hash64(v), true
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
