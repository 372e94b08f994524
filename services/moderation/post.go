package moderation

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// PostVersion is the only schema version of the post event this build reads.
const PostVersion = 1

// Limits on a post event. They bound memory per message and are part of the
// documented schema (schema/post.schema.json): a message over any of them is
// invalid and goes to the dead-letter topic rather than being truncated.
const (
	MaxPostBytes     = 16 << 20 // a whole encoded message, inline media included
	MaxIDBytes       = 256
	MaxPlatformBytes = 64
	MaxHandleBytes   = 256
	MaxTextBytes     = 64 << 10
	MaxLangBytes     = 35 // BCP 47 tags fit comfortably
	MaxURLBytes      = 2048
	MaxMediaItems    = 16
	MaxMIMEBytes     = 128
	MaxInlineMedia   = 10 << 20 // decoded bytes of one inline image
)

// Post is one public social-media post as it arrives on the posts topic.
// The Kafka message key is the post ID.
type Post struct {
	V         int       `json:"v"`
	ID        string    `json:"id"`
	Platform  string    `json:"platform"`
	Author    Author    `json:"author"`
	Text      string    `json:"text"`
	Lang      string    `json:"lang,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	URL       string    `json:"url,omitempty"`
	Media     []Media   `json:"media,omitempty"`
}

// Author identifies who posted.
type Author struct {
	ID     string `json:"id"`
	Handle string `json:"handle,omitempty"`
}

// Media is an image attached to a post, given either by URL or inline as
// base64 in Data (encoding/json decodes base64 into []byte).
type Media struct {
	ID   string `json:"id"`
	MIME string `json:"mime"`
	URL  string `json:"url,omitempty"`
	Data []byte `json:"data,omitempty"`
}

// DecodePost parses and validates one post event. Errors wrap ErrInvalid and
// are *PostError values whose Reason is a short, bounded, metric-friendly code.
//
// A well-formed post is parsed once: by decodePostFast when it has the
// usual shape, else by one strict encoding/json decode. Only a message
// that both reject, or whose version is not PostVersion, is examined again
// (classifyPost) to say precisely why, so the reasons are those of a
// version probe followed by a strict decode.
func DecodePost(b []byte) (Post, error) {
	if len(b) > MaxPostBytes {
		return Post{}, &PostError{Reason: ReasonTooLarge, Detail: fmt.Sprintf("message is %d bytes, limit %d", len(b), MaxPostBytes)}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return Post{}, &PostError{Reason: ReasonNotJSON, Detail: "message value is empty (a tombstone?)"}
	}
	if !utf8.Valid(b) {
		return Post{}, &PostError{Reason: ReasonInvalidUTF8, Detail: "message is not valid UTF-8"}
	}
	var p Post
	if !decodePostFast(b, &p) {
		var q Post // its own variable: escapes to the heap, p does not
		if decodeStrict(b, &q) != nil {
			return classifyPost(b)
		}
		p = q
	}
	if p.V != PostVersion {
		return classifyPost(b)
	}
	if err := p.Validate(); err != nil {
		return Post{}, err
	}
	return p, nil
}

// decodeStrict decodes b into p with encoding/json, refusing unknown fields,
// anything but whitespace after the object, and keys repeated or spelled
// in another case (checkKeys; a *PostError).
func decodeStrict(b []byte, p *Post) error {
	var sp strictPost
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return err
	}
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return errors.New("data after the top-level value")
	}
	if err := checkKeys(b); err != nil {
		return err
	}
	*p = sp.post()
	return nil
}

// strictPost is Post as encoding/json decodes it, except for the media
// array, which is counted before it is decoded: each element costs a
// 72-byte Media for as little as two bytes of input ("{}," or "1,"), so a
// 16 MiB message of them made 1 GiB of garbage per decode, more than once
// per message on the slow path.
type strictPost struct {
	Post
	Media mediaList `json:"media,omitempty"` // shadows Post.Media
}

func (sp *strictPost) post() Post {
	p := sp.Post
	p.Media = []Media(sp.Media)
	return p
}

// mediaList decodes a media array of at most MaxMediaItems elements as
// encoding/json decodes a []Media, and refuses a longer one with
// *tooManyMedia before decoding any element.
type mediaList []Media

// tooManyMedia is mediaList's error: the array has n elements.
type tooManyMedia struct{ n int }

func (e *tooManyMedia) Error() string {
	return fmt.Sprintf("%d media items, limit %d", e.n, MaxMediaItems)
}

func (l *mediaList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*l = nil // as encoding/json does for a slice
		return nil
	}
	if n := arrayLen(b); n > MaxMediaItems {
		return &tooManyMedia{n}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode((*[]Media)(l))
}

// arrayLen counts the elements of b, one valid JSON value (encoding/json
// has checked it before calling an Unmarshaler), when it is an array.
func arrayLen(b []byte) int {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' {
		return 0
	}
	if len(bytes.TrimSpace(b[1:len(b)-1])) == 0 {
		return 0
	}
	n, depth, inString := 1, 0, false
	for i := 1; i < len(b)-1; i++ {
		c := b[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			n++
		}
	}
	return n
}

// classifyPost decodes b in two steps, a probe of the version then a strict
// decode, to name the first thing wrong with it: not JSON, no version, an
// unsupported version, then the schema. It is the slow path for rejected
// messages.
func classifyPost(b []byte) (Post, error) {
	var p Post
	var probe struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		// JSON of the wrong type ("v":"1", an array) is not a schema
		// violation of the same kind as broken JSON; say which it is.
		var te *json.UnmarshalTypeError
		switch {
		case !errors.As(err, &te):
			return p, &PostError{Reason: ReasonNotJSON, Detail: err.Error()}
		case te.Field == "v":
			return p, &PostError{Reason: ReasonSchema, Field: "v", Detail: fmt.Sprintf("schema version is a JSON %s, want the integer %d", te.Value, PostVersion)}
		}
		return p, &PostError{Reason: ReasonSchema, Detail: fmt.Sprintf("message is a JSON %s, want an object", te.Value)}
	}
	if probe.V == nil {
		return p, &PostError{Reason: ReasonSchema, Field: "v", Detail: "schema version is missing"}
	}
	if *probe.V != PostVersion {
		return p, &PostError{Reason: ReasonVersion, Field: "v", Detail: fmt.Sprintf("schema version %d is not supported (want %d)", *probe.V, PostVersion)}
	}
	if err := decodeStrict(b, &p); err != nil {
		var tm *tooManyMedia
		if errors.As(err, &tm) {
			return Post{}, &PostError{Reason: ReasonTooLarge, Field: "media", Detail: tm.Error()}
		}
		var pe *PostError
		if errors.As(err, &pe) {
			return Post{}, pe
		}
		return Post{}, &PostError{Reason: ReasonSchema, Detail: err.Error()}
	}
	if err := p.Validate(); err != nil {
		return Post{}, err
	}
	return p, nil
}

// Validate checks required fields and size limits.
func (p *Post) Validate() error {
	if p.V != PostVersion {
		return &PostError{Reason: ReasonVersion, Field: "v", Detail: fmt.Sprintf("schema version %d is not supported", p.V)}
	}
	checks := []struct {
		field, val string
		max        int
		required   bool
	}{
		{"id", p.ID, MaxIDBytes, true},
		{"platform", p.Platform, MaxPlatformBytes, true},
		{"author.id", p.Author.ID, MaxIDBytes, true},
		{"author.handle", p.Author.Handle, MaxHandleBytes, false},
		{"text", p.Text, MaxTextBytes, false},
		{"lang", p.Lang, MaxLangBytes, false},
		{"url", p.URL, MaxURLBytes, false},
	}
	for _, c := range checks {
		if err := checkField(c.field, c.val, c.max, c.required); err != nil {
			return err
		}
	}
	if p.URL != "" && !isWebURL(p.URL) {
		return &PostError{Reason: ReasonSchema, Field: "url", Detail: "url must be an absolute http or https URL"}
	}
	if p.CreatedAt.IsZero() {
		return &PostError{Reason: ReasonSchema, Field: "created_at", Detail: "created_at is required (RFC 3339)"}
	}
	if len(p.Media) > MaxMediaItems {
		return &PostError{Reason: ReasonTooLarge, Field: "media", Detail: fmt.Sprintf("%d media items, limit %d", len(p.Media), MaxMediaItems)}
	}
	for i, m := range p.Media {
		f := fmt.Sprintf("media[%d]", i)
		if err := checkField(f+".id", m.ID, MaxIDBytes, true); err != nil {
			return err
		}
		if err := checkField(f+".mime", m.MIME, MaxMIMEBytes, true); err != nil {
			return err
		}
		if err := checkField(f+".url", m.URL, MaxURLBytes, false); err != nil {
			return err
		}
		switch {
		case m.URL == "" && len(m.Data) == 0:
			return &PostError{Reason: ReasonSchema, Field: f, Detail: "media needs either url or data"}
		case m.URL != "" && len(m.Data) > 0:
			return &PostError{Reason: ReasonSchema, Field: f, Detail: "media has both url and data"}
		case len(m.Data) > MaxInlineMedia:
			return &PostError{Reason: ReasonTooLarge, Field: f + ".data", Detail: fmt.Sprintf("inline image is %d bytes, limit %d", len(m.Data), MaxInlineMedia)}
		}
		// The same check as the post's url: a media URL with no host or
		// one that does not parse was accepted here and then refused by
		// the fetcher as media_refused, or retried as a network failure.
		if m.URL != "" && !isWebURL(m.URL) {
			return &PostError{Reason: ReasonSchema, Field: f + ".url", Detail: "media url must be an absolute http or https URL"}
		}
	}
	return nil
}

// isWebURL reports whether s is an absolute http or https URL with a host.
// A post's URL is stored and served to reviewers' browsers and API
// clients, which may make it a link: javascript:, data: or file: URLs
// must never get that far.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https" // Parse lowercases it
}

func checkField(field, val string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(val) == "":
		return &PostError{Reason: ReasonSchema, Field: field, Detail: field + " is required"}
	case len(val) > max:
		return &PostError{Reason: ReasonTooLarge, Field: field, Detail: fmt.Sprintf("%s is %d bytes, limit %d", field, len(val), max)}
	}
	return nil
}

// EncodeInline returns the base64 form used for inline media in JSON.
func EncodeInline(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
