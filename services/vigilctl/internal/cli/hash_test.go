package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

func runHash(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &errb}
	err := Run(context.Background(), append([]string{"vigilctl", "hash"}, args...), env)
	return out.String(), errb.String(), err
}

func TestHashCommand(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "demo0.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, demoimage.Image(0)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := imagehash.PDQ(demoimage.Image(0))

	out, _, err := runHash(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out); got != want.Hash.String()+",100,"+p && !strings.HasPrefix(got, want.Hash.String()+",") {
		t.Errorf("pdq line %q, want hash %s", got, want.Hash)
	}
	if parts := strings.Split(strings.TrimSpace(out), ","); len(parts) != 3 || parts[2] != p {
		t.Errorf("pdq line %q: want hex,quality,file", out)
	}
	ph, _ := imagehash.PHash(demoimage.Image(0))
	out, _, err = runHash(t, "--algo", "phash", p)
	if err != nil || strings.TrimSpace(out) != ph.String()+","+p {
		t.Errorf("phash: %q %v, want %s,%s", out, err, ph, p)
	}
	for _, a := range []string{"dhash", "ahash"} {
		out, _, err = runHash(t, "--algo", a, p)
		if parts := strings.Split(strings.TrimSpace(out), ","); err != nil || len(parts) != 2 || len(parts[0]) != 16 {
			t.Errorf("%s: %q %v", a, out, err)
		}
	}

	// A bad file is reported, the others still hashed, the exit is a failure.
	bad := filepath.Join(dir, "bad.jpg")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	out, errOut, err := runHash(t, bad, p)
	if !errors.Is(err, ErrFailed) || !strings.Contains(errOut, "bad.jpg") || !strings.Contains(out, p) {
		t.Errorf("bad file: out %q err %q %v", out, errOut, err)
	}
	// A directory is named as one, not as an undecodable image.
	out, errOut, err = runHash(t, dir, p)
	if !errors.Is(err, ErrFailed) || errOut != "vigilctl hash: "+dir+": is a directory, not an image file\n" || !strings.Contains(out, p) {
		t.Errorf("directory: out %q err %q %v", out, errOut, err)
	}
	if _, _, err := runHash(t, "--algo", "md5", p); err == nil {
		t.Error("unknown algo accepted")
	}
	if _, _, err := runHash(t); err == nil {
		t.Error("no files accepted")
	}
}

// TestHashOddFiles: an empty file says so (it was "unrecognised image
// format"), a missing one names the path once, "-" reads standard input,
// and a file name with a comma, quote or line break is quoted so the
// output stays one CSV record per image.
func TestHashOddFiles(t *testing.T) {
	dir := t.TempDir()
	var img bytes.Buffer
	if err := png.Encode(&img, demoimage.Image(0)); err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(dir, "a, \"b\"\nc.png")
	empty := filepath.Join(dir, "empty.png")
	missing := filepath.Join(dir, "missing.png")
	for p, b := range map[string][]byte{odd: img.Bytes(), empty: nil} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	env := Env{Getenv: func(string) string { return "" }, Stdin: bytes.NewReader(img.Bytes()), Stdout: &out, Stderr: &errb}
	err := Run(context.Background(), []string{"vigilctl", "hash", "--algo", "phash", odd, "-", empty, missing}, env)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err %v, want ErrFailed for the empty and missing files", err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	ph, _ := imagehash.PHash(demoimage.Image(0))
	if err != nil || len(recs) != 2 || !slices.Equal(recs[0], []string{ph.String(), odd}) || !slices.Equal(recs[1], []string{ph.String(), "-"}) {
		t.Errorf("output %q (%v), want two CSV records: hash,name for the odd name and for -", out.String(), err)
	}
	wantErr := "vigilctl hash: " + empty + ": empty file, not an image\n" + "vigilctl hash: " + missing + ": no such file or directory\n"
	if errb.String() != wantErr {
		t.Errorf("stderr %q, want %q", errb.String(), wantErr)
	}
}
