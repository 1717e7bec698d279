package sophos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// pageSpec is one paged query: the endpoint, its parameters without page
// and size, and the paging scheme (alerts count pages from 1, the inventory
// endpoints from 0).
type pageSpec struct {
	path  string
	query url.Values
	first int
	size  int
	scope string // for messages: "alerts of environment 1234"
	// orFromOne: when page 0 is refused with 400 "Page number should be
	// greater than 0", page from 1 instead (serverless, see Serverless).
	orFromOne bool
}

// pageZeroRefused reports whether err is the documented 400 "Page number
// should be greater than 0" (seed 004: serverless, outgoing traffic).
func pageZeroRefused(err error) bool {
	var ae *httpx.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest &&
		strings.HasPrefix(strings.ToLower(strings.TrimSpace(ae.Message)), "page number should be greater than 0")
}

// maxPages stops a server that keeps answering hasNext with new rows
// forever; at the smallest page size it is 5 million rows.
const maxPages = 100_000

// pages fetches the pages of s one at a time, each spooled to disk and
// its rows yielded as they are decoded, so only one row is in memory. It stops when a page has hasNext false. A page that
// says hasNext but carries no rows is an error (the next one could never
// make progress), and so is a 200 response whose errorMessage is set: an
// empty result there would read as "nothing found" in the evidence.
func pages[T any](ctx context.Context, c *Client, s pageSpec, st *httpx.QueryStats) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		if st != nil {
			st.Queries++
		}
		received := 0 // rows of all pages so far
		guard := httpx.PageGuard{MaxPages: maxPages}
		for n := 0; ; n++ {
			if err := guard.Request(); err != nil {
				yield(*new(T), fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, s.scope, err))
				return
			}
			page := s.first + n
			q := url.Values{}
			for k, v := range s.query {
				q[k] = v
			}
			q.Set("page", strconv.Itoa(page))
			q.Set("size", strconv.Itoa(s.size))
			scope := fmt.Sprintf("%s (page %d)", s.scope, page)
			sp, err := c.spool(ctx, httpx.Request{Path: s.path, Query: q}, scope)
			if err != nil && n == 0 && s.first == 0 && s.orFromOne && pageZeroRefused(err) {
				c.log.Info("page 0 refused: paging from 1", "path", s.path)
				s.first = 1
				n--
				continue
			}
			if err != nil {
				yield(*new(T), err)
				return
			}
			// A server ignoring the page number serves the same body
			// again: caught before any of its rows is passed on.
			if err := guard.Body(sp.Sum); err != nil {
				sp.Close()
				yield(*new(T), fmt.Errorf("sophos tenant %s: %s: %w: %w", c.tenant, scope, ErrPaging, err))
				return
			}
			if st != nil {
				st.Pages++
			}
			// The rows stream as they are decoded; what the page says
			// about itself (errorMessage, hasNext, totalPages) is checked
			// when it ends, and a contradiction fails the query.
			var pg Page[T]
			rows, stopped := 0, false
			d, err := httpx.DecodeEnvelope(sp, httpx.Envelope{
				List: "data",
				Meta: map[string]any{"errorMessage": &pg.ErrorMessage, "hasNext": &pg.HasNext, "totalPages": &pg.TotalPages,
					"totalElements": &pg.TotalElements},
				Record: func(dec *json.Decoder) (bool, error) {
					var v T
					if err := dec.Decode(&v); err != nil {
						return false, err
					}
					if n, ok := any(&v).(rowNormalizer); ok {
						n.normalize()
					}
					if rows++; rows > s.size {
						return false, nil // pageBounds reports it
					}
					stopped = !yield(v, nil)
					return !stopped, nil
				},
			})
			sp.Close()
			if stopped {
				return
			}
			if err != nil {
				yield(*new(T), fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err))
				return
			}
			if pg.ErrorMessage != "" {
				yield(*new(T), fmt.Errorf("sophos tenant %s: %s: the API answered with an error: %s", c.tenant, scope, truncate(pg.ErrorMessage, 300)))
				return
			}
			if err := pageBounds(s, n, rows, pg.HasNext, !d.List, int(pg.TotalPages)); err != nil {
				yield(*new(T), fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err))
				return
			}
			received += rows
			if err := rowBounds(received, pg.HasNext, pg.TotalElements); err != nil {
				yield(*new(T), fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err))
				return
			}
			if !pg.HasNext {
				return
			}
			if rows == 0 {
				yield(*new(T), fmt.Errorf("sophos tenant %s: %s: the API says more pages follow but sent an empty page; stopping to avoid a loop", c.tenant, scope))
				return
			}
		}
	}
}

// ErrPaging means a page contradicts the paging the API announced or
// documented: the rows cannot be called complete.
var ErrPaging = errors.New("inconsistent paging")

// pageBounds checks the n-th page (from 0) of s: it carries "data" (every
// paged sample of seed 004 does: without it, "nothing found" would be
// made up), no more rows than the size asked for, and it agrees with the
// totalPages the API announced: not past it, and not the last before it.
func pageBounds(s pageSpec, n, rows int, hasNext, noData bool, totalPages int) error {
	switch {
	case noData:
		return fmt.Errorf(`%w: response has no "data" (the documented envelope)`, ErrPaging)
	case rows > s.size:
		return fmt.Errorf("%w: more than %d rows in a page of size %d", ErrPaging, s.size, s.size)
	case totalPages > 0 && n+1 > totalPages:
		return fmt.Errorf("%w: page %d of %d announced pages", ErrPaging, n+1, totalPages)
	case totalPages > 0 && !hasNext && n+1 < totalPages:
		return fmt.Errorf("%w: the API announced %d pages (totalPages), %d were delivered", ErrPaging, totalPages, n+1)
	}
	return nil
}

// rowBounds checks the rows received so far against the number of rows the
// API announced (totalElements, when a page carries it: none of seed 004's
// samples does; inferred from Spring Data's Page, whose errors the API
// sends): never more, and exactly that many once the last page is in.
func rowBounds(received int, hasNext bool, announced *Int) error {
	switch {
	case announced == nil:
		return nil
	case int64(received) > int64(*announced):
		return fmt.Errorf("%w: %d rows received, the API announced %d (totalElements)", ErrPaging, received, *announced)
	case !hasNext && int64(received) < int64(*announced):
		return fmt.Errorf("%w: the API announced %d rows (totalElements), %d were delivered", ErrPaging, *announced, received)
	}
	return nil
}
