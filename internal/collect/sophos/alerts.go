package sophos

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// Limits of GET api/v1/alerts and api/v1/alerts/count (seed 004, "Alerts"):
// page "Should start with 1"; size "Should not be more than 50. Default:
// 20"; days "Cannot be less than 1 or more than 365", and "Can only set one
// of the filters: set 'days' or else set lastSeenFrom/lastSeenTo".
const (
	FirstAlertPage       = 1
	MaxAlertPageSize     = 50
	DefaultAlertPageSize = 20
	MinDays              = 1
	MaxDays              = 365
)

// TimeFormat is the document's ISO 8601 form for lastSeenFrom/lastSeenTo,
// yyyy-MM-dd'T'HH:mm:ss[+/-]hh:mm; the client always sends UTC as +00:00.
const TimeFormat = "2006-01-02T15:04:05-07:00"

// FormatTime formats t for lastSeenFrom/lastSeenTo.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// PolicyTags returns the policyTagList values the document lists: the
// compliance frameworks alerts can be filtered by. The API has no endpoint
// that lists them.
func PolicyTags() []string {
	return []string{"Avid", "CIS", "FFIEC", "HIPAA", "ISO 27001", "PCI", "SOC2", "SOC2-TSP",
		"FEDRAMP-LOW", "FEDRAMP-MODERATE", "FEDRAMP-HIGH", "EBU R143"}
}

// Documented values of the other alert filters.
var (
	alertTypes     = []string{"Policy", "Anomaly", "GuardDuty"}
	alertProviders = []string{"AWS", "Azure"}
	alertStates    = []string{"OPEN", "SUPPRESS"}
	alertSeverity  = []string{"low", "medium", "high", "critical"}
)

// AlertFilter selects alerts, for Alerts and AlertCounts. Zero fields do not
// filter; with neither Days nor LastSeenFrom/LastSeenTo the API looks back
// 365 days.
type AlertFilter struct {
	// Days looks back this many days (1-365). Not together with LastSeen*.
	Days int
	// LastSeenFrom and LastSeenTo bound the alerts' lastSeen; either may be
	// zero. LastSeenTo must come after LastSeenFrom.
	LastSeenFrom, LastSeenTo time.Time
	AlertTypes               []string // Policy, Anomaly, GuardDuty
	Providers                []string // AWS, Azure
	PolicyTags               []string // frameworks, see PolicyTags
	AccountIDs               []string // environments
	States                   []string // OPEN, SUPPRESS
}

// AlertQuery selects alerts page by page.
type AlertQuery struct {
	AlertFilter
	Severities []string          // low, medium, high, critical
	PageSize   int               // 1..50; 0 means 50 (fewest requests)
	Stats      *httpx.QueryStats // optional, filled as pages arrive
}

// Validate checks f against the document's rules, so that a query the API
// would refuse is never sent.
func (f AlertFilter) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if f.Days != 0 && (!f.LastSeenFrom.IsZero() || !f.LastSeenTo.IsZero()) {
		add("set either days or lastSeenFrom/lastSeenTo, not both (the API accepts one of them)")
	}
	if f.Days != 0 && (f.Days < MinDays || f.Days > MaxDays) {
		add("days %d: the API accepts %d to %d", f.Days, MinDays, MaxDays)
	}
	if !f.LastSeenFrom.IsZero() && !f.LastSeenTo.IsZero() && !f.LastSeenTo.After(f.LastSeenFrom) {
		add("lastSeenTo %s must come after lastSeenFrom %s", FormatTime(f.LastSeenTo), FormatTime(f.LastSeenFrom))
	}
	for _, t := range []time.Time{f.LastSeenFrom, f.LastSeenTo} {
		if !t.IsZero() && (t.UTC().Year() < 1 || t.UTC().Year() > 9999) {
			add("time %v is out of range", t)
		}
	}
	checkValues(add, "alert type", f.AlertTypes, alertTypes)
	checkValues(add, "provider", f.Providers, alertProviders)
	checkValues(add, "state", f.States, alertStates)
	checkList(add, "policy tag", f.PolicyTags)
	checkList(add, "account id", f.AccountIDs)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidQuery, errors.Join(errs...))
}

