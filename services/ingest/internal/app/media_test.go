package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/media"
)

// TestMediaPostTimeout: a post whose media host answers slowly is
// dead-lettered as media_unavailable once PostTimeout has passed, instead
// of being fetched URL after URL (16 fetch timeouts a post before), and
// without abandoning the batch: the worker goes on.
func TestMediaPostTimeout(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	img := pngOf(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select { // a host that answers, slowly
		case <-r.Context().Done():
		case <-time.After(150 * time.Millisecond):
			_, _ = w.Write(img)
		}
	}))
	defer srv.Close()
	l := &MediaLoader{
		Fetcher:  media.NewFetcher(media.Options{Timeout: 10 * time.Second, AllowLoopback: true}),
		Attempts: 3, Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond},
		PostTimeout: 500 * time.Millisecond, Metrics: NewMetrics(prometheus.NewRegistry()),
	}
	p := moderation.Post{V: 1, ID: "slow", Platform: "t", Author: moderation.Author{ID: "a"}, CreatedAt: time.Now()}
	for i := range moderation.MaxMediaItems {
		p.Media = append(p.Media, moderation.Media{ID: strconv.Itoa(i), MIME: "image/png", URL: srv.URL + "/" + strconv.Itoa(i)})
	}
	ctx := context.Background()
	_, err := l.Load(ctx, ctx, p, func(engine.Image) error { return nil })
	var rj *rejection
	if !errors.As(err, &rj) || rj.reason != moderation.ReasonMediaUnavailable || !strings.Contains(rj.Error(), "media-post-timeout") {
		t.Fatalf("Load: %v, want a media_unavailable rejection naming the post timeout", err)
	}
	if errors.Is(err, errStopped) {
		t.Fatalf("the post's deadline abandoned the batch: %v", err)
	}
	// Each request takes 150 ms at least, so 500 ms leave room for four,
	// not for the 16 URLs.
	if n := requests.Load(); n >= int32(moderation.MaxMediaItems) {
		t.Errorf("%d requests for one post, want the post's deadline to stop them", n)
	}

	// A stop still abandons the batch rather than rejecting the post.
	stop, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Load(stop, stop, p, func(engine.Image) error { return nil }); !errors.Is(err, errStopped) {
		t.Fatalf("Load after a stop: %v, want errStopped", err)
	}
}

func pngOf(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMediaLoadOneImageAtATime: Load hands each decoded image over before
// it decodes the next, so a post holds one decoded image, not 16 (16
// small PNGs that each inflate to the pixel limit took 16 times the
// memory budgeted for one image).
func TestMediaLoadOneImageAtATime(t *testing.T) {
	t.Parallel()
	m := NewMetrics(prometheus.NewRegistry())
	l := &MediaLoader{Metrics: m}
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2000, 2000))); err != nil {
		t.Fatal(err)
	}
	p := moderation.Post{V: 1, ID: "bomb", Platform: "t", Author: moderation.Author{ID: "a"}, CreatedAt: time.Now()}
	for i := range moderation.MaxMediaItems {
		p.Media = append(p.Media, moderation.Media{ID: strconv.Itoa(i), MIME: "image/png", Data: buf.Bytes()})
	}
	enough := errors.New("seen one")
	var seen []string
	_, err := l.Load(context.Background(), context.Background(), p, func(img engine.Image) error {
		seen = append(seen, img.MediaID)
		return enough
	})
	if !errors.Is(err, enough) || len(seen) != 1 {
		t.Fatalf("Load: %v after %v, want the first image's error", err, seen)
	}
	if n := testutil.ToFloat64(m.MediaResults.WithLabelValues("inline", "ok")); n != 1 {
		t.Errorf("%v images decoded before the first was used, want 1", n)
	}
}
