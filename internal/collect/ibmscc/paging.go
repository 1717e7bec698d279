package ibmscc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/source"
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

// pages streams the rows of a pageNumber/pageSize list, one page in memory.
// It stops after an empty page, once totalCount rows have come, or, when the
// response has no totalCount, after a short page.
// A page whose rows are byte-identical to the previous page's (a server
// ignoring pageNumber) ends it with ErrPaging.
func pages[T any](ctx context.Context, c *Client, s pageSpec, st *source.QueryStats) iter.Seq2[T, error] {
	if st == nil {
		st = &source.QueryStats{}
	}
	return func(yield func(T, error) bool) {
		st.Queries++
		var prev [sha256.Size]byte
		fetched := int64(0)
		for page := 1; page <= maxPages; page++ {
			q := url.Values{}
			for k, v := range s.query {
				q[k] = v
			}
			q.Set("pageNumber", strconv.Itoa(page))
			q.Set("pageSize", strconv.Itoa(s.pageSize))
			var lp listPage
			if err := c.getJSON(ctx, httpx.Request{Path: s.path, Query: q, Bucket: s.bucket}, &lp); err != nil {
				yield(*new(T), fmt.Errorf("ibm_scc %s: %s (page %d): %w", c.InstanceID(), s.what, page, err))
				return
			}
			var rows []T
			d := bytes.TrimSpace(lp.Data)
			if len(d) == 0 || bytes.Equal(d, []byte("null")) {
				// Every list sample of seed 002 carries "data": without
				// it, an empty answer would read as "nothing found".
				yield(*new(T), fmt.Errorf(`%w: %s (page %d): response has no "data" (the documented envelope)`, ErrPaging, s.what, page))
				return
			}
			if err := json.Unmarshal(d, &rows); err != nil {
				yield(*new(T), fmt.Errorf("ibm_scc %s: %s (page %d): decode data: %w", c.InstanceID(), s.what, page, err))
				return
			}
			if len(rows) > s.pageSize {
				yield(*new(T), fmt.Errorf("%w: %s (page %d): %d rows in a page of size %d", ErrPaging, s.what, page, len(rows), s.pageSize))
				return
			}
			st.Pages++
			if len(rows) > 0 {
				sum := sha256.Sum256(lp.Data)
				if page > 1 && sum == prev {
					yield(*new(T), fmt.Errorf("%w: %s: page %d repeats page %d", ErrPaging, s.what, page, page-1))
					return
				}
				prev = sum
			}
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
			fetched += int64(len(rows))
			// totalCount decides when it is present: a server that caps
			// pageSize below ours sends short pages that are not the last.
			// Without it, a short page is the last.
			total := int64(lp.TotalCount)
			switch {
			case total > 0 && fetched > total:
				yield(*new(T), fmt.Errorf("%w: %s: the API announced %d rows (totalCount), page %d brings the count to %d", ErrPaging, s.what, total, page, fetched))
				return
			case total > 0 && len(rows) == 0 && fetched < total:
				yield(*new(T), fmt.Errorf("%w: %s: the API announced %d rows (totalCount), %d were delivered", ErrPaging, s.what, total, fetched))
				return
			}
			if len(rows) == 0 || total > 0 && fetched >= total || total <= 0 && len(rows) < s.pageSize {
				return
			}
		}
		yield(*new(T), fmt.Errorf("%w: %s: more than %d pages", ErrPaging, s.what, maxPages))
	}
}

// fail returns an iterator that yields err once.
func fail[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) { yield(*new(T), err) }
}
