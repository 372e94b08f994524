package textmatch

import "unicode"

// Kinds of a normalised character, as the scanner sees it.
const (
	kindIgnore  uint8 = iota // dropped without trace (zero-width, stripped marks)
	kindWord                 // letter, digit or kept mark: part of a word
	kindSoft                 // intra-word punctuation: removed, optional boundary
	kindSpace                // white space: hard, unless between single letters
	kindHard                 // any other punctuation: a hard word boundary
	kindLeetSym              // ASCII symbol that is a letter when a word char follows
)

// isIgnorable reports default-ignorable code points (DerivedCoreProperties
// Default_Ignorable_Code_Point) plus the Arabic tatweel, which only
// stretches a word, and the C1 controls but NEL. They are invisible, so
// evaders sprinkle them in words.
func isIgnorable(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9F && r != 0x85:
		// C1 controls print as nothing too (NEL, U+0085, is a line
		// break: white space).
		return true
	case r < 0xAD:
		return false
	case r == 0xAD, r == 0x34F, r == 0x61C, r == 0x640, r == 0x115F, r == 0x1160,
		r == 0x17B4, r == 0x17B5, r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0x180B && r <= 0x180F, r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x206F, r >= 0xFE00 && r <= 0xFE0F, r >= 0xFFF0 && r <= 0xFFF8,
		r >= 0x1BCA0 && r <= 0x1BCA3, r >= 0x1D173 && r <= 0x1D17A, r >= 0xE0000 && r <= 0xE0FFF:
		return true
	}
	return false
}

// isStrippableMark reports combining marks that are diacritics rather than
// letters: the Latin/Greek/Cyrillic combining blocks, Cyrillic titlos,
// Arabic harakat and Hebrew points. Indic vowel signs and kana voicing marks
// are letters in their scripts and are kept.
func isStrippableMark(r rune) bool {
	switch {
	case r < 0x300:
		return false
	case r <= 0x36F,
		r >= 0x483 && r <= 0x489,
		r >= 0x591 && r <= 0x5BD, r == 0x5BF, r == 0x5C1, r == 0x5C2, r == 0x5C4, r == 0x5C5, r == 0x5C7,
		r >= 0x610 && r <= 0x61A, r >= 0x64B && r <= 0x65F, r == 0x670,
		r >= 0x6D6 && r <= 0x6DC, r >= 0x6DF && r <= 0x6E8, r >= 0x6EA && r <= 0x6ED,
		r >= 0x1AB0 && r <= 0x1AFF, r >= 0x1DC0 && r <= 0x1DFF, r >= 0x20D0 && r <= 0x20FF,
		r >= 0xFE20 && r <= 0xFE2F:
		return true
	}
	return false
}

// confusableUpper folds capital letters whose Latin look-alike differs from
// that of their lowercase form (Greek Η looks like H, η like n). It runs
// before case folding.
func confusableUpper(r rune) rune {
	switch r {
	case 0x391: // Α
		return 'a'
	case 0x392: // Β
		return 'b'
	case 0x395: // Ε
		return 'e'
	case 0x396: // Ζ
		return 'z'
	case 0x397: // Η
		return 'h'
	case 0x399: // Ι
		return 'i'
	case 0x39A: // Κ
		return 'k'
	case 0x39C: // Μ
		return 'm'
	case 0x39D: // Ν
		return 'n'
	case 0x39F: // Ο
		return 'o'
	case 0x3A1: // Ρ
		return 'p'
	case 0x3A4: // Τ
		return 't'
	case 0x3A5: // Υ
		return 'y'
	case 0x3A7: // Χ
		return 'x'
	case 0x410: // А
		return 'a'
	case 0x412: // В
		return 'b'
	case 0x415: // Е
		return 'e'
	case 0x41A: // К
		return 'k'
	case 0x41C: // М
		return 'm'
	case 0x41D: // Н
		return 'h'
	case 0x41E: // О
		return 'o'
	case 0x420: // Р
		return 'p'
	case 0x421: // С
		return 'c'
	case 0x422: // Т
		return 't'
	case 0x423: // У
		return 'y'
	case 0x425: // Х
		return 'x'
	case 0x405: // Ѕ
		return 's'
	case 0x406: // І
		return 'i'
	case 0x408: // Ј
		return 'j'
	}
	return r
}

