package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type client struct {
	t     *testing.T
	srv   *httptest.Server
	emu   *Server
	token string
}

func start(t *testing.T, cfg Config) *client {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	emu := New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c := &client{t: t, srv: srv, emu: emu}
	status, body, _ := c.do(emu.Paths().TokenLogin+"?account="+emu.Account(), func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+DefaultAPIToken)
	})
	if status != http.StatusOK {
		t.Fatalf("login: %d %s", status, body)
	}
	var s struct {
		Token         string `json:"token"`
		TTLSec        int64  `json:"ttl_sec"`
		ExpireTimeSec int64  `json:"expire_time_sec"`
	}
	if err := json.Unmarshal(body, &s); err != nil || s.Token == "" || s.TTLSec != 3600 || s.ExpireTimeSec < time.Now().Unix() {
		t.Fatalf("login response %s: %v", body, err)
	}
	c.token = s.Token
	return c
}

func (c *client) do(pathQuery string, edit func(*http.Request)) (int, []byte, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+pathQuery, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func (c *client) get(path string, q url.Values) (int, map[string]json.RawMessage) {
	c.t.Helper()
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	status, body, _ := c.do(path, nil)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		c.t.Fatalf("GET %s: %d, body %q is not a JSON object", path, status, body)
	}
	return status, m
}

// all follows continuation tokens and returns the records of key.
func (c *client) all(path, key string, q url.Values) []map[string]any {
	c.t.Helper()
	var out []map[string]any
	for range 10_000 {
		status, m := c.get(path, q)
		if status != http.StatusOK {
			c.t.Fatalf("GET %s: %d %s", path, status, m["message"])
		}
		var recs []map[string]any
		if raw, ok := m[key]; ok {
			if err := json.Unmarshal(raw, &recs); err != nil {
				c.t.Fatal(err)
			}
		}
		out = append(out, recs...)
		var tok string
		if raw, ok := m["continuation_token"]; ok {
			_ = json.Unmarshal(raw, &tok)
		}
		if tok == "" {
			return out
		}
		q = cloneWith(q, "continuation_token", tok)
	}
	c.t.Fatal("paging never ended")
	return nil
}

func cloneWith(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for name, vs := range q {
		out[name] = append([]string(nil), vs...)
	}
	out.Set(k, v)
	return out
}

