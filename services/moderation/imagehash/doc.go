// Package imagehash turns untrusted image bytes into perceptual hashes.
//
// It has two halves:
//
//   - Safe decoding (Decode, DecodeBytes): the format is sniffed from magic
//     bytes (JPEG, PNG, GIF first frame, WebP, BMP, TIFF), the byte size is
//     capped before anything is parsed, the dimensions are read from the header
//     with DecodeConfig and checked against a pixel cap before any pixel buffer
//     is allocated, and a decoder panic is turned into an error. Errors wrap
//     one of two sentinels so the ingest worker can pick a dead-letter reason
//     without string matching: ErrTooLarge (bytes or dimensions over the
//     limits → moderation.ReasonMediaTooBig) and ErrUndecodable (everything
//     else: unknown format, truncated or malformed data →
//     moderation.ReasonMediaDecode). The EXIF orientation tag (JPEG APP1, PNG
//     eXIf, WebP EXIF) is read and honoured, so a phone photo stored sideways
//     hashes like the upright picture people see.
//
//   - Hashing: PDQ (Meta's 256-bit hash with a 0–100 quality score, written
//     from the published algorithm and checked against Meta's reference
//     outputs), its eight dihedral variants (rotations and flips, computed
//     from one DCT by sign changes and transposition, as the reference does),
//     and the 64-bit pHash, dHash and aHash of github.com/corona10/goimagehash.
//     The 64-bit hashes are goimagehash's bit for bit: banks shared with
//     other tools that use goimagehash stay comparable. For JPEG (YCbCr)
//     images they are computed by an exact re-implementation of
//     goimagehash's nfnt/resize bilinear shrink (resize64.go: same integer
//     arithmetic, no 4:4:4 copy, reused buffers; EXIF-rotated ones read
//     through the orientation instead of rotating a full-size copy), then
//     goimagehash's own grey conversion, DCT and median; other images go to
//     goimagehash.
//
//   - A fast path for hashing at feed rates (DecodeReduced): a JPEG of at
//     least 1024 px a side is decoded at 1/8 scale from its DC coefficients
//     (internal/jpegdc, a fork of image/jpeg), about 3–4× faster than a
//     full decode and with no full-size buffer. Its hashes are close to, not
//     bit-identical with, the canonical ones (DecodeBytes): pHash 0 bits
//     apart on every test image, PDQ 2–20 (docs/hashing.md), with the same
//     matching recall in the robustness test. Use it for matching; use
//     DecodeBytes for hashes that are exported or compared with other tools.
//
// The package imports nothing else of Vigil's. A Hasher holds reusable
// buffers and is not safe for concurrent use: give each worker goroutine its
// own (or keep them in a sync.Pool owned by the caller).
package imagehash
