package hashbank

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashindex"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

// Set is a compiled, immutable collection of banks: one Hamming index per
// hash type over the entries of every bank of that type. It is safe for
// concurrent use; to change banks, build a new Set and swap it in (an
// atomic.Pointer in the caller), which readers never wait for.
type Set struct {
	banks  []Bank // with defaults applied
	byType map[string]*typeIndex
}

type typeIndex struct {
	idx      *hashindex.Index
	refs     []entryRef // by index id
	maxRad   int
	dihedral bool // some bank of this type wants dihedral matching
}

type entryRef struct {
	bank  int // index into Set.banks
	entry int
	pdq   imagehash.Hash256 // for re-checking the unrotated distance
}

// NewSet validates and compiles banks. Bank names must be unique. Errors
// wrap moderation.ErrInvalid.
func NewSet(banks []Bank) (*Set, error) {
	s := &Set{byType: map[string]*typeIndex{}}
	names := map[string]bool{}
	for _, b := range banks {
		b, err := b.withDefaults()
		if err != nil {
			return nil, err
		}
		if names[b.Name] {
			return nil, fmt.Errorf("bank %q defined twice: %w", b.Name, moderation.ErrInvalid)
		}
		names[b.Name] = true
		s.banks = append(s.banks, b)
	}
	slices.SortFunc(s.banks, func(a, b Bank) int { return strings.Compare(a.Name, b.Name) })
	for _, typ := range imagehash.Types() {
		var refs []entryRef
		var h64 []uint64
		var h256 [][4]uint64
		ti := &typeIndex{}
		for bi, b := range s.banks {
			if b.HashType != typ {
				continue
			}
			ti.maxRad = max(ti.maxRad, b.Threshold)
			ti.dihedral = ti.dihedral || *b.Dihedral
			for ei, e := range b.Entries {
				refs = append(refs, entryRef{bank: bi, entry: ei})
				if typ == imagehash.TypePDQ {
					h, _ := imagehash.ParseHash256(e.Hash) // validated
					h256 = append(h256, h)
					refs[len(refs)-1].pdq = h
				} else {
					h, _ := imagehash.ParseHash64(e.Hash)
					h64 = append(h64, uint64(h))
				}
			}
		}
		if len(refs) == 0 {
			continue
		}
		var err error
		if typ == imagehash.TypePDQ {
			ti.idx, err = hashindex.New256(h256, nil, hashindex.Options{})
		} else {
			ti.idx, err = hashindex.New64(h64, nil, hashindex.Options{})
		}
		if err != nil {
			return nil, fmt.Errorf("indexing %s banks: %w", typ, err)
		}
		ti.refs = refs
		s.byType[typ] = ti
	}
	return s, nil
}

// Banks returns the compiled banks (defaults applied), sorted by name.
func (s *Set) Banks() []Bank { return slices.Clone(s.banks) }

// Len returns the number of entries over all banks.
func (s *Set) Len() int {
	n := 0
	for _, ti := range s.byType {
		n += len(ti.refs)
	}
	return n
}

// HashOptions tells the caller which hashes to compute for this set, so an
// image is hashed once with exactly what the banks need.
func (s *Set) HashOptions() imagehash.HashOptions {
	var o imagehash.HashOptions
	o.Types = []string{}
	for _, typ := range imagehash.Types() {
		if ti := s.byType[typ]; ti != nil {
			o.Types = append(o.Types, typ)
			o.Dihedral = o.Dihedral || (typ == imagehash.TypePDQ && ti.dihedral)
		}
	}
	return o
}

