package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
)

// MessageWriter writes messages to a topic (the dead-letter topic).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Processor turns one batch of post messages from one partition into
// durable effects: flags in the review queue and dead letters in Kafka.
// When Process returns nil, everything the batch produced is durable and
// its offsets may be committed; when it returns an error (only errStopped,
// wrapped), nothing of the batch may be committed.
type Processor struct {
	Log     *slog.Logger
	Metrics *Metrics
	// Engine returns the engine to use for the next batch; a rule reload
	// swaps what it returns (one atomic load per batch).
	Engine func() *engine.Engine
	Queue  moderation.Enqueuer
	DLQ    MessageWriter
	Media  *MediaLoader
	// MediaConcurrency is how many posts with media are loaded, decoded and
	// hashed at once within a batch (default 4).
	MediaConcurrency int
	// EvidenceBudget bounds the media bytes a batch keeps as evidence of
	// its flagged posts until they are stored (0: no bound). Without it a
	// batch of flagged posts each carrying 16 media URLs of 10 MiB held
	// 500 × 160 MiB in memory, and the worker crashed on every replay of
	// it. Once a batch's evidence reaches the budget, its remaining
	// messages are left for the next batch.
	EvidenceBudget int64
	Group          string // consumer group, put in dead-letter headers
	Now            func() time.Time
	retry          *retrier
}

// outcome of one message of a batch: a flag, a rejection, or both (text
// flagged, media failed).
type outcome struct {
	flag   *moderation.Flag
	reject *rejection
}

// evaluated is a batch whose posts are decoded, loaded and evaluated, and
// whose effects are not yet durable.
type evaluated struct {
	batch []kafkago.Message
	outs  []outcome
	start time.Time
	// rest are the messages after batch that were not evaluated because
	// the evidence budget was spent: they start the next batch.
	rest []kafkago.Message
}

// Process handles batch (messages of one partition, in offset order). stop
// ends retries between attempts; work cancels attempts in flight (it ends
// a grace period after stop). It is evaluate then persist, repeated while
// the evidence budget leaves messages over; the consumer runs the two as a
// pipeline instead, persisting one batch while it evaluates the next.
func (p *Processor) Process(stop, work context.Context, batch []kafkago.Message) error {
	for len(batch) > 0 {
		ev, err := p.evaluate(stop, work, batch)
		if err != nil {
			return err
		}
		batch = ev.rest
		if err := p.persist(stop, work, ev); err != nil {
			return err
		}
	}
	return nil
}

