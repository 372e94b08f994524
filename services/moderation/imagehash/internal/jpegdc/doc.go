// Package jpegdc decodes a JPEG at 1/8 scale from its DC coefficients: one
// pixel per 8x8 block, the block's mean. A hash needs a 64x64 thumbnail,
// not 12 million pixels, and the DC coefficient of a block is exactly the
// block's average, so nothing a thumbnail needs is lost.
//
// It is a fork of Go's image/jpeg (BSD licence, see LICENSE; the Go
// Authors' copyright headers are kept on every forked file), cut down:
//
//   - reconstructBlock dequantises only the DC coefficient and writes one
//     pixel, no inverse DCT;
//   - progressive files keep one int32 per block instead of 64, and their AC
//     scans are not decoded at all: the marker loop skips their bytes;
//   - baseline files still Huffman-decode every AC symbol (there is no other
//     way to find where the next block starts) but skip the value bits
//     instead of sign-extending and storing them;
//   - CMYK/YCCK (4-component) files are refused, so the caller decodes them
//     in full; DecodeConfig, the format registration and the encoder are
//     gone.
//
// Input handling (markers, Huffman tables, restart intervals, the
// stdlib's size and sanity checks) is unchanged, so the fork rejects what
// image/jpeg rejects.
package jpegdc
