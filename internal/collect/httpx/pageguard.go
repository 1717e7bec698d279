package httpx

import (
	"crypto/sha256"
	"fmt"
)

// PageGuard stops a paging loop that would repeat itself or never end. A
// pager keeps one per list (the zero value, with MaxPages when it wants a
// bound on pages) and asks it:
//   - Request, before it requests a page: more than MaxPages pages fail;
//   - Body, with each page's SHA-256 (Spooled.Sum) before any of its rows
//     is passed on: a page byte-identical to the one before it (a server
//     ignoring the page parameter) fails;
//   - Cursor, with each next-page cursor a page names (a URL, a token): a
//     cursor named before fails, since it would read the same pages again.
//
// Its errors say what went wrong and nothing else: the pager adds its list,
// its page and its own sentinel. A pager that bounds its rows (an
// announced total, a documented cap) and refuses an empty page naming a
// next one needs no MaxPages: its pages cannot outnumber its rows.
type PageGuard struct {
	MaxPages int // 0: no bound on pages

	requested int
	bodies    int
	prev      [sha256.Size]byte
	cursors   map[string]bool
}

// Request counts a page about to be requested.
func (g *PageGuard) Request() error {
	if g.MaxPages > 0 && g.requested >= g.MaxPages {
		return fmt.Errorf("more than %d pages; stopping", g.MaxPages)
	}
	g.requested++
	return nil
}

// Body checks a received page's SHA-256 against the page before it.
func (g *PageGuard) Body(sum [sha256.Size]byte) error {
	if g.bodies > 0 && sum == g.prev {
		return fmt.Errorf("page %d repeats page %d", g.bodies+1, g.bodies)
	}
	g.bodies++
	g.prev = sum
	return nil
}

// Cursor records the cursor a page names for the next one; name says what
// it is ("continuation_token", "next page") in the error.
func (g *PageGuard) Cursor(name, cursor string) error {
	if g.cursors[cursor] {
		return fmt.Errorf("the API returned the same %s twice; stopping to avoid a loop", name)
	}
	if g.cursors == nil {
		g.cursors = map[string]bool{}
	}
	g.cursors[cursor] = true
	return nil
}
