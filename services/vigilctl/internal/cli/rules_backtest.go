package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/backtest"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/moderation/rulestore"
)

func runRulesBacktest(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "rules backtest", "Usage: vigilctl rules backtest --rules DIR [--against published|DIR] [flags] SOURCE\n\n"+
		"Runs the candidate rules (--rules) and the current ones (--against: the published version,\n"+
		"or another directory) over past posts and reports, per rule, the posts flagged before\n"+
		"and after, those newly and no longer flagged (with samples), and each rule's precision\n"+
		"estimated from moderators' past decisions on the same posts.\n\n"+
		"SOURCE is a JSON-lines file of posts (- for standard input), or kafka:TOPIC to read a\n"+
		"range of a topic (--from/--to) directly by partition, without a consumer group, so the\n"+
		"workers' group and offsets are untouched.")
	rulesDir := fs.String("rules", "rules", "candidate rules directory")
	against := fs.String("against", "published", "baseline: published (the newest published version) or a rules directory")
	banksDir := fs.String("banks", "", "hash-bank directory used by both sets (default RULES/banks)")
	dbURL := databaseFlag(fs)
	decisionsFrom := fs.String("decisions", "db", "past decisions: db (the review database), a JSON-lines file of {\"post_id\",\"action\"}, or none")
	brokers := fs.String("kafka-brokers", "127.0.0.1:9092", "Kafka brokers, for a kafka:TOPIC source")
	from := fs.String("from", "", "kafka:TOPIC start: an offset (each partition) or an RFC 3339 time (default: the oldest kept)")
	to := fs.String("to", "", "kafka:TOPIC end, exclusive: an offset or an RFC 3339 time (default: the end when the backtest starts)")
	samples := fs.Int("samples", 3, "sample posts per rule and direction")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := checkBanksFlag(*banksDir); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("rules backtest: want one SOURCE (a JSON-lines file, - or kafka:TOPIC)")
	}
	if *samples < 0 {
		return fmt.Errorf("rules backtest: --samples %d: want 0 or more", *samples)
	}
	banks := defaultBanks(*rulesDir, *banksDir)
	cand, err := loadEngine(env, *rulesDir, banks)
	if err != nil {
		return err
	}
	var base *engine.Engine
	var baseName string
	if *against == "published" {
		pool, err := postgres.Connect(ctx, *dbURL, 2)
		if err != nil {
			return err
		}
		v, err := postgres.NewRuleStore(pool, nil).Latest(ctx)
		pool.Close()
		if errors.Is(err, moderation.ErrNotFound) {
			return fmt.Errorf("rules backtest: no rule version is published yet: compare with a directory (--against DIR)")
		}
		if err != nil {
			return fmt.Errorf("rules backtest: reading the published rules: %w", err)
		}
		set, err := rulestore.CompileVersion(v)
		if err != nil {
			return err
		}
		base = engine.New(set, engineOptions(cand)...)
		baseName = fmt.Sprintf("published version %d", v.Version)
	} else {
		if base, err = loadEngine(env, *against, banks); err != nil {
			return err
		}
		baseName = *against
	}

	run := backtest.New(backtest.Options{Candidate: cand, Baseline: base, Samples: *samples})
	bar := newProgress(env.Stderr, "backtest", "posts", 0)
	var skipped int
	add := func(p moderation.Post) error {
		imgs := decodeImages(p, func(string) {})
		if err := run.Add(ctx, p, imgs...); err != nil {
			return err
		}
		return nil
	}
	src := fs.Arg(0)
	if topic, ok := strings.CutPrefix(src, "kafka:"); ok {
		skipped, err = backtestKafka(ctx, env, kafka.Net{Brokers: strings.Split(*brokers, ",")}, topic, *from, *to, add)
	} else {
		skipped, err = backtestFile(ctx, env, src, bar, add)
	}
	if err != nil {
		return err
	}
	decisions, err := pastDecisions(ctx, env, *decisionsFrom, *dbURL, run.FlaggedPostIDs())
	if err != nil {
		return err
	}
	rep := run.Report(decisions)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Candidate string `json:"candidate"`
			Baseline  string `json:"baseline"`
			Skipped   int    `json:"skipped"`
			backtest.Report
		}{*rulesDir, baseName, skipped, rep})
	}
	printBacktest(env.Stdout, rep, *rulesDir, baseName, skipped)
	return nil
}

