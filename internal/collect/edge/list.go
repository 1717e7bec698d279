package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// Window is a half-open time range [From, To).
type Window struct{ From, To time.Time }

func (w Window) String() string {
	return w.From.UTC().Format(time.RFC3339) + "/" + w.To.UTC().Format(time.RFC3339)
}

// Split cuts w into consecutive windows of at most max (all of w when max <= 0).
func (w Window) Split(max time.Duration) []Window {
	if !w.From.Before(w.To) {
		return nil
	}
	if max <= 0 {
		return []Window{w}
	}
	var out []Window
	for from := w.From; from.Before(w.To); from = from.Add(max) {
		to := from.Add(max)
		if to.After(w.To) {
			to = w.To
		}
		out = append(out, Window{From: from, To: to})
	}
	return out
}

// QueryStats is what one list did; the iterator fills it as it runs (read
// it after the loop ends).
type QueryStats struct {
	Pages   int // responses received
	Rows    int // records yielded
	Queries int // lists started (one per audit window)
	Dropped int // audit events outside the asked window, not yielded
}

// Users streams the account's users of every status the document lets a
// filter name (INIT, ACTIVE, SUSPENDED). st may be nil.
func (c *Client) Users(ctx context.Context, st *QueryStats) iter.Seq2[User, error] {
	return listAll[User](ctx, c, listSpec{what: "users", path: c.paths.Users, key: "users",
		query: url.Values{paramStatus: {allStatuses}}}, st)
}

// Groups streams the account's groups (INIT, ACTIVE, SUSPENDED).
func (c *Client) Groups(ctx context.Context, st *QueryStats) iter.Seq2[Group, error] {
	return listAll[Group](ctx, c, listSpec{what: "groups", path: c.paths.Groups, key: "groups",
		query: url.Values{paramStatus: {allStatuses}}}, st)
}

// Apps streams the account's apps (INIT, ACTIVE, SUSPENDED).
func (c *Client) Apps(ctx context.Context, st *QueryStats) iter.Seq2[App, error] {
	return listAll[App](ctx, c, listSpec{what: "apps", path: c.paths.Apps, key: "apps",
		query: url.Values{paramStatus: {allStatuses}}}, st)
}

// Accesses streams every access object (access policy). The document marks
// appid and userid as required; they are sent empty, which selects all.
// The apps, groups and users the response may also carry are skipped
// without being held in memory.
func (c *Client) Accesses(ctx context.Context, st *QueryStats) iter.Seq2[Access, error] {
	return listAll[Access](ctx, c, listSpec{what: "access policies", path: c.paths.Accesses, key: "accesses",
		query: url.Values{paramAppID: {""}, paramUserID: {""}}}, st)
}

// AuditQuery selects audit events.
type AuditQuery struct {
	Window Window
	Stats  *QueryStats // optional
}

// AuditEvents streams the audit events created in q.Window, querying
// consecutive windows of at most Limits.AuditWindow (start_time and
// end_time in epoch milliseconds). Events the server returns outside a
// window are dropped (counted in Stats.Dropped), so consecutive windows
// never yield an event twice whatever the server's end-time semantics.
func (c *Client) AuditEvents(ctx context.Context, q AuditQuery) iter.Seq2[AuditEvent, error] {
	st := q.Stats
	if st == nil {
		st = &QueryStats{}
	}
	return func(yield func(AuditEvent, error) bool) {
		for _, w := range q.Window.Split(c.limits.AuditWindow) {
			s := listSpec{what: "audit events " + w.String(), path: c.paths.AuditEvents, key: "audit_events",
				query: url.Values{
					paramStartTime: {strconv.FormatInt(w.From.UnixMilli(), 10)},
					paramEndTime:   {strconv.FormatInt(w.To.UnixMilli(), 10)},
				}}
			dropped := 0
			for ev, err := range listAll[AuditEvent](ctx, c, s, st) {
				if err != nil {
					yield(AuditEvent{}, err)
					return
				}
				if t := ev.CreateTime.Time; t.Before(w.From) || !t.Before(w.To) {
					st.Rows--
					st.Dropped++
					dropped++
					continue
				}
				if !yield(ev, nil) {
					return
				}
			}
			if dropped > 0 {
				c.log.Debug("audit events outside the window dropped", "window", w.String(), "rows", dropped)
			}
		}
	}
}

