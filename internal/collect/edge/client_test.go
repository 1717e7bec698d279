package edge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/edge"
	"github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/httpx/httpxtest"
	"github.com/evidence-pack/evidence/internal/period"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func day(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }

type env struct {
	emu    *emulator.Server
	srv    *httptest.Server
	client *edge.Client
	logs   *httpxtest.SyncBuffer
	auth   *httpxtest.AuthRecorder
	spool  string
}

func newEnv(t *testing.T, cfg emulator.Config, creds edge.Credentials, opts edge.Options) *env {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	emu := emulator.New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	logs := &httpxtest.SyncBuffer{}
	rec := &httpxtest.AuthRecorder{Next: http.DefaultTransport}
	if creds.BaseURL == "" {
		creds.BaseURL = srv.URL
	}
	if creds.Account == "" {
		creds.Account = emu.Account()
	}
	if creds.Login == edge.LoginBasic {
		if creds.KeyID == "" {
			creds.KeyID = emulator.DefaultKeyID
		}
		if creds.Secret == "" {
			creds.Secret = emulator.DefaultSecret
		}
	} else if creds.APIToken == "" {
		creds.APIToken = emulator.DefaultAPIToken
	}
	opts.Now = func() time.Time { return now }
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.HTTPClient = &http.Client{Transport: rec, Timeout: 30 * time.Second}
	opts.Retry = httpx.Retry{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}
	if opts.Limits.RequestsPerHour == 0 {
		opts.Limits.RequestsPerHour = -1 // the emulator's 429s pace
	}
	spool := t.TempDir()
	opts.SpoolDir = spool
	c, err := edge.New(creds, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, srv: srv, client: c, logs: logs, auth: rec, spool: spool}
}

