package lacework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/period"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// ErrOutOfHistory means a period starts before the API keeps data.
var ErrOutOfHistory = errors.New("lacework: period is older than the API keeps")

// ErrResultCap means a result set still reached the row cap after splitting
// as far as allowed.
var ErrResultCap = errors.New("lacework: result set exceeds the API's row cap")

// EvaluationQuery selects compliance evaluations.
type EvaluationQuery struct {
	Dataset string // AwsCompliance, AzureCompliance, GcpCompliance, K8sCompliance
	Window  period.Window
	Filters []Filter
	Stats   *httpx.QueryStats // optional
}

// Evaluations streams the compliance evaluations of q. Periods longer than
// the API's 7-day window are split; a period that starts more than 90 days
// ago is refused with ErrOutOfHistory before any request.
func (c *Client) Evaluations(ctx context.Context, q EvaluationQuery) iter.Seq2[Evaluation, error] {
	if !slices.Contains(EvaluationDatasets(), q.Dataset) {
		return httpx.Fail[Evaluation](fmt.Errorf("lacework %s: unknown compliance dataset %q (want one of %v)", c.Name(), q.Dataset, EvaluationDatasets()))
	}
	now := c.opts.Now().UTC()
	if earliest := now.Add(-c.limits.EvaluationHistory); q.Window.From.Before(earliest) {
		return httpx.Fail[Evaluation](fmt.Errorf("%w: %s %s: the period starts %s, but compliance evaluations are kept %d days (earliest %s); choose a later --from",
			ErrOutOfHistory, c.Name(), q.Dataset, formatTime(q.Window.From), int(c.limits.EvaluationHistory.Hours()/24), formatTime(earliest)))
	}
	w := q.Window
	if w.To.After(now) {
		w.To = now
	}
	s := searchSpec{
		what:   "compliance evaluations " + q.Dataset,
		bucket: pathEvaluations,
		request: func(w period.Window) (httpx.Request, error) {
			return postSearch(pathEvaluations, searchBody{
				TimeFilter: timeFilter{StartTime: formatTime(w.From), EndTime: formatTime(w.To)},
				Filters:    q.Filters,
				Dataset:    q.Dataset,
			})
		},
		splitTime: true,
	}
	return search[Evaluation](ctx, c, s, w.Split(c.limits.EvaluationWindow), q.Stats)
}

// InventoryQuery selects the inventory snapshot of one cloud.
type InventoryQuery struct {
	CSP    string        // AWS, Azure or GCP
	Window period.Window // the snapshot is the last collection inside it
	// Accounts, when set, let a snapshot that reaches the row cap be
	// re-queried one cloud account at a time (filter cloudDetails.accountID):
	// a snapshot cannot be split by time, since every part of the period
	// would return its own, overlapping snapshot.
	Accounts []string
	Stats    *httpx.QueryStats
}

// Inventory streams the resources of the last inventory collection in
// q.Window.
func (c *Client) Inventory(ctx context.Context, q InventoryQuery) iter.Seq2[Resource, error] {
	if !slices.Contains(InventoryCSPs(), q.CSP) {
		return httpx.Fail[Resource](fmt.Errorf("lacework %s: unknown inventory csp %q (want one of %v)", c.Name(), q.CSP, InventoryCSPs()))
	}
	body := func(filters []Filter) func(period.Window) (httpx.Request, error) {
		return func(w period.Window) (httpx.Request, error) {
			return postSearch(pathInventory, searchBody{
				TimeFilter: timeFilter{StartTime: formatTime(w.From), EndTime: formatTime(w.To)},
				Filters:    filters,
				CSP:        q.CSP,
			})
		}
	}
	s := searchSpec{what: "inventory " + q.CSP, bucket: pathInventory, request: body(nil)}
	for _, a := range q.Accounts {
		s.parts = append(s.parts, part{"cloudDetails.accountID eq " + a, body([]Filter{{Field: "cloudDetails.accountID", Expression: "eq", Value: a}})})
	}
	return search[Resource](ctx, c, s, q.Window.Split(0), q.Stats)
}

// AuditLogQuery selects the audit log of the (sub-)account.
type AuditLogQuery struct {
	Window period.Window
	Stats  *httpx.QueryStats
}

