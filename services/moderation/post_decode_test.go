package moderation

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// fastCases are inputs decodePostFast must accept (the usual shapes,
// escapes included) or leave to encoding/json; either way it must agree
// with it.
var fastCases = []struct {
	in   string
	fast bool // decodePostFast handles it itself
}{
	{`{"v":1,"id":"p1","platform":"x","author":{"id":"a1","handle":"h"},"text":"hi","lang":"en","created_at":"2026-11-29T08:15:00Z","url":"https://x.test/p1","media":[{"id":"m1","mime":"image/png","data":"iVBORw0KGgo="}]}`, true},
	{" \n{ \"v\" : 1 , \"id\" : \"p\" , \"author\" : { } , \"media\" : [ ] }\t\r\n", true},
	{`{"v":1,"text":"a \"q\" \\ \/ \b\f\n\r\t \u00e9 \u2028 \ud83d\ude00 \u003c","created_at":"2026-11-29T08:15:00.123+02:00"}`, true},
	{`{"v":-0,"id":"","author":{"id":"a"},"media":[{"id":"1","url":"u"},{"data":""}]}`, true},
	{`{"v":1,"author":{"id":"a","id":"b"}}`, false},             // repeated key in author
	{`{"v":1,"media":[{"id":"1","url":"u","url":"v"}]}`, false}, // repeated key in a media item
	{`{"v":1,"text":"ünïcödé 今日は 🙂"}`, true},
	{`{}`, true},
	{`{"v":1,"id":"p","id":"q"}`, false},               // repeated key
	{`{"V":1}`, false},                                 // other case
	{`{"v":1.0}`, false},                               // not a plain integer
	{`{"v":1e0}`, false},                               // idem
	{`{"v":01}`, false},                                // invalid JSON
	{`{"v":1,"text":null}`, false},                     // null
	{`{"v":1,"text":"\ud83d"}`, false},                 // lone surrogate
	{`{"v":1,"text":"\x"}`, false},                     // invalid escape
	{`{"v":1,"te\u0078t":"a"}`, false},                 // escaped key
	{`{"v":1,"created_at":"yesterday"}`, false},        // bad time
	{`{"v":1,"created_at":1}`, false},                  // not a string
	{`{"v":1,"media":[{"data":"!!"}]}`, false},         // bad base64
	{`{"v":1,"extra":1}`, false},                       // unknown
	{`{"v":1}x`, false},                                // trailing data
	{`{"v":1,}`, false},                                // trailing comma
	{`{"v":1,"media":[{"id":"m"},]}`, false},           // idem
	{"{\"v\":1,\"text\":\"a\tb\"}", false},             // raw control character
	{`{"v":1,"author":{"id":"a"},"author":{}}`, false}, // repeated object
	{`[]`, false}, {`null`, false}, {``, false}, {`{`, false}, {`{"v":1`, false}, {`{"v":1,"text":"a`, false}, {`{"v":1,"text":"a\`, false},
}

func TestDecodePostFast(t *testing.T) {
	t.Parallel()
	for _, c := range fastCases {
		var p Post
		ok := decodePostFast([]byte(c.in), &p)
		if ok != c.fast {
			t.Errorf("decodePostFast(%s) = %v, want %v", c.in, ok, c.fast)
		}
		checkFastAgrees(t, []byte(c.in))
	}
	// The firehose's posts take the fast path.
	b, err := json.Marshal(Post{V: 1, ID: "bench-1-2", Platform: "bench", Author: Author{ID: "u1", Handle: "user1"},
		Text: "<b> & \u2028 \x00 \"quoted\"", Lang: "en", CreatedAt: time.Now().UTC().Truncate(time.Millisecond), URL: "https://bench.example/p/1",
		Media: []Media{{ID: "m", MIME: "image/png", Data: []byte{1, 2, 3, 4, 5}}, {ID: "n", MIME: "image/jpeg", URL: "https://cdn/x.jpg"}}})
	if err != nil {
		t.Fatal(err)
	}
	var p Post
	if !decodePostFast(b, &p) {
		t.Fatalf("json.Marshal's encoding of a post is not taken by the fast path: %s", b)
	}
	checkFastAgrees(t, b)
}

// checkFastAgrees: when decodePostFast accepts b, encoding/json's strict
// decode accepts it too and decodes the same post.
func checkFastAgrees(t *testing.T, b []byte) {
	t.Helper()
	if !utf8.Valid(b) {
		return
	}
	var fast, std Post
	if !decodePostFast(b, &fast) {
		return
	}
	if err := decodeStrict(b, &std); err != nil {
		t.Fatalf("fast path accepted %q, encoding/json rejects it: %v", b, err)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("fast path and encoding/json disagree on %q:\n%#v\n%#v", b, fast, std)
	}
}

// FuzzDecodePostFast: whatever decodePostFast accepts, encoding/json
// accepts and decodes identically (so DecodePost behaves exactly as with
// encoding/json alone).
func FuzzDecodePostFast(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastAgrees(t, b) })
}

func BenchmarkDecodePost(b *testing.B) {
	msg, err := json.Marshal(Post{V: 1, ID: "bench-1-123456", Platform: "bench", Author: Author{ID: "u4242", Handle: "user4242"},
		Text: "Just finished a great book, highly recommend it #reading", Lang: "en",
		CreatedAt: time.Date(2026, 11, 29, 8, 15, 0, 123e6, time.UTC), URL: "https://bench.example/p/bench-1-123456"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DecodePost", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodePost(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("classifyPost", func(b *testing.B) { // the previous implementation
		b.ReportAllocs()
		for b.Loop() {
			if _, err := classifyPost(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
