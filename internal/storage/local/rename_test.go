package local

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Both ways of renaming without replacing: renameat2 and the fallback.
func TestRenameNoReplace(t *testing.T) {
	for _, try := range []bool{true, false} {
		dir := t.TempDir()
		p := func(name string) string { return filepath.Join(dir, name) }
		write := func(name, content string) {
			if err := os.WriteFile(p(name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("src", "new")
		write("dst", "old")
		if err := renameNoReplace(p("src"), p("dst"), try); !errors.Is(err, fs.ErrExist) {
			t.Errorf("renameat2=%v: file onto file = %v, want ErrExist", try, err)
		}
		if b, _ := os.ReadFile(p("dst")); string(b) != "old" {
			t.Errorf("renameat2=%v: target replaced: %q", try, b)
		}
		if err := renameNoReplace(p("src"), p("fresh"), try); err != nil {
			t.Errorf("renameat2=%v: file to a free name: %v", try, err)
		}
		if _, err := os.Stat(p("src")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("renameat2=%v: the old name is still there: %v", try, err)
		}

		for _, d := range []string{"stage", "emptydst", "fulldst"} {
			if err := os.Mkdir(p(d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		write("fulldst/x", "x")
		for _, dst := range []string{"emptydst", "fulldst"} {
			if err := renameNoReplace(p("stage"), p(dst), try); !errors.Is(err, fs.ErrExist) {
				t.Errorf("renameat2=%v: directory onto %s = %v, want ErrExist", try, dst, err)
			}
		}
		if err := renameNoReplace(p("stage"), p("final"), try); err != nil {
			t.Errorf("renameat2=%v: directory to a free name: %v", try, err)
		}
	}
}

// The system call itself, where the platform has it: the fallback must not
// hide a broken renameat2.
func TestRenameat2(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, f := range []string{a, b} {
		if err := os.WriteFile(f, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := renameat2NoReplace(a, b)
	if errors.Is(err, errNoRenameat2) {
		t.Skip("no renameat2 on this platform; the fallback is tested above")
	}
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("renameat2 onto an existing file = %v, want EEXIST", err)
	}
	if err := renameat2NoReplace(a, filepath.Join(dir, "c")); err != nil {
		t.Fatalf("renameat2 to a free name: %v", err)
	}
}
