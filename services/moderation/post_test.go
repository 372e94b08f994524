package moderation_test

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

const validPost = `{"v":1,"id":"p1","platform":"x","author":{"id":"a1","handle":"h"},"text":"hi","lang":"en",
"created_at":"2026-11-29T08:15:00Z","url":"https://x.test/p1","media":[{"id":"m1","mime":"image/png","data":"iVBORw0KGgo="}]}`

// postWithURL is validPost with its url replaced by u.
func postWithURL(u string) string {
	j, _ := json.Marshal(u)
	return strings.Replace(validPost, `"url":"https://x.test/p1"`, `"url":`+string(j), 1)
}

func TestDecodePost(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		in     string
		reason string // "" = valid
		field  string
	}{
		{"valid", validPost, "", ""},
		{"not json", `{"v":1,`, moderation.ReasonNotJSON, ""},
		{"invalid utf8", "{\"v\":1,\"id\":\"\xff\"}", moderation.ReasonInvalidUTF8, ""},
		{"no version", `{"id":"p"}`, moderation.ReasonSchema, "v"},
		{"wrong version", `{"v":2,"id":"p"}`, moderation.ReasonVersion, "v"},
		{"unknown field", `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","extra":1}`, moderation.ReasonSchema, ""},
		{"missing id", `{"v":1,"platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z"}`, moderation.ReasonSchema, "id"},
		{"missing author", `{"v":1,"id":"p","platform":"x","created_at":"2026-11-29T08:15:00Z"}`, moderation.ReasonSchema, "author.id"},
		{"missing created_at", `{"v":1,"id":"p","platform":"x","author":{"id":"a"}}`, moderation.ReasonSchema, "created_at"},
		{"bad created_at", `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"yesterday"}`, moderation.ReasonSchema, ""},
		{"text too long", `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","text":"` + long(moderation.MaxTextBytes+1) + `"}`, moderation.ReasonTooLarge, "text"},
		{"id too long", `{"v":1,"id":"` + long(257) + `","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z"}`, moderation.ReasonTooLarge, "id"},
		{"media without source", `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[{"id":"m","mime":"image/png"}]}`, moderation.ReasonSchema, "media[0]"},
		{"media with both", `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[{"id":"m","mime":"image/png","url":"https://x/y","data":"AA=="}]}`, moderation.ReasonSchema, "media[0]"},
		{"media url scheme", `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[{"id":"m","mime":"image/png","url":"file:///etc/passwd"}]}`, moderation.ReasonSchema, "media[0].url"},
		{"media url without host", strings.Replace(validPost, `"data":"iVBORw0KGgo="`, `"url":"https://"`, 1), moderation.ReasonSchema, "media[0].url"},
		{"media url with a space in the host", strings.Replace(validPost, `"data":"iVBORw0KGgo="`, `"url":"http://cdn test/a.png"`, 1), moderation.ReasonSchema, "media[0].url"},
		{"media url with a NUL", strings.Replace(validPost, `"data":"iVBORw0KGgo="`, `"url":"https://cdn.test/a\u0000.png"`, 1), moderation.ReasonSchema, "media[0].url"},
		{"url http", postWithURL("http://example.test/p1?x=1#y"), "", ""},
		{"url upper-case scheme", postWithURL("HTTPS://example.test/p1"), "", ""},
		{"url empty", postWithURL(""), "", ""},
		{"url javascript", postWithURL("javascript:alert(3)"), moderation.ReasonSchema, "url"},
		{"url javascript with slashes", postWithURL("javascript://example.test/%0Aalert(3)"), moderation.ReasonSchema, "url"},
		{"url data", postWithURL("data:text/html,<script>alert(3)</script>"), moderation.ReasonSchema, "url"},
		{"url file", postWithURL("file:///etc/passwd"), moderation.ReasonSchema, "url"},
		{"url ftp", postWithURL("ftp://example.test/p1"), moderation.ReasonSchema, "url"},
		{"url relative", postWithURL("/someone/p1"), moderation.ReasonSchema, "url"},
		{"url scheme-relative", postWithURL("//example.test/p1"), moderation.ReasonSchema, "url"},
		{"url without host", postWithURL("https:///p1"), moderation.ReasonSchema, "url"},
		{"url opaque http", postWithURL("http:example.test"), moderation.ReasonSchema, "url"},
		{"url with spaces in scheme", postWithURL(" https://example.test/p1"), moderation.ReasonSchema, "url"},
		// encoding/json takes the last of repeated keys and matches keys
		// in any case: a message that reads differently to other parsers.
		{"repeated text", strings.Replace(validPost, `"text":"hi"`, `"text":"attack the convoy","text":"hi"`, 1), moderation.ReasonSchema, "text"},
		{"text in another case", strings.Replace(validPost, `"text":"hi"`, `"text":"attack the convoy","TEXT":"hi"`, 1), moderation.ReasonSchema, "text"},
		{"escaped key in another case", strings.Replace(validPost, `"text":"hi"`, `"\u0054ext":"hi"`, 1), moderation.ReasonSchema, "text"},
		{"repeated author id", strings.Replace(validPost, `"author":{"id":"a1"`, `"author":{"id":"a1","id":"a2"`, 1), moderation.ReasonSchema, "author.id"},
		{"author handle in another case", strings.Replace(validPost, `"handle":"h"`, `"Handle":"h"`, 1), moderation.ReasonSchema, "author.handle"},
		{"repeated author", strings.Replace(validPost, `"text":"hi"`, `"author":{"id":"a2"},"text":"hi"`, 1), moderation.ReasonSchema, "author"},
		{"repeated created_at with null", strings.Replace(validPost, `"text":"hi"`, `"created_at":null,"text":"hi"`, 1), moderation.ReasonSchema, "created_at"},
		{"repeated media url", strings.Replace(validPost, `"mime":"image/png"`, `"mime":"image/png","mime":"text/html"`, 1), moderation.ReasonSchema, "media[0].mime"},
		{"media id in another case", strings.Replace(validPost, `{"id":"m1"`, `{"ID":"m1"`, 1), moderation.ReasonSchema, "media[0].id"},
		{"escaped key", strings.Replace(validPost, `"text":"hi"`, `"te\u0078t":"hi"`, 1), "", ""},
		// JSON of the wrong type is a schema error, not "not JSON".
		{"version as a string", strings.Replace(validPost, `"v":1`, `"v":"1"`, 1), moderation.ReasonSchema, "v"},
		{"version as a float", strings.Replace(validPost, `"v":1`, `"v":1.0`, 1), moderation.ReasonSchema, "v"},
		{"array", `[` + validPost + `]`, moderation.ReasonSchema, ""},
		{"string", `"hello"`, moderation.ReasonSchema, ""},
		{"empty message", ``, moderation.ReasonNotJSON, ""},
		{"text as a number", strings.Replace(validPost, `"text":"hi"`, `"text":7`, 1), moderation.ReasonSchema, ""},
		{"bad base64", `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[{"id":"m","mime":"image/png","data":"!!"}]}`, moderation.ReasonSchema, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := moderation.DecodePost([]byte(c.in))
			if c.reason == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if p.ID != "p1" || len(p.Media) != 1 || len(p.Media[0].Data) != 8 {
					t.Fatalf("decoded %+v", p)
				}
				return
			}
			var pe *moderation.PostError
			if !errors.As(err, &pe) || !errors.Is(err, moderation.ErrInvalid) {
				t.Fatalf("err = %v, want a *PostError wrapping ErrInvalid", err)
			}
			if pe.Reason != c.reason || (c.field != "" && pe.Field != c.field) {
				t.Fatalf("reason %q field %q, want %q %q (%v)", pe.Reason, pe.Field, c.reason, c.field, err)
			}
		})
	}
}