// AuditLogs streams the audit log entries of q.Window
// (GET /api/v2/AuditLogs?startTime&endTime), one result set per
// AuditWindow. The document's samples of this endpoint carry no paging, and
// "No pagination is available for an API if the paging field is missing";
// how such an answer ends is not documented. So an answer without paging
// that holds PageRows rows or more is taken as possibly cut: it is dropped
// before any row is passed on and its window re-run as two halves, down to
// MinWindow. Pages are followed if a server does send them.
func (c *Client) AuditLogs(ctx context.Context, q AuditLogQuery) iter.Seq2[AuditLog, error] {
	s := searchSpec{
		what:   "audit logs",
		bucket: pathAuditLogs,
		request: func(w period.Window) (httpx.Request, error) {
			return httpx.Request{Method: http.MethodGet, Path: pathAuditLogs, Bucket: pathAuditLogs,
				Query: url.Values{"startTime": {formatTime(w.From)}, "endTime": {formatTime(w.To)}}}, nil
		},
		splitTime: true,
	}
	return search[AuditLog](ctx, c, s, q.Window.Split(c.limits.AuditWindow), q.Stats)
}

func postSearch(path string, b searchBody) (httpx.Request, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return httpx.Request{}, err
	}
	if len(body) > MaxPostBody {
		return httpx.Request{}, fmt.Errorf("lacework: search body of %d bytes exceeds the API's 1 MB limit", len(body))
	}
	return httpx.Request{Method: http.MethodPost, Path: path, Body: body, Bucket: path}, nil
}

// searchSpec describes a paged query and how to cut it when a result set
// reaches the row cap: by time (splitTime) or into parts (filters).
type searchSpec struct {
	what      string
	bucket    string
	request   func(period.Window) (httpx.Request, error)
	splitTime bool
	parts     []part
}

// part is one part of a snapshot split by a filter.
type part struct {
	filter  string // for the manifest: "cloudDetails.accountID eq 123"
	request func(period.Window) (httpx.Request, error)
}

type job struct {
	w       period.Window
	request func(period.Window) (httpx.Request, error)
	filter  string // set for a part
}

// search runs one result set per window, in order. A result set whose first
// page reports totalRows at the cap is dropped before any of its rows is
// yielded, and re-queried as two halves of its window (or as its parts), so
// no row is lost or yielded twice.
func search[T any](ctx context.Context, c *Client, s searchSpec, windows []period.Window, st *httpx.QueryStats) iter.Seq2[T, error] {
	if st == nil {
		st = &httpx.QueryStats{}
	}
	return func(yield func(T, error) bool) {
		var stack []job
		for i := len(windows) - 1; i >= 0; i-- {
			stack = append(stack, job{w: windows[i], request: s.request})
		}
		// learned is the longest window a split has shown to be needed:
		// the windows still to come start at that length, rather than
		// each being sent whole, dropped and split again.
		var learned time.Duration
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if learned > 0 && j.filter == "" && j.w.To.Sub(j.w.From) > learned {
				parts := j.w.Split(learned)
				for i := len(parts) - 1; i >= 0; i-- {
					stack = append(stack, job{w: parts[i], request: j.request})
				}
				continue
			}
			req, err := j.request(j.w)
			if err != nil {
				yield(*new(T), err)
				return
			}
			st.Queries++
			announced(st)
			p := &pager[T]{c: c, first: req, what: s.what, stats: st}
			// A result set at the row cap, or an answer without paging
			// as long as a full page (maybe cut), is dropped before any
			// of its rows is passed on and run again in parts.
			// What a kept result set holds is counted once its first page
			// is accepted, so that a caller who stops after the first row
			// (a plan's probe) still reads the announced size.
			counted := false
			atCap := func(listed int) error {
				if p.announced && p.total >= c.limits.ResultCap || !p.announced && listed >= c.limits.PageRows {
					return errAtCap
				}
				switch {
				case p.announced:
					st.Total += p.total
					st.Announced += p.total
				case listed >= 0:
					st.Total += listed
					st.Unannounced++
					counted = true
				default:
					st.Unannounced++
				}
				announced(st)
				return nil
			}
			row := func(r T) bool { return yield(r, nil) }
			more, stopped, err := p.NextPage(ctx, atCap, row)
			if errors.Is(err, errAtCap) {
				next, err := split(s, j, c.limits, p.announced)
				if err != nil {
					yield(*new(T), fmt.Errorf("lacework %s: %s %s: %w", c.Name(), s.what, j.w, err))
					return
				}
				st.Splits++
				announced(st)
				if s.splitTime {
					learned = next[0].w.To.Sub(next[0].w.From)
				}
				c.log.Info("result set at the row cap; re-querying in parts", "query", s.what, "window", j.w.String(), "total_rows", p.total, "parts", len(next))
				for i := len(next) - 1; i >= 0; i-- {
					stack = append(stack, next[i])
				}
				continue
			}
			for err == nil && !stopped && more {
				more, stopped, err = p.NextPage(ctx, nil, row)
			}
			if stopped {
				return
			}
			if err != nil {
				page := ""
				if p.pages > 1 {
					page = fmt.Sprintf(" (page %d)", p.pages)
				}
				yield(*new(T), fmt.Errorf("lacework %s: %s %s%s: %w", c.Name(), s.what, j.w, page, err))
				return
			}
			// The last page came: the result set must hold what its first
			// page announced, or rows are missing (or doubled).
			if p.announced && p.rows != p.total {
				yield(*new(T), fmt.Errorf("lacework %s: %s %s: %w: the API announced %d rows (totalRows), %d were delivered in %d pages",
					c.Name(), s.what, j.w, ErrShortResult, p.total, p.rows, p.pages))
				return
			}
			if !p.announced && !counted {
				st.Total += p.rows
			}
			st.Parts = append(st.Parts, httpx.Part{From: j.w.From, To: j.w.To, Filter: j.filter, Rows: p.rows, Announced: p.total, HasAnnounced: p.announced})
		}
	}
}

