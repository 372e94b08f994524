package imagehash

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// pdqData is Meta's PDQ reference data, a sibling of the repository root
// (see ../shared/data/pdq/SOURCE.md beside the repository).
const pdqData = "../../../../shared/data/pdq"

// needData skips the test when the shared data is absent, unless
// VIGIL_INTEGRATION=require, where missing data is a failure.
func needData(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("VIGIL_INTEGRATION") == "require" {
			t.Fatalf("test data missing: %v", err)
		}
		t.Skipf("test data missing: %v", err)
	}
}

func pdqImage(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(pdqData, "images", rel)
	needData(t, p)
	return p
}

func readCSV(t testing.TB, path string) []map[string]string {
	t.Helper()
	needData(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, k := range recs[0] {
			m[k] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func decodeFile(t testing.TB, path string) Decoded {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeBytes(b, Limits{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}