// TestDecodePostManyMedia: a media array over MaxMediaItems is refused
// before its elements are decoded. Each element cost a 72-byte Media for
// two or three bytes of input, so a 16 MiB message of "{}," allocated over
// 2 GiB across its decodes; the slow path decodes a message several times.
func TestDecodePostManyMedia(t *testing.T) {
	t.Parallel()
	head := `{"v":1,"id":"p","platform":"x","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z","media":[`
	item := `{"id":"m","mime":"image/png","url":"https://x.test/a"}`
	n := (moderation.MaxPostBytes - len(head) - 2) / 3
	cases := []struct {
		name, in, detail string
	}{
		{"one over", head + strings.Repeat(item+",", moderation.MaxMediaItems) + item + `]}`, "17 media items, limit 16"},
		{"empty objects", head + strings.Repeat("{},", n-1) + `{}]}`, ""},
		{"numbers", head + strings.Repeat("1,", n-1) + `1]}`, ""},
		{"then unknown field", head + strings.Repeat("null,", n/2-1) + `null],"zz":1}`, ""},
		{"nested commas", head + strings.Repeat(`{"id":"a,b","mime":"[,]"},`, 20) + `[1,2,{"a":[3,4]}]]}`, "21 media items, limit 16"},
	}
	for _, c := range cases {
		_, err := moderation.DecodePost([]byte(c.in))
		var pe *moderation.PostError
		if !errors.As(err, &pe) || pe.Reason != moderation.ReasonTooLarge || pe.Field != "media" {
			t.Fatalf("%s: err = %.200v, want too_large media", c.name, err)
		}
		if c.detail != "" && pe.Detail != c.detail {
			t.Fatalf("%s: detail %q, want %q", c.name, pe.Detail, c.detail)
		}
	}
	// Up to the limit, the media are decoded as before.
	p, err := moderation.DecodePost([]byte(head + strings.Repeat(item+",", moderation.MaxMediaItems-1) + item + `], "zz":1}`))
	if err == nil || !strings.Contains(err.Error(), `unknown field "zz"`) {
		t.Fatalf("16 media and an unknown field: %v, want the unknown field", err)
	}
	p, err = moderation.DecodePost([]byte(head + strings.Repeat(item+",", moderation.MaxMediaItems-1) + item + `]}`))
	if err != nil || len(p.Media) != moderation.MaxMediaItems || p.Media[15].URL != "https://x.test/a" {
		t.Fatalf("16 media: %v, %d media", err, len(p.Media))
	}
}

