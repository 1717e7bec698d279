package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/evidence-pack/evidence/internal/period"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// Users streams the account's users of every status the document lets a
// filter name (INIT, ACTIVE, SUSPENDED). st may be nil.
func (c *Client) Users(ctx context.Context, st *httpx.QueryStats) iter.Seq2[User, error] {
	return listAll[User](ctx, c, listSpec{what: "users", path: c.paths.Users, key: "users",
		query: url.Values{paramStatus: {allStatuses}}}, st)
}

// Groups streams the account's groups (INIT, ACTIVE, SUSPENDED).
func (c *Client) Groups(ctx context.Context, st *httpx.QueryStats) iter.Seq2[Group, error] {
	return listAll[Group](ctx, c, listSpec{what: "groups", path: c.paths.Groups, key: "groups",
		query: url.Values{paramStatus: {allStatuses}}}, st)
}

// Apps streams the account's apps (INIT, ACTIVE, SUSPENDED).
func (c *Client) Apps(ctx context.Context, st *httpx.QueryStats) iter.Seq2[App, error] {
	return listAll[App](ctx, c, listSpec{what: "apps", path: c.paths.Apps, key: "apps",
		query: url.Values{paramStatus: {allStatuses}}}, st)
}

// Accesses streams every access object that applies to at least one
// (app, user) pair of the directory, once each. The document's Query
// access objects is a lookup, not a listing: appid and userid are both
// required ("get the access rules that apply to this app id / user id").
// So the apps and users are listed (every status, see Apps and Users) and
// each pair is looked up; what the pairs return is deduplicated by uuid.
// An access object that applies to no listed pair (every user revoked,
// only selectors that match nobody, an app not listed) cannot be reached
// through the documented operations and is not yielded. The apps, groups
// and users a response also carries are skipped without being held in
// memory.
func (c *Client) Accesses(ctx context.Context, st *httpx.QueryStats) iter.Seq2[Access, error] {
	return lookupPairs(ctx, c, listSpec{what: "access objects", path: c.paths.Accesses, key: "accesses"},
		func(a Access) string { return a.UUID }, st)
}

// Policies streams every policy (the product's access policies: action,
// session and app filters, status) that applies to at least one (app,
// user) pair, once each, as Accesses does: Query policies requires appid,
// userid and resolveDisplayNames. Display names are asked for
// (resolveDisplayNames=true: inferred, the document types the parameter as
// a string and gives no values), so that filter_selector_display_names
// names the filters' selectors.
func (c *Client) Policies(ctx context.Context, st *httpx.QueryStats) iter.Seq2[Policy, error] {
	return lookupPairs(ctx, c, listSpec{what: "policies", path: c.paths.Policies, key: "policies",
		query: url.Values{paramResolveNames: {"true"}}}, func(p Policy) string { return p.UUID }, st)
}

// ErrTooManyLookups means the directory has more (app, user) pairs than
// Limits.MaxLookups allows.
var ErrTooManyLookups = errors.New("lacework edge: too many (app, user) lookups")

// lookupPairs lists the app and user uuids (held in memory: ids only, the
// records stream), then looks every pair up with s, yielding each record
// the first time its id is seen.
func lookupPairs[T any](ctx context.Context, c *Client, s listSpec, id func(T) string, st *httpx.QueryStats) iter.Seq2[T, error] {
	if st == nil {
		st = &httpx.QueryStats{}
	}
	return func(yield func(T, error) bool) {
		var apps, users []string
		for a, err := range c.Apps(ctx, st) {
			if err != nil {
				yield(*new(T), fmt.Errorf("%s: list the apps to look up: %w", s.what, err))
				return
			}
			apps = append(apps, a.UUID)
		}
		for u, err := range c.Users(ctx, st) {
			if err != nil {
				yield(*new(T), fmt.Errorf("%s: list the users to look up: %w", s.what, err))
				return
			}
			users = append(users, u.UUID)
		}
		// Rows count what this list yields, not the apps and users read.
		st.Rows = 0
		pairs := len(apps) * len(users)
		if max := c.limits.MaxLookups; max > 0 && pairs > max {
			yield(*new(T), fmt.Errorf("%w: %s of account %q needs %d lookups (%d apps × %d users; the API answers per app and user), more than the limit of %d; raise max_access_lookups or lower the pacing (requests_per_hour)",
				ErrTooManyLookups, s.what, c.creds.Account, pairs, len(apps), len(users), max))
			return
		}
		seen := map[string]bool{}
		for _, app := range apps {
			for _, user := range users {
				q := maps.Clone(s.query)
				if q == nil {
					q = url.Values{}
				}
				q.Set(paramAppID, app)
				q.Set(paramUserID, user)
				st.Lookups++
				one := s
				one.what = fmt.Sprintf("%s of app %s and user %s", s.what, app, user)
				one.query = q
				for v, err := range listAll[T](ctx, c, one, st) {
					if err != nil {
						yield(*new(T), err)
						return
					}
					if k := id(v); seen[k] {
						st.Rows--
						continue
					} else {
						seen[k] = true
					}
					if !yield(v, nil) {
						return
					}
				}
			}
		}
	}
}

// AuditQuery selects audit events.
type AuditQuery struct {
	Window period.Window
	Stats  *httpx.QueryStats // optional
}

// ErrAuditEmpty means the audit window answered no event although it
// should hold some (see AuditEvents): an empty sheet would read as "nothing
// happened".
var ErrAuditEmpty = errors.New("lacework edge: no audit event where some are expected")

