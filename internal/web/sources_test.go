package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func templateNames(tb testing.TB) map[string]bool {
	names := map[string]bool{}
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names[p] = true
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return names
}

func goSources(tb testing.TB) []string {
	files, err := filepath.Glob("*.go")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}
