package moderationtest

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"
)

// Unzip reads an archive, failing t unless it is complete and every
// entry reads, and returns its entries in order with their contents
// (evidence packages).
func Unzip(t testing.TB, b []byte) ([]*zip.File, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("reading the archive: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("reading %s: %v", f.Name, err)
		}
	}
	return zr.File, files
}
