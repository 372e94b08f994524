package hashbank

import (
	"fmt"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

// Defaults for a bank that does not say otherwise. PDQ ≤ 31 and quality ≥ 50
// are Meta's published recommendations; pHash ≤ 10 is the usual
// near-duplicate cut-off for 64-bit DCT hashes (about 1 false match in
// 10^9 random pairs).
const (
	DefaultPDQThreshold   = 31
	DefaultPDQMinQuality  = 50
	Default64BitThreshold = 10
	DefaultCategory       = "terrorist_content"
	DefaultSeverity       = moderation.SeverityCritical
)

// Bank is a named set of hashes of one type.
type Bank struct {
	Name     string
	HashType string // imagehash.TypePDQ, TypePHash, TypeDHash or TypeAHash
	// Threshold is the largest Hamming distance that matches (0 = default
	// for the type). A negative value is invalid.
	Threshold int
	// MinQuality: PDQ hashes of posted images below this quality are not
	// matched against this bank (0 = DefaultPDQMinQuality). Ignored for
	// 64-bit types.
	MinQuality int
	// Dihedral also matches rotated and mirrored copies (PDQ only; nil =
	// true: mirroring is the cheapest evasion there is).
	Dihedral *bool
	Category string              // default category of the entries
	Severity moderation.Severity // of every match from this bank
	Source   string              // default source of the entries
	Entries  []Entry
}

// Entry is one banked hash with its labels.
type Entry struct {
	ID         string // unique within the bank
	Hash       string // lowercase hex: 64 digits for PDQ, 16 for the others
	Category   string // "" = the bank's
	Source     string // who shared it, e.g. a hash-sharing programme; "" = the bank's
	ExternalID string // the source's id, if any
}

// withDefaults fills zero fields and validates. Errors wrap
// moderation.ErrInvalid.
func (b Bank) withDefaults() (Bank, error) {
	if !moderation.ValidBankName(b.Name) {
		return b, fmt.Errorf("bank name %q: want [a-z0-9][a-z0-9_.-]{0,63}: %w", b.Name, moderation.ErrInvalid)
	}
	if b.HashType == "" {
		return b, fmt.Errorf("bank %s: no hash type (a bank file names it in a '# type: pdq' line, one of %v, before the entries): %w",
			b.Name, imagehash.Types(), moderation.ErrInvalid)
	}
	if imagehash.Bits(b.HashType) == 0 {
		return b, fmt.Errorf("bank %s: hash type %q: want one of %v: %w", b.Name, b.HashType, imagehash.Types(), moderation.ErrInvalid)
	}
	if b.Threshold < 0 {
		return b, fmt.Errorf("bank %s: negative threshold: %w", b.Name, moderation.ErrInvalid)
	}
	if b.Threshold == 0 {
		b.Threshold = Default64BitThreshold
		if b.HashType == imagehash.TypePDQ {
			b.Threshold = DefaultPDQThreshold
		}
	}
	if b.Threshold >= imagehash.Bits(b.HashType)/2 {
		return b, fmt.Errorf("bank %s: threshold %d would match random images: %w", b.Name, b.Threshold, moderation.ErrInvalid)
	}
	if b.MinQuality == 0 {
		b.MinQuality = DefaultPDQMinQuality
	}
	if b.Dihedral == nil {
		t := b.HashType == imagehash.TypePDQ
		b.Dihedral = &t
	}
	if b.Category == "" {
		b.Category = DefaultCategory
	}
	if b.Severity == 0 {
		b.Severity = DefaultSeverity
	}
	if b.Severity.String() == "unknown" {
		return b, fmt.Errorf("bank %s: severity %d: %w", b.Name, b.Severity, moderation.ErrInvalid)
	}
	seen := make(map[string]bool, len(b.Entries))
	for i, e := range b.Entries {
		if e.ID == "" {
			return b, fmt.Errorf("bank %s: entry %d has no id: %w", b.Name, i+1, moderation.ErrInvalid)
		}
		if seen[e.ID] {
			return b, fmt.Errorf("bank %s: entry id %q repeated: %w", b.Name, e.ID, moderation.ErrInvalid)
		}
		seen[e.ID] = true
		if err := checkHash(b.HashType, e.Hash); err != nil {
			return b, fmt.Errorf("bank %s: entry %s: %w: %w", b.Name, e.ID, err, moderation.ErrInvalid)
		}
	}
	return b, nil
}

// CheckEntryText checks an entry's id and labels: each at most
// moderation.MaxEntryID bytes of printable UTF-8 (an id names a cluster;
// every label is stored and shown). It is checked where entries come in
// (bank files, vigilctl banks import), not in Validate: a row stored
// before the check must not make a stored bank, and with it every bank of
// the set, fail to load on the workers. The error is the message alone,
// as a line of an import file shows it.
func CheckEntryText(e Entry) error {
	for _, f := range []struct{ name, v string }{{"id", e.ID}, {"category", e.Category}, {"source", e.Source}, {"external id", e.ExternalID}} {
		if !moderation.PrintableText(f.v, moderation.MaxEntryID) {
			return fmt.Errorf("%s %q: want at most %d bytes of printable UTF-8", f.name, f.v, moderation.MaxEntryID)
		}
	}
	return nil
}

func checkHash(typ, hex string) error {
	if typ == imagehash.TypePDQ {
		_, err := imagehash.ParseHash256(hex)
		return err
	}
	_, err := imagehash.ParseHash64(hex)
	return err
}

// Validate reports the first problem with a bank (wrapping
// moderation.ErrInvalid), or nil.
func (b Bank) Validate() error {
	_, err := b.withDefaults()
	return err
}
