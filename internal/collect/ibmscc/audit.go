package ibmscc

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/source"
)

// AuditQuery selects the activity-audit events of a window.
type AuditQuery struct {
	From, To time.Time // half-open [From, To)
	Stats    *source.QueryStats
}

// AuditEvents streams the activity-audit events of q's window
// (GET /api/v2/activityAudit/events), newest first.
//
// The first request carries from and to (epoch nanoseconds) and the limit;
// the next ones only the response's "prev" cursor and the limit, since the
// document makes cursor and from/to mutually exclusive. Events come newest
// first and "prev" continues with older ones. A cursor request is no longer
// bounded by the window, so events outside [From, To) are dropped here, and
// paging stops after the page that reaches an event older than From, after
// a short page (fewer events than the limit) or when "prev" is empty. A
// cursor served twice ends the iterator with ErrPaging.
func (c *Client) AuditEvents(ctx context.Context, q AuditQuery) iter.Seq2[AuditEvent, error] {
	if !q.From.Before(q.To) {
		return fail[AuditEvent](fmt.Errorf("ibm_scc: audit events: empty window %s/%s", q.From.Format(time.RFC3339Nano), q.To.Format(time.RFC3339Nano)))
	}
	if q.From.UnixNano() < 0 {
		return fail[AuditEvent](fmt.Errorf("ibm_scc: audit events: window starts before 1970"))
	}
	st := q.Stats
	if st == nil {
		st = &source.QueryStats{}
	}
	from, to := q.From.UnixNano(), q.To.UnixNano()
	limit := strconv.Itoa(c.limits.AuditLimit)
	return func(yield func(AuditEvent, error) bool) {
		st.Queries++
		query := url.Values{"from": {strconv.FormatInt(from, 10)}, "to": {strconv.FormatInt(to, 10)}, "limit": {limit}}
		seen := map[string]bool{}
		for page := 1; ; page++ {
			sp, err := c.getPage(ctx, httpx.Request{Path: pathAuditEvents, Query: query, Bucket: bucketAudit})
			if err != nil {
				yield(AuditEvent{}, fmt.Errorf("ibm_scc %s: activity audit events %s/%s (page %d): %w",
					c.InstanceID(), q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339), page, err))
				return
			}
			st.Pages++
			var p auditPage
			older, stopped := false, false
			var bad error
			d, err := readPage(sp, "data", map[string]any{"page": &p.Page}, func(e AuditEvent) bool {
				if e.Timestamp.IsZero() {
					bad = fmt.Errorf("ibm_scc %s: activity audit event %q (page %d) has no timestamp", c.InstanceID(), truncate(e.ID, 40), page)
					return false
				}
				switch ts := e.Timestamp.UnixNano(); {
				case ts < from:
					older = true
				case ts < to:
					stopped = !yield(e, nil)
				}
				return !stopped
			})
			sp.Close()
			switch {
			case stopped:
				return
			case bad != nil:
				yield(AuditEvent{}, bad)
				return
			case err != nil:
				yield(AuditEvent{}, fmt.Errorf("ibm_scc %s: activity audit events (page %d): %w", c.InstanceID(), page, err))
				return
			}
			if older || d.Records < c.limits.AuditLimit || p.Page.Prev == "" {
				return
			}
			if seen[p.Page.Prev] {
				yield(AuditEvent{}, fmt.Errorf("%w: activity audit: cursor repeated after page %d", ErrPaging, page))
				return
			}
			seen[p.Page.Prev] = true
			query = url.Values{"cursor": {p.Page.Prev}, "limit": {limit}}
		}
	}
}
