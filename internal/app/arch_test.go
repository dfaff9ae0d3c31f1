package app_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Dependencies point one way (DESIGN.md, STYLE.md): only the HTTP adapters
// import gin, and nothing imports the HTTP layer but the wiring.
func TestImportRules(t *testing.T) {
	rules := []struct {
		pkg     string
		allowed []string // directories (relative to the repo root) that may import pkg
	}{
		{"github.com/gin-gonic/gin", []string{"internal/httpapi", "internal/auth"}},
		{"github.com/casebridge/casebridge/internal/httpapi", []string{"internal/app", "cmd/casebridge", "internal/httpapi"}},
		{"github.com/casebridge/casebridge/internal/devidp", []string{"cmd/casebridge", "internal/devidp", "internal/app", "internal/testenv", "internal/auth",
			"bench/cmd/httpbench"}}, // make bench signs its load generators in with the development provider
	}
	root := "../.."
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (name == "node_modules" || name == ".data" || name == ".tools" || strings.HasPrefix(name, ".git")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, r := range rules {
				if p != r.pkg {
					continue
				}
				ok := false
				for _, a := range r.allowed {
					if rel == a || strings.HasPrefix(rel, a+"/") {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s; only %v may", path, p, r.allowed)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}