func checkValues(add func(string, ...any), what string, got, valid []string) {
	for _, v := range got {
		if !slices.Contains(valid, v) {
			add("%s %q: the API accepts %s", what, v, strings.Join(valid, ", "))
		}
	}
}

// checkList rejects values the comma-separated list parameters cannot carry.
func checkList(add func(string, ...any), what string, got []string) {
	for _, v := range got {
		if strings.TrimSpace(v) == "" || strings.Contains(v, ",") {
			add("%s %q: must be non-empty and without commas", what, v)
		}
	}
}

func (f AlertFilter) values() url.Values {
	q := url.Values{}
	if f.Days != 0 {
		q.Set("days", strconv.Itoa(f.Days))
	}
	if !f.LastSeenFrom.IsZero() {
		q.Set("lastSeenFrom", FormatTime(f.LastSeenFrom))
	}
	if !f.LastSeenTo.IsZero() {
		q.Set("lastSeenTo", FormatTime(f.LastSeenTo))
	}
	setList(q, "alertType", f.AlertTypes)
	setList(q, "providerList", f.Providers)
	setList(q, "policyTagList", f.PolicyTags)
	setList(q, "accountIds", f.AccountIDs)
	setList(q, "states", f.States)
	return q
}

// Params are the filter's query parameters, for the manifest's record of
// the call.
func (f AlertFilter) Params() map[string]string {
	out := map[string]string{}
	for k, v := range f.values() {
		out[k] = strings.Join(v, ",")
	}
	return out
}

func setList(q url.Values, key string, vs []string) {
	if len(vs) > 0 {
		q.Set(key, strings.Join(vs, ","))
	}
}

// scope describes the filter for messages.
func (f AlertFilter) scope(what string) string {
	s := what
	if len(f.AccountIDs) > 0 {
		s += " of environment " + strings.Join(f.AccountIDs, ", ")
	}
	if len(f.PolicyTags) > 0 {
		s += " (framework " + strings.Join(f.PolicyTags, ", ") + ")"
	}
	return s
}

// Alerts streams the alerts of q, newest pages first as the API orders
// them, one row in memory (GET api/v1/alerts, pages from 1, at most 50
// alerts each). A query the document forbids fails with ErrInvalidQuery
// before any request.
func (c *Client) Alerts(ctx context.Context, q AlertQuery) iter.Seq2[Alert, error] {
	err := q.AlertFilter.Validate()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	checkValues(func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }, "severity", q.Severities, alertSeverity)
	size := q.PageSize
	if size == 0 {
		size = MaxAlertPageSize
	}
	if size < 1 || size > MaxAlertPageSize {
		errs = append(errs, fmt.Errorf("page size %d: the API accepts 1 to %d", q.PageSize, MaxAlertPageSize))
	}
	scope := q.AlertFilter.scope("alerts")
	if len(errs) > 0 {
		return httpx.Fail[Alert](fmt.Errorf("%w: sophos tenant %s: %s: %w", ErrInvalidQuery, c.tenant, scope, errors.Join(errs...)))
	}
	v := q.AlertFilter.values()
	setList(v, "severity", q.Severities)
	return pages[Alert](ctx, c, pageSpec{path: PathAlerts, query: v, first: FirstAlertPage, size: size, scope: scope}, q.Stats)
}

// AlertCounts returns the number of alerts matching f, per severity
// (GET api/v1/alerts/count).
func (c *Client) AlertCounts(ctx context.Context, f AlertFilter) (AlertCounts, error) {
	scope := f.scope("alert counts")
	if err := f.Validate(); err != nil {
		return AlertCounts{}, fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err)
	}
	var out AlertCounts
	err := c.get(ctx, httpx.Request{Path: PathAlertsCount, Query: f.values()}, scope, &out)
	return out, err
}