// announced records whether every result set kept so far announced its
// size (paging.totalRows): only then is st.Announced the API's own count.
func announced(st *httpx.QueryStats) {
	st.HasAnnounced = st.Unannounced == 0 && st.Queries > st.Splits
}

// errAtCap ends a result set's first page, before any of its rows is
// passed on, when its totalRows reaches the row cap.
var errAtCap = errors.New("result set at the row cap")

func split(s searchSpec, j job, l Limits, announced bool) ([]job, error) {
	switch {
	case s.splitTime && j.w.To.Sub(j.w.From) >= 2*l.MinWindow:
		mid := j.w.From.Add(j.w.To.Sub(j.w.From) / 2).Truncate(time.Second)
		if !mid.After(j.w.From) {
			mid = j.w.From.Add(j.w.To.Sub(j.w.From) / 2)
		}
		return []job{
			{w: period.Window{From: j.w.From, To: mid}, request: j.request},
			{w: period.Window{From: mid, To: j.w.To}, request: j.request},
		}, nil
	case len(s.parts) > 0 && j.filter == "":
		out := make([]job, len(s.parts))
		for i, p := range s.parts {
			out[i] = job{w: j.w, request: p.request, filter: p.filter}
		}
		return out, nil
	}
	if !announced {
		return nil, fmt.Errorf("%w: an answer without paging held %d rows or more (a full page) in a window of %s, so it may have been cut, and the window cannot be split further",
			ErrResultCap, l.PageRows, j.w.To.Sub(j.w.From))
	}
	return nil, fmt.Errorf("%w (%d rows) and cannot be split further; narrow the period or the scope", ErrResultCap, l.ResultCap)
}

// pager follows paging.urls.nextPage with GET and the same headers, only on
// the configured host, and never fetches the same URL twice. Each page is
// spooled to disk and its rows decoded one at a time, so a page costs one
// row of memory, whatever its size.
//
// It also bounds a result set by what the API announced and documented: a
// page of more than PageRows rows, more rows than totalRows, more pages
// than totalRows needs, or (without a total) more rows than the result-set
// cap end it with an error. Endless next pages cannot hold a run.
type pager[T any] struct {
	c         *Client
	first     httpx.Request
	what      string
	next      string
	pages     int // pages whose rows were passed on
	rows      int
	total     int
	announced bool            // the first page carried paging.totalRows
	guard     httpx.PageGuard // next pages named twice
	stats     *httpx.QueryStats
}

// ErrShortResult means a result set did not deliver the rows it announced,
// or delivered more: its data cannot be called complete.
var ErrShortResult = errors.New("result set does not match its announced size")

