package imagehash

import (
	"fmt"
	"image"

	"github.com/corona10/goimagehash"
)

// PHash returns goimagehash's PerceptionHash of img, bit for bit: a bank
// built with goimagehash elsewhere matches. JPEG (YCbCr) images take an
// exact fast path (resize64.go); prefer Hasher.HashAll in loops, which
// reuses its buffers.
func PHash(img image.Image) (Hash64, error) {
	return new(Hasher).hash64(TypePHash, img)
}

// DHash returns goimagehash's DifferenceHash of img, bit for bit.
func DHash(img image.Image) (Hash64, error) {
	return new(Hasher).hash64(TypeDHash, img)
}

// AHash returns goimagehash's AverageHash of img, bit for bit.
func AHash(img image.Image) (Hash64, error) {
	return new(Hasher).hash64(TypeAHash, img)
}

// Hash64Of computes one 64-bit hash type by name.
func Hash64Of(typ string, img image.Image) (Hash64, error) {
	return new(Hasher).hash64(typ, img)
}

// goimagehash64 calls goimagehash itself.
func goimagehash64(typ string, img image.Image) (Hash64, error) {
	var h *goimagehash.ImageHash
	var err error
	switch typ {
	case TypePHash:
		h, err = goimagehash.PerceptionHash(img)
	case TypeDHash:
		h, err = goimagehash.DifferenceHash(img)
	case TypeAHash:
		h, err = goimagehash.AverageHash(img)
	default:
		return 0, fmt.Errorf("hash type %q is not a 64-bit type", typ)
	}
	if err != nil {
		return 0, fmt.Errorf("computing %s: %w", typ, err)
	}
	return Hash64(h.GetHash()), nil
}

// Hashes is every hash of one image that a caller asked for. Zero-valued
// fields were not computed (check Has).
type Hashes struct {
	PDQ         PDQResult
	PDQDihedral [8]Hash256 // set when dihedral hashes were asked for; [0] == PDQ.Hash
	PHash       Hash64
	DHash       Hash64
	AHash       Hash64
	computed    map[string]bool
	dihedral    bool
}

// Has reports whether hash type typ was computed.
func (h Hashes) Has(typ string) bool { return h.computed[typ] }

// HasDihedral reports whether PDQDihedral is filled in.
func (h Hashes) HasDihedral() bool { return h.dihedral }

// HashOptions says which hashes HashAll computes.
type HashOptions struct {
	// Types to compute; nil means all of Types().
	Types []string
	// Dihedral also computes the eight PDQ dihedral hashes (cheap: they
	// share the one downsample and DCT).
	Dihedral bool
}

// HashAll computes the requested hashes of one decoded image, upright. The
// image is decoded once and the PDQ luma is read straight from it; the
// goimagehash hashes get the upright image (rotated only when the EXIF
// orientation says so).
func (h *Hasher) HashAll(d Decoded, opt HashOptions) (Hashes, error) {
	types := opt.Types
	if types == nil {
		types = Types()
	}
	out := Hashes{computed: make(map[string]bool, len(types))}
	var upright image.Image
	for _, typ := range types {
		switch typ {
		case TypePDQ:
			if opt.Dihedral {
				hs, q := h.PDQDihedral(d.Image, d.Orientation)
				out.PDQ = PDQResult{Hash: hs[Original], Quality: q}
				out.PDQDihedral = hs
				out.dihedral = true
			} else {
				out.PDQ = h.PDQDecoded(d)
			}
		case TypePHash, TypeDHash, TypeAHash:
			v, err := h.hash64Decoded(typ, d, &upright)
			if err != nil {
				return Hashes{}, err
			}
			switch typ {
			case TypePHash:
				out.PHash = v
			case TypeDHash:
				out.DHash = v
			default:
				out.AHash = v
			}
		default:
			return Hashes{}, fmt.Errorf("unknown hash type %q", typ)
		}
		out.computed[typ] = true
	}
	return out, nil
}

// Hex returns the hex form of hash type typ, or "" if it was not computed.
func (h Hashes) Hex(typ string) string {
	if !h.Has(typ) {
		return ""
	}
	switch typ {
	case TypePDQ:
		return h.PDQ.Hash.String()
	case TypePHash:
		return h.PHash.String()
	case TypeDHash:
		return h.DHash.String()
	case TypeAHash:
		return h.AHash.String()
	}
	return ""
}
