package moderation

import (
	"encoding/base64"
	"unicode/utf16"
	"unicode/utf8"
)

// decodePostFast decodes b into p in one pass, without reflection, when b
// has the shape producers send: one JSON object whose keys are spelled
// exactly as in the schema, each at most once, with string, integer, object
// and array values where the schema has them. It returns false for anything
// else (invalid JSON, unknown or differently cased keys, null, escapes in
// keys, a lone surrogate, a number that is not a plain integer, a bad
// timestamp or base64, …) and the caller then decodes with encoding/json,
// so behaviour, errors included, is exactly encoding/json's. When it
// returns true, p is what encoding/json (with DisallowUnknownFields) would
// have decoded; FuzzDecodePostFast checks that.
//
// Expects valid UTF-8 (DecodePost checks it first).
func decodePostFast(b []byte, p *Post) bool {
	d := fastDecoder{b: b}
	// Strings without escapes are sliced from one copy of a small message
	// (one allocation instead of one per field). A large message carries
	// inline media: its fields are copied one by one so that the posts kept
	// for the review queue do not pin the whole message.
	if len(b) <= 4<<10 {
		d.s = string(b)
	}
	if !d.ws() || !d.byte('{') {
		return false
	}
	var seen uint16
	for first := true; ; first = false {
		if !d.ws() {
			return false
		}
		if d.b[d.i] == '}' && first {
			d.i++
			break
		}
		key, ok := d.key()
		if !ok {
			return false
		}
		var bit uint16
		switch string(key) {
		case "v":
			bit = 1 << 0
			ok = d.int(&p.V)
		case "id":
			bit = 1 << 1
			ok = d.str(&p.ID)
		case "platform":
			bit = 1 << 2
			ok = d.str(&p.Platform)
		case "author":
			bit = 1 << 3
			ok = d.author(&p.Author)
		case "text":
			bit = 1 << 4
			ok = d.str(&p.Text)
		case "lang":
			bit = 1 << 5
			ok = d.str(&p.Lang)
		case "created_at":
			bit = 1 << 6
			ok = d.time(p)
		case "url":
			bit = 1 << 7
			ok = d.str(&p.URL)
		case "media":
			bit = 1 << 8
			ok = d.media(&p.Media)
		default:
			return false
		}
		// A repeated key is left to decodeStrict, which refuses it.
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if !d.ws() {
			return false
		}
		if d.b[d.i] == ',' {
			d.i++
			continue
		}
		if !d.byte('}') {
			return false
		}
		break
	}
	// Only whitespace may follow the object.
	for ; d.i < len(d.b); d.i++ {
		if !isSpace(d.b[d.i]) {
			return false
		}
	}
	return true
}

type fastDecoder struct {
	b []byte
	s string // string(b) when b is small, else ""
	i int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// ws skips whitespace and reports whether any input is left.
func (d *fastDecoder) ws() bool {
	for d.i < len(d.b) && isSpace(d.b[d.i]) {
		d.i++
	}
	return d.i < len(d.b)
}

// byte consumes c, after whitespace.
func (d *fastDecoder) byte(c byte) bool {
	if !d.ws() || d.b[d.i] != c {
		return false
	}
	d.i++
	return true
}

// key reads `"name":` where name has no escapes; the result aliases b.
func (d *fastDecoder) key() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			k := d.b[start:d.i]
			d.i++
			if !d.byte(':') {
				return nil, false
			}
			return k, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// rawString returns the bytes between the quotes of the string at d.i and
// whether it contains escapes, leaving d.i after the closing quote.
func (d *fastDecoder) rawString() (start, end int, escaped, ok bool) {
	if !d.ws() || d.b[d.i] != '"' {
		return 0, 0, false, false
	}
	d.i++
	start = d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			end = d.i
			d.i++
			return start, end, escaped, true
		case c == '\\':
			escaped = true
			d.i += 2 // the escape's first character is checked by unescape
			continue
		case c < 0x20:
			return 0, 0, false, false
		}
		d.i++
	}
	return 0, 0, false, false
}

// str reads a JSON string into *dst.
func (d *fastDecoder) str(dst *string) bool {
	start, end, escaped, ok := d.rawString()
	if !ok {
		return false
	}
	switch {
	case escaped:
		u, ok := unescape(d.b[start:end])
		if !ok {
			return false
		}
		*dst = string(u)
	case d.s != "":
		*dst = d.s[start:end]
	default:
		*dst = string(d.b[start:end])
	}
	return true
}

