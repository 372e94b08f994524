package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/media"
)

// MediaLoader turns a post's media into decoded images for the engine and
// evidence for the review queue: inline data is used as is, URLs are
// fetched through the SSRF-safe media.Fetcher, and everything is decoded
// by imagehash.DecodeReduced, which checks the header's dimensions before
// allocating pixels.
type MediaLoader struct {
	Fetcher  *media.Fetcher // nil refuses every URL
	Limits   imagehash.Limits
	Attempts int     // tries per URL on transient failures (default 3)
	Backoff  Backoff // between those tries
	// PostTimeout bounds the fetches of one post, all its media and
	// retries together (0: no bound); then the post is dead-lettered as
	// media_unavailable. Without it a post of 16 URLs to a host that
	// answers each just before the fetch timeout held a media slot for
	// 16 fetch timeouts (80 s by default), and a batch of 500 such posts
	// its partition for hours.
	PostTimeout time.Duration
	Metrics     *Metrics
}

// rejection is why a post is dead-lettered.
type rejection struct {
	reason string
	err    error
}

func (r *rejection) Error() string { return r.reason + ": " + r.err.Error() }

// Load loads the media items of p one after the other, gives each decoded
// image to use, and returns their evidence. Only one decoded image of the
// post is alive at a time: holding all of them, a post of 16 small PNGs
// each inflating to the pixel limit (40 MP, up to 320 MB decoded) needed
// 16 times the memory one image may take. It returns a *rejection when the
// post must be dead-lettered, or errStopped when work or stop ended while
// a fetch was being retried (the batch is abandoned, not the post); an
// error of use is returned as it is.
func (l *MediaLoader) Load(stop, work context.Context, p moderation.Post, use func(engine.Image) error) ([]moderation.Evidence, error) {
	out := make([]moderation.Evidence, 0, len(p.Media))
	post := work // fetches of this post; its deadline is the post's, not the batch's
	if l.PostTimeout > 0 {
		var cancel context.CancelFunc
		post, cancel = context.WithTimeoutCause(work, l.PostTimeout, errPostTimeout)
		defer cancel()
	}
	for i, m := range p.Media {
		field := fmt.Sprintf("media[%d]", i)
		source := "inline"
		data := m.Data
		if m.URL != "" {
			source = "url"
			var err error
			if data, err = l.fetch(stop, work, post, m.URL); err != nil {
				var rj *rejection
				if errors.As(err, &rj) {
					rj.err = fmt.Errorf("%s %s: %w", field, m.URL, rj.err)
				}
				return nil, err
			}
		}
		l.Metrics.MediaBytes.Observe(float64(len(data)))
		// The reduced-scale decode (1/8 for large JPEGs) is the fast path for
		// matching; vigilctl rules test uses the same, so both agree.
		d, err := imagehash.DecodeReduced(data, l.Limits)
		if err != nil {
			reason, result := moderation.ReasonMediaDecode, "undecodable"
			if errors.Is(err, imagehash.ErrTooLarge) {
				reason, result = moderation.ReasonMediaTooBig, "too_large"
			}
			l.Metrics.MediaResults.WithLabelValues(source, result).Inc()
			return nil, &rejection{reason: reason, err: fmt.Errorf("%s: %w", field, err)}
		}
		if source == "inline" {
			l.Metrics.MediaResults.WithLabelValues(source, "ok").Inc()
		}
		sum := sha256.Sum256(data)
		b := d.Bounds()
		if d.Reduced > 0 {
			// Evidence records the stored image's own size, not the thumbnail's.
			if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
				b = image.Rect(0, 0, cfg.Width, cfg.Height)
				if d.Orientation >= 5 {
					b = image.Rect(0, 0, cfg.Height, cfg.Width)
				}
			}
		}
		if err := use(engine.Image{MediaID: m.ID, Decoded: d}); err != nil {
			return nil, err
		}
		out = append(out, moderation.Evidence{
			MediaID: m.ID, MIME: "image/" + d.Format, URL: m.URL,
			SHA256: hex.EncodeToString(sum[:]), Bytes: data, Width: b.Dx(), Height: b.Dy(),
		})
	}
	return out, nil
}

// errPostTimeout is the cause of a post's media deadline.
var errPostTimeout = errors.New("the post's media took longer than --media-post-timeout")

// fetch fetches url within post (work, or a deadline derived from it). A
// stop, or the end of work, abandons the batch (errStopped); the post's
// deadline only rejects the post.
func (l *MediaLoader) fetch(stop, work, post context.Context, url string) ([]byte, error) {
	if l.Fetcher == nil {
		l.Metrics.MediaResults.WithLabelValues("url", "refused").Inc()
		return nil, &rejection{reason: moderation.ReasonMediaRefused, err: errors.New("fetching media URLs is disabled")}
	}
	attempts := max(l.Attempts, 1)
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		start := time.Now()
		res, err := l.Fetcher.Fetch(post, url)
		result := fetchResult(err)
		l.Metrics.MediaSeconds.WithLabelValues(result).Observe(time.Since(start).Seconds())
		l.Metrics.MediaResults.WithLabelValues("url", result).Inc()
		switch {
		case err == nil:
			return res.Bytes, nil
		case stop.Err() != nil || work.Err() != nil:
			return nil, fmt.Errorf("fetching media: %w: %w", errStopped, err)
		case post.Err() != nil:
			return nil, &rejection{reason: moderation.ReasonMediaUnavailable, err: fmt.Errorf("%w (%w)", context.Cause(post), err)}
		case errors.Is(err, media.ErrRefused):
			return nil, &rejection{reason: moderation.ReasonMediaRefused, err: err}
		case errors.Is(err, media.ErrTooLarge):
			return nil, &rejection{reason: moderation.ReasonMediaTooBig, err: err}
		case errors.Is(err, media.ErrUnavailable):
			return nil, &rejection{reason: moderation.ReasonMediaUnavailable, err: err}
		}
		last = err
		if attempt < attempts {
			t := time.NewTimer(l.Backoff.delay(attempt))
			select {
			case <-stop.Done():
				t.Stop()
				return nil, fmt.Errorf("fetching media: %w: %w", errStopped, err)
			case <-post.Done():
				t.Stop()
				if work.Err() != nil {
					return nil, fmt.Errorf("fetching media: %w: %w", errStopped, err)
				}
				return nil, &rejection{reason: moderation.ReasonMediaUnavailable, err: fmt.Errorf("%w (%w)", context.Cause(post), err)}
			case <-t.C:
			}
		}
	}
	return nil, &rejection{reason: moderation.ReasonMediaUnavailable, err: fmt.Errorf("still failing after %d attempts: %w", attempts, last)}
}

func fetchResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, media.ErrRefused):
		return "refused"
	case errors.Is(err, media.ErrTooLarge):
		return "too_large"
	case errors.Is(err, media.ErrUnavailable):
		return "unavailable"
	}
	return "retry"
}
