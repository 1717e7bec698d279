package demo_test

import (
	"errors"
	"go/build"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/evidence-pack/evidence"

// infrastructure reports whether pkg is test and demo infrastructure: an
// API emulator, their shared kit, or this package that wires them.
func infrastructure(pkg string) bool {
	return strings.HasPrefix(pkg, module+"/internal/collect/") && strings.HasSuffix(pkg, "/emulator") ||
		pkg == module+"/internal/collect/emulatorkit" || pkg == module+"/internal/demo"
}

// The emulators are test and demo infrastructure: no production package
// links one in (internal/source least of all), directly or through another
// package, and the demo command reaches them through this package alone,
// so they are wired in one place. Tests may import them.
func TestEmulatorsStayOutOfProduction(t *testing.T) {
	imports := moduleImports(t)
	if len(imports) < 20 {
		t.Fatalf("found %d packages; expected the whole module", len(imports))
	}
	for _, pkg := range slices.Sorted(maps.Keys(imports)) {
		switch {
		case infrastructure(pkg):
		case pkg == module+"/cmd/evidence":
			// The demo command: emulators through internal/demo only.
			for _, imp := range imports[pkg] {
				if infrastructure(imp) && imp != module+"/internal/demo" {
					t.Errorf("%s imports %s: wire emulators in internal/demo, the one place", pkg, imp)
				}
			}
		default:
			for _, dep := range deps(imports, pkg) {
				if infrastructure(dep) {
					t.Errorf("%s depends on %s: emulators are test and demo infrastructure, for tests and cmd/evidence (through internal/demo) only", pkg, dep)
				}
			}
		}
	}
}

// moduleImports returns the module's imports of its own packages, per
// package, from their non-test files as this platform builds them. It reads
// the files in this process (go/build), not through `go list`, so that go
// test's cache sees every file and directory the verdict depends on.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	out := map[string][]string{}
	err = filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); dir != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(dir, 0)
		if errors.As(err, new(*build.NoGoError)) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return err
		}
		var own []string
		for _, imp := range p.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				own = append(own, imp)
			}
		}
		out[path.Join(module, filepath.ToSlash(rel))] = own
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deps returns pkg's transitive imports within the module.
func deps(imports map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, imp := range imports[p] {
			if !seen[imp] {
				seen[imp] = true
				walk(imp)
			}
		}
	}
	walk(pkg)
	return slices.Sorted(maps.Keys(seen))
}