// Match returns one moderation.Match per banked entry within its bank's
// threshold of the image's hashes, sorted by bank then entry id. mediaID is
// copied into each match. Hash types the set has but hs lacks are skipped,
// as are PDQ hashes below a bank's MinQuality. A mirrored or rotated copy
// matches a dihedral bank at the distance of the closest variant.
func (s *Set) Match(hs imagehash.Hashes, mediaID string) []moderation.Match {
	var out []moderation.Match
	var buf []hashindex.Result
	for _, typ := range imagehash.Types() {
		ti := s.byType[typ]
		if ti == nil || !hs.Has(typ) {
			continue
		}
		buf = buf[:0]
		var hex string
		switch typ {
		case imagehash.TypePDQ:
			hex = hs.PDQ.Hash.String()
			if ti.dihedral && hs.HasDihedral() {
				qs := make([][4]uint64, 8)
				for i, h := range hs.PDQDihedral {
					qs[i] = h
				}
				buf = ti.idx.SearchMany256(buf, qs, ti.maxRad)
			} else {
				buf = ti.idx.Search256(buf, hs.PDQ.Hash, ti.maxRad)
			}
		default:
			hex = hs.Hex(typ)
			h, _ := imagehash.ParseHash64(hex)
			buf = ti.idx.Search64(buf, uint64(h), ti.maxRad)
		}
		for _, r := range buf {
			ref := ti.refs[r.ID]
			b := &s.banks[ref.bank]
			dist := r.Distance
			if typ == imagehash.TypePDQ {
				if hs.PDQ.Quality < b.MinQuality {
					continue
				}
				if r.Query != 0 && !*b.Dihedral {
					// Found through a rotated variant, but this bank
					// matches upright images only.
					dist = hs.PDQ.Hash.Distance(ref.pdq)
				}
			}
			if dist > b.Threshold {
				continue
			}
			e := &b.Entries[ref.entry]
			cat := e.Category
			if cat == "" {
				cat = b.Category
			}
			out = append(out, moderation.Match{
				Category: cat,
				Severity: b.Severity,
				Bank:     b.Name,
				EntryID:  e.ID,
				HashType: typ,
				Distance: dist,
				MediaID:  mediaID,
				Hash:     hex,
			})
		}
	}
	slices.SortFunc(out, compareMatches)
	return out
}

// compareMatches orders matches by bank, then entry.
func compareMatches(a, b moderation.Match) int {
	if c := strings.Compare(a.Bank, b.Bank); c != 0 {
		return c
	}
	return strings.Compare(a.EntryID, b.EntryID)
}

// MatchImage hashes a decoded image with what the set needs and matches it.
// h is the caller's Hasher (one per goroutine). An image with flat bars
// along its sides (letterboxed, pillarboxed, framed: imagehash.TrimBorders)
// is matched a second time without them, and an entry found both ways is
// reported once, at its smaller distance; the hashes returned are the whole
// image's.
func (s *Set) MatchImage(h *imagehash.Hasher, d imagehash.Decoded, mediaID string) ([]moderation.Match, imagehash.Hashes, error) {
	hs, err := h.HashAll(d, s.HashOptions())
	if err != nil {
		return nil, hs, fmt.Errorf("hashing media %s: %w", mediaID, err)
	}
	ms := s.Match(hs, mediaID)
	td, ok := imagehash.TrimBorders(d)
	if !ok {
		return ms, hs, nil
	}
	ths, err := h.HashAll(td, s.HashOptions())
	if err != nil {
		return nil, hs, fmt.Errorf("hashing media %s without its borders: %w", mediaID, err)
	}
	tms := s.Match(ths, mediaID)
	if len(tms) == 0 {
		return ms, hs, nil
	}
	// By key, not by a search of ms per match: an image near thousands of
	// entries (a flat frame against a bank of blank-ish hashes) would cost
	// the square of its matches.
	type matchKey struct{ bank, entry, typ string }
	at := make(map[matchKey]int, len(ms))
	for i, o := range ms {
		k := matchKey{o.Bank, o.EntryID, o.HashType}
		if _, dup := at[k]; !dup {
			at[k] = i // the first, as a search from the start found
		}
	}
	for _, m := range tms {
		k := matchKey{m.Bank, m.EntryID, m.HashType}
		i, ok := at[k]
		switch {
		case !ok:
			at[k] = len(ms)
			ms = append(ms, m)
		case m.Distance < ms[i].Distance:
			ms[i] = m
		}
	}
	slices.SortFunc(ms, compareMatches)
	return ms, hs, nil
}
