package sigma

import (
	"github.com/custodia/custodia/internal/corpora"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var corpusDir = corpora.Dir("sigma")

// TestCorpusLoads compiles every SigmaHQ rule and asserts that all load.
func TestCorpusLoads(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Fatalf("SigmaHQ corpus missing at %s: %v", corpusDir, err)
	}
	var files, loaded int
	var failures []string
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rules, errs := Parse(data, path, nil)
		loaded += len(rules)
		for _, e := range errs {
			failures = append(failures, e.Error())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Errorf("rejected: %s", f)
	}
	t.Logf("files=%d rules loaded=%d rejected=%d", files, loaded, len(failures))
	if files < 3700 {
		t.Errorf("corpus has %d rule files, want at least 3700", files)
	}
	if loaded != files {
		t.Errorf("loaded %d rules from %d files, want all", loaded, files)
	}
}
