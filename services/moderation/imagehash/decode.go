package imagehash

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/vigil-moderation/vigil/services/moderation/imagehash/internal/jpegdc"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Sentinel errors. Every error returned by Decode and DecodeBytes wraps
// exactly one of them.
var (
	// ErrUndecodable: not an image in a supported format, or truncated or
	// malformed data. Maps to moderation.ReasonMediaDecode.
	ErrUndecodable = errors.New("image undecodable")
	// ErrTooLarge: more bytes, pixels or a longer side than the Limits
	// allow. Maps to moderation.ReasonMediaTooBig.
	ErrTooLarge = errors.New("image too large")
)

// Default limits, used for zero fields of Limits. A 40-megapixel image is
// larger than any phone camera's output today; decoded as 16-bit RGBA it
// needs 320 MB, which is the worst case a worker must budget for.
const (
	DefaultMaxBytes  = 32 << 20
	DefaultMaxPixels = 40_000_000
	DefaultMaxSide   = 16384
)

// Limits bound what Decode accepts. The zero value means the defaults.
type Limits struct {
	MaxBytes  int64 // encoded size
	MaxPixels int64 // width*height from the header
	MaxSide   int   // longest side from the header
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	return l
}

// Format names returned in Decoded.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatGIF  = "gif"
	FormatWebP = "webp"
	FormatBMP  = "bmp"
	FormatTIFF = "tiff"
)

// Decoded is an image as stored plus how to show it.
type Decoded struct {
	// Image holds the pixels as stored in the file; Orientation says how to
	// turn them upright. Use Upright for an image.Image the right way up.
	Image  image.Image
	Format string
	// Orientation is the EXIF orientation tag, 1–8 (1 when absent or
	// invalid).
	Orientation int
	// Reduced is 8 when Image is the 1/8-scale DC image of a JPEG (from
	// DecodeReduced), else 0: Image is every stored pixel. Hashes of a
	// reduced image are close to, not bit-identical with, the full image's.
	Reduced int
}

// Bounds returns the size of the upright image.
func (d Decoded) Bounds() image.Rectangle {
	b := d.Image.Bounds()
	if d.Orientation >= 5 {
		return image.Rect(0, 0, b.Dy(), b.Dx())
	}
	return image.Rect(0, 0, b.Dx(), b.Dy())
}

// Upright returns the image turned the way the EXIF orientation says. For
// orientation 1 it is Image itself; otherwise a new image is allocated.
func (d Decoded) Upright() image.Image {
	return Orient(d.Image, d.Orientation)
}

// Decode reads at most lim.MaxBytes+1 bytes from r and decodes them with
// DecodeBytes.
func Decode(r io.Reader, lim Limits) (Decoded, error) {
	lim = lim.withDefaults()
	b, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return Decoded{}, fmt.Errorf("reading image: %w: %w", ErrUndecodable, err)
	}
	return DecodeBytes(b, lim)
}

// ReducedMinSide is the shorter side, in pixels, below which DecodeReduced
// decodes in full: a 1/8-scale image must keep at least this many pixels a
// side (JPEGs of 1024 px and more) for its hashes to track the full
// image's.
const ReducedMinSide = 128

// DecodeReduced is DecodeBytes for hashing: a JPEG whose shorter side is at
// least 8*ReducedMinSide is decoded at 1/8 scale from its DC coefficients
// (Decoded.Reduced = 8), several times faster than a full decode and with
// no full-size buffer; anything else, and any JPEG the reduced decoder does
// not handle (CMYK), is decoded in full. Limits are checked on the header
// exactly as in DecodeBytes, and errors wrap ErrTooLarge or ErrUndecodable
// the same way.
//
// The hashes of a reduced image are not bit-identical with those of the
// full image (docs/hashing.md gives the measured distances): use it for
// matching against banks, with DecodeBytes as the canonical path for
// hashes that are shared or compared with other tools.
func DecodeReduced(b []byte, lim Limits) (Decoded, error) {
	return decodeBytes(b, lim, true)
}