// bytesVal reads a JSON string holding base64, as encoding/json decodes a
// []byte: StdEncoding, into a buffer of DecodedLen.
func (d *fastDecoder) bytesVal(dst *[]byte) bool {
	start, end, escaped, ok := d.rawString()
	if !ok {
		return false
	}
	s := d.b[start:end]
	if escaped {
		if s, ok = unescape(s); !ok {
			return false
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		return false
	}
	*dst = out[:n]
	return true
}

// unescape decodes the escapes of a JSON string body as encoding/json
// does; it refuses invalid escapes and unpaired surrogates (which
// encoding/json replaces with U+FFFD) rather than reproduce that.
func unescape(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil, false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			out = append(out, s[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s[i+2:])
			if !ok {
				return nil, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if i+1 >= len(s) || s[i] != '\\' || s[i+1] != 'u' {
					return nil, false
				}
				r2, ok := hex4(s[i+2:])
				if !ok {
					return nil, false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, false
				}
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, false
		}
		i += 2
	}
	return out, true
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// int reads a JSON integer: -?(0|[1-9][0-9]*), at most 18 digits (anything
// else, fractions and exponents included, is left to encoding/json).
func (d *fastDecoder) int(dst *int) bool {
	if !d.ws() {
		return false
	}
	neg := d.b[d.i] == '-'
	if neg {
		d.i++
	}
	start := d.i
	n := 0
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		n = n*10 + int(d.b[d.i]-'0')
		d.i++
	}
	digits := d.i - start
	if digits == 0 || digits > 18 || (digits > 1 && d.b[start] == '0') {
		return false
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return false
		}
	}
	if neg {
		n = -n
	}
	*dst = n
	return true
}

// time reads created_at as encoding/json does: time.Time's UnmarshalJSON
// on the raw, quoted literal.
func (d *fastDecoder) time(p *Post) bool {
	if !d.ws() {
		return false
	}
	q := d.i
	if _, _, _, ok := d.rawString(); !ok {
		return false
	}
	return p.CreatedAt.UnmarshalJSON(d.b[q:d.i]) == nil
}

func (d *fastDecoder) author(a *Author) bool {
	var seen uint8
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return once(&seen, 1<<0) && d.str(&a.ID)
		case "handle":
			return once(&seen, 1<<1) && d.str(&a.Handle)
		}
		return false
	})
}

// once records bit in *seen and reports whether it was not there yet: a
// repeated key is left to decodeStrict, which refuses it (checkKeys).
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// object reads {"k": v, …}, calling field for each key with d.i at the
// value.
func (d *fastDecoder) object(field func(key []byte) bool) bool {
	if !d.byte('{') {
		return false
	}
	for first := true; ; first = false {
		if !d.ws() {
			return false
		}
		if d.b[d.i] == '}' && first {
			d.i++
			return true
		}
		key, ok := d.key()
		if !ok || !field(key) || !d.ws() {
			return false
		}
		if d.b[d.i] == ',' {
			d.i++
			continue
		}
		return d.byte('}')
	}
}

func (d *fastDecoder) media(dst *[]Media) bool {
	if !d.byte('[') || !d.ws() {
		return false
	}
	ms := []Media{} // encoding/json makes [] a non-nil empty slice
	if d.b[d.i] == ']' {
		d.i++
		*dst = ms
		return true
	}
	for {
		var m Media
		var seen uint8
		ok := d.object(func(key []byte) bool {
			switch string(key) {
			case "id":
				return once(&seen, 1<<0) && d.str(&m.ID)
			case "mime":
				return once(&seen, 1<<1) && d.str(&m.MIME)
			case "url":
				return once(&seen, 1<<2) && d.str(&m.URL)
			case "data":
				return once(&seen, 1<<3) && d.bytesVal(&m.Data)
			}
			return false
		})
		if !ok || !d.ws() {
			return false
		}
		ms = append(ms, m)
		if d.b[d.i] == ',' {
			if len(ms) == MaxMediaItems {
				return false // too many: decodeStrict refuses them without decoding them
			}
			d.i++
			continue
		}
		if !d.byte(']') {
			return false
		}
		*dst = ms
		return true
	}
}
