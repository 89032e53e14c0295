package psrp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot returns the directory of go.mod above the test directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

const modulePath = "github.com/pssession/pssession"

// parseProductionFiles parses the non-test Go files of dir.
func parseProductionFiles(t *testing.T, dir string) map[string]*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files[n] = f
	}
	return files
}

// TestProtocolCoreDependencies keeps the sans-IO core honest (STYLE.md
// habit 1): remote/psrp and remote/psrp/clixml import no net, os or
// syscall, start no goroutine, never call time.Sleep, and import no other
// package of this module except psrp → clixml.
func TestProtocolCoreDependencies(t *testing.T) {
	root := moduleRoot(t)
	allowed := map[string]map[string]bool{
		"remote/psrp":        {modulePath + "/remote/psrp/clixml": true},
		"remote/psrp/clixml": {},
	}
	for pkg, allowedLocal := range allowed {
		files := parseProductionFiles(t, filepath.Join(root, pkg))
		if len(files) == 0 {
			t.Fatalf("%s: no Go files", pkg)
		}
		for name, f := range files {
			where := pkg + "/" + name
			timeName := ""
			for _, imp := range f.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case path == "net" || strings.HasPrefix(path, "net/"),
					path == "os" || strings.HasPrefix(path, "os/"),
					path == "syscall":
					t.Errorf("%s imports %s", where, path)
				case strings.HasPrefix(path, modulePath+"/") && !allowedLocal[path]:
					t.Errorf("%s imports %s of this module", where, path)
				case path == "time":
					timeName = "time"
					if imp.Name != nil {
						timeName = imp.Name.Name
					}
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: go statement at offset %d", where, n.Pos())
				case *ast.SelectorExpr:
					if id, ok := n.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName && n.Sel.Name == "Sleep" {
						t.Errorf("%s: time.Sleep", where)
					}
				}
				return true
			})
		}
	}
}

// TestPackageDocs checks that every package of the module with non-test
// Go files has a package doc comment.
func TestPackageDocs(t *testing.T) {
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
			return filepath.SkipDir
		}
		files := parseProductionFiles(t, path)
		if len(files) == 0 {
			return nil
		}
		for _, f := range files {
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				return nil
			}
		}
		rel, _ := filepath.Rel(root, path)
		t.Errorf("package %s has no package doc comment", rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
