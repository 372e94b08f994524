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
//     The 64-bit hashes are goimagehash's own: banks shared with other tools
//     that use goimagehash stay comparable bit for bit.
//
// The package imports nothing else of Vigil's. A Hasher holds reusable
// buffers and is not safe for concurrent use: give each worker goroutine its
// own (or keep them in a sync.Pool owned by the caller).
package imagehash