// TestSchemaMatchesCode keeps docs/schema/post.v1.schema.json true: the
// documented example decodes, and every documented limit and required
// field is the one the code enforces.
func TestSchemaMatchesCode(t *testing.T) {
	t.Parallel()
	ex, err := os.ReadFile("../../docs/schema/post.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := moderation.DecodePost(ex); err != nil {
		t.Fatalf("the documented example does not decode: %v", err)
	}
	raw, err := os.ReadFile("../../docs/schema/post.v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type prop struct {
		MaxLength  int             `json:"maxLength"`
		MaxItems   int             `json:"maxItems"`
		Required   []string        `json:"required"`
		Properties map[string]prop `json:"properties"`
		Items      *prop           `json:"items"`
	}
	var s prop
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]int{
		"id":            {s.Properties["id"].MaxLength, moderation.MaxIDBytes},
		"platform":      {s.Properties["platform"].MaxLength, moderation.MaxPlatformBytes},
		"author.id":     {s.Properties["author"].Properties["id"].MaxLength, moderation.MaxIDBytes},
		"author.handle": {s.Properties["author"].Properties["handle"].MaxLength, moderation.MaxHandleBytes},
		"text":          {s.Properties["text"].MaxLength, moderation.MaxTextBytes},
		"lang":          {s.Properties["lang"].MaxLength, moderation.MaxLangBytes},
		"url":           {s.Properties["url"].MaxLength, moderation.MaxURLBytes},
		"media":         {s.Properties["media"].MaxItems, moderation.MaxMediaItems},
		"media.mime":    {s.Properties["media"].Items.Properties["mime"].MaxLength, moderation.MaxMIMEBytes},
		"media.url":     {s.Properties["media"].Items.Properties["url"].MaxLength, moderation.MaxURLBytes},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: schema says %d, code enforces %d", name, c[0], c[1])
		}
	}
	if got := strings.Join(s.Required, ","); got != "v,id,platform,author,created_at" {
		t.Errorf("schema requires %s", got)
	}
}

