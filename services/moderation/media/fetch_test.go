package media_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation/media"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/img", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("image bytes")) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		for range 100 { // chunked: no Content-Length to trust
			_, _ = w.Write([]byte(strings.Repeat("x", 1000)))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/to-img", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/img", http.StatusFound) })
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestFetch(t *testing.T) {
	t.Parallel()
	s := server(t)
	local := media.Options{AllowLoopback: true, Timeout: 500 * time.Millisecond, MaxBytes: 10_000}
	port := s.URL[strings.LastIndex(s.URL, ":"):]
	cases := []struct {
		name      string
		opt       media.Options
		url       string
		want      error // nil: success
		transient bool
	}{
		{"loopback refused by default", media.Options{}, s.URL + "/img", media.ErrRefused, false},
		{"name resolving to loopback refused at dial time", media.Options{}, "http://localhost" + port + "/img", media.ErrRefused, false},
		{"loopback allowed explicitly", local, s.URL + "/img", nil, false},
		{"private literal refused", local, "http://10.1.2.3/img.png", media.ErrRefused, false},
		{"link-local metadata refused", local, "http://169.254.169.254/latest/meta-data/", media.ErrRefused, false},
		{"ipv6 unique-local refused", local, "http://[fd00::1]/img.png", media.ErrRefused, false},
		{"ipv4-mapped loopback refused", media.Options{}, "http://[::ffff:127.0.0.1]" + port + "/img", media.ErrRefused, false},
		{"cgnat refused", local, "http://100.64.0.1/img.png", media.ErrRefused, false},
		{"unspecified refused", local, "http://0.0.0.0" + port + "/img", media.ErrRefused, false},
		{"non-http scheme refused", local, "file:///etc/passwd", media.ErrRefused, false},
		{"credentials refused", local, "http://u:p@127.0.0.1" + port + "/img", media.ErrRefused, false},
		{"host not on allow-list", media.Options{AllowLoopback: true, AllowHosts: []string{"cdn.example"}}, s.URL + "/img", media.ErrRefused, false},
		{"host on allow-list", media.Options{AllowLoopback: true, AllowHosts: []string{"127.0.0.1"}}, s.URL + "/img", nil, false},
		{"redirect to metadata refused", local, s.URL + "/to-metadata", media.ErrRefused, false},
		{"redirect followed", local, s.URL + "/to-img", nil, false},
		{"redirect loop", local, s.URL + "/loop", media.ErrUnavailable, false},
		{"over byte limit", local, s.URL + "/big", media.ErrTooLarge, false},
		{"4xx unavailable", local, s.URL + "/gone", media.ErrUnavailable, false},
		{"5xx transient", local, s.URL + "/busy", nil, true},
		{"timeout transient", local, s.URL + "/slow", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := media.NewFetcher(c.opt).Fetch(context.Background(), c.url)
			switch {
			case c.transient:
				if err == nil || !media.Transient(err) {
					t.Fatalf("err = %v, want a transient error", err)
				}
			case c.want == nil:
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				if string(res.Bytes) != "image bytes" {
					t.Fatalf("body = %q", res.Bytes)
				}
			default:
				if !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
				if media.Transient(err) {
					t.Fatalf("%v reported transient", err)
				}
			}
		})
	}
}
