package moderation_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

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
