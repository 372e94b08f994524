package moderationtest

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot is the repository's root directory: the nearest directory
// above the test's working directory (its package's) that holds go.work.
// Tests reach rules/, deploy/ and the commands' packages from it.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}