// NextPage fetches the next page and passes its rows to row. On the first
// page, accept (when set) runs once paging is known and before any row,
// with the page's row count when it is known then (an answer without
// paging, -1 otherwise): its error ends the page. more tells whether a next page is named;
// stopped, that row returned false.
func (p *pager[T]) NextPage(ctx context.Context, accept func(listed int) error, row func(T) bool) (more, stopped bool, err error) {
	req := p.first
	if p.pages > 0 {
		// Checked here, not when the page that named it arrived, so the
		// rows of that page are still delivered before the refusal.
		next, err := p.c.nextPageURL(p.next)
		if err != nil {
			return false, false, fmt.Errorf("refusing next page: %w", err)
		}
		req = httpx.Request{Method: http.MethodGet, URL: next, Bucket: p.first.Bucket}
	}
	sp, err := p.c.http.SpoolPage(ctx, p.c.opts.SpoolDir, req)
	if err != nil {
		return false, false, p.c.wrap(err)
	}
	defer sp.Close()
	var paging *Paging
	n := 0
	var bound error
	d, err := httpx.DecodeEnvelope(sp, httpx.Envelope{
		List: "data",
		Meta: map[string]any{"paging": &paging},
		Ready: func(listed int) error {
			if p.pages == 0 {
				if paging != nil {
					p.total, p.announced = paging.TotalRows, true
				}
				if accept != nil {
					if err := accept(listed); err != nil {
						return err
					}
				}
			}
			p.pages++
			p.stats.Pages++
			return nil
		},
		Record: func(dec *json.Decoder) (bool, error) {
			var v T
			if err := dec.Decode(&v); err != nil {
				return false, err
			}
			n++
			p.rows++
			p.stats.Rows++
			if bound = p.bounds(n); bound != nil {
				return false, nil
			}
			return row(v), nil
		},
	})
	switch {
	case bound != nil:
		return false, false, bound
	case err != nil:
		return false, false, err
	case d.Stopped:
		return false, true, nil
	case !d.List:
		return false, false, ErrNoEnvelope
	}
	p.next = ""
	if paging != nil {
		if next := paging.URLs.NextPage; next != nil && *next != "" {
			if err := p.guard.Cursor("next page", *next); err != nil {
				return false, false, fmt.Errorf("%w: %s", err, p.c.redactURL(*next))
			}
			p.next = *next
		}
	}
	if n == 0 && p.next != "" {
		// Every page but the last brings rows, so pages never outnumber
		// rows and the limits on rows bound the pages too.
		return false, false, fmt.Errorf("%w: page %d is empty, yet names a next page", ErrShortResult, p.pages)
	}
	return p.next != "", false, nil
}

// bounds checks the rows so far, n of them in this page, against the
// documented limits and the announced total.
func (p *pager[T]) bounds(n int) error {
	l := p.c.limits
	switch {
	case n > l.PageRows:
		return fmt.Errorf("%w: page %d holds more than %d rows, the API's documented page limit", ErrShortResult, p.pages, l.PageRows)
	case p.announced && p.rows > p.total:
		return fmt.Errorf("%w: the API announced %d rows (totalRows), page %d brings the count past it", ErrShortResult, p.total, p.pages)
	case p.rows > l.ResultCap:
		return fmt.Errorf("%w: more than %d rows in %d pages pass the documented cap of a result set", ErrShortResult, l.ResultCap, p.pages)
	}
	return nil
}

// nextPageURL is where a next page named ref is fetched. A URL on the
// configured base is used as it is. One on the account's documented host
// (https://<account>.lacework.net) while the base is another name for it (a
// regional host, a proxy) is fetched from the base with its path and query:
// lacework/go-sdk likewise keeps only a next page's path and query (issue
// 15). Any other host is refused, and the error says what to set when that
// host is the account's real API.
func (c *Client) nextPageURL(ref string) (string, error) {
	_, err := c.http.Resolve(ref)
	if err == nil {
		return ref, nil
	}
	u, perr := url.Parse(ref)
	if perr != nil || u.User != nil {
		return "", err
	}
	documented := c.creds.AccountName() + ".lacework.net"
	if strings.EqualFold(u.Scheme, "https") && strings.EqualFold(u.Hostname(), documented) && (u.Port() == "" || u.Port() == "443") {
		b := c.http.Base()
		b.Path = strings.TrimRight(b.Path, "/") + u.Path
		b.RawPath, b.RawQuery, b.Fragment = "", u.RawQuery, ""
		return b.String(), nil
	}
	return "", fmt.Errorf("%w; the API names its next pages on %s://%s: if that host serves your account, set the tenant's Lacework api_url (LW_API_URL) to %s://%s",
		err, u.Scheme, u.Host, u.Scheme, u.Host)
}

// redactURL keeps scheme, host and path of a URL for messages.
func (c *Client) redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}