// AuditEvents streams the audit events created in q.Window, querying
// consecutive windows of at most Limits.AuditWindow. start_time and
// end_time are epoch milliseconds: the document states no unit for Query
// Audit Events, but its sibling time queries (Query open alerts, Query a
// QS View) say "Start time in milli-seconds" / "End time in
// milli-seconds". Events the server returns outside a window are dropped
// (counted in Stats.Dropped), so consecutive windows never yield an event
// twice whatever the server's end-time semantics.
//
// When the whole window yields nothing, one probe is sent: start_time at
// the window's start and no end_time (the document marks end_time
// optional), so the server answers from the window's start to now, and the
// first event is read. The document gives no total to check an empty
// answer against; what it does show is that an audit event is one call to
// the API (method, path, op, auth_uuid, response_status), so from the
// window's start to now the log holds at least this run's own login and
// lists (inferred: that every call, ours included, is audited, and is
// queryable within the run). So:
//   - the probe's first event is at or after the window's end: the server
//     reads our times and the window is quiet (Stats.EmptyVerified);
//   - it is before the window's start: the server does not read
//     start_time as milliseconds: an error wrapping ErrAuditEmpty;
//   - it is inside the window the queries found empty: an error too;
//   - there is none: an error wrapping ErrAuditEmpty, never an empty sheet.
func (c *Client) AuditEvents(ctx context.Context, q AuditQuery) iter.Seq2[AuditEvent, error] {
	st := q.Stats
	if st == nil {
		st = &httpx.QueryStats{}
	}
	return func(yield func(AuditEvent, error) bool) {
		windows := q.Window.Split(c.limits.AuditWindow)
		yielded := 0
		for _, w := range windows {
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
				yielded++
				if !yield(ev, nil) {
					return
				}
			}
			if dropped > 0 {
				c.log.Debug("audit events outside the window dropped", "window", w.String(), "rows", dropped)
			}
		}
		if yielded > 0 || len(windows) == 0 {
			return
		}
		if err := c.probeAudit(ctx, q.Window, st); err != nil {
			yield(AuditEvent{}, err)
		}
	}
}

// probeAudit checks an empty audit window (see AuditEvents).
func (c *Client) probeAudit(ctx context.Context, w period.Window, st *httpx.QueryStats) error {
	s := listSpec{what: "audit events from " + w.From.UTC().Format(time.RFC3339) + " (probe of an empty window)",
		path: c.paths.AuditEvents, key: "audit_events",
		query: url.Values{paramStartTime: {strconv.FormatInt(w.From.UnixMilli(), 10)}}}
	probe := &httpx.QueryStats{}
	var first *AuditEvent
	for ev, err := range listAll[AuditEvent](ctx, c, s, probe) {
		if err != nil {
			return err
		}
		first = &ev
		break
	}
	st.Pages += probe.Pages
	st.Queries += probe.Queries
	switch {
	case first == nil:
		return fmt.Errorf("%w: account %q answered no audit event from %s to now, although that span holds at least this run's own API calls; the server may not read start_time as epoch milliseconds, or the token may not see the audit log",
			ErrAuditEmpty, c.creds.Account, w.From.UTC().Format(time.RFC3339))
	case first.CreateTime.Before(w.From):
		return fmt.Errorf("%w: account %q answered an audit event of %s to start_time %d (%s): the server does not read start_time as epoch milliseconds",
			ErrAuditEmpty, c.creds.Account, first.CreateTime.UTC().Format(time.RFC3339), w.From.UnixMilli(), w.From.UTC().Format(time.RFC3339))
	case first.CreateTime.Before(w.To):
		return fmt.Errorf("%w: account %q holds an audit event at %s, inside %s, which the windowed queries did not return",
			ErrAuditEmpty, c.creds.Account, first.CreateTime.UTC().Format(time.RFC3339), w)
	}
	st.EmptyVerified = true
	c.log.Info("audit window holds no event; the server answers later events, so it reads our times", "window", w.String(),
		"next_event", first.CreateTime.UTC().Format(time.RFC3339))
	return nil
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
func listAll[T any](ctx context.Context, c *Client, s listSpec, st *httpx.QueryStats) iter.Seq2[T, error] {
	if st == nil {
		st = &httpx.QueryStats{}
	}
	return func(yield func(T, error) bool) {
		st.Queries++
		listRows := 0
		var guard httpx.PageGuard // tokens named twice
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
			sp, err := c.http.SpoolPage(ctx, c.opts.SpoolDir, req)
			if err != nil {
				yield(*new(T), c.wrap(s.what, page, err))
				return
			}
			st.Pages++
			// Records of this page, counted here: a caller may take back
			// st.Rows for records it does not keep (duplicates, rows
			// outside a window).
			decoded := 0
			stopped := false
			next, err := decodePage(sp, s.key, func(v T) bool {
				decoded++
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
			if decoded == 0 {
				yield(*new(T), fmt.Errorf("lacework edge %s: %s (page %d): the API sent an empty page with a continuation_token; stopping to avoid a loop",
					c.creds.Account, s.what, page))
				return
			}
			if listRows += decoded; listRows > maxListRows {
				yield(*new(T), fmt.Errorf("lacework edge %s: %s (page %d): more than %d records and the API still names a next page; stopping",
					c.creds.Account, s.what, page, maxListRows))
				return
			}
			if err := guard.Cursor(paramContinuation, next); err != nil {
				yield(*new(T), fmt.Errorf("lacework edge %s: %s (page %d): %w", c.creds.Account, s.what, page, err))
				return
			}
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
