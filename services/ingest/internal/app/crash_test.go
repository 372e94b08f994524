package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation/kafka"
)

func buildIngest(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil-ingest")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/vigil-moderation/vigil/services/ingest/cmd/vigil-ingest")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building vigil-ingest: %v\n%s", err, out)
	}
	return bin
}

// proc is vigil-ingest running as a child process.
type proc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	addr chan string
	done chan error
}

func startProc(t *testing.T, bin string, env []string) *proc {
	t.Helper()
	p := &proc{logs: &syncBuffer{}, addr: make(chan string, 1), done: make(chan error, 1)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.logs.Write([]byte(line + "\n"))
			if i := strings.Index(line, `msg="http listening" addr=`); i >= 0 {
				select {
				case p.addr <- strings.TrimSpace(line[i+len(`msg="http listening" addr=`):]):
				default:
				}
			}
		}
	}()
	go func() {
		err := p.cmd.Wait()
		_ = pw.Close()
		p.done <- err
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		p.done <- nil
		if t.Failed() {
			t.Logf("vigil-ingest (pid %d) logs:\n%s", p.cmd.Process.Pid, tail(p.logs.String(), 4000))
		}
	})
	return p
}

// TestCrashKill9: a real vigil-ingest process is killed with SIGKILL
// several times while posts stream in, and restarted each time. In the
// end every expected flag is in the queue exactly once (with exactly its
// matches), the last process consumes and commits to the end of every
// partition, and a SIGTERM then stops it cleanly, leaving the offsets
// there.
func TestCrashKill9(t *testing.T) {
	t.Parallel()
	bin := buildIngest(t)
	e := newEnv(t, 4)
	s := makeStream("crash", 6000)
	env := []string{
		"VIGIL_KAFKA_BROKERS=" + strings.Join(e.brokers, ","),
		"VIGIL_POSTS_TOPIC=" + e.topic,
		"VIGIL_DLQ_TOPIC=" + e.dlq,
		"VIGIL_GROUP_ID=" + e.group,
		"VIGIL_DATABASE_URL=" + e.schema.URL,
		"VIGIL_RULES_DIR=" + e.rules,
		"VIGIL_HTTP_ADDR=127.0.0.1:0",
		"VIGIL_LOG_FORMAT=text",
		"VIGIL_LOG_LEVEL=info",
		"VIGIL_OUTBOX_RELAY=false",
		"VIGIL_BATCH_SIZE=40",
		"VIGIL_SESSION_TIMEOUT=6s",
		"VIGIL_HEARTBEAT_INTERVAL=500ms",
	}
	done := produceAsync(t, e.brokers, e.topic, s.msgs, 250)

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for kills < 4 {
		p := startProc(t, bin, env)
		before := itemCount(t, e.schema)
		// Let it get going (it waits for the killed member's session to
		// expire before it owns partitions), then kill it at a random moment.
		deadline := time.Now().Add(20 * time.Second)
		for itemCount(t, e.schema) == before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Duration(100+rnd.IntN(1000)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		p.done <- nil
		kills++
		t.Logf("kill %d: %d items queued", kills, itemCount(t, e.schema))
	}
	<-done
	p := startProc(t, bin, env)
	waitQueued(t, e.schema, s.want, 100*time.Second)
	// Every flag is queued, but the unflagged posts at the end of a
	// partition may not have been read yet: wait until the last process
	// has consumed (and so committed) everything.
	for deadline := time.Now().Add(60 * time.Second); len(committedBehind(t, e.brokers, e.topic, e.group)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("offsets not committed to the end within 60 s: %v", committedBehind(t, e.brokers, e.topic, e.group))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Graceful stop: finishes, commits, leaves within the grace period.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- nil
		if err != nil {
			t.Fatalf("vigil-ingest exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("vigil-ingest did not stop within 30 s of SIGTERM")
	}
	for _, b := range committedBehind(t, e.brokers, e.topic, e.group) {
		t.Errorf("after SIGTERM: %s", b)
	}
}

// committedBehind describes the partitions of topic whose committed
// offset for group is not at the partition's end.
func committedBehind(t *testing.T, brokers []string, topic, group string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := kafka.Net{Brokers: brokers}
	_, next, err := n.Offsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]int, 0, len(next))
	for p := range next {
		parts = append(parts, p)
	}
	cl, closeClient := n.Client(10 * time.Second)
	defer closeClient()
	res, err := cl.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		t.Fatal(err)
	}
	var behind []string
	for _, po := range res.Topics[topic] {
		if po.CommittedOffset != next[po.Partition] {
			behind = append(behind, fmt.Sprintf("partition %d: committed %d, end %d", po.Partition, po.CommittedOffset, next[po.Partition]))
		}
	}
	return behind
}