// checkClean asserts what every test owes: no request during a
// Retry-After, no page served twice, no secret or token in logs or errors,
// no spool file left behind.
func (e *env) checkClean(t *testing.T, errs ...error) {
	t.Helper()
	if v := e.emu.Violations(); len(v) > 0 {
		t.Errorf("%d requests sent while a Retry-After was in force, first %+v", len(v), v[0])
	}
	// Accesses and Policies list the apps and users again to look their
	// pairs up (by design); any other page fetched twice is a fault.
	var dup []string
	for _, d := range e.emu.DuplicatePages() {
		if !strings.HasPrefix(d, "apps|") && !strings.HasPrefix(d, "users|") {
			dup = append(dup, d)
		}
	}
	if len(dup) > 0 {
		t.Errorf("pages fetched twice: %v", dup)
	}
	text := e.logs.String()
	for _, err := range errs {
		if err != nil {
			text += err.Error()
		}
	}
	if strings.Contains(text, emulator.DefaultSecret) || strings.Contains(text, emulator.DefaultAPIToken) || strings.Contains(text, emulator.SecretMarker) {
		t.Error("a secret appears in logs or errors")
	}
	for _, tok := range e.auth.Tokens() {
		if strings.Contains(text, tok) {
			t.Error("a session token appears in logs or errors")
		}
	}
	if left, _ := os.ReadDir(e.spool); len(left) > 0 {
		t.Errorf("%d spool files left behind", len(left))
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

// uniqueIDs fails on an empty or repeated id.
func uniqueIDs[T any](t *testing.T, what string, rows []T, id func(T) string) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range rows {
		k := id(r)
		if k == "" || seen[k] {
			t.Fatalf("%s: empty or repeated id %q", what, k)
		}
		seen[k] = true
	}
}

func TestDefaultPathsAreTheEmulators(t *testing.T) {
	c, e := edge.DefaultPaths(), emulator.DefaultPaths()
	if c.TokenLogin != e.TokenLogin || c.Users != e.Users || c.Groups != e.Groups || c.Apps != e.Apps ||
		c.Accesses != e.Accesses || c.Policies != e.Policies || c.AuditEvents != e.AuditEvents {
		t.Fatalf("client defaults %+v differ from the emulator's %+v", c, e)
	}
}

func TestListsAcrossPages(t *testing.T) {
	tests := []struct {
		name     string
		pageSize int
	}{
		{"unpaged as documented", 0},
		{"one record per page", 1},
		{"pages of 7", 7},
		{"pages larger than the lists", 5000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := emulator.Config{Seed: 7, Users: 20, Groups: 9, Apps: 6, Accesses: 23, AuditEventsPerDay: 50, PageSize: tc.pageSize}
			e := newEnv(t, cfg, edge.Credentials{}, edge.Options{})
			ctx := context.Background()
			pages := func(n int) int {
				if tc.pageSize == 0 || n == 0 {
					return 1
				}
				return (n + tc.pageSize - 1) / tc.pageSize
			}

			var st httpx.QueryStats
			users, err := collect(e.client.Users(ctx, &st))
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != e.emu.CountUsers() || st.Rows != len(users) || st.Pages != pages(len(users)) {
				t.Errorf("users: %d rows in %d pages (stats %+v), want %d in %d", len(users), st.Pages, st, e.emu.CountUsers(), pages(e.emu.CountUsers()))
			}
			uniqueIDs(t, "users", users, func(u edge.User) string { return u.UUID })

			groups, err := collect(e.client.Groups(ctx, nil))
			if err != nil || len(groups) != e.emu.CountGroups() {
				t.Errorf("groups: %d, %v; want %d", len(groups), err, e.emu.CountGroups())
			}
			uniqueIDs(t, "groups", groups, func(g edge.Group) string { return g.UUID })

			apps, err := collect(e.client.Apps(ctx, nil))
			if err != nil || len(apps) != e.emu.CountApps() {
				t.Errorf("apps: %d, %v; want %d", len(apps), err, e.emu.CountApps())
			}
			uniqueIDs(t, "apps", apps, func(a edge.App) string { return a.UUID })

			st = httpx.QueryStats{}
			accesses, err := collect(e.client.Accesses(ctx, &st))
			if err != nil || len(accesses) != e.emu.CountAccesses() || st.Lookups != e.emu.CountLookups() || st.Rows != len(accesses) {
				t.Errorf("accesses: %d in %d lookups (stats %+v), %v; want %d in %d", len(accesses), st.Lookups, st, err, e.emu.CountAccesses(), e.emu.CountLookups())
			}
			uniqueIDs(t, "accesses", accesses, func(a edge.Access) string { return a.UUID })
			for _, a := range accesses {
				if len(a.UserList) == 0 || len(a.AppList) == 0 || a.CreateTime.IsZero() {
					t.Fatalf("access %s decoded without assignments or times: %+v", a.UUID, a)
				}
			}

			policies, err := collect(e.client.Policies(ctx, nil))
			if err != nil || len(policies) != e.emu.CountPolicies() {
				t.Errorf("policies: %d, %v; want %d", len(policies), err, e.emu.CountPolicies())
			}
			uniqueIDs(t, "policies", policies, func(p edge.Policy) string { return p.UUID })
			for _, p := range policies {
				if len(p.AppFilter) < 3 || len(p.SessionFilter) < 3 || len(p.FilterSelectorDisplayNames) < 3 || p.Status == "" || p.CreateTime.IsZero() {
					t.Fatalf("policy %s decoded without filters, names, status or times: %+v", p.UUID, p)
				}
			}

			w := period.Window{From: day(20), To: day(22).Add(7 * time.Hour)}
			st = httpx.QueryStats{}
			events, err := collect(e.client.AuditEvents(ctx, edge.AuditQuery{Window: w, Stats: &st}))
			if err != nil {
				t.Fatal(err)
			}
			if want := e.emu.CountAuditEvents(w.From, w.To); len(events) != want || st.Queries != 3 || st.Rows != want {
				t.Errorf("audit events: %d in %d queries (stats %+v), want %d in 3", len(events), st.Queries, st, want)
			}
			uniqueIDs(t, "audit events", events, func(a edge.AuditEvent) string { return a.UUID })
			for i, ev := range events {
				if ev.CreateTime.Before(w.From) || !ev.CreateTime.Before(w.To) || (i > 0 && ev.CreateTime.Before(events[i-1].CreateTime.Time)) {
					t.Fatalf("event %d at %s: outside %s or out of order", i, ev.CreateTime, w)
				}
			}
			e.checkClean(t)
		})
	}
}

