package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var cheap = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	h2, _ := Hash("correct horse battery", cheap)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, err := Verify(h, pw)
		if err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, s := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$x"} {
		if _, err := Verify(s, "x"); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) err = %v, want ErrMalformed", s, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	h, _ := Hash("seed password", cheap)
	f.Add(h, "seed password")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$", "")
	f.Fuzz(func(t *testing.T, stored, pw string) {
		ok, err := Verify(stored, pw)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
	})
}

// TestHasherBoundsConcurrency: a Hasher never runs more than Concurrency
// hashes at once (each holds Params.MemoryKiB); a caller that finds no
// slot waits at most MaxWait for ErrBusy, or until its context ends.
func TestHasherBoundsConcurrency(t *testing.T) {
	t.Parallel()
	h := NewHasher(HasherOptions{Params: cheap, Concurrency: 2, MaxWait: 50 * time.Millisecond})
	r1, err := h.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := h.Verify(context.Background(), "x", "y"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify with both slots taken: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("ErrBusy after %v, before MaxWait", d)
	}
	if _, err := h.Hash(context.Background(), "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with both slots taken: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with an ended context: %v", err)
	}
	r1()
	stored, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	r2()

	// Many callers at once: never more than 2 inside.
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	h = NewHasher(HasherOptions{Params: cheap, Concurrency: 2, MaxWait: time.Minute})
	for range 32 {
		wg.Go(func() {
			release, err := h.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			if ok, err := Verify(stored, "pw"); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
		})
	}
	wg.Wait()
	if most.Load() != 2 {
		t.Fatalf("%d hashes at once, want 2", most.Load())
	}
}
