package ibmscc_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/httpx/httpxtest"
	"github.com/evidence-pack/evidence/internal/collect/ibmscc"
	"github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type env struct {
	emu    *emulator.Server
	srv    *httptest.Server
	client *ibmscc.Client
	logs   *httpxtest.SyncBuffer
	auth   *httpxtest.AuthRecorder
}

type envOpts struct {
	creds  func(*ibmscc.Credentials)
	limits ibmscc.Limits
	now    func() time.Time
	noKeep bool                            // disable keep-alives, so every dropped connection is seen
	wrap   func(http.Handler) http.Handler // a misbehaving server in front of the emulator
}

func newEnv(t *testing.T, cfg emulator.Config, o envOpts) *env {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	emu := emulator.New(cfg)
	var h http.Handler = emu
	if o.wrap != nil {
		h = o.wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	logs := &httpxtest.SyncBuffer{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = o.noKeep
	rec := &httpxtest.AuthRecorder{Next: tr}
	creds := ibmscc.Credentials{
		APIKey:     emulator.DefaultAPIKey,
		InstanceID: emulator.DefaultInstanceID,
		BaseURL:    srv.URL + "/api", // the document's form; the client drops the /api
		IAMURL:     srv.URL + emulator.PathToken,
	}
	if o.creds != nil {
		o.creds(&creds)
	}
	limits := o.limits
	if limits.RequestsPerMinute == 0 {
		limits.RequestsPerMinute = -1
	}
	c, err := ibmscc.New(creds, ibmscc.Options{Options: httpx.Options{
		HTTPClient: &http.Client{Transport: rec, Timeout: 30 * time.Second},
		Retry:      httpx.Retry{MaxAttempts: 8, BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond},
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        o.now,
	}, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, srv: srv, client: c, logs: logs, auth: rec}
}

// checkClean asserts what every test owes: no request during a Retry-After,
// no page served twice, no API key or token in the logs or errors.
func (e *env) checkClean(t *testing.T, errs ...error) {
	t.Helper()
	if v := e.emu.Violations(); len(v) > 0 {
		t.Errorf("%d requests sent while a Retry-After was in force, first %+v", len(v), v[0])
	}
	if d := e.emu.DuplicatePages(); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}
	text := e.logs.String()
	for _, err := range errs {
		if err != nil {
			text += err.Error()
		}
	}
	if strings.Contains(text, emulator.DefaultAPIKey) {
		t.Error("the API key appears in logs or errors")
	}
	for _, tok := range e.auth.Tokens() {
		if strings.Contains(text, tok) {
			t.Error("an access token appears in logs or errors")
		}
	}
}

func collect[T any](seq func(yield func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// readReport reads every requirement of a policy in a zone and the failing
// and accepted resources of its controls, as the source does: each listed
// once, and as many as the control's objectsCount and acceptedCount.
func readReport(ctx context.Context, c *ibmscc.Client, policy, zone string) (emulator.ReportCounts, error) {
	var rc emulator.ReportCounts
	for req, err := range c.Requirements(ctx, ibmscc.RequirementQuery{Policy: policy, Zone: zone}) {
		if err != nil {
			return rc, err
		}
		if req.PolicyName != policy || req.Zone.Name != zone {
			return rc, errors.New("requirement of another policy or zone: " + req.PolicyName + " / " + req.Zone.Name)
		}
		rc.Requirements++
		for _, ctl := range req.Controls {
			rc.Controls++
			rc.Passing += int64(ctl.PassingCount)
			if ctl.IsManual {
				rc.Manual++
			}
			if ctl.ObjectsCount == 0 && ctl.AcceptedCount == 0 {
				continue
			}
			var failing, accepted int64
			if ctl.ObjectsCount > 0 {
				for res, err := range c.FailingResources(ctx, ctl, nil) {
					if err != nil {
						return rc, err
					}
					if res.Passed || res.Acceptance != nil {
						return rc, errors.New("a passing or accepted resource among the failing ones")
					}
					failing++
				}
			}
			if ctl.AcceptedCount > 0 {
				for res, err := range c.AcceptedResources(ctx, ctl, nil) {
					if err != nil {
						return rc, err
					}
					if res.Acceptance == nil {
						return rc, errors.New("a resource without acceptance among the accepted ones")
					}
					accepted++
				}
			}
			if failing != int64(ctl.ObjectsCount) || accepted != int64(ctl.AcceptedCount) {
				return rc, errors.New("listed resources differ from the control's counts")
			}
			rc.Failing += failing
			rc.Accepted += accepted
		}
	}
	return rc, nil
}

func TestViewsAndReports(t *testing.T) {
	tests := []struct {
		name     string
		pageSize int
		cfg      emulator.Config
	}{
		{"default pages", 0, emulator.Config{Seed: 1}},
		{"many small pages", 3, emulator.Config{Seed: 2, ResourcesPerControl: 40}},
		{"tricky values", 7, emulator.Config{Seed: 3, Tricky: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg, envOpts{limits: ibmscc.Limits{PageSize: tc.pageSize}})
			ctx := context.Background()
			views, err := e.client.Views(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(views) != len(e.emu.Zones()) {
				t.Fatalf("%d views, want %d zones", len(views), len(e.emu.Zones()))
			}
			pairs := 0
			for _, v := range views {
				var names []string
				for _, p := range v.Policies {
					names = append(names, p.Name)
					if p.LastEvaluated().IsZero() {
						t.Errorf("zone %s policy %s: no evaluation date", v.ZoneName, p.Name)
					}
					want := e.emu.CountReport(p.Name, v.ZoneName)
					got, err := readReport(ctx, e.client, p.Name, v.ZoneName)
					if err != nil {
						t.Fatalf("zone %s policy %s: %v", v.ZoneName, p.Name, err)
					}
					if got != want {
						t.Errorf("zone %s policy %s: read %+v, emulator holds %+v", v.ZoneName, p.Name, got, want)
					}
					pairs++
				}
				if strings.Join(names, "|") != strings.Join(e.emu.ZonePolicies(v.ZoneName), "|") {
					t.Errorf("zone %s: policies %v, want %v", v.ZoneName, names, e.emu.ZonePolicies(v.ZoneName))
				}
			}
			if pairs == 0 {
				t.Fatal("no policy in any zone")
			}
			e.checkClean(t)
		})
	}
}

func TestInventoryPaging(t *testing.T) {
	accts := emulator.Accounts()
	tests := []struct {
		name     string
		pageSize int
		accounts []string
	}{
		{"all, many pages", 7, nil},
		{"all, page of 50", 0, nil},
		{"one account", 13, []string{accts[0].ID}},
		{"two accounts, one page", 1000, []string{accts[1].ID, accts[4].ID}},
		{"unknown account", 10, []string{"000000000000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 4, InventoryResources: 503}, envOpts{limits: ibmscc.Limits{PageSize: tc.pageSize}})
			var st httpx.QueryStats
			rows, err := collect(e.client.Inventory(context.Background(), ibmscc.InventoryQuery{Accounts: tc.accounts, Stats: &st}))
			if err != nil {
				t.Fatal(err)
			}
			if want := e.emu.CountInventory(tc.accounts...); int64(len(rows)) != want {
				t.Fatalf("%d rows, emulator holds %d", len(rows), want)
			}
			ids := map[string]bool{}
			for _, r := range rows {
				if r.ID == "" || r.Platform == "" || r.LastSeen.IsZero() || len(r.Metadata) == 0 || r.Category == "" {
					t.Fatalf("a field asked for is missing: %+v", r)
				}
				if ids[string(r.ID)] {
					t.Fatalf("resource %s twice", r.ID)
				}
				ids[string(r.ID)] = true
			}
			if st.Pages == 0 || st.Queries != 1 {
				t.Errorf("stats %+v", st)
			}
			e.checkClean(t)
		})
	}
}

func TestAuditCursorPaging(t *testing.T) {
	const perDay = 1000
	spacing := int64(24*time.Hour) / perDay // ns between events
	at := func(k int64) time.Time { return time.Unix(0, k*spacing).UTC() }
	k0 := now.Add(-30*time.Hour).UnixNano()/spacing + 1 // an event inside the horizon
	day := now.Truncate(24 * time.Hour).Add(-24 * time.Hour)
	tests := []struct {
		name     string
		limit    int
		from, to time.Time
	}{
		{"a day, pages of 100", 100, day, day.Add(24 * time.Hour)},
		{"a day, one page of 9999", 9999, day, day.Add(24 * time.Hour)},
		{"limit equal to the events", 1000, day, day.Add(24 * time.Hour)},
		{"from on an event is inclusive", 7, at(k0), at(k0 + 20)},
		{"to on an event is exclusive", 7, at(k0).Add(1), at(k0 + 20).Add(1)},
		{"one nanosecond holding one event", 7, at(k0), at(k0).Add(1)},
		{"one nanosecond holding none", 7, at(k0).Add(1), at(k0).Add(2)},
		{"up to now", 250, now.Add(-6 * time.Hour), now.Add(time.Hour)},
		{"before the horizon", 100, now.Add(-200 * 24 * time.Hour), now.Add(-190 * 24 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 5, AuditEventsPerDay: perDay}, envOpts{limits: ibmscc.Limits{AuditLimit: tc.limit}})
			var st httpx.QueryStats
			evs, err := collect(e.client.AuditEvents(context.Background(), ibmscc.AuditQuery{From: tc.from, To: tc.to, Stats: &st}))
			if err != nil {
				t.Fatal(err)
			}
			want := e.emu.CountAuditEvents(tc.from, tc.to)
			if int64(len(evs)) != want {
				t.Fatalf("%d events, emulator holds %d", len(evs), want)
			}
			ids := map[string]bool{}
			for i, ev := range evs {
				if ev.Timestamp.Before(tc.from) || !ev.Timestamp.Before(tc.to) {
					t.Fatalf("event at %s outside [%s, %s)", ev.Timestamp.Format(time.RFC3339Nano), tc.from.Format(time.RFC3339Nano), tc.to.Format(time.RFC3339Nano))
				}
				if i > 0 && !ev.Timestamp.Before(evs[i-1].Timestamp.Time) {
					t.Fatalf("events not newest first at %d", i)
				}
				if ids[ev.ID] {
					t.Fatalf("event %s twice", ev.ID)
				}
				ids[ev.ID] = true
			}
			reqs := e.emu.Requests()
			for i, r := range reqs {
				if r.Path != "/api/v2/activityAudit/events" {
					continue
				}
				hasWindow, hasCursor := strings.Contains(r.RawQuery, "from="), strings.Contains(r.RawQuery, "cursor=")
				if hasWindow == hasCursor {
					t.Errorf("request %d: want from/to or cursor, not both or none: %s", i, r.RawQuery)
				}
			}
			if st.Queries != 1 || st.Pages < int((want+int64(tc.limit)-1)/int64(tc.limit)) {
				t.Errorf("stats %+v for %d events", st, want)
			}
			e.checkClean(t)
		})
	}
}

// TestAuditWindows: a period longer than the API's 2-week from/to limit is
// read as consecutive windows, every event once, none lost at a window's
// edge, and no request asks for more than 2 weeks (the emulator refuses it,
// as the real API does).
func TestAuditWindows(t *testing.T) {
	const perDay = 200
	spacing := int64(24*time.Hour) / perDay
	at := func(k int64) time.Time { return time.Unix(0, k*spacing).UTC() }
	kNow := now.UnixNano() / spacing
	// A window edge falls 14 days (less the two slack nanoseconds) before
	// the end of the period: this period puts it exactly on an event.
	edgeOnEvent := at(kNow - 20*perDay).Add(ibmscc.MaxAuditWindow - 2*time.Nanosecond)
	tests := []struct {
		name     string
		from, to time.Time
		windows  int
	}{
		{"30 days", now.Add(-30 * 24 * time.Hour), now, 3},
		{"a window edge on an event", edgeOnEvent.Add(-40 * 24 * time.Hour), edgeOnEvent, 3},
		{"a window edge a nanosecond after an event", edgeOnEvent.Add(-40*24*time.Hour + 1), edgeOnEvent.Add(1), 3},
		{"13 days", now.Add(-13 * 24 * time.Hour), now, 1},
		{"exactly 14 days", now.Add(-14 * 24 * time.Hour), now, 2},
		{"89 days", now.Add(-89 * 24 * time.Hour), now, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 11, AuditEventsPerDay: perDay}, envOpts{limits: ibmscc.Limits{AuditLimit: 700}})
			var st httpx.QueryStats
			evs, err := collect(e.client.AuditEvents(context.Background(), ibmscc.AuditQuery{From: tc.from, To: tc.to, Stats: &st}))
			if err != nil {
				t.Fatal(err)
			}
			if want := e.emu.CountAuditEvents(tc.from, tc.to); int64(len(evs)) != want {
				t.Fatalf("%d events, the emulator holds %d in the period", len(evs), want)
			}
			ids := map[string]bool{}
			for i, ev := range evs {
				if ev.Timestamp.Before(tc.from) || !ev.Timestamp.Before(tc.to) {
					t.Fatalf("event at %s outside the period", ev.Timestamp.Format(time.RFC3339Nano))
				}
				if i > 0 && !ev.Timestamp.Before(evs[i-1].Timestamp.Time) {
					t.Fatalf("events not newest first at %d", i)
				}
				if ids[ev.ID] {
					t.Fatalf("event %s twice", ev.ID)
				}
				ids[ev.ID] = true
			}
			var spans []time.Duration
			for _, r := range e.emu.Requests() {
				q, _ := url.ParseQuery(r.RawQuery)
				if r.Path != "/api/v2/activityAudit/events" || q.Get("from") == "" {
					continue
				}
				from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
				to, _ := strconv.ParseInt(q.Get("to"), 10, 64)
				if r.Status != http.StatusOK {
					t.Errorf("window %s: HTTP %d", time.Duration(to-from), r.Status)
				}
				spans = append(spans, time.Duration(to-from))
			}
			if len(spans) != tc.windows || st.Queries != tc.windows {
				t.Errorf("%d windows asked for (%v), stats %+v; want %d", len(spans), spans, st, tc.windows)
			}
			for _, d := range spans {
				if d > ibmscc.MaxAuditWindow {
					t.Errorf("a window of %s, longer than 2 weeks", d)
				}
			}
			if st.Pages < st.Queries {
				t.Errorf("stats %+v: fewer pages than windows", st)
			}
			e.checkClean(t)
		})
	}
}

