package moderation

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Field names of the post event's objects, as the schema spells them.
var (
	postKeys   = []string{"v", "id", "platform", "author", "text", "lang", "created_at", "url", "media"}
	authorKeys = []string{"id", "handle"}
	mediaKeys  = []string{"id", "mime", "url", "data"}
)

// checkKeys refuses a post whose objects name a field twice, or spell it
// in another case. encoding/json accepts both (the last value wins, and
// "Text" fills text), so such a message reads differently to a parser
// that keeps the first value or matches names exactly, as the platform,
// another consumer of the topic or a reviewer's tooling may:
// {"text":"attack the convoy","TEXT":"hello"} was evaluated as "hello".
// The schema (additionalProperties: false) allows neither.
//
// b is a message encoding/json has decoded (valid JSON); anything else is
// refused.
func checkKeys(b []byte) error {
	w := keyWalker{b: b}
	if !w.ws() || b[w.i] != '{' {
		return nil // not an object: the decode says what is wrong
	}
	return w.object("", postKeys, func(key, path string) error {
		switch key {
		case "author":
			return w.object(path, authorKeys, nil)
		case "media":
			return w.array(func(i int) error {
				return w.object(fmt.Sprintf("%s[%d]", path, i), mediaKeys, nil)
			})
		}
		return w.skip()
	})
}

// keyWalker reads the keys of valid JSON without decoding its values.
type keyWalker struct {
	b []byte
	i int
}

var errTruncated = errors.New("unexpected end of JSON input")

// ws skips whitespace and reports whether input is left.
func (w *keyWalker) ws() bool {
	for w.i < len(w.b) && isSpace(w.b[w.i]) {
		w.i++
	}
	return w.i < len(w.b)
}

// object walks the object at w.i (or skips any other value, such as null),
// refusing a key that is not exactly one of keys or that appears twice.
// value is called with w.i at each value and must consume it; nil skips
// them.
func (w *keyWalker) object(path string, keys []string, value func(key, path string) error) error {
	if !w.ws() {
		return errTruncated
	}
	if w.b[w.i] != '{' {
		return w.skip()
	}
	w.i++
	var seen uint16
	for {
		if !w.ws() {
			return errTruncated
		}
		switch w.b[w.i] {
		case '}':
			w.i++
			return nil
		case ',':
			w.i++
			continue
		}
		raw, err := w.str()
		if err != nil {
			return err
		}
		key := string(raw)
		if strings.IndexByte(key, '\\') >= 0 {
			if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &key); err != nil {
				return err
			}
		}
		field := key
		if path != "" {
			field = path + "." + key
		}
		bit := -1
		for i, k := range keys {
			switch {
			case k == key:
				bit = i
			case strings.EqualFold(k, key):
				f := k
				if path != "" {
					f = path + "." + k
				}
				return &PostError{Reason: ReasonSchema, Field: f, Detail: fmt.Sprintf("key %q is not %q: keys are case-sensitive", key, k)}
			}
		}
		switch {
		case bit < 0:
			return &PostError{Reason: ReasonSchema, Field: field, Detail: fmt.Sprintf("unknown field %q", key)}
		case seen&(1<<bit) != 0:
			return &PostError{Reason: ReasonSchema, Field: field, Detail: fmt.Sprintf("field %q appears more than once", key)}
		}
		seen |= 1 << bit
		if !w.ws() || w.b[w.i] != ':' {
			return errTruncated
		}
		w.i++
		if value == nil {
			err = w.skip()
		} else {
			err = value(key, field)
		}
		if err != nil {
			return err
		}
	}
}

// array calls elem for each element of the array at w.i (or skips any
// other value); elem must consume the element.
func (w *keyWalker) array(elem func(i int) error) error {
	if !w.ws() {
		return errTruncated
	}
	if w.b[w.i] != '[' {
		return w.skip()
	}
	w.i++
	for n := 0; ; {
		if !w.ws() {
			return errTruncated
		}
		switch w.b[w.i] {
		case ']':
			w.i++
			return nil
		case ',':
			w.i++
			continue
		}
		if err := elem(n); err != nil {
			return err
		}
		n++
	}
}

// str reads the string at w.i and returns its raw body (escapes kept).
func (w *keyWalker) str() ([]byte, error) {
	if !w.ws() || w.b[w.i] != '"' {
		return nil, errTruncated
	}
	start := w.i + 1
	for w.i = start; w.i < len(w.b); w.i++ {
		switch w.b[w.i] {
		case '\\':
			w.i++
		case '"':
			w.i++
			return w.b[start : w.i-1], nil
		}
	}
	return nil, errTruncated
}

// skip consumes one value.
func (w *keyWalker) skip() error {
	if !w.ws() {
		return errTruncated
	}
	switch w.b[w.i] {
	case '"':
		_, err := w.str()
		return err
	case '{', '[':
		depth := 0
		for w.i < len(w.b) {
			switch w.b[w.i] {
			case '"':
				if _, err := w.str(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			w.i++
			if depth == 0 {
				return nil
			}
		}
		return errTruncated
	}
	for w.i < len(w.b) && !isSpace(w.b[w.i]) && w.b[w.i] != ',' && w.b[w.i] != '}' && w.b[w.i] != ']' {
		w.i++
	}
	return nil
}