func TestAuthFailure(t *testing.T) {
	tests := []struct {
		name  string
		cfg   emulator.Config
		creds edge.Credentials
	}{
		{"wrong api token", emulator.Config{}, edge.Credentials{APIToken: "_wrong_secret"}},
		{"wrong account", emulator.Config{}, edge.Credentials{Account: "someone-else"}},
		{"basic to a server that takes the api token", emulator.Config{}, edge.Credentials{Login: edge.LoginBasic}},
		{"basic with a wrong secret", emulator.Config{AcceptBasic: true}, edge.Credentials{Login: edge.LoginBasic, Secret: "_wrong_secret"}},
		{"basic with a wrong key id", emulator.Config{AcceptBasic: true}, edge.Credentials{Login: edge.LoginBasic, KeyID: "00000000-0000-4000-8000-000000000000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg, tc.creds, edge.Options{})
			ctx := context.Background()
			err := e.client.Authenticate(ctx)
			if !errors.Is(err, edge.ErrAuth) || httpx.StatusOf(err) != http.StatusUnauthorized {
				t.Fatalf("Authenticate: %v, want ErrAuth with HTTP 401", err)
			}
			if !strings.Contains(err.Error(), e.client.Account()) || strings.Contains(err.Error(), "_wrong_secret") {
				t.Errorf("error should name the account and not the secret: %v", err)
			}
			_, err = collect(e.client.Users(ctx, nil))
			if !errors.Is(err, edge.ErrAuth) {
				t.Fatalf("Users: %v, want ErrAuth", err)
			}
			for _, r := range e.emu.Requests() {
				if r.Op != "login" {
					t.Errorf("a data request was sent without a session: %+v", r)
				}
			}
			e.checkClean(t, err)
		})
	}
}

func TestFaultStormsKeepRowsExact(t *testing.T) {
	retry := 15 * time.Millisecond
	tests := []struct {
		name   string
		faults emulator.Faults
	}{
		{"5xx every 3rd request", emulator.Faults{ErrorEvery: 3, RetryAfter: retry}},
		{"429 every 4th request", emulator.Faults{RateLimitEvery: 4, RetryAfter: retry}},
		{"429 on every other request", emulator.Faults{RateLimitEvery: 2, RetryAfter: retry}},
		{"dropped connection every 3rd request", emulator.Faults{DropEvery: 3}},
		{"session expired every 5th request", emulator.Faults{ExpireEvery: 5}},
		{"all at once", emulator.Faults{ErrorEvery: 5, RateLimitEvery: 7, DropEvery: 4, ExpireEvery: 11, RetryAfter: retry}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := emulator.Config{Seed: 3, Users: 30, Apps: 4, Accesses: 40, AuditEventsPerDay: 100, PageSize: 13, Faults: tc.faults}
			e := newEnv(t, cfg, edge.Credentials{}, edge.Options{})
			ctx := context.Background()
			users, err := collect(e.client.Users(ctx, nil))
			if err != nil || len(users) != e.emu.CountUsers() {
				t.Fatalf("users: %d, %v; want %d", len(users), err, e.emu.CountUsers())
			}
			uniqueIDs(t, "users", users, func(u edge.User) string { return u.UUID })
			accesses, err := collect(e.client.Accesses(ctx, nil))
			if err != nil || len(accesses) != e.emu.CountAccesses() {
				t.Fatalf("accesses: %d, %v; want %d", len(accesses), err, e.emu.CountAccesses())
			}
			w := period.Window{From: day(21), To: day(22)}
			events, err := collect(e.client.AuditEvents(ctx, edge.AuditQuery{Window: w}))
			if want := e.emu.CountAuditEvents(w.From, w.To); err != nil || len(events) != want {
				t.Fatalf("audit events: %d, %v; want %d", len(events), err, want)
			}
			uniqueIDs(t, "audit events", events, func(a edge.AuditEvent) string { return a.UUID })
			faults := 0
			for _, r := range e.emu.Requests() {
				if r.Fault != "" {
					faults++
				}
			}
			if faults == 0 {
				t.Error("no fault was injected")
			}
			if tc.faults.ExpireEvery > 0 && e.client.TokenRefreshes() < 2 {
				t.Errorf("expired sessions were not renewed: %d logins", e.client.TokenRefreshes())
			}
			e.checkClean(t)
		})
	}
}