// TestDecodePostLimits: every limit is inclusive, in bytes; one byte more
// is too_large and names the field. Multi-byte characters count by their
// UTF-8 length.
func TestDecodePostLimits(t *testing.T) {
	t.Parallel()
	base := func() moderation.Post {
		return moderation.Post{V: 1, ID: "p", Platform: "x", Author: moderation.Author{ID: "a"}, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	}
	fill := func(n int) string { // n bytes of 3-byte runes, topped up with ASCII
		return strings.Repeat("€", n/3) + strings.Repeat("a", n%3)
	}
	url := func(n int) string { return "https://x.test/" + strings.Repeat("a", n-len("https://x.test/")) }
	cases := []struct {
		field string
		limit int
		set   func(p *moderation.Post, n int)
	}{
		{"id", moderation.MaxIDBytes, func(p *moderation.Post, n int) { p.ID = fill(n) }},
		{"platform", moderation.MaxPlatformBytes, func(p *moderation.Post, n int) { p.Platform = fill(n) }},
		{"author.id", moderation.MaxIDBytes, func(p *moderation.Post, n int) { p.Author.ID = fill(n) }},
		{"author.handle", moderation.MaxHandleBytes, func(p *moderation.Post, n int) { p.Author.Handle = fill(n) }},
		{"text", moderation.MaxTextBytes, func(p *moderation.Post, n int) { p.Text = fill(n) }},
		{"lang", moderation.MaxLangBytes, func(p *moderation.Post, n int) { p.Lang = fill(n) }},
		{"url", moderation.MaxURLBytes, func(p *moderation.Post, n int) { p.URL = url(n) }},
		{"media[0].id", moderation.MaxIDBytes, func(p *moderation.Post, n int) {
			p.Media = []moderation.Media{{ID: fill(n), MIME: "image/png", URL: "https://x.test/a"}}
		}},
		{"media[0].mime", moderation.MaxMIMEBytes, func(p *moderation.Post, n int) {
			p.Media = []moderation.Media{{ID: "m", MIME: fill(n), URL: "https://x.test/a"}}
		}},
		{"media[0].url", moderation.MaxURLBytes, func(p *moderation.Post, n int) {
			p.Media = []moderation.Media{{ID: "m", MIME: "image/png", URL: url(n)}}
		}},
		{"media[0].data", moderation.MaxInlineMedia, func(p *moderation.Post, n int) {
			p.Media = []moderation.Media{{ID: "m", MIME: "image/png", Data: make([]byte, n)}}
		}},
		{"media", moderation.MaxMediaItems, func(p *moderation.Post, n int) {
			for i := range n {
				p.Media = append(p.Media, moderation.Media{ID: strconv.Itoa(i), MIME: "image/png", URL: "https://x.test/a"})
			}
		}},
	}
	for _, c := range cases {
		for _, n := range []int{c.limit, c.limit + 1} {
			p := base()
			c.set(&p, n)
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = moderation.DecodePost(b)
			var pe *moderation.PostError
			switch {
			case n == c.limit && err != nil:
				t.Errorf("%s at its limit %d: %v", c.field, n, err)
			case n > c.limit && (!errors.As(err, &pe) || pe.Reason != moderation.ReasonTooLarge || pe.Field != c.field):
				t.Errorf("%s one over its limit: %v, want too_large %s", c.field, err, c.field)
			}
		}
	}
	// The whole message: MaxPostBytes is accepted (padded with
	// whitespace), one byte more is refused before it is parsed.
	b, _ := json.Marshal(base())
	pad := moderation.MaxPostBytes - len(b)
	if _, err := moderation.DecodePost(append(b, strings.Repeat(" ", pad)...)); err != nil {
		t.Errorf("message of MaxPostBytes: %v", err)
	}
	_, err := moderation.DecodePost(append(b, strings.Repeat(" ", pad+1)...))
	var pe *moderation.PostError
	if !errors.As(err, &pe) || pe.Reason != moderation.ReasonTooLarge {
		t.Errorf("message one byte over MaxPostBytes: %v, want too_large", err)
	}
}