// engineOptions returns the bank options of e, so a baseline built from a
// published version matches images like the candidate.
func engineOptions(e *engine.Engine) []engine.Option {
	if e.Banks() == nil {
		return nil
	}
	return []engine.Option{engine.WithBanks(e.Banks())}
}

func backtestFile(ctx context.Context, env Env, name string, bar *progress, add func(moderation.Post) error) (int, error) {
	var r io.Reader = env.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			bar.total, bar.unit = st.Size(), "bytes"
		}
		r = f
	}
	skipped := 0
	var read int64
	br := bufio.NewReaderSize(r, 1<<20)
	skipBOM(br)
	var buf []byte
	for n := 1; ; n++ {
		line, size, err := readCappedLine(br, buf[:0], moderation.MaxPostBytes)
		buf = line
		read += size
		if size > int64(len(line)) {
			// Longer than any post may be: skipped unread, like a post
			// the decoder rejects, instead of buffering it whole.
			skipped++
			if skipped <= 10 {
				fmt.Fprintf(env.Stderr, "%s:%d: skipped: line of %d bytes, longer than a post may be (%d)\n", name, n, size, moderation.MaxPostBytes)
			}
		} else if len(bytes.TrimSpace(line)) > 0 {
			p, derr := moderation.DecodePost(line)
			if derr != nil {
				skipped++
				if skipped <= 10 {
					fmt.Fprintf(env.Stderr, "%s:%d: skipped: %v\n", name, n, derr)
				}
			} else if aerr := add(p); aerr != nil {
				return skipped, aerr
			}
		}
		if bar.unit == "bytes" {
			bar.Set(read)
		} else {
			bar.Set(int64(n))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return skipped, fmt.Errorf("reading %s: %w", name, err)
		}
		if err := ctx.Err(); err != nil {
			return skipped, err
		}
	}
	bar.Done()
	return skipped, nil
}

// readCappedLine appends the next line of br (with its newline) to dst and
// returns it with the line's full size; a line over max bytes is consumed
// but not kept (size > len(line) then), so a hostile file cannot make the
// reader buffer more than max bytes.
func readCappedLine(br *bufio.Reader, dst []byte, max int) ([]byte, int64, error) {
	var size int64
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		if size <= int64(max) {
			dst = append(dst, chunk...)
		} else {
			dst = dst[:0]
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return dst, size, err
	}
}

// bound is a --from or --to value: an offset, a time, or nothing.
type bound struct {
	offset int64 // -1: none
	at     time.Time
}

func parseBound(s string) (bound, error) {
	if s == "" {
		return bound{offset: -1}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return bound{offset: n}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return bound{}, fmt.Errorf("%q: want an offset or an RFC 3339 time", s)
	}
	return bound{offset: -1, at: t}, nil
}

// backtestKafka reads topic partition by partition from --from to --to
// (at most to the high-water mark seen at start), with plain partition
// readers: no consumer group is joined and no offset is committed.
func backtestKafka(ctx context.Context, env Env, knet kafka.Net, topic, fromS, toS string, add func(moderation.Post) error) (int, error) {
	from, err := parseBound(fromS)
	if err != nil {
		return 0, fmt.Errorf("--from %w", err)
	}
	to, err := parseBound(toS)
	if err != nil {
		return 0, fmt.Errorf("--to %w", err)
	}
	first, next, err := knet.Offsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	type part struct {
		id         int
		r          *kafkago.Reader
		start, end int64
	}
	var parts []part
	var total int64
	defer func() {
		for _, p := range parts {
			_ = p.r.Close()
		}
	}()
	ids := make([]int, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		start, end := first[id], next[id]
		if from.offset >= 0 {
			start = max(start, from.offset)
		}
		if to.offset >= 0 {
			end = min(end, to.offset)
		}
		r, err := kafka.NewPartitionReader(kafka.ConsumerConfig{Net: knet, Topic: topic}, id, start)
		if err != nil {
			return 0, fmt.Errorf("reading %s/%d: %w", topic, id, err)
		}
		parts = append(parts, part{id: id, r: r, start: start, end: end})
		if !from.at.IsZero() {
			if err := r.SetOffsetAt(ctx, from.at); err != nil {
				return 0, fmt.Errorf("seeking %s/%d to %s: %w", topic, id, from.at.Format(time.RFC3339), err)
			}
			parts[len(parts)-1].start = max(start, r.Offset())
			if r.Offset() < 0 { // nothing at or after the time
				parts[len(parts)-1].start = end
			}
		}
		if s := parts[len(parts)-1].start; end > s {
			total += end - s
		}
	}
	bar := newProgress(env.Stderr, "backtest", "messages", total)
	var done int64
	skipped := 0
	for _, p := range parts {
		for off := p.start; off < p.end; {
			m, err := p.r.ReadMessage(ctx)
			if err != nil {
				return skipped, fmt.Errorf("reading %s/%d: %w", topic, p.id, err)
			}
			if m.Offset >= p.end || (!to.at.IsZero() && !m.Time.Before(to.at)) {
				break
			}
			done += m.Offset + 1 - off
			off = m.Offset + 1
			bar.Set(done)
			post, err := moderation.DecodePost(m.Value)
			if err != nil {
				skipped++
				continue
			}
			if err := add(post); err != nil {
				return skipped, err
			}
		}
	}
	bar.Done()
	return skipped, nil
}

