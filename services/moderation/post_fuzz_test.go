package moderation_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// FuzzDecodePost: DecodePost never panics; every rejection is a
// *PostError wrapping ErrInvalid with a known dead-letter reason; every
// accepted post is valid, within the limits, has an http(s) url or none, and survives an encode/decode
// round trip unchanged.
func FuzzDecodePost(f *testing.F) {
	seeds := []string{
		validPost,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z"}`,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[{"id":"m","mime":"image/png","url":"https://cdn.test/a.png"}]}`,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","text":"nul \u0000 and emoji \ud83d\ude00"}`,
		`{"v":2}`, `{"v":null}`, `{"v":1.5}`, `[]`, `null`, `""`, `{`, "\xff\xfe",
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[{"id":"m","mime":"i","data":"!!"}]}`,
		`{"v":1,"v":2}`, `{"V":1}`,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","url":"javascript:alert(3)"}`,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","url":"HTTP://x.test/p"}`,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a","id":"b"},"created_at":"2026-11-29T08:15:00Z"}`,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","text":"a","Text":"b"}`,
		`{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[{"id":"m","ID":"n","mime":"i","url":"https://c.test/a"}]}`,
		`{"v":"1"}`, `[{"v":1}]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	reasons := moderation.DeadLetterReasons()
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := moderation.DecodePost(b)
		if err != nil {
			var pe *moderation.PostError
			if !errors.As(err, &pe) || !errors.Is(err, moderation.ErrInvalid) {
				t.Fatalf("error %v is not a *PostError wrapping ErrInvalid", err)
			}
			if !slices.Contains(reasons, pe.Reason) {
				t.Fatalf("unknown reason %q", pe.Reason)
			}
			if !reflect.DeepEqual(p, moderation.Post{}) {
				t.Fatalf("rejected input returned a non-zero post %+v", p)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted post does not validate: %v", err)
		}
		if err := exactKeys(json.NewDecoder(bytes.NewReader(b))); err != nil {
			t.Fatalf("accepted %q: %v", b, err)
		}
		if len(p.Text) > moderation.MaxTextBytes || len(p.ID) > moderation.MaxIDBytes || len(p.Media) > moderation.MaxMediaItems {
			t.Fatalf("accepted post over its limits")
		}
		if u := strings.ToLower(p.URL); u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Fatalf("accepted post url %q is not http(s)", p.URL)
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		p2, err := moderation.DecodePost(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if !reflect.DeepEqual(p.Media, p2.Media) && !(len(p.Media) == 0 && len(p2.Media) == 0) {
			t.Fatalf("media changed in a round trip: %+v vs %+v", p.Media, p2.Media)
		}
		p.Media, p2.Media = nil, nil
		if !p.CreatedAt.Equal(p2.CreatedAt) {
			t.Fatalf("created_at changed in a round trip")
		}
		p.CreatedAt = p2.CreatedAt
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("post changed in a round trip:\n%+v\n%+v", p, p2)
		}
	})
}

// exactKeys reads one JSON value from dec and fails if an object in it
// repeats a key or has a key that only differs in case from one of the
// schema's (encoding/json would take the last, or match it anyway).
func exactKeys(dec *json.Decoder) error {
	schema := []string{"v", "id", "platform", "author", "text", "lang", "created_at", "url", "media", "handle", "mime", "data"}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		for dec.More() {
			if err := exactKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				return fmt.Errorf("key %q repeated", key)
			}
			seen[key] = true
			for _, s := range schema {
				if s != key && strings.EqualFold(s, key) {
					return fmt.Errorf("key %q for %q", key, s)
				}
			}
			if err := exactKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}