func TestTokenRefresh(t *testing.T) {
	t.Run("expired tokens are replaced after a 401", func(t *testing.T) {
		e := newEnv(t, emulator.Config{Seed: 6, InventoryResources: 300, Faults: emulator.Faults{ExpireTokenEvery: 4}},
			envOpts{limits: ibmscc.Limits{PageSize: 10}})
		rows, err := collect(e.client.Inventory(context.Background(), ibmscc.InventoryQuery{}))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(rows)) != e.emu.CountInventory() {
			t.Fatalf("%d rows, want %d", len(rows), e.emu.CountInventory())
		}
		if n := e.emu.Faults()["expire"]; n < 3 {
			t.Fatalf("only %d expired tokens", n)
		}
		if got, issued := e.client.TokenRefreshes(), e.emu.TokensIssued(); got < 4 || int(got) != issued {
			t.Errorf("client got %d tokens, emulator issued %d", got, issued)
		}
		e.checkClean(t)
	})
	t.Run("renewed before expiry without a 401", func(t *testing.T) {
		var mu sync.Mutex
		clock := now
		tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
		e := newEnv(t, emulator.Config{Seed: 7, Faults: emulator.Faults{TokenTTL: 10 * time.Minute}},
			envOpts{now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }})
		ctx := context.Background()
		for range 3 {
			if _, err := e.client.Views(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.emu.TokensIssued(); n != 1 {
			t.Fatalf("%d tokens for three calls within the lifetime", n)
		}
		tick(9 * time.Minute) // past the renewal point (lifetime minus a fifth)
		if _, err := e.client.Views(ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.emu.TokensIssued(); n != 2 {
			t.Fatalf("%d tokens, want a renewal before expiry", n)
		}
		for _, r := range e.emu.Requests() {
			if r.Status == http.StatusUnauthorized {
				t.Fatalf("a 401: %+v", r)
			}
		}
	})
}

func TestAuthFailures(t *testing.T) {
	tests := []struct {
		name      string
		cfg       emulator.Config
		creds     func(*ibmscc.Credentials)
		auth      bool // wraps httpx.ErrAuth
		forbidden bool
		apiCalls  bool // requests reached the API
	}{
		{"wrong API key", emulator.Config{}, func(c *ibmscc.Credentials) { c.APIKey = "not-the-key" }, true, false, false},
		{"API key refused", emulator.Config{Faults: emulator.Faults{RefuseAPIKey: true}}, nil, true, false, false},
		{"unknown instance", emulator.Config{}, func(c *ibmscc.Credentials) { c.InstanceID = "00000000-0000-0000-0000-000000000000" }, true, false, true},
		{"unknown team", emulator.Config{}, func(c *ibmscc.Credentials) { c.TeamID = "999" }, false, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg, envOpts{creds: tc.creds})
			_, err := e.client.Views(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, httpx.ErrAuth) != tc.auth || errors.Is(err, ibmscc.ErrForbidden) != tc.forbidden {
				t.Fatalf("err = %v; want auth=%v forbidden=%v", err, tc.auth, tc.forbidden)
			}
			api := 0
			for _, r := range e.emu.Requests() {
				if strings.HasPrefix(r.Path, "/api/") {
					api++
				}
			}
			if (api > 0) != tc.apiCalls {
				t.Errorf("%d API requests", api)
			}
			if tc.name == "unknown instance" && e.emu.TokensIssued() != 2 {
				t.Errorf("%d tokens: want one refresh after the 401", e.emu.TokensIssued())
			}
			e.checkClean(t, err)
		})
	}
	t.Run("a valid team is sent as SysdigTeamID", func(t *testing.T) {
		e := newEnv(t, emulator.Config{}, envOpts{creds: func(c *ibmscc.Credentials) { c.TeamID = emulator.DefaultTeamID }})
		if _, err := e.client.Views(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, r := range e.emu.Requests() {
			if strings.HasPrefix(r.Path, "/api/") && (r.Team != emulator.DefaultTeamID || r.Instance != emulator.DefaultInstanceID) {
				t.Errorf("request without the headers: %+v", r)
			}
		}
	})
}