// pastDecisions returns the known outcome of each flagged post.
func pastDecisions(ctx context.Context, env Env, from, dbURL string, ids []string) (map[string]backtest.Outcome, error) {
	out := map[string]backtest.Outcome{}
	switch from {
	case "none":
		return out, nil
	case "db":
		pool, err := postgres.Connect(ctx, dbURL, 2)
		if err != nil {
			return nil, err
		}
		defer pool.Close()
		actions, err := postgres.PostOutcomes(ctx, pool, ids)
		if err != nil {
			return nil, err
		}
		for id, a := range actions {
			out[id] = backtest.OutcomeOf(a)
		}
		return out, nil
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, fmt.Errorf("reading decisions: %w", err)
	}
	defer f.Close()
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	br := bufio.NewReader(f)
	skipBOM(br)
	sc := bufio.NewScanner(br)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var d struct {
			PostID string `json:"post_id"`
			Action string `json:"action"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", from, n, err)
		}
		// A misspelt action or a missing field would count the post as
		// undecided without a word, and skew every precision.
		if d.PostID == "" {
			return nil, fmt.Errorf("%s:%d: no post_id (want {\"post_id\":…,\"action\":…})", from, n)
		}
		if _, err := moderation.ParseAction(d.Action); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", from, n, err)
		}
		if want[d.PostID] {
			out[d.PostID] = backtest.OutcomeOf(d.Action) // later lines win, like later decisions
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading decisions %s: %w", from, err)
	}
	return out, nil
}

func fmtPrecision(p backtest.Precision) string {
	if p.Value == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f (%d/%d)", *p.Value, p.Violation, p.Decided())
}

func printBacktest(w io.Writer, rep backtest.Report, cand, base string, skipped int) {
	fmt.Fprintf(w, "candidate %s against %s: %d posts", cand, base, rep.Posts)
	if skipped > 0 {
		fmt.Fprintf(w, " (%d skipped: not valid posts)", skipped)
	}
	fmt.Fprintf(w, "\nflagged %d -> %d: %d newly flagged, %d no longer flagged; %d flagged posts have past decisions\n\n",
		rep.FlaggedBefore, rep.FlaggedAfter, rep.NewlyFlagged, rep.NoLongerFlagged, rep.Decided)
	if len(rep.Rules) == 0 {
		fmt.Fprintln(w, "no rule flagged anything")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tCATEGORY\tBEFORE\tAFTER\tNEW\tGONE\tPRECISION BEFORE\tPRECISION AFTER\t")
	for _, r := range rep.Rules {
		mark := ""
		if r.Changed {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%d\t%d\t+%d\t-%d\t%s\t%s\t\n", mark, r.Rule, r.Category, r.Before.Flagged, r.After.Flagged,
			r.NewlyFlagged, r.NoLongerFlagged, fmtPrecision(r.Before), fmtPrecision(r.After))
	}
	tw.Flush()
	fmt.Fprintln(w, "\n* changed; precision = removed / decided among the rule's posts with a past decision")
	for _, r := range rep.Rules {
		if !r.Changed {
			continue
		}
		for _, s := range []struct {
			what string
			ss   []backtest.Sample
		}{{"newly flagged", r.NewSamples}, {"no longer flagged", r.GoneSamples}} {
			if len(s.ss) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s, %s:\n", r.Rule, s.what)
			for _, x := range s.ss {
				fmt.Fprintf(w, "  %s [%s] %s\n", x.PostID, x.Outcome, strconv.Quote(x.Text))
			}
		}
	}
}
