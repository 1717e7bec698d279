package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, ts *httptest.Server, path string, q url.Values, auth string) result {
	t.Helper()
	u := ts.URL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{resp.StatusCode, resp.Header, b}
}

func message(t *testing.T, b []byte) string {
	t.Helper()
	var v struct {
		Message      string `json:"message"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	return v.Message + v.ErrorMessage
}

const authz = "ApiKey " + DefaultAPIKey

func TestDocumentedErrors(t *testing.T) {
	s, ts := newServer(t, Config{Seed: 1})
	acct := s.Environments()[0].ID
	tests := []struct {
		name   string
		path   string
		q      string
		auth   string
		status int
		msg    string
	}{
		{"no key", pathAlerts, "page=1", "-", 400, msgNoKey},
		{"wrong key", pathAlerts, "page=1", "ApiKey nope", 401, msgUnauthorized},
		{"bearer scheme", pathAlerts, "page=1", "Bearer " + DefaultAPIKey, 401, msgUnauthorized},
		{"unknown path", "/api/v1/nothing", "", authz, 404, msgNotFound},
		{"days and lastSeenFrom", pathAlerts, "page=1&days=5&lastSeenFrom=2026-11-01", authz, 400, msgBothFilters},
		{"days zero", pathAlerts, "page=1&days=0", authz, 400, msgDays},
		{"days 366", pathAlerts, "page=1&days=366", authz, 400, msgDays},
		{"both dates bad", pathAlerts, "page=1&lastSeenFrom=x&lastSeenTo=y", authz, 400, msgBothDates},
		{"from bad", pathAlerts, "page=1&lastSeenFrom=2026-11-01T00:00:00Z", authz, 400, "Date in 'lastSeenFrom' is not in proper format"},
		{"unencoded plus", pathAlerts, "page=1&lastSeenTo=2026-11-01T00:00:00+00:00", authz, 400, "Date in 'lastSeenTo' is not in proper format"},
		{"to before from", pathAlerts, "page=1&lastSeenFrom=2026-11-02&lastSeenTo=2026-11-01", authz, 400, msgToAfterFrom},
		{"alert type", pathAlerts, "page=1&alertType=Threat", authz, 400, msgAlertType},
		{"provider", pathAlerts, "page=1&providerList=GCP", authz, 400, msgProviderType},
		{"account", pathAlerts, "page=1&accountIds=" + acct + ",nope1,nope2", authz, 400, "Account Ids nope1,nope2 not found"},
		{"size 51", pathAlerts, "page=1&size=51", authz, 400, "Pageable size cannot be greater than 50"},
		{"page 0", pathAlerts, "page=0", authz, 400, msgPageNumber},
		{"page missing", pathAlerts, "", authz, 400, msgPageNumber},
		{"count days", pathCount, "days=400", authz, 400, msgDays},
		{"vms size 501", pathVMs, "provider=AWS&size=501", authz, 400, "Pageable size cannot be greater than 500"},
		{"vms size 99", pathVMs, "provider=AWS&size=99", authz, 400, "Pageable size cannot be less than 100"},
		{"vms size missing", pathVMs, "provider=AWS", authz, 400, "Pageable size cannot be less than 100"},
		{"vms provider", pathVMs, "provider=aws&size=100", authz, 400, msgProviderType2},
		{"users account", pathUsers, "provider=AWS&size=100&accountIds=zzz", authz, 400, "Account Ids zzz not found"},
		{"serverless GCP", pathServerless, "provider=GCP&size=100", authz, 400, "Provider GCP not supported"},
		{"serverless page", pathServerless, "provider=AWS&size=100&page=-1", authz, 400, msgPageNumber},
		{"containers no provider", pathContainers, "containerType=pods&size=100", authz, 400, msgNoProvider},
		{"containers no type", pathContainers, "cloudProvider=eks&size=100", authz, 400, msgNoCType},
		{"containers bad type", pathContainers, "cloudProvider=eks&containerType=vms&size=100", authz, 400, "Invalid Container-Type:vms"},
		{"containers native clusters", pathContainers, "cloudProvider=native&containerType=clusters&size=100", authz, 400, "Provider:native not supported for Container-Type:clusters"},
		{"accounts provider", pathAccounts, "provider=aws", authz, 400, msgProviderType2},
		{"search size missing", pathSearch + "AWS_ACTIVITY_LOG", "page=1", authz, 400, "Pageable size cannot be less than 1"},
		{"search size 10001", pathSearch + "AWS_ACTIVITY_LOG", "page=1&size=10001", authz, 400, "Pageable size cannot be greater than 10000"},
		{"search page 0", pathSearch + "GCP_ACTIVITY_LOG", "page=0&size=10", authz, 400, msgPageNumber},
		{"search key", pathSearch + "AWS_NOPE", "page=1&size=10", authz, 400, "Search key AWS_NOPE not supported"},
		{"search no key", pathSearch, "page=1&size=10", authz, 404, msgNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auth := tc.auth
			if auth == "-" {
				auth = ""
			}
			u := ts.URL + tc.path + "?" + tc.q // raw: the test controls the encoding
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if m := message(t, b); !strings.HasPrefix(m, tc.msg) {
				t.Errorf("message %q, want prefix %q", m, tc.msg)
			}
		})
	}
}

// fetchAlerts pages through /alerts with q and returns the alerts.
func fetchAlerts(t *testing.T, ts *httptest.Server, q url.Values, size int) []wireAlert {
	t.Helper()
	var out []wireAlert
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		q.Set("size", strconv.Itoa(size))
		r := get(t, ts, pathAlerts, q, authz)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		var env struct {
			Data        []wireAlert `json:"data"`
			HasNext     bool        `json:"hasNext"`
			CurrentPage int         `json:"currentPage"`
			TotalPages  int         `json:"totalPages"`
		}
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatal(err)
		}
		if env.CurrentPage != page {
			t.Fatalf("currentPage %d, want %d", env.CurrentPage, page)
		}
		out = append(out, env.Data...)
		if !env.HasNext {
			if page != max(env.TotalPages, 1) {
				t.Errorf("last page %d, totalPages %d", page, env.TotalPages)
			}
			return out
		}
	}
}

// TestAlertsMatchBruteForce checks the arithmetic paging and counting
// against a direct enumeration of every alert.
func TestAlertsMatchBruteForce(t *testing.T) {
	s, ts := newServer(t, Config{Seed: 7, AlertsPerEnvironment: 150, Rules: 17})
	envs := s.Environments()
	from, to := now.Add(-90*24*time.Hour), now.Add(-10*24*time.Hour)
	toDay := to.Truncate(24 * time.Hour)
	filters := []struct {
		name string
		f    Filter
		q    url.Values
	}{
		{"default 365 days", Filter{}, url.Values{}},
		{"days 30", Filter{Days: 30}, url.Values{"days": {"30"}}},
		{"window CIS", Filter{LastSeenFrom: from, LastSeenTo: to, PolicyTags: []string{"CIS"}},
			url.Values{"lastSeenFrom": {from.Format("2006-01-02T15:04:05-07:00")}, "lastSeenTo": {to.Format("2006-01-02T15:04:05")}, "policyTagList": {"CIS"}}},
		{"only to", Filter{LastSeenTo: toDay}, url.Values{"lastSeenTo": {toDay.Format("2006-01-02")}}},
		{"open critical+high AWS", Filter{States: []string{"OPEN"}, Severities: []string{"critical", "high"}, Providers: []string{"AWS"}},
			url.Values{"states": {"OPEN"}, "severity": {"critical,high"}, "providerList": {"AWS"}}},
		{"one env, two tags, anomalies", Filter{AccountIDs: []string{envs[2].ID}, PolicyTags: []string{"PCI", "HIPAA"}, AlertTypes: []string{"Policy"}},
			url.Values{"accountIds": {envs[2].ID}, "policyTagList": {"PCI,HIPAA"}, "alertType": {"Policy"}}},
		{"unknown tag", Filter{PolicyTags: []string{"NIST"}}, url.Values{"policyTagList": {"NIST"}}},
		{"guardduty", Filter{AlertTypes: []string{"GuardDuty"}}, url.Values{"alertType": {"GuardDuty"}}},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			want := s.brute(tc.f)
			got := fetchAlerts(t, ts, tc.q, 13)
			var ids []int64
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if !slices.Equal(ids, want.ids) {
				t.Fatalf("served %d alerts, brute force %d; first served %v, first expected %v", len(ids), len(want.ids), head(ids), head(want.ids))
			}
			c := s.CountAlerts(tc.f)
			if c.Alerts != len(want.ids) || c.Resources != want.resources || c.Violations != want.violations || c.Rules != want.rules {
				t.Errorf("CountAlerts = %+v, brute force alerts %d resources %d violations %d rules %d", c, len(want.ids), want.resources, want.violations, want.rules)
			}
			res := 0
			for _, a := range got {
				res += len(a.RuleResult.AffectedResources)
			}
			if res != c.Resources {
				t.Errorf("served %d resources, CountAlerts %d", res, c.Resources)
			}
			if tc.f.Severities == nil {
				q := url.Values{}
				for k, v := range tc.q {
					q[k] = v
				}
				r := get(t, ts, pathCount, q, authz)
				var wc wireCounts
				if err := json.Unmarshal(r.body, &wc); err != nil || r.status != 200 {
					t.Fatalf("count: %d %s %v", r.status, r.body, err)
				}
				if wc.Total != c.Alerts || wc.Critical+wc.High+wc.Medium+wc.Low != wc.Total {
					t.Errorf("count endpoint %+v, CountAlerts %d", wc, c.Alerts)
				}
			}
		})
	}
}

func head(x []int64) []int64 { return x[:min(len(x), 3)] }

type bruteResult struct {
	ids                          []int64
	resources, violations, rules int
}

// brute enumerates every alert and applies f directly.
func (s *Server) brute(f Filter) bruteResult {
	var out bruteResult
	from, to := int64(-1<<62), int64(1<<62)
	switch {
	case f.Days > 0:
		from = now.UnixMilli() - int64(f.Days)*msPerDay
	case f.LastSeenFrom.IsZero() && f.LastSeenTo.IsZero():
		from = now.UnixMilli() - 365*msPerDay
	default:
		if !f.LastSeenFrom.IsZero() {
			from = f.LastSeenFrom.UnixMilli()
		}
		if !f.LastSeenTo.IsZero() {
			to = f.LastSeenTo.UnixMilli()
		}
	}
	for _, e := range s.envs {
		if !e.alerting() || (len(f.AccountIDs) > 0 && !slices.Contains(f.AccountIDs, e.pub.ID)) ||
			(len(f.Providers) > 0 && !slices.Contains(f.Providers, e.pub.Type)) {
			continue
		}
		rules := map[string]bool{}
		for i := range int64(s.cfg.AlertsPerEnvironment) {
			a := s.alertAt(e, i)
			if a.LastSeen < from || a.LastSeen > to {
				continue
			}
			ru := s.rules[slices.IndexFunc(s.rules, func(r rule) bool { return r.code == a.AlertID })]
			if len(f.States) > 0 && !slices.Contains(f.States, a.State) ||
				len(f.Severities) > 0 && !slices.Contains(f.Severities, strings.ToLower(a.CriticalLevel)) ||
				len(f.AlertTypes) > 0 && !slices.Contains(f.AlertTypes, a.AlertType) {
				continue
			}
			if len(f.PolicyTags) > 0 && !slices.ContainsFunc(f.PolicyTags, func(tag string) bool {
				i := slices.Index(policyTags, tag)
				return i >= 0 && ru.tags&(1<<i) != 0
			}) {
				continue
			}
			out.ids = append(out.ids, a.ID)
			n := len(a.RuleResult.AffectedResources)
			out.resources += n
			if a.State == "OPEN" {
				out.violations += n
			}
			rules[a.AlertID] = true
		}
		out.rules += len(rules)
	}
	return out
}

func TestEveryFrameworkHasAlerts(t *testing.T) {
	s := New(Config{Now: func() time.Time { return now }})
	for _, tag := range PolicyTags() {
		if c := s.CountAlerts(Filter{PolicyTags: []string{tag}}); c.Alerts == 0 || c.Violations == 0 || c.Suppressed == 0 {
			t.Errorf("%s: %+v", tag, c)
		}
	}
}

// TestLargeTenant serves pages deep into a tenant of 250,000 alerts; the
// emulator never enumerates them.
func TestLargeTenant(t *testing.T) {
	s, ts := newServer(t, Config{Seed: 3, AlertsPerEnvironment: 50_000})
	c := s.CountAlerts(Filter{LastSeenFrom: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if c.Alerts != 5*50_000 {
		t.Fatalf("alerts %d, want 250000 (5 alerting environments)", c.Alerts)
	}
	q := url.Values{"lastSeenFrom": {"2000-01-01"}, "size": {"50"}, "page": {strconv.Itoa(c.Alerts / 50)}}
	r := get(t, ts, pathAlerts, q, authz)
	var env struct {
		Data    []wireAlert `json:"data"`
		HasNext bool        `json:"hasNext"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || r.status != 200 {
		t.Fatalf("%d %s %v", r.status, r.body, err)
	}
	if len(env.Data) != 50 || env.HasNext {
		t.Errorf("last page: %d alerts, hasNext %v", len(env.Data), env.HasNext)
	}
	q.Set("page", strconv.Itoa(c.Alerts/50+1))
	r = get(t, ts, pathAlerts, q, authz)
	if err := json.Unmarshal(r.body, &env); err != nil || len(env.Data) != 0 || env.HasNext {
		t.Errorf("page after the last: %d alerts, hasNext %v, %v", len(env.Data), env.HasNext, err)
	}
	q.Set("page", "9223372036854775807")
	if r = get(t, ts, pathAlerts, q, authz); r.status != 200 {
		t.Errorf("huge page: %d", r.status)
	}
}

func TestInventoryPaging(t *testing.T) {
	s, ts := newServer(t, Config{Seed: 9, HostsPerEnvironment: 130})
	want := s.CountHosts("AWS")
	if want != 2*130 { // the disabled AWS account holds nothing
		t.Fatalf("CountHosts(AWS) = %d", want)
	}
	got := 0
	for page := 0; ; page++ {
		r := get(t, ts, pathVMs, url.Values{"provider": {"AWS"}, "size": {"100"}, "page": {strconv.Itoa(page)}}, authz)
		var env struct {
			ErrorMessage *string          `json:"errorMessage"`
			Data         []map[string]any `json:"data"`
			HasNext      bool             `json:"hasNext"`
		}
		if err := json.Unmarshal(r.body, &env); err != nil || r.status != 200 {
			t.Fatalf("%d %s %v", r.status, r.body, err)
		}
		if env.ErrorMessage != nil {
			t.Errorf("errorMessage %q on success", *env.ErrorMessage)
		}
		got += len(env.Data)
		if !env.HasNext {
			break
		}
	}
	if got != want {
		t.Errorf("paged %d hosts, want %d", got, want)
	}
	r := get(t, ts, pathAccounts, nil, authz)
	var accts []wireAccount
	if err := json.Unmarshal(r.body, &accts); err != nil || len(accts) != len(s.Environments()) {
		t.Fatalf("accounts: %s %v", r.body, err)
	}
}

func TestFaults(t *testing.T) {
	s, ts := newServer(t, Config{Seed: 1, Faults: Faults{ErrorEvery: 2, RateLimitEvery: 3, RetryAfter: 200 * time.Millisecond}})
	q := url.Values{"page": {"1"}}
	var statuses []int
	for range 4 {
		statuses = append(statuses, get(t, ts, pathAlerts, q, authz).status)
	}
	// 1 ok, 2 500, 3 429 (blocks), 4 arrives blocked: 429 again, a violation.
	if !slices.Equal(statuses, []int{200, 500, 429, 429}) {
		t.Errorf("statuses %v", statuses)
	}
	if v := s.Violations(); len(v) != 1 {
		t.Errorf("violations %d, want 1", len(v))
	}
	r := get(t, ts, pathCount, nil, authz) // another endpoint is not blocked
	if r.status != 502 {
		t.Errorf("count: %d, want the next injected fault 502", r.status)
	}
	if d := s.DuplicatePages(); len(d) != 0 {
		t.Errorf("duplicates %v", d)
	}
	s, ts = newServer(t, Config{Seed: 1})
	get(t, ts, pathVMs, url.Values{"provider": {"AWS"}, "size": {"100"}}, authz)
	get(t, ts, pathVMs, url.Values{"provider": {"AWS"}, "size": {"100"}}, authz)
	if d := s.DuplicatePages(); len(d) != 1 {
		t.Errorf("a page served twice is not reported")
	}
}

func TestDeterministic(t *testing.T) {
	_, a := newServer(t, Config{Seed: 5})
	_, b := newServer(t, Config{Seed: 5})
	q := url.Values{"page": {"2"}, "size": {"50"}, "policyTagList": {"SOC2"}}
	if x, y := get(t, a, pathAlerts, q, authz), get(t, b, pathAlerts, q, authz); string(x.body) != string(y.body) {
		t.Error("same seed, different bytes")
	}
}

// The emulator's switches for what seed 004 leaves open.
func TestSwitches(t *testing.T) {
	t.Run("serverless pages from 1", func(t *testing.T) {
		_, ts := newServer(t, Config{Seed: 1, ServerlessPagesFromOne: true, FunctionsPerEnvironment: 150})
		for _, tc := range []struct {
			q      string
			status int
		}{{"page=0", 400}, {"", 400}, {"page=-1", 400}, {"page=1", 200}, {"page=2", 200}} {
			r := get(t, ts, pathServerless, mustQuery(t, "provider=AWS&size=100&"+tc.q), authz)
			if r.status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.q, r.status, tc.status, r.body)
			}
			if tc.status == 400 && message(t, r.body) != msgPageNumber {
				t.Errorf("%s: %s", tc.q, r.body)
			}
		}
		var p1, p2 struct {
			Data        []map[string]any `json:"data"`
			CurrentPage int              `json:"currentPage"`
			HasPrevious bool             `json:"hasPrevious"`
		}
		_ = json.Unmarshal(get(t, ts, pathServerless, mustQuery(t, "provider=AWS&size=100&page=1"), authz).body, &p1)
		_ = json.Unmarshal(get(t, ts, pathServerless, mustQuery(t, "provider=AWS&size=100&page=2"), authz).body, &p2)
		if len(p1.Data) != 100 || p1.HasPrevious || p1.CurrentPage != 1 || len(p2.Data) != 100 || !p2.HasPrevious || p1.Data[0]["functionName"] == p2.Data[0]["functionName"] && p1.Data[0]["accountId"] == p2.Data[0]["accountId"] {
			t.Errorf("page 1 %d rows (previous %v), page 2 %d rows", len(p1.Data), p1.HasPrevious, len(p2.Data))
		}
	})
	t.Run("plain-text 400s", func(t *testing.T) {
		_, ts := newServer(t, Config{Seed: 1, PlainTextErrors: true})
		r := get(t, ts, pathVMs, mustQuery(t, "provider=AWS&size=100&accountIds=zzz"), authz)
		if r.status != 400 || string(r.body) != "Account Ids zzz not found" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%d %q %s", r.status, r.body, r.header.Get("Content-Type"))
		}
	})
	t.Run("accounts paged, AWS ids as numbers", func(t *testing.T) {
		_, ts := newServer(t, Config{Seed: 1, AccountsPageSize: 4, NumericAccountIDs: true,
			Environments: []Environment{{ID: "012345678901", Type: "AWS"}, {ID: "a", Type: "Azure"}, {ID: "b", Type: "GCP"}, {ID: "c", Type: "GCP"}, {ID: "d", Type: "GCP"}}})
		var pg struct {
			Data    []map[string]any `json:"data"`
			HasNext bool             `json:"hasNext"`
		}
		dec := json.NewDecoder(strings.NewReader(string(get(t, ts, pathAccounts, nil, authz).body)))
		dec.UseNumber()
		if err := dec.Decode(&pg); err != nil || len(pg.Data) != 4 || !pg.HasNext || pg.Data[0]["accountId"] != json.Number("12345678901") {
			t.Errorf("%+v, %v", pg, err)
		}
	})
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