// DecodeBytes decodes an image after checking its byte size and its header
// dimensions against lim. It never panics: a panic inside a format decoder
// is reported as ErrUndecodable.
func DecodeBytes(b []byte, lim Limits) (Decoded, error) {
	return decodeBytes(b, lim, false)
}

func decodeBytes(b []byte, lim Limits, reduce bool) (Decoded, error) {
	lim = lim.withDefaults()
	if int64(len(b)) > lim.MaxBytes {
		return Decoded{}, fmt.Errorf("image is over %d bytes: %w", lim.MaxBytes, ErrTooLarge)
	}
	format := Sniff(b)
	if format == "" {
		return Decoded{}, fmt.Errorf("unrecognised image format: %w", ErrUndecodable)
	}
	cfg, err := safeCall(func() (image.Config, error) { return decodeConfig(format, b) })
	if err != nil {
		return Decoded{}, fmt.Errorf("reading %s header: %w: %w", format, ErrUndecodable, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Decoded{}, fmt.Errorf("%s header says %dx%d: %w", format, cfg.Width, cfg.Height, ErrUndecodable)
	}
	if cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide || int64(cfg.Width)*int64(cfg.Height) > lim.MaxPixels {
		return Decoded{}, fmt.Errorf("%s is %dx%d, limits %d pixels and %d per side: %w",
			format, cfg.Width, cfg.Height, lim.MaxPixels, lim.MaxSide, ErrTooLarge)
	}
	if reduce && format == FormatJPEG && min(cfg.Width, cfg.Height) >= 8*ReducedMinSide {
		img, err := safeCall(func() (image.Image, error) { return jpegdc.Decode(bytes.NewReader(b)) })
		if err == nil {
			return Decoded{Image: img, Format: format, Orientation: exifOrientation(format, b), Reduced: 8}, nil
		}
		// Unsupported by the reduced decoder, or damaged: the full decoder
		// decides (and names the error).
	}
	img, err := safeCall(func() (image.Image, error) { return decodeImage(format, b) })
	if err != nil {
		return Decoded{}, fmt.Errorf("decoding %s: %w: %w", format, ErrUndecodable, err)
	}
	r := img.Bounds()
	if r.Empty() || int64(r.Dx())*int64(r.Dy()) > lim.MaxPixels {
		return Decoded{}, fmt.Errorf("decoded %s is %dx%d: %w", format, r.Dx(), r.Dy(), ErrUndecodable)
	}
	return Decoded{Image: img, Format: format, Orientation: exifOrientation(format, b)}, nil
}

// Sniff names the format from the first bytes, or returns "" when it is
// none of the supported ones. It does not trust file names or MIME types,
// which uploaders control.
func Sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return FormatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return FormatGIF
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return FormatWebP
	case len(b) >= 2 && b[0] == 'B' && b[1] == 'M':
		return FormatBMP
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return FormatTIFF
	}
	return ""
}

func decodeConfig(format string, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch format {
	case FormatJPEG:
		return jpeg.DecodeConfig(r)
	case FormatPNG:
		return png.DecodeConfig(r)
	case FormatGIF:
		return gif.DecodeConfig(r)
	case FormatWebP:
		return webp.DecodeConfig(r)
	case FormatBMP:
		return bmp.DecodeConfig(r)
	case FormatTIFF:
		return tiff.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("format %q not supported", format)
}

func decodeImage(format string, b []byte) (image.Image, error) {
	r := bytes.NewReader(b)
	switch format {
	case FormatJPEG:
		return jpeg.Decode(r)
	case FormatPNG:
		return png.Decode(r)
	case FormatGIF:
		return gif.Decode(r) // first frame only
	case FormatWebP:
		return webp.Decode(r)
	case FormatBMP:
		return bmp.Decode(r)
	case FormatTIFF:
		return tiff.Decode(r)
	}
	return nil, fmt.Errorf("format %q not supported", format)
}

// safeCall turns a decoder panic into an error: the decoders parse
// attacker-controlled bytes and one bad file must not take a worker down.
func safeCall[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return f()
}
