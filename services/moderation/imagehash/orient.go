package imagehash

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// exifOrientation finds the EXIF orientation tag in a JPEG APP1 segment, a
// PNG eXIf chunk or a WebP EXIF chunk. Anything odd (no EXIF, a truncated
// segment, a value outside 1–8) yields 1: a wrong tag must never make an
// image undecodable.
func exifOrientation(format string, b []byte) int {
	var tiffData []byte
	switch format {
	case FormatJPEG:
		tiffData = jpegExif(b)
	case FormatPNG:
		tiffData = pngExif(b)
	case FormatWebP:
		tiffData = webpExif(b)
	}
	if tiffData == nil {
		return 1
	}
	if o := tiffOrientation(tiffData); o >= 1 && o <= 8 {
		return o
	}
	return 1
}

func jpegExif(b []byte) []byte {
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return nil
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			i += 2
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan: no more metadata
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

func pngExif(b []byte) []byte {
	i := 8
	for i+12 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if n < 0 || n > len(b)-i-12 {
			return nil
		}
		if typ == "eXIf" {
			return b[i+8 : i+8+n]
		}
		if typ == "IDAT" || typ == "IEND" {
			return nil
		}
		i += 12 + n
	}
	return nil
}

func webpExif(b []byte) []byte {
	i := 12
	for i+8 <= len(b) {
		typ := string(b[i : i+4])
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		if n < 0 || n > len(b)-i-8 {
			return nil
		}
		if typ == "EXIF" {
			d := b[i+8 : i+8+n]
			if len(d) > 6 && string(d[:6]) == "Exif\x00\x00" {
				d = d[6:]
			}
			return d
		}
		i += 8 + n + n&1
	}
	return nil
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(d []byte) int {
	if len(d) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(d[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int64(bo.Uint32(d[4:]))
	if off < 8 || off+2 > int64(len(d)) {
		return 0
	}
	n := int64(bo.Uint16(d[off:]))
	for k := int64(0); k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > int64(len(d)) {
			return 0
		}
		if bo.Uint16(d[e:]) == 0x0112 {
			if bo.Uint16(d[e+2:]) != 3 { // SHORT
				return 0
			}
			return int(bo.Uint16(d[e+8:]))
		}
	}
	return 0
}

// srcCoord maps a pixel (x, y) of the upright image to the stored image of
// size w×h for EXIF orientation o (1–8).
func srcCoord(o, x, y, w, h int) (int, int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}

// Orient returns img turned upright for EXIF orientation o. Orientation 1
// (or an invalid value) returns img unchanged; otherwise the result is a
// new *image.RGBA, or *image.Gray for greyscale input. Both are what
// goimagehash would see had the file been saved upright.
func Orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	if g, ok := img.(*image.Gray); ok {
		out := image.NewGray(image.Rect(0, 0, ow, oh))
		for y := 0; y < oh; y++ {
			row := out.Pix[y*out.Stride:]
			for x := 0; x < ow; x++ {
				sx, sy := srcCoord(o, x, y, w, h)
				row[x] = g.Pix[sy*g.Stride+sx]
			}
		}
		return out
	}
	// Convert once to RGBA (fast paths inside draw), then permute.
	src, ok := img.(*image.RGBA)
	if !ok || b.Min != (image.Point{}) {
		src = image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		row := out.Pix[y*out.Stride:]
		for x := 0; x < ow; x++ {
			sx, sy := srcCoord(o, x, y, w, h)
			s := sy*src.Stride + 4*sx
			copy(row[4*x:4*x+4], src.Pix[s:s+4])
		}
	}
	return out
}