func TestConfigurablePaths(t *testing.T) {
	custom := emulator.Paths{TokenLogin: "/edge/login", Users: "/edge/v2/people", Groups: "/edge/v2/teams",
		Apps: "/edge/v2/applications", Accesses: "/edge/v2/access", Policies: "/edge/v2/policy", AuditEvents: "/edge/v2/audit"}
	prefixed := emulator.DefaultPaths()
	for _, p := range []*string{&prefixed.TokenLogin, &prefixed.Users, &prefixed.Groups, &prefixed.Apps, &prefixed.Accesses, &prefixed.Policies, &prefixed.AuditEvents} {
		*p = "/tenant-a" + *p
	}
	tests := []struct {
		name    string
		emu     emulator.Paths
		paths   edge.Paths
		prefix  string // appended to the base URL
		wantErr bool
	}{
		{"overridden paths", custom, edge.Paths{TokenLogin: custom.TokenLogin, Users: custom.Users, Groups: custom.Groups,
			Apps: custom.Apps, Accesses: custom.Accesses, Policies: custom.Policies, AuditEvents: custom.AuditEvents}, "", false},
		{"base URL with a path prefix", prefixed, edge.Paths{}, "/tenant-a", false},
		{"defaults against a server elsewhere", custom, edge.Paths{}, "", true},
		{"one path overridden, the rest default", emulator.Paths{Users: "/v9/users"}, edge.Paths{Users: "/v9/users"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu := emulator.New(emulator.Config{Paths: tc.emu, Users: 20, Now: func() time.Time { return now }})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			c, err := edge.New(edge.Credentials{Account: emulator.DefaultAccount, APIToken: emulator.DefaultAPIToken, BaseURL: srv.URL + tc.prefix},
				edge.Options{Options: httpx.Options{SpoolDir: t.TempDir(), Retry: httpx.Retry{MaxAttempts: 2, BaseDelay: time.Millisecond}}, Paths: tc.paths})
			if err != nil {
				t.Fatal(err)
			}
			users, err := collect(c.Users(context.Background(), nil))
			if tc.wantErr {
				if httpx.StatusOf(err) != http.StatusNotFound {
					t.Fatalf("got %d users, err %v; want a 404", len(users), err)
				}
				return
			}
			if err != nil || len(users) != emu.CountUsers() {
				t.Fatalf("users: %d, %v", len(users), err)
			}
			if policies, err := collect(c.Policies(context.Background(), nil)); err != nil || len(policies) != emu.CountPolicies() {
				t.Fatalf("policies: %d, %v", len(policies), err)
			}
			for _, r := range emu.Requests() {
				if r.Op == "" {
					t.Errorf("request to an unserved path %s", r.Path)
				}
			}
		})
	}
}

func TestInvalidPathsAreRefused(t *testing.T) {
	for _, p := range []string{"users", "//evil.example/users", "/api/v1/users?x=1", "/api/../admin", "/a b"} {
		_, err := edge.New(edge.Credentials{Account: "a", APIToken: "t", BaseURL: "https://edge.example"},
			edge.Options{Paths: edge.Paths{Users: p}})
		if err == nil || !strings.Contains(err.Error(), "paths.users") {
			t.Errorf("path %q: err = %v", p, err)
		}
	}
}

