package password

import (
	"errors"
	"strings"
	"testing"
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
