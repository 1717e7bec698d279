package ibmscc

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// ErrPaging means the API's paging went wrong (a page served again, a cursor
// repeated): the iterator stops rather than loop or duplicate rows.
var ErrPaging = errors.New("ibm_scc: inconsistent paging")

// maxPages bounds a page-number list whose server never says it is done.
const maxPages = 1_000_000

// pageSpec describes a pageNumber/pageSize list.
type pageSpec struct {
	what     string
	path     string
	query    url.Values // without pageNumber and pageSize
	bucket   string
	pageSize int
}

// pages streams the rows of a pageNumber/pageSize list, one row in memory.
// It stops after an empty page, once totalCount rows have come, or, when the
// response has no totalCount, after a short page.
// A page byte-identical to the previous one (a server ignoring pageNumber)
// ends it with ErrPaging.
func pages[T any](ctx context.Context, c *Client, s pageSpec, st *httpx.QueryStats) iter.Seq2[T, error] {
	if st == nil {
		st = &httpx.QueryStats{}
	}
	return func(yield func(T, error) bool) {
		st.Queries++
		guard := httpx.PageGuard{MaxPages: maxPages}
		fetched := int64(0)
		for page := 1; ; page++ {
			if err := guard.Request(); err != nil {
				yield(*new(T), fmt.Errorf("%w: %s: %w", ErrPaging, s.what, err))
				return
			}
			q := url.Values{}
			for k, v := range s.query {
				q[k] = v
			}
			q.Set("pageNumber", strconv.Itoa(page))
			q.Set("pageSize", strconv.Itoa(s.pageSize))
			sp, err := c.getPage(ctx, httpx.Request{Path: s.path, Query: q, Bucket: s.bucket})
			if err != nil {
				yield(*new(T), fmt.Errorf("ibm_scc %s: %s (page %d): %w", c.InstanceID(), s.what, page, err))
				return
			}
			// A server ignoring pageNumber serves the same body again:
			// caught before any of its rows is passed on.
			if err := guard.Body(sp.Sum); err != nil {
				sp.Close()
				yield(*new(T), fmt.Errorf("%w: %s: %w", ErrPaging, s.what, err))
				return
			}
			st.Pages++
			var total FlexInt
			n, stopped, oversized := 0, false, false
			d, err := readPage(sp, "data", map[string]any{"totalCount": &total}, func(v T) bool {
				if n++; n > s.pageSize {
					oversized = true
					return false
				}
				stopped = !yield(v, nil)
				return !stopped
			})
			sp.Close()
			switch {
			case stopped:
				return
			case oversized:
				yield(*new(T), fmt.Errorf("%w: %s (page %d): more than %d rows in a page of size %d", ErrPaging, s.what, page, s.pageSize, s.pageSize))
				return
			case err != nil:
				yield(*new(T), fmt.Errorf("ibm_scc %s: %s (page %d): %w", c.InstanceID(), s.what, page, err))
				return
			case !d.List:
				// Every list sample of seed 002 carries "data": without
				// it, an empty answer would read as "nothing found".
				yield(*new(T), fmt.Errorf(`%w: %s (page %d): response has no "data" (the documented envelope)`, ErrPaging, s.what, page))
				return
			}
			fetched += int64(n)
			// totalCount decides when it is present: a server that caps
			// pageSize below ours sends short pages that are not the last.
			// Without it, a short page is the last.
			switch {
			case total > 0 && fetched > int64(total):
				yield(*new(T), fmt.Errorf("%w: %s: the API announced %d rows (totalCount), page %d brings the count to %d", ErrPaging, s.what, total, page, fetched))
				return
			case total > 0 && n == 0 && fetched < int64(total):
				yield(*new(T), fmt.Errorf("%w: %s: the API announced %d rows (totalCount), %d were delivered", ErrPaging, s.what, total, fetched))
				return
			}
			if n == 0 || total > 0 && fetched >= int64(total) || total <= 0 && n < s.pageSize {
				return
			}
		}
	}
}