// evaluate decodes, loads and evaluates the posts of batch: all of them,
// or, when the evidence kept for flagged posts reaches EvidenceBudget, at
// least the first and those started before then (the others are returned
// in rest). Its error is only errStopped (wrapped); then nothing of the
// batch may be committed. Every evaluated batch must be given to persist
// or release.
func (p *Processor) evaluate(stop, work context.Context, batch []kafkago.Message) (*evaluated, error) {
	ev := &evaluated{batch: batch, outs: make([]outcome, len(batch)), start: p.Now()}
	p.Metrics.InFlight.Add(float64(len(batch)))
	eng := p.Engine()
	g, gctx := errgroup.WithContext(work)
	g.SetLimit(max(p.MediaConcurrency, 1))
	var kept atomic.Int64 // evidence bytes of the flagged posts so far
	for i := range batch {
		if p.EvidenceBudget > 0 && i > 0 && kept.Load() >= p.EvidenceBudget {
			p.Metrics.InFlight.Sub(float64(len(batch) - i))
			ev.batch, ev.outs, ev.rest = batch[:i], ev.outs[:i], batch[i:]
			break
		}
		// Indexing rather than ranging over values keeps the message and
		// the post off the heap on the text-only path; only the media
		// branch's goroutine takes copies.
		post, err := moderation.DecodePost(batch[i].Value)
		if err != nil {
			ev.outs[i].reject = postRejection(err)
			continue
		}
		if len(post.Media) == 0 {
			// Text only: keyword matching costs microseconds, no goroutine.
			if err := p.evaluatePost(work, eng, &batch[i], &post, &ev.outs[i]); err != nil {
				if rj := (*rejection)(nil); errors.As(err, &rj) {
					ev.outs[i].reject = rj
					continue
				}
				p.release(ev)
				return nil, err
			}
			continue
		}
		m, mpost := &batch[i], post
		g.Go(func() error {
			err := p.evaluateMedia(stop, gctx, eng, m, &mpost, &ev.outs[i])
			var rj *rejection
			switch {
			case errors.As(err, &rj):
				ev.outs[i].reject = rj
				return nil
			case err != nil:
				return err
			}
			if f := ev.outs[i].flag; f != nil {
				for _, e := range f.Evidence {
					kept.Add(int64(len(e.Bytes)))
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		p.release(ev)
		return nil, err
	}
	p.Metrics.BatchSeconds.WithLabelValues("evaluate").Observe(p.Now().Sub(ev.start).Seconds())
	return ev, nil
}

// release ends the in-flight accounting of an evaluated batch: after
// persist, or when it is given up unpersisted (and will be replayed).
func (p *Processor) release(ev *evaluated) {
	p.Metrics.InFlight.Sub(float64(len(ev.batch)))
}

// persist makes the effects of an evaluated batch durable: flags in the
// review queue (one transaction, poison flags bisected out) and dead
// letters in Kafka. When it returns nil the batch's offsets may be
// committed; its error is only errStopped (wrapped).
func (p *Processor) persist(stop, work context.Context, ev *evaluated) error {
	defer p.release(ev)
	batch := ev.batch
	var flags []moderation.Flag
	var flagMsgs []kafkago.Message
	var dead []kafkago.Message
	now := p.Now()
	for i, o := range ev.outs {
		// Both when a post's media failed and its text was flagged.
		if o.reject != nil {
			dead = append(dead, deadLetter(batch[i], o.reject.reason, o.reject.err.Error(), p.Group, now))
		}
		if o.flag != nil {
			flags = append(flags, *o.flag)
			flagMsgs = append(flagMsgs, batch[i])
		}
	}
	if len(flags) > 0 {
		t := p.Now()
		stored, rejected, err := p.store(stop, work, flags, flagMsgs)
		if err != nil {
			return err
		}
		dead = append(dead, rejected...)
		queued := p.Now()
		p.Metrics.BatchSeconds.WithLabelValues("store").Observe(queued.Sub(t).Seconds())
		for _, f := range stored {
			p.Metrics.FlaggedPosts.Inc()
			// created_at is the producer's claim: one in the future (clock
			// skew, or a post dated 9999) counts as no delay, not as minus
			// 8,000 years in the histogram's sum.
			p.Metrics.QueueDelay.Observe(max(queued.Sub(f.Post.CreatedAt).Seconds(), 0))
			for _, m := range f.Verdict.Matches {
				label := m.RuleID
				if label == "" {
					label = "bank:" + m.Bank
				}
				p.Metrics.Flagged.WithLabelValues(label, m.Category).Inc()
			}
		}
	}
	if len(dead) > 0 {
		t := p.Now()
		pending := dead
		err := p.retry.do(stop, work, "kafka_dlq", func(ctx context.Context) error {
			var err error
			pending, err = writeDeadLetters(ctx, p.DLQ, p.Log, pending)
			return err
		}, nil)
		if err != nil {
			return err
		}
		p.Metrics.BatchSeconds.WithLabelValues("dead_letter").Observe(p.Now().Sub(t).Seconds())
		for _, d := range dead {
			reason := HeaderValue(d.Headers, HeaderReason)
			p.Metrics.DeadLettered.WithLabelValues(reason).Inc()
			p.Log.WarnContext(work, "post dead-lettered", "reason", reason, "detail", HeaderValue(d.Headers, HeaderError),
				"topic", HeaderValue(d.Headers, HeaderTopic), "partition", HeaderValue(d.Headers, HeaderPartition),
				"offset", HeaderValue(d.Headers, HeaderOffset))
		}
	}
	p.Metrics.Consumed.Add(float64(len(batch)))
	p.Metrics.BatchSize.Observe(float64(len(batch)))
	p.Metrics.BatchSeconds.WithLabelValues("total").Observe(p.Now().Sub(ev.start).Seconds())
	return nil
}

// evaluatePost runs the engine on the text of one post and records a flag
// or a rejection in out.
func (p *Processor) evaluatePost(ctx context.Context, eng *engine.Engine, m *kafkago.Message, post *moderation.Post, out *outcome) error {
	v, err := evaluate(ctx, eng, *post)
	if err != nil {
		return err
	}
	p.record(m, post, v, nil, out)
	return nil
}

// evaluateMedia runs the engine on the text of one post, then on each of
// its images as soon as it is decoded (the engine matches images one by
// one anyway: keyword matches first, then each image's in order), and
// records a flag or a rejection in out, or both: a flag of the text alone
// when the media failed. Its error is a *rejection or errStopped.
func (p *Processor) evaluateMedia(stop, work context.Context, eng *engine.Engine, m *kafkago.Message, post *moderation.Post, out *outcome) error {
	v, err := evaluate(work, eng, *post)
	if err != nil {
		return err
	}
	// The text's verdict: the image matches appended below are not its.
	text := v
	text.Matches = slices.Clip(v.Matches)
	imagesOnly := moderation.Post{ID: post.ID, Lang: post.Lang} // no text: no keyword matches again
	evidence, err := p.Media.Load(stop, work, *post, func(img engine.Image) error {
		iv, err := evaluate(work, eng, imagesOnly, img)
		v.Matches = append(v.Matches, iv.Matches...)
		return err
	})
	if rj := (*rejection)(nil); errors.As(err, &rj) {
		// The post is dead-lettered for its media, but text flagged on
		// its own is queued all the same (without evidence): otherwise
		// one unfetchable, refused or undecodable image attached to a
		// post kept its text out of review. A replay of the dead letter
		// merges into the item.
		p.record(m, post, text, nil, out)
	}
	if err != nil {
		return err
	}
	p.record(m, post, v, evidence, out)
	return nil
}

// evaluate is eng.Evaluate with its errors sorted: errStopped when ctx
// ended, else a media_undecodable rejection (hashing a decoded image
// failed: the image is at fault).
func evaluate(ctx context.Context, eng *engine.Engine, post moderation.Post, images ...engine.Image) (moderation.Verdict, error) {
	v, err := eng.Evaluate(ctx, post, images...)
	switch {
	case err == nil:
		return v, nil
	case ctx.Err() != nil:
		return v, fmt.Errorf("evaluating post %s: %w: %w", post.ID, errStopped, err)
	}
	return v, &rejection{reason: moderation.ReasonMediaDecode, err: err}
}

// record sets out.flag when v flags the post.
func (p *Processor) record(m *kafkago.Message, post *moderation.Post, v moderation.Verdict, evidence []moderation.Evidence, out *outcome) {
	if !v.Flagged() {
		return
	}
	f := moderation.Flag{
		Post: *post, Verdict: v, FlaggedAt: p.Now(),
		Source:   moderation.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset},
		Evidence: evidence,
	}
	f.Post.Media = stripInline(post.Media)
	out.flag = &f
}

// stripInline drops inline bytes from the post: they are kept once, as
// evidence, not a second time inside the post.
func stripInline(ms []moderation.Media) []moderation.Media {
	if len(ms) == 0 {
		return ms
	}
	out := make([]moderation.Media, len(ms))
	for i, m := range ms {
		m.Data = nil
		out[i] = m
	}
	return out
}

// store enqueues flags, retrying transient failures. When the queue
// rejects the data itself (moderation.ErrInvalid), it bisects the flags to
// find the poison ones and returns them as dead letters, so one bad post
// never wedges a partition.
func (p *Processor) store(stop, work context.Context, flags []moderation.Flag, msgs []kafkago.Message) ([]moderation.Flag, []kafkago.Message, error) {
	permanent := func(err error) bool { return errors.Is(err, moderation.ErrInvalid) }
	err := p.retry.do(stop, work, "postgres", func(ctx context.Context) error {
		return p.Queue.Enqueue(ctx, flags)
	}, permanent)
	switch {
	case err == nil:
		return flags, nil, nil
	case !permanent(err):
		return nil, nil, err
	case len(flags) == 1:
		detail := err.Error()
		if f := nulField(flags[0]); f != "" {
			detail = f + " contains a NUL character, which Postgres text cannot hold: " + detail
		}
		return nil, []kafkago.Message{deadLetter(msgs[0], moderation.ReasonStoreRejected, detail, p.Group, p.Now())}, nil
	}
	half := len(flags) / 2
	okA, deadA, err := p.store(stop, work, flags[:half], msgs[:half])
	if err != nil {
		return nil, nil, err
	}
	okB, deadB, err := p.store(stop, work, flags[half:], msgs[half:])
	if err != nil {
		return nil, nil, err
	}
	return append(okA, okB...), append(deadA, deadB...), nil
}

// nulField names the first stored field of f holding a NUL, or "": the
// commonest reason the queue refuses a flag, and Postgres's message
// ("invalid byte sequence for encoding UTF8: 0x00") does not say where.
func nulField(f moderation.Flag) string {
	p := f.Post
	for _, c := range []struct{ name, val string }{
		// The text and handle are stored with U+2400 for a NUL
		// (postgres.Queue): only the platform's own fields are refused.
		{"id", p.ID}, {"platform", p.Platform}, {"author.id", p.Author.ID}, {"lang", p.Lang}, {"url", p.URL},
	} {
		if strings.IndexByte(c.val, 0) >= 0 {
			return c.name
		}
	}
	for i, m := range p.Media {
		if strings.IndexByte(m.ID, 0) >= 0 {
			return fmt.Sprintf("media[%d].id", i)
		}
	}
	return ""
}

// postRejection maps a DecodePost error to its dead-letter reason.
func postRejection(err error) *rejection {
	var pe *moderation.PostError
	if errors.As(err, &pe) {
		return &rejection{reason: pe.Reason, err: err}
	}
	return &rejection{reason: moderation.ReasonSchema, err: err}
}