// confusableLower maps a (case-folded) letter to its Latin prototype, after
// Unicode TR39 confusables for the scripts Vigil covers. It returns r when r
// has none.
func confusableLower(r rune) rune {
	if r < 0xC0 {
		return r
	}
	switch r {
	// Latin letters without a decomposition.
	case 0xF8: // ø
		return 'o'
	case 0x111: // đ
		return 'd'
	case 0x127: // ħ
		return 'h'
	case 0x131: // ı
		return 'i'
	case 0x142: // ł
		return 'l'
	case 0x167: // ŧ
		return 't'
	case 0x180: // ƀ
		return 'b'
	case 0x192: // ƒ
		return 'f'
	case 0x1B6: // ƶ
		return 'z'
	case 0x237: // ȷ
		return 'j'
	case 0x25B: // ɛ
		return 'e'
	case 0x261: // ɡ
		return 'g'
	case 0x269: // ɩ
		return 'i'
	case 0x26A: // ɪ
		return 'i'
	case 0x274: // ɴ
		return 'n'
	case 0x280: // ʀ
		return 'r'
	case 0x28F: // ʏ
		return 'y'
	case 0x1D00: // ᴀ
		return 'a'
	case 0x299: // ʙ
		return 'b'
	case 0x1D04: // ᴄ
		return 'c'
	case 0x1D05: // ᴅ
		return 'd'
	case 0x1D07: // ᴇ
		return 'e'
	case 0x262: // ɢ
		return 'g'
	case 0x29C: // ʜ
		return 'h'
	case 0x1D0A: // ᴊ
		return 'j'
	case 0x1D0B: // ᴋ
		return 'k'
	case 0x29F: // ʟ
		return 'l'
	case 0x1D0D: // ᴍ
		return 'm'
	case 0x1D0F: // ᴏ
		return 'o'
	case 0x1D18: // ᴘ
		return 'p'
	case 0x1D1B: // ᴛ
		return 't'
	case 0x1D1C: // ᴜ
		return 'u'
	case 0x1D20: // ᴠ
		return 'v'
	case 0x1D21: // ᴡ
		return 'w'
	case 0x1D22: // ᴢ
		return 'z'
	// Greek.
	case 0x3B1: // α
		return 'a'
	case 0x3B2: // β
		return 'b'
	case 0x3B3: // γ
		return 'y'
	case 0x3B5: // ε
		return 'e'
	case 0x3B7: // η
		return 'n'
	case 0x3B9: // ι
		return 'i'
	case 0x3BA: // κ
		return 'k'
	case 0x3BC: // μ
		return 'u'
	case 0x3BD: // ν
		return 'v'
	case 0x3BF: // ο
		return 'o'
	case 0x3C1: // ρ
		return 'p'
	case 0x3C3: // σ
		return 'o'
	case 0x3C4: // τ
		return 't'
	case 0x3C5: // υ
		return 'u'
	case 0x3C7: // χ
		return 'x'
	case 0x3C9: // ω
		return 'w'
	case 0x3F2: // ϲ
		return 'c'
	case 0x3F3: // ϳ
		return 'j'
	// Cyrillic.
	case 0x430: // а
		return 'a'
	case 0x432: // в
		return 'b'
	case 0x433: // г
		return 'r'
	case 0x435: // е
		return 'e'
	case 0x43A: // к
		return 'k'
	case 0x43C: // м
		return 'm'
	case 0x43D: // н
		return 'h'
	case 0x43E: // о
		return 'o'
	case 0x43F: // п
		return 'n'
	case 0x440: // р
		return 'p'
	case 0x441: // с
		return 'c'
	case 0x442: // т
		return 't'
	case 0x443: // у
		return 'y'
	case 0x445: // х
		return 'x'
	case 0x44C: // ь
		return 'b'
	case 0x455: // ѕ
		return 's'
	case 0x456: // і
		return 'i'
	case 0x458: // ј
		return 'j'
	case 0x4AF: // ү
		return 'y'
	case 0x4BB: // һ
		return 'h'
	case 0x4CF: // ӏ
		return 'l'
	case 0x501: // ԁ
		return 'd'
	case 0x51B: // ԛ
		return 'q'
	case 0x51D: // ԝ
		return 'w'
	// Armenian.
	case 0x561: // ա
		return 'w'
	case 0x563: // գ
		return 'q'
	case 0x566: // զ
		return 'q'
	case 0x570: // հ
		return 'h'
	case 0x578: // ո
		return 'n'
	case 0x57D: // ս
		return 'u'
	case 0x585: // օ
		return 'o'
	// Arabic and Persian letter variants.
	case 0x64A, 0x649: // ي ى → ی
		return 0x6CC
	case 0x643: // ك → ک
		return 0x6A9
	}
	if r >= 0x1F1E6 && r <= 0x1F1FF { // regional indicators 🇦..🇿
		return 'a' + (r - 0x1F1E6)
	}
	return r
}

// isNoSpace reports characters of scripts written without spaces between
// words, and symbols such as emoji: each of them is a word boundary on its
// own.
func isNoSpace(r rune) bool {
	switch {
	case r < 0xE00:
		return false
	case r <= 0xEFF, // Thai, Lao
		r >= 0x1000 && r <= 0x109F, // Myanmar
		r >= 0x1780 && r <= 0x17FF, // Khmer
		r >= 0x2E80 && r <= 0x9FFF, // CJK radicals, kana, ideographs
		r >= 0xF900 && r <= 0xFAFF,
		r >= 0xFF66 && r <= 0xFF9F,
		r >= 0x20000 && r <= 0x3FFFF:
		return true
	}
	return unicode.Is(unicode.So, r)
}

// classifyRune returns the kind of a non-ASCII rune after folding.
func classifyRune(r rune) uint8 {
	switch {
	case unicode.IsLetter(r), unicode.IsNumber(r), unicode.IsMark(r), unicode.Is(unicode.So, r):
		return kindWord
	case r == 0xB7, r == 0x2019, r == 0x2018, r == 0x2027, r >= 0x2010 && r <= 0x2015, r == 0x30FB:
		return kindSoft
	case unicode.IsSpace(r), unicode.Is(unicode.Zs, r):
		return kindSpace
	}
	return kindHard
}

// softASCII are the ASCII characters that may join a word (k.i.l.l).
const softASCII = ".-_'*~`"