// TokenLogin takes the long-lived API token as a Bearer credential; HTTP
// Basic uuid:secret only when the emulator is told to accept the guess.
func TestLogin(t *testing.T) {
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	basic := func(id, secret string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(id, secret) }
	}
	tests := []struct {
		name        string
		acceptBasic bool
		query       string
		auth        func(*http.Request)
		want        int
	}{
		{"api token", false, "account=" + DefaultAccount, bearer(DefaultAPIToken), 200},
		{"api token and redirect", false, "account=" + DefaultAccount + "&redirect=https%3A%2F%2Fx", bearer(DefaultAPIToken), 200},
		{"wrong api token", false, "account=" + DefaultAccount, bearer("nope"), 401},
		{"basic is refused by default", false, "account=" + DefaultAccount, basic(DefaultKeyID, DefaultSecret), 401},
		{"basic when accepted", true, "account=" + DefaultAccount, basic(DefaultKeyID, DefaultSecret), 200},
		{"wrong secret", true, "account=" + DefaultAccount, basic(DefaultKeyID, "nope"), 401},
		{"wrong uuid", true, "account=" + DefaultAccount, basic("nope", DefaultSecret), 401},
		{"wrong account", false, "account=other", bearer(DefaultAPIToken), 401},
		{"no credentials", true, "account=" + DefaultAccount, nil, 401},
		{"no account", false, "", bearer(DefaultAPIToken), 400},
		{"unknown parameter", false, "account=" + DefaultAccount + "&x=1", bearer(DefaultAPIToken), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Config{AcceptBasic: tc.acceptBasic}))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+DefaultPaths().TokenLogin+"?"+tc.query, nil)
			if tc.auth != nil {
				tc.auth(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// pair is the app and user uuids of a lookup that finds access m.
func (c *client) pair(m int) url.Values {
	p := c.emu.accessPlan(m)
	return url.Values{"appid": {c.emu.appUUID(p.apps[0])}, "userid": {c.emu.userUUID(p.users[len(p.users)-1])}}
}

// lookupAll looks every (app, user) pair up and returns the distinct
// records of key.
func (c *client) lookupAll(path, key string, extra url.Values) []map[string]any {
	c.t.Helper()
	seen := map[any]bool{}
	var out []map[string]any
	for k := range c.emu.cfg.Apps {
		for i := range c.emu.cfg.Users {
			q := url.Values{"appid": {c.emu.appUUID(k)}, "userid": {c.emu.userUUID(i)}}
			for name, v := range extra {
				q[name] = v
			}
			for _, r := range c.all(path, key, q) {
				if !seen[r["uuid"]] {
					seen[r["uuid"]] = true
					out = append(out, r)
				}
			}
		}
	}
	return out
}

func TestRequestValidation(t *testing.T) {
	c := start(t, Config{PageSize: 5})
	p := c.emu.Paths()
	_, first := c.get(p.Users, nil)
	var userTok string
	_ = json.Unmarshal(first["continuation_token"], &userTok)
	tests := []struct {
		name string
		path string
		q    url.Values
		auth string // "" keeps the session
		want int
	}{
		{"no session", p.Users, nil, "none", 401},
		{"unknown session", p.Users, nil, "Bearer EDGE_forged", 401},
		{"basic auth is not a session", p.Users, nil, "Basic eDp5", 401},
		{"unknown path", "/api/v1/nothing", nil, "", 404},
		{"status filter", p.Users, url.Values{"status": {"ACTIVE,suspended"}}, "", 200},
		{"bad status", p.Users, url.Values{"status": {"ENABLED"}}, "", 400},
		{"tag filter not emulated", p.Users, url.Values{"tag": {"x"}}, "", 400},
		{"unknown parameter", p.Groups, url.Values{"limit": {"10"}}, "", 400},
		{"accesses without appid", p.Accesses, url.Values{"userid": c.pair(0)["userid"]}, "", 400},
		{"accesses without userid", p.Accesses, url.Values{"appid": c.pair(0)["appid"]}, "", 400},
		{"accesses with both empty (not a listing)", p.Accesses, url.Values{"appid": {""}, "userid": {""}}, "", 400},
		{"accesses of a pair", p.Accesses, c.pair(0), "", 200},
		{"accesses of unknown ids", p.Accesses, url.Values{"appid": {"x"}, "userid": {"y"}}, "", 200},
		{"policies without resolveDisplayNames", p.Policies, c.pair(0), "", 400},
		{"policies of a pair", p.Policies, cloneWith(c.pair(0), "resolveDisplayNames", "true"), "", 200},
		{"policies resolveDisplayNames not a boolean", p.Policies, cloneWith(c.pair(0), "resolveDisplayNames", "yes"), "", 400},
		{"policies with empty ids", p.Policies, url.Values{"appid": {""}, "userid": {""}, "resolveDisplayNames": {"true"}}, "", 400},
		{"audit without start", p.AuditEvents, nil, "", 400},
		{"audit start not a number", p.AuditEvents, url.Values{"start_time": {"2026-11-21"}}, "", 400},
		{"audit end before start", p.AuditEvents, url.Values{"start_time": {"2000"}, "end_time": {"1000"}}, "", 400},
		{"forged token", p.Users, url.Values{"continuation_token": {"eyJvIjoidXNlcnMiLCJuIjowfQ.0000000000000000"}}, "", 400},
		{"token of another list", p.Apps, url.Values{"continuation_token": {userTok}}, "", 400},
		{"token with another filter", p.Users, url.Values{"continuation_token": {userTok}, "status": {"ACTIVE"}}, "", 400},
		{"valid token", p.Users, url.Values{"continuation_token": {userTok}}, "", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if len(tc.q) > 0 {
				path += "?" + tc.q.Encode()
			}
			status, body, _ := c.do(path, func(r *http.Request) {
				switch tc.auth {
				case "":
				case "none":
					r.Header.Del("Authorization")
				default:
					r.Header.Set("Authorization", tc.auth)
				}
			})
			if status != tc.want {
				t.Fatalf("status %d (%s), want %d", status, body, tc.want)
			}
			if status >= 400 && !strings.Contains(string(body), `"message"`) {
				t.Errorf("error body %s lacks the document's message field", body)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+p.Users, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodGet {
		t.Errorf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestPagingIsExact(t *testing.T) {
	for _, ps := range []int{0, 1, 4, 1000} {
		t.Run("page size "+strconv.Itoa(ps), func(t *testing.T) {
			c := start(t, Config{Seed: 5, Users: 57, Groups: 8, Apps: 9, Accesses: 13, AuditEventsPerDay: 30, PageSize: ps})
			p := c.emu.Paths()
			check := func(what string, recs []map[string]any, want int) {
				t.Helper()
				seen := map[any]bool{}
				for _, r := range recs {
					if seen[r["uuid"]] {
						t.Fatalf("%s: uuid %v twice", what, r["uuid"])
					}
					seen[r["uuid"]] = true
				}
				if len(recs) != want {
					t.Errorf("%s: %d records, want %d", what, len(recs), want)
				}
			}
			check("users", c.all(p.Users, "users", nil), c.emu.CountUsers())
			check("groups", c.all(p.Groups, "groups", url.Values{"status": {"INIT,ACTIVE,SUSPENDED"}}), c.emu.CountGroups())
			check("apps", c.all(p.Apps, "apps", nil), c.emu.CountApps())
			check("accesses", c.lookupAll(p.Accesses, "accesses", nil), c.emu.CountAccesses())
			check("policies", c.lookupAll(p.Policies, "policies", url.Values{"resolveDisplayNames": {"false"}}), c.emu.CountPolicies())
			from, to := now.Add(-50*time.Hour), now.Add(-3*time.Hour)
			q := url.Values{"start_time": {strconv.FormatInt(from.UnixMilli(), 10)}, "end_time": {strconv.FormatInt(to.UnixMilli(), 10)}}
			events := c.all(p.AuditEvents, "audit_events", q)
			check("audit events", events, c.emu.CountAuditEvents(from, to))
			for _, ev := range events {
				ms := int64(ev["create_time"].(float64))
				if ms < from.UnixMilli() || ms >= to.UnixMilli() {
					t.Fatalf("event at %d outside [%d, %d)", ms, from.UnixMilli(), to.UnixMilli())
				}
			}
			if d := c.emu.DuplicatePages(); len(d) > 0 {
				t.Errorf("duplicate pages %v", d)
			}
		})
	}
}

func TestFilteredAndEmptyLists(t *testing.T) {
	c := start(t, Config{Users: 100, PageSize: 7})
	p := c.emu.Paths()
	suspended := c.all(p.Users, "users", url.Values{"status": {"SUSPENDED"}})
	want := 0
	for i := range 100 {
		if c.emu.userStatus(i) == statusSuspended {
			want++
		}
	}
	if len(suspended) != want || want == 0 {
		t.Fatalf("%d suspended users, want %d", len(suspended), want)
	}
	for _, u := range suspended {
		if u["status"].(float64) != statusSuspended {
			t.Fatalf("user %v in the SUSPENDED filter", u)
		}
	}
	status, m := c.get(p.Users, url.Values{"status": {"DELETED"}})
	if status != 200 || len(m) != 1 || string(m["users"]) != "[]" {
		t.Errorf("an empty list keeps the sample's key: {\"users\": []}, got %d %v", status, m)
	}
}

func TestAccessResponseCarriesNamedObjects(t *testing.T) {
	c := start(t, Config{})
	status, m := c.get(c.emu.Paths().Accesses, c.pair(0))
	if status != 200 {
		t.Fatal(status)
	}
	for _, k := range []string{"accesses", "apps", "groups", "users"} {
		var recs []map[string]any
		if err := json.Unmarshal(m[k], &recs); err != nil || len(recs) == 0 {
			t.Errorf("%s: %d, %v", k, len(recs), err)
		}
	}
}

func TestFaultsAndViolations(t *testing.T) {
	c := start(t, Config{Faults: Faults{RateLimitEvery: 2, RetryAfter: 10*time.Second + 500*time.Millisecond, ErrorEvery: 3}})
	p := c.emu.Paths()
	codes := []int{}
	var retryAfter []string
	for range 3 {
		status, _, h := c.do(p.Apps, nil)
		codes = append(codes, status)
		retryAfter = append(retryAfter, h.Get("Retry-After"))
	}
	// 1: ok; 2: injected 429 blocks apps for 10.5 s; 3: arrives inside the block.
	if codes[0] != 200 || codes[1] != 429 || codes[2] != 429 || retryAfter[1] != "10.5" {
		t.Fatalf("codes %v, Retry-After %v", codes, retryAfter)
	}
	v := c.emu.Violations()
	if len(v) != 1 || v[0].Op != "apps" {
		t.Fatalf("violations %+v", v)
	}
	// Another operation is not blocked; request 3 of the fault sequence was
	// the violation (not counted), so this is the 3rd counted: a 5xx.
	status, _, _ := c.do(p.Groups, nil)
	if status != http.StatusInternalServerError {
		t.Fatalf("groups: %d, want the injected 500", status)
	}
}

func TestExpireEveryRevokesTheSession(t *testing.T) {
	c := start(t, Config{Faults: Faults{ExpireEvery: 2}})
	p := c.emu.Paths()
	if s, _, _ := c.do(p.Apps, nil); s != 200 {
		t.Fatal(s)
	}
	if s, _, _ := c.do(p.Apps, nil); s != 401 {
		t.Fatalf("2nd request: %d, want 401", s)
	}
	if s, _, _ := c.do(p.Apps, nil); s != 401 {
		t.Fatalf("revoked token still accepted: %d", s)
	}
}

func TestDeterminism(t *testing.T) {
	body := func(seed int64) string {
		c := start(t, Config{Seed: seed, PageSize: 50})
		_, b, _ := c.do(c.emu.Paths().Users, nil)
		_, a, _ := c.do(c.emu.Paths().Accesses+"?"+c.pair(1).Encode(), nil)
		return string(b) + string(a)
	}
	if first, again := body(1), body(1); first != again {
		t.Error("the same seed gave different data")
	}
	if body(1) == body(2) {
		t.Error("different seeds gave the same data")
	}
}

func TestAuditArithmetic(t *testing.T) {
	s := New(Config{AuditEventsPerDay: 7, Now: func() time.Time { return now }})
	// Brute force over three days of the series.
	from := now.Add(-72 * time.Hour).UnixMilli()
	for _, w := range [][2]int64{{0, 1}, {0, msPerDay}, {5, 3*msPerDay - 5}, {msPerDay / 7, msPerDay/7 + 1}, {123456, 2*msPerDay + 98765}} {
		a, b := from+w[0], from+w[1]
		want := 0
		for n := s.auditBefore(from) - 1; n < s.auditBefore(from+3*msPerDay)+1; n++ {
			if t := s.auditTime(n); t >= a && t < b {
				want++
			}
		}
		if got := s.CountAuditEvents(time.UnixMilli(a), time.UnixMilli(b)); got != want {
			t.Errorf("[%d, %d): %d, brute force %d", w[0], w[1], got, want)
		}
	}
	if n := s.CountAuditEvents(now.Add(-200*24*time.Hour), now.Add(-130*24*time.Hour)); n != 0 {
		t.Errorf("%d events before the 120-day horizon", n)
	}
	if n := s.CountAuditEvents(now, now.Add(time.Hour)); n != 0 {
		t.Errorf("%d events in the future", n)
	}
}

func TestReviewHasEveryKindOfFinding(t *testing.T) {
	r := New(Config{Now: func() time.Time { return now }}).Review()
	if r.Accesses != DefaultAccesses || r.Active == 0 || r.Active == r.Accesses || r.Suspended == 0 || r.Unknown == 0 ||
		r.Expired == 0 || r.Failing == 0 || r.Failing == r.Active || r.Assignments == 0 {
		t.Fatalf("the default tenant should have every kind of finding and clean accesses: %+v", r)
	}
}

func TestScaleIsArithmetic(t *testing.T) {
	c := start(t, Config{Users: 5_000_000, AuditEventsPerDay: 86_400, PageSize: 100})
	if c.emu.CountUsers() != 5_000_000 {
		t.Fatal(c.emu.CountUsers())
	}
	if n := c.emu.CountAuditEvents(now.Add(-100*24*time.Hour), now); n != 100*86_400 {
		t.Fatalf("%d events", n)
	}
	// One page of a huge list costs one page.
	status, m := c.get(c.emu.Paths().Users, nil)
	var users []map[string]any
	if err := json.Unmarshal(m["users"], &users); status != 200 || err != nil || len(users) != 100 {
		t.Fatalf("%d, %d users, %v", status, len(users), err)
	}
}

func TestRetryAfterValue(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Second: "1", 3 * time.Second: "3", 50 * time.Millisecond: "0.05", 1500 * time.Microsecond: "0.002"} {
		if got := retryAfterValue(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

// A server that reads start_time and end_time as seconds answers nothing to
// a query in milliseconds: the client's empty-window probe must see that.
func TestAuditTimesInSeconds(t *testing.T) {
	from, to := now.Add(-50*time.Hour), now.Add(-3*time.Hour)
	tests := []struct {
		name    string
		seconds bool
		q       url.Values
		want    int
	}{
		{"ms to a ms server", false, url.Values{"start_time": {strconv.FormatInt(from.UnixMilli(), 10)}, "end_time": {strconv.FormatInt(to.UnixMilli(), 10)}}, 1},
		{"ms to a seconds server", true, url.Values{"start_time": {strconv.FormatInt(from.UnixMilli(), 10)}, "end_time": {strconv.FormatInt(to.UnixMilli(), 10)}}, 0},
		{"seconds to a seconds server", true, url.Values{"start_time": {strconv.FormatInt(from.Unix(), 10)}, "end_time": {strconv.FormatInt(to.Unix(), 10)}}, 1},
		{"seconds to a ms server", false, url.Values{"start_time": {strconv.FormatInt(from.Unix(), 10)}, "end_time": {strconv.FormatInt(to.Unix(), 10)}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := start(t, Config{AuditTimesInSeconds: tc.seconds, AuditEventsPerDay: 24})
			got := len(c.all(c.emu.Paths().AuditEvents, "audit_events", tc.q))
			if (got > 0) != (tc.want > 0) {
				t.Errorf("%d events", got)
			}
		})
	}
}