func TestCredentialsValidateNamesEveryProblem(t *testing.T) {
	tests := []struct {
		name  string
		creds edge.Credentials
		want  []string
	}{
		{"nothing set", edge.Credentials{BaseURL: "ftp://x"}, []string{"lacework edge: ", "account", "API token"}},
		{"basic without key and secret", edge.Credentials{Login: edge.LoginBasic}, []string{"API URL", "account", "API key", "API secret"}},
		{"api token with a key and secret", edge.Credentials{APIToken: "t", KeyID: "k", Secret: "s"}, []string{"only used with login basic"}},
		{"basic with an api token", edge.Credentials{Login: edge.LoginBasic, KeyID: "k", Secret: "s", APIToken: "t"}, []string{"not an API token"}},
		{"unknown login", edge.Credentials{Login: "oauth"}, []string{`login "oauth"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.creds.Validate()
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("missing %q in %v", want, err)
				}
			}
		})
	}
}

// The default login sends the long-lived API token to TokenLogin as a
// Bearer credential; Basic uuid:secret is sent only when configured. The
// emulator refuses Basic unless told to accept it, so a client that sent
// Basic by default would fail here.
func TestLoginModes(t *testing.T) {
	tests := []struct {
		name   string
		cfg    emulator.Config
		creds  edge.Credentials
		header string // prefix of the login request's Authorization
	}{
		{"default: the api token", emulator.Config{}, edge.Credentials{}, "Bearer "},
		{"explicit api token", emulator.Config{}, edge.Credentials{Login: edge.LoginAPIToken}, "Bearer "},
		{"basic, when configured", emulator.Config{AcceptBasic: true}, edge.Credentials{Login: edge.LoginBasic}, "Basic "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg, tc.creds, edge.Options{})
			if err := e.client.Authenticate(context.Background()); err != nil {
				t.Fatal(err)
			}
			reqs := e.emu.Requests()
			if len(reqs) != 1 || reqs[0].Op != "login" || reqs[0].Status != http.StatusOK {
				t.Fatalf("requests %+v", reqs)
			}
			e.checkClean(t)
		})
	}
}

// Accesses and Policies are per-(app, user) lookups; a directory with
// more pairs than the limit is refused before the first lookup.
func TestLookupLimit(t *testing.T) {
	e := newEnv(t, emulator.Config{Users: 30, Apps: 4}, edge.Credentials{}, edge.Options{Limits: edge.Limits{MaxLookups: 100}})
	_, err := collect(e.client.Accesses(context.Background(), nil))
	if !errors.Is(err, edge.ErrTooManyLookups) || !strings.Contains(err.Error(), "120 lookups (4 apps × 30 users;") {
		t.Fatalf("err %v, want ErrTooManyLookups naming the count", err)
	}
	for _, r := range e.emu.Requests() {
		if r.Op == "accesses" {
			t.Fatalf("a lookup was sent: %+v", r)
		}
	}
}

// Audit times are epoch milliseconds (the document's sibling time queries
// say so); a window that answers nothing is probed, and an unexplained
// empty answer is an error, never an empty sheet.
func TestAuditEmptyWindow(t *testing.T) {
	tests := []struct {
		name     string
		cfg      emulator.Config
		window   period.Window
		events   bool
		verified bool
		wantErr  string
	}{
		{"events in milliseconds", emulator.Config{}, period.Window{From: day(20), To: day(21)}, true, false, ""},
		{"a quiet window before the data: later events prove the unit", emulator.Config{},
			period.Window{From: now.Add(-200 * 24 * time.Hour), To: now.Add(-199 * 24 * time.Hour)}, false, true, ""},
		{"a server that reads seconds answers nothing", emulator.Config{AuditTimesInSeconds: true},
			period.Window{From: day(20), To: day(21)}, false, false, "from 2026-11-20T00:00:00Z to now"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg, edge.Credentials{}, edge.Options{})
			var st httpx.QueryStats
			events, err := collect(e.client.AuditEvents(context.Background(), edge.AuditQuery{Window: tc.window, Stats: &st}))
			switch {
			case tc.wantErr != "":
				if !errors.Is(err, edge.ErrAuditEmpty) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want ErrAuditEmpty with %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if (len(events) > 0) != tc.events || st.EmptyVerified != tc.verified {
				t.Errorf("%d events, stats %+v", len(events), st)
			}
			e.checkClean(t, err)
		})
	}
}

// loopingServer logs in and then answers every list with the same
// continuation token.
func loopingServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == edge.DefaultPaths().TokenLogin {
			fmt.Fprint(w, `{"token":"t","ttl_sec":3600}`)
			return
		}
		fmt.Fprintf(w, `{"continuation_token":"same","users":[{"uuid":"u-%s"}]}`, r.URL.Query().Get("continuation_token"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRepeatedContinuationTokenStops(t *testing.T) {
	srv := loopingServer(t)
	c, err := edge.New(edge.Credentials{Account: "a", APIToken: "t", BaseURL: srv.URL}, edge.Options{Options: httpx.Options{SpoolDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	users, err := collect(c.Users(context.Background(), nil))
	if err == nil || !strings.Contains(err.Error(), "same continuation_token twice") || len(users) != 2 {
		t.Fatalf("got %d users, err %v; want 2 and a loop error", len(users), err)
	}
}

func TestEarlyBreakRemovesSpool(t *testing.T) {
	e := newEnv(t, emulator.Config{PageSize: 10}, edge.Credentials{}, edge.Options{})
	n := 0
	for _, err := range e.client.Users(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 15 {
			break
		}
	}
	if got := len(e.emu.Requests()); got != 3 { // login + 2 pages
		t.Errorf("%d requests after reading 15 of pages of 10, want 3", got)
	}
	e.checkClean(t)
}

func TestSecretFieldsAreNotDecoded(t *testing.T) {
	e := newEnv(t, emulator.Config{Users: 30}, edge.Credentials{}, edge.Options{})
	ctx := context.Background()
	users, err := collect(e.client.Users(ctx, nil))
	if err != nil {
		t.Fatal(err)
	}
	events, err := collect(e.client.AuditEvents(ctx, edge.AuditQuery{Window: period.Window{From: day(21), To: day(22)}}))
	if err != nil || len(events) == 0 {
		t.Fatal(len(events), err)
	}
	b, _ := json.Marshal([]any{users, events})
	if bytes.Contains(b, []byte(emulator.SecretMarker)) {
		t.Fatal("a secret field of the API reached a decoded record")
	}
	e.checkClean(t)
}

func TestTrickyValuesDecode(t *testing.T) {
	e := newEnv(t, emulator.Config{Users: 50, Faults: emulator.Faults{Tricky: true}}, edge.Credentials{}, edge.Options{})
	users, err := collect(e.client.Users(context.Background(), nil))
	if err != nil || len(users) != 50 {
		t.Fatal(len(users), err)
	}
	quoted := 0
	for _, u := range users {
		if u.CreateTime.IsZero() || u.CreateTime.Year() < 2020 {
			t.Fatalf("user %s: create_time %v", u.UUID, u.CreateTime)
		}
		if strings.HasPrefix(u.DisplayName, "=") {
			quoted++
		}
	}
	if quoted == 0 {
		t.Error("no hostile display name seen")
	}
}

func TestContextCancelStops(t *testing.T) {
	e := newEnv(t, emulator.Config{PageSize: 5}, edge.Credentials{}, edge.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range e.client.Users(ctx, nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 7 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 10 {
		t.Fatalf("after cancel: %d rows, err %v; want the page in hand (10) then context.Canceled", n, last)
	}
}
