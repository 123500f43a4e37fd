package detect

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/custodia/custodia/internal/detect/rules"
	"github.com/custodia/custodia/internal/detect/sigma"
)

// Builtin is the rule-directory name that selects the embedded
// contact-center rule pack.
const Builtin = "builtin"

// LoadResult is what LoadRules found.
type LoadResult struct {
	Rules    []*sigma.Rule
	Files    int
	Rejected []error // one per document that did not load, with file and reason
}

// LoadRules reads every .yml/.yaml file under each path (a directory, a
// single file, or "builtin"). A bad file or document is recorded in
// Rejected and never stops the others from loading.
func LoadRules(paths []string, opts *sigma.Options) (*LoadResult, error) {
	res := &LoadResult{}
	for _, p := range paths {
		if p == Builtin {
			if err := loadFS(res, rules.FS, ".", "builtin:", opts); err != nil {
				return nil, err
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules %q: %w", p, err)
		}
		if !info.IsDir() {
			loadFile(res, os.DirFS(filepath.Dir(p)), filepath.Base(p), p, opts)
			continue
		}
		if err := loadFS(res, os.DirFS(p), ".", p+string(filepath.Separator), opts); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func loadFS(res *LoadResult, fsys fs.FS, root, prefix string, opts *sigma.Options) error {
	var files []string
	err := fs.WalkDir(fsys, root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			res.Rejected = append(res.Rejected, fmt.Errorf("%s%s: %w", prefix, path, err))
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		loadFile(res, fsys, f, prefix+f, opts)
	}
	return nil
}

func loadFile(res *LoadResult, fsys fs.FS, name, display string, opts *sigma.Options) {
	res.Files++
	f, err := fsys.Open(name)
	if err != nil {
		res.Rejected = append(res.Rejected, fmt.Errorf("%s: %w", display, err))
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > sigma.MaxRuleSize {
		res.Rejected = append(res.Rejected, fmt.Errorf("%s: file larger than %d bytes", display, sigma.MaxRuleSize))
		return
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		res.Rejected = append(res.Rejected, fmt.Errorf("%s: %w", display, err))
		return
	}
	rs, errs := sigma.Parse(data, display, opts)
	res.Rules = append(res.Rules, rs...)
	res.Rejected = append(res.Rejected, errs...)
}
