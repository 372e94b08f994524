package imagehash

import (
	"encoding/hex"
	"fmt"
	"math/bits"
	"strings"
)

// Hash type names, as stored in banks, matches and the database.
const (
	TypePDQ   = "pdq"
	TypePHash = "phash"
	TypeDHash = "dhash"
	TypeAHash = "ahash"
)

// Types lists every hash type, PDQ first.
func Types() []string { return []string{TypePDQ, TypePHash, TypeDHash, TypeAHash} }

// Bits returns the width in bits of a hash type, or 0 for an unknown type.
func Bits(typ string) int {
	switch typ {
	case TypePDQ:
		return 256
	case TypePHash, TypeDHash, TypeAHash:
		return 64
	}
	return 0
}

// Hash256 is a PDQ hash. Bit k (k = 16*i + j for DCT coefficient row i,
// column j) is bit k%64 of word k/64. That is the bit numbering of Meta's
// Hash256 (sixteen uint16 words, word q holding bits 16q..16q+15), so
// String prints exactly what Meta's tools print.
type Hash256 [4]uint64

// Bit reports whether bit k (0–255) is set.
func (h Hash256) Bit(k int) bool { return h[k>>6]>>(k&63)&1 == 1 }

// Distance is the Hamming distance.
func (h Hash256) Distance(o Hash256) int {
	return bits.OnesCount64(h[0]^o[0]) + bits.OnesCount64(h[1]^o[1]) +
		bits.OnesCount64(h[2]^o[2]) + bits.OnesCount64(h[3]^o[3])
}

// String returns 64 lowercase hex digits in Meta's order: the uint16 word
// holding bits 240–255 first, the word holding bits 0–15 last.
func (h Hash256) String() string {
	var sb strings.Builder
	sb.Grow(64)
	for q := 15; q >= 0; q-- {
		fmt.Fprintf(&sb, "%04x", uint16(h[q/4]>>(16*(q%4))))
	}
	return sb.String()
}

// ParseHash256 reads the 64-hex-digit form printed by String (upper or lower
// case).
func ParseHash256(s string) (Hash256, error) {
	var h Hash256
	if len(s) != 64 {
		return h, fmt.Errorf("pdq hash %q: want 64 hex digits, got %d", s, len(s))
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("pdq hash %q: %w", s, err)
	}
	for q := 0; q < 16; q++ {
		// Word 15 is printed first.
		i := 2 * (15 - q)
		w := uint64(raw[i])<<8 | uint64(raw[i+1])
		h[q/4] |= w << (16 * (q % 4))
	}
	return h, nil
}

// Hash64 is a 64-bit pHash, dHash or aHash exactly as goimagehash's
// ImageHash.GetHash returns it.
type Hash64 uint64

// Distance is the Hamming distance.
func (h Hash64) Distance(o Hash64) int { return bits.OnesCount64(uint64(h ^ o)) }

// String returns 16 lowercase hex digits.
func (h Hash64) String() string { return fmt.Sprintf("%016x", uint64(h)) }

// ParseHash64 reads 16 hex digits.
func ParseHash64(s string) (Hash64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("64-bit hash %q: want 16 hex digits, got %d", s, len(s))
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("64-bit hash %q: %w", s, err)
	}
	var v uint64
	for _, c := range raw {
		v = v<<8 | uint64(c)
	}
	return Hash64(v), nil
}

// PDQResult is a PDQ hash with its quality score (0–100). Meta recommends
// ignoring hashes with quality below 50: flat or tiny images give unstable
// bits.
type PDQResult struct {
	Hash    Hash256
	Quality int
}

// Dihedral names the eight symmetries of the square, in the order of
// PDQDihedral's result and of Meta's reference.
type Dihedral int

// The eight dihedral transforms. Rotations are counter-clockwise (the
// convention of Meta's tools: Rotate90 is the hash of the image turned 90°
// counter-clockwise); FlipX mirrors top↔bottom, FlipY left↔right, FlipPlus1
// is the transpose and FlipMinus1 the anti-transpose.
const (
	Original Dihedral = iota
	Rotate90
	Rotate180
	Rotate270
	FlipX
	FlipY
	FlipPlus1
	FlipMinus1
)

var dihedralNames = [...]string{"original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1"}

func (d Dihedral) String() string {
	if d < 0 || int(d) >= len(dihedralNames) {
		return "unknown"
	}
	return dihedralNames[d]
}
