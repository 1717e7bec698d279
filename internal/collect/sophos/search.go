package sophos

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// PathSearch is the search endpoint (seed 004, "Search": GET
// /api/v1/search/{searchKey}); the search key is the last path segment.
const PathSearch = "/api/v1/search/"

// Limits of the search endpoint (seed 004, "Search"): page "Starts with 1";
// size "Integer. Mandatory. Number of records per page. Max supported value
// is 10000".
const (
	FirstSearchPage   = 1
	MaxSearchPageSize = 10000
	// DefaultSearchPageSize is the page size the client asks for: pages are
	// spooled to disk, so memory allows the maximum, but a failed page is
	// fetched again whole (the client's choice).
	DefaultSearchPageSize = 1000
)

// activityLogKeys are the search keys of the cloud activity logs (seed 004,
// "Supported Search Keys": "AWS_ACTIVITY_LOG | AWS | Activity Logs", and the
// same for AZURE and GCP).
var activityLogKeys = map[string]string{"AWS": "AWS_ACTIVITY_LOG", "Azure": "AZURE_ACTIVITY_LOG", "GCP": "GCP_ACTIVITY_LOG"}

// ActivityLogProviders returns the providers with an activity-log search
// key: AWS, Azure, GCP.
func ActivityLogProviders() []string { return []string{"AWS", "Azure", "GCP"} }

// ActivityLogKey returns the search key of provider's activity logs, or "".
func ActivityLogKey(provider string) string { return activityLogKeys[provider] }

// ActivityLogQuery selects one provider's cloud activity logs.
type ActivityLogQuery struct {
	Provider string // mandatory: AWS, Azure or GCP
	// AccountIDs keeps only the events of these environments; empty keeps
	// all. Filtered here, not by the API: seed 004 names the filters
	// parameter but not the activity logs' field names (they are on a
	// separate help page), and a wrong name could match nothing.
	AccountIDs []string
	// From and To keep only the events in [From, To) (either may be zero).
	// Filtered here for the same reason: the searchTerm grammar and the
	// time field are not in seed 004. An event without a time is kept.
	From, To time.Time
	PageSize int // 1..10000; 0 means DefaultSearchPageSize
	Stats    *httpx.QueryStats
}

// ActivityLogs streams the cloud activity logs of q: GET
// /api/v1/search/<PROVIDER>_ACTIVITY_LOG, pages from 1, one row in memory.
// Every page is checked as the other endpoints' are (at most size rows,
// totalPages and, when announced, totalElements agree with what arrived).
//
// Seed 004 documents the search request but not its response. Inferred:
// the response is the paged envelope of GET api/v1/alerts ({data,
// currentPage, hasNext, hasPrevious, totalPages, size}), the other endpoint
// whose pages start at 1.
func (c *Client) ActivityLogs(ctx context.Context, q ActivityLogQuery) iter.Seq2[ActivityLog, error] {
	var errs []error
	add := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	key := activityLogKeys[q.Provider]
	if key == "" {
		add("provider %q: activity logs exist for %s", q.Provider, strings.Join(ActivityLogProviders(), ", "))
	}
	size := q.PageSize
	if size == 0 {
		size = DefaultSearchPageSize
	}
	if size < 1 || size > MaxSearchPageSize {
		add("page size %d: the API accepts 1 to %d", q.PageSize, MaxSearchPageSize)
	}
	checkList(add, "account id", q.AccountIDs)
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		add("the window ends (%s) before it starts (%s)", q.To.UTC().Format(time.RFC3339), q.From.UTC().Format(time.RFC3339))
	}
	scope := inventoryScope("activity logs "+q.Provider, q.AccountIDs)
	if len(errs) > 0 {
		return httpx.Fail[ActivityLog](fmt.Errorf("%w: sophos tenant %s: %s: %w", ErrInvalidQuery, c.tenant, scope, errors.Join(errs...)))
	}
	seq := pages[ActivityLog](ctx, c, pageSpec{path: PathSearch + key, query: url.Values{}, first: FirstSearchPage, size: size, scope: scope}, q.Stats)
	return func(yield func(ActivityLog, error) bool) {
		for l, err := range seq {
			if err != nil {
				yield(ActivityLog{}, err)
				return
			}
			// The search key says the cloud, whatever the event says.
			l.AccountType = cmp.Or(l.AccountType, q.Provider)
			l.AccountID = AccountID(q.Provider, l.AccountID)
			if len(q.AccountIDs) > 0 && !slices.Contains(q.AccountIDs, string(l.AccountID)) {
				continue
			}
			if t := l.Time.Time; !t.IsZero() && (!q.From.IsZero() && t.Before(q.From) || !q.To.IsZero() && !t.Before(q.To)) {
				continue
			}
			if !yield(l, nil) {
				return
			}
		}
	}
}

