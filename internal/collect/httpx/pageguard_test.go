package httpx

import (
	"crypto/sha256"
	"strings"
	"testing"
)

// The guard refuses the page past MaxPages before it is requested, a page
// byte-identical to the one before it, and a cursor named twice; anything
// else passes.
func TestPageGuard(t *testing.T) {
	t.Run("page bound", func(t *testing.T) {
		g := PageGuard{MaxPages: 2}
		if g.Request() != nil || g.Request() != nil {
			t.Fatal("the first two pages refused")
		}
		if err := g.Request(); err == nil || !strings.Contains(err.Error(), "more than 2 pages") {
			t.Fatalf("third page: %v", err)
		}
		var unbounded PageGuard
		for range 1000 {
			if err := unbounded.Request(); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("repeated body", func(t *testing.T) {
		var g PageGuard
		a, b := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
		if g.Body(a) != nil || g.Body(b) != nil || g.Body(a) != nil {
			t.Fatal("distinct consecutive pages refused")
		}
		if err := g.Body(a); err == nil || !strings.Contains(err.Error(), "page 4 repeats page 3") {
			t.Fatalf("repeat: %v", err)
		}
	})
	t.Run("repeated cursor", func(t *testing.T) {
		var g PageGuard
		if g.Cursor("token", "t1") != nil || g.Cursor("token", "t2") != nil {
			t.Fatal("new cursors refused")
		}
		if err := g.Cursor("token", "t1"); err == nil || !strings.Contains(err.Error(), "same token twice") {
			t.Fatalf("repeat: %v", err)
		}
	})
}