// TestEmulatorHeaders checks the emulator's documented refusals with raw
// requests: the client never makes them.
func TestEmulatorHeaders(t *testing.T) {
	emu := emulator.New(emulator.Config{Now: func() time.Time { return now }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	form := "grant_type=" + ibmscc.GrantTypeAPIKey + "&apikey=" + emulator.DefaultAPIKey
	resp, err := http.Post(srv.URL+emulator.PathToken, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeJSON(resp, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %+v", err, tok)
	}
	tests := []struct {
		name   string
		header map[string]string
		query  string
		status int
		msg    string
	}{
		{"no token", map[string]string{"IBMInstanceID": emulator.DefaultInstanceID}, "", 401, "Invalid or missing auth token"},
		{"no IBMInstanceID", map[string]string{"Authorization": "Bearer " + tok.AccessToken}, "", 401, "IBMInstanceID"},
		{"unknown parameter", map[string]string{"Authorization": "Bearer " + tok.AccessToken, "IBMInstanceID": emulator.DefaultInstanceID}, "?page=2", 400, "does not accept"},
		{"ok", map[string]string{"Authorization": "Bearer " + tok.AccessToken, "IBMInstanceID": emulator.DefaultInstanceID}, "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/cspm/v1/compliance/views"+tc.query, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Message string `json:"message"`
			}
			_ = decodeJSON(resp, &body)
			if resp.StatusCode != tc.status || !strings.Contains(body.Message, tc.msg) {
				t.Fatalf("HTTP %d %q, want %d containing %q", resp.StatusCode, body.Message, tc.status, tc.msg)
			}
		})
	}
}

func TestFaultStorms(t *testing.T) {
	tests := []struct {
		name   string
		faults emulator.Faults
		noKeep bool
	}{
		{"429 with Retry-After", emulator.Faults{RateLimitEvery: 17}, false},
		{"5xx storm", emulator.Faults{ErrorEvery: 3}, false},
		{"dropped connections", emulator.Faults{DropEvery: 4}, true},
		{"everything", emulator.Faults{ErrorEvery: 5, DropEvery: 7, RateLimitEvery: 23, ExpireTokenEvery: 11}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := emulator.Config{Seed: 8, InventoryResources: 120, AuditEventsPerDay: 300, RequirementsPerPolicy: 4, ResourcesPerControl: 12, Faults: tc.faults}
			e := newEnv(t, cfg, envOpts{limits: ibmscc.Limits{PageSize: 10, AuditLimit: 40}, noKeep: tc.noKeep})
			ctx := context.Background()
			inv, err := collect(e.client.Inventory(ctx, ibmscc.InventoryQuery{}))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(inv)) != e.emu.CountInventory() {
				t.Errorf("inventory: %d rows, want %d", len(inv), e.emu.CountInventory())
			}
			from, to := now.Add(-36*time.Hour), now
			evs, err := collect(e.client.AuditEvents(ctx, ibmscc.AuditQuery{From: from, To: to}))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(evs)) != e.emu.CountAuditEvents(from, to) {
				t.Errorf("audit: %d events, want %d", len(evs), e.emu.CountAuditEvents(from, to))
			}
			zone := e.emu.Zones()[0]
			policy := e.emu.ZonePolicies(zone)[0]
			got, err := readReport(ctx, e.client, policy, zone)
			if err != nil {
				t.Fatal(err)
			}
			if want := e.emu.CountReport(policy, zone); got != want {
				t.Errorf("report: %+v, want %+v", got, want)
			}
			if len(e.emu.Faults()) == 0 {
				t.Error("no fault was injected")
			}
			st := e.client.Stats()
			if st.Retries.Load() == 0 {
				t.Error("no retry")
			}
			e.checkClean(t)
		})
	}
}

func TestRefusesForeignResourceEndpoint(t *testing.T) {
	e := newEnv(t, emulator.Config{}, envOpts{})
	ctx := context.Background()
	tests := []struct{ name, endpoint string }{
		{"other host", "https://evil.example.com/api/cspm/v1/cloud/resources?controlId=1"},
		{"other path", "/api/v2/activityAudit/events?from=1"},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := collect(e.client.FailingResources(ctx, ibmscc.Control{ID: "1", ResourceAPIEndpoint: tc.endpoint}, nil))
			if err == nil {
				t.Fatal("followed")
			}
		})
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