// ActivityLog is one cloud activity-log event (a CloudTrail event, an Azure
// activity log entry, a GCP audit log entry) from the search endpoint. Raw
// is the event as received: it is the evidence. The other fields are read
// from it by name.
//
// Seed 004 documents no field of these events. Inferred: each cloud's own
// field names, which Cloud Optix is assumed to keep (AWS CloudTrail record
// fields eventTime, eventName, eventSource, userIdentity, awsRegion,
// sourceIPAddress; Azure Monitor activity log eventTimestamp,
// operationName, resourceProviderName, caller, callerIpAddress; GCP
// LogEntry/AuditLog timestamp, methodName, serviceName,
// authenticationInfo.principalEmail, callerIp), with accountId and
// accountType as on every other Cloud Optix object, and a few neutral
// spellings (time, userName, region).
type ActivityLog struct {
	AccountID   Text
	AccountType string
	Time        Time
	User        string
	Event       string
	Service     string
	Region      string
	SourceIP    string
	Raw         json.RawMessage
}

// Candidate keys of ActivityLog's fields, first match wins.
var (
	logAccountKeys = []string{"accountId", "subscriptionId", "projectId"}
	logTimeKeys    = []string{"eventTime", "eventTimestamp", "timestamp", "time", "eventDate", "createdAt"}
	logUserKeys    = []string{"userName", "user", "caller", "principalEmail", "userIdentity", "authenticationInfo"}
	logEventKeys   = []string{"eventName", "operationName", "methodName", "event"}
	logServiceKeys = []string{"eventSource", "resourceProviderName", "resourceProvider", "serviceName", "service"}
	logRegionKeys  = []string{"awsRegion", "region", "location"}
	logIPKeys      = []string{"sourceIPAddress", "callerIpAddress", "callerIp", "sourceIp", "ipAddress"}
)

// UnmarshalJSON implements json.Unmarshaler: any JSON object is an event;
// its fields are read by the candidate keys. A field of an unexpected type
// is left empty (the event is kept whole in Raw).
func (l *ActivityLog) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("activity log: %w", err)
	}
	if m == nil {
		return errors.New("activity log: want an object, got null")
	}
	*l = ActivityLog{Raw: append(json.RawMessage(nil), bytes.TrimSpace(b)...)}
	l.AccountID = Text(pick(m, logAccountKeys))
	l.AccountType = pick(m, []string{"accountType", "provider"})
	l.User = pick(m, logUserKeys)
	l.Event = pick(m, logEventKeys)
	l.Service = pick(m, logServiceKeys)
	l.Region = pick(m, logRegionKeys)
	l.SourceIP = pick(m, logIPKeys)
	for _, k := range logTimeKeys {
		var t Time
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &t) == nil && !t.IsZero() {
			l.Time = t
			break
		}
	}
	return nil
}

// MarshalJSON writes Raw, so an ActivityLog re-encodes as received.
func (l ActivityLog) MarshalJSON() ([]byte, error) {
	if len(l.Raw) == 0 {
		return []byte("{}"), nil
	}
	return l.Raw, nil
}

// pick returns the first of keys that holds a scalar (as text) or, for an
// object (userIdentity, authenticationInfo), its first identifying member.
func pick(m map[string]json.RawMessage, keys []string) string {
	for _, k := range keys {
		raw, ok := m[k]
		if !ok {
			continue
		}
		var t Text
		if t.UnmarshalJSON(raw) == nil && t != "" {
			return string(t)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil && obj != nil {
			// CloudTrail userIdentity (arn, userName, principalId); GCP
			// authenticationInfo (principalEmail).
			if s := pick(obj, []string{"arn", "userName", "principalEmail", "principalId"}); s != "" {
				return s
			}
		}
	}
	return ""
}
