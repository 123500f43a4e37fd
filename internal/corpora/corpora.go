// Package corpora finds the shared test and benchmark data (../shared/corpora
// beside the repository) for tests, wherever the repository is checked out.
package corpora

import (
	"os"
	"path/filepath"
)

// Dir returns the path of shared/corpora/<name>: $CUSTODIA_CORPORA/<name> when
// set, else the first shared/corpora/<name> found beside the repository (walking
// up from the working directory), else /work/shared/corpora/<name>. The caller
// checks that it exists and fails when it must.
func Dir(name string) string {
	if root := os.Getenv("CUSTODIA_CORPORA"); root != "" {
		return filepath.Join(root, name)
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, "shared", "corpora", name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return filepath.Join("/work/shared/corpora", name)
}