// maxListRows bounds one list: the document announces no totals, so a
// server naming new continuation tokens forever is stopped here. Our
// choice: a million users, apps or audit events of one window is far past
// any Edge account (audit windows are split to keep each list small).
const maxListRows = 1_000_000

// listSpec is one list operation.
type listSpec struct {
	what  string     // for messages: "users"
	path  string     // request path
	key   string     // the JSON key of the records' array
	query url.Values // parameters of every page
}

// listAll pages through a list: each response is spooled to disk and
// decoded one record at a time; a non-empty continuation_token asks for the
// next page with the same parameters. A token seen twice ends the list with
// an error.
func listAll[T any](ctx context.Context, c *Client, s listSpec, st *QueryStats) iter.Seq2[T, error] {
	if st == nil {
		st = &QueryStats{}
	}
	return func(yield func(T, error) bool) {
		st.Queries++
		listStart := st.Rows
		seen := map[string]bool{}
		token := ""
		for page := 1; ; page++ {
			q := maps.Clone(s.query)
			if q == nil {
				q = url.Values{}
			}
			if token != "" {
				q.Set(paramContinuation, token)
			}
			req := httpx.Request{Method: http.MethodGet, Path: s.path, Query: q, Bucket: http.MethodGet + " " + s.path}
			sp, err := c.http.Spool(ctx, c.opts.SpoolDir, req)
			if err != nil {
				yield(*new(T), c.wrap(s.what, page, err))
				return
			}
			st.Pages++
			rowsBefore := st.Rows
			stopped := false
			next, err := decodePage(sp, s.key, func(v T) bool {
				st.Rows++
				if !yield(v, nil) {
					stopped = true
					return false
				}
				return true
			})
			closeErr := sp.Close()
			if stopped {
				return
			}
			if err == nil && closeErr != nil {
				err = closeErr
			}
			if err != nil {
				yield(*new(T), fmt.Errorf("lacework edge %s: %s (page %d): %w", c.creds.Account, s.what, page, err))
				return
			}
			if next == "" {
				return
			}
			if n := st.Rows - rowsBefore; n == 0 {
				yield(*new(T), fmt.Errorf("lacework edge %s: %s (page %d): the API sent an empty page with a continuation_token; stopping to avoid a loop",
					c.creds.Account, s.what, page))
				return
			}
			if st.Rows-listStart > maxListRows {
				yield(*new(T), fmt.Errorf("lacework edge %s: %s (page %d): more than %d records and the API still names a next page; stopping",
					c.creds.Account, s.what, page, maxListRows))
				return
			}
			if seen[next] {
				yield(*new(T), fmt.Errorf("lacework edge %s: %s (page %d): the API returned the same continuation_token twice; stopping to avoid a loop",
					c.creds.Account, s.what, page))
				return
			}
			seen[next] = true
			token = next
		}
	}
}

// errDecode marks a response that is not the expected JSON shape.
var errDecode = httpx.ErrDecode

// decodePage reads one list response, {"<key>": [records...],
// "continuation_token": "..."} in any key order with any other keys, and
// calls fn for each record, stopping when fn returns false. It returns the
// continuation token. Other keys are skipped token by token, so a large
// sibling array (the apps, groups and users of an access query) is never
// held in memory. A missing or null array is an empty list (protobuf's JSON
// mapping omits empty repeated fields).
func decodePage[T any](r io.ReadSeeker, key string, fn func(T) bool) (next string, err error) {
	var token *string
	d, err := httpx.DecodeEnvelope(r, httpx.Envelope{
		List: key,
		Meta: map[string]any{paramContinuation: &token},
		Record: func(dec *json.Decoder) (bool, error) {
			var v T
			if err := dec.Decode(&v); err != nil {
				return false, err
			}
			return fn(v), nil
		},
	})
	if err != nil || d.Stopped || token == nil {
		return "", err
	}
	return *token, nil
}
