package edge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	collect "github.com/evidence-pack/evidence/internal/collect/edge"
	"github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/demo"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/edge"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func startEmulator(t *testing.T, cfg emulator.Config) (*emulator.Server, string) {
	t.Helper()
	cfg.Now = func() time.Time { return now }
	emu := emulator.New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

func testEnv(t *testing.T, vars map[string]string) source.Env {
	return source.Env{
		Getenv:     func(k string) string { return vars[k] },
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Retry:      httpx.Retry{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
		Logger:     slog.New(slog.DiscardHandler),
		UserAgent:  "evidence-test",
		Now:        func() time.Time { return now },
		SpoolDir:   t.TempDir(),
	}
}

func allDatasets() []string {
	return []string{dataset.Reports, dataset.Evaluations, dataset.Inventory, dataset.AuditLogs}
}

func request(datasets ...string) source.Request {
	return source.Request{Period: period.Window{From: now.Add(-24 * time.Hour), To: now},
		Audit: period.Window{From: now.Add(-50 * time.Hour), To: now.Add(-2 * time.Hour)}, Datasets: datasets}
}

func openSource(t *testing.T, tenant config.Tenant, env source.Env) source.Source {
	t.Helper()
	src, err := edge.Open(context.Background(), tenant, env)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// section builds a tenant's lacework_edge: section from YAML text.
func section(t *testing.T, name, text string) config.Tenant {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return config.Tenant{Name: name, Source: edge.Name, Sections: map[string]yaml.Node{edge.Name: *doc.Content[0]}}
}

func TestPlanAndEveryUnit(t *testing.T) {
	tests := []struct {
		name string
		cfg  emulator.Config
	}{
		// Users are fewer than the emulator's default: the review looks
		// every (app, user) pair up, a request each.
		{"unpaged, as documented", emulator.Config{Seed: 1, Users: 25}},
		{"paged, with faults", emulator.Config{Seed: 2, Users: 40, Apps: 5, Accesses: 41, PageSize: 17,
			Faults: emulator.Faults{ErrorEvery: 5, DropEvery: 7, RateLimitEvery: 9, ExpireEvery: 13, RetryAfter: 10 * time.Millisecond}}},
		{"hostile values", emulator.Config{Seed: 3, Users: 25, Faults: emulator.Faults{Tricky: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu, url := startEmulator(t, tc.cfg)
			tenant, vars := demo.EdgeTenant("edge-demo", url)
			env := testEnv(t, vars)
			src := openSource(t, tenant, env)
			if info := src.Info(); info.System != "lacework_edge" || info.API != "Lacework Edge API" || info.BaseURL != url {
				t.Errorf("info %+v", info)
			}
			req := request(allDatasets()...)
			plan, err := src.Plan(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.SubAccounts) != 1 || plan.SubAccounts[0] != emu.Account() || plan.Units() != 7 {
				t.Fatalf("plan: sub-accounts %v, %d units", plan.SubAccounts, plan.Units())
			}

			want := map[string]int{"Users": emu.CountUsers(), "Groups": emu.CountGroups(), "Apps": emu.CountApps(),
				"Access policies": emu.CountAccesses(), "Policies": emu.CountPolicies(), "": emu.CountAuditEvents(req.Audit.From, req.Audit.To)}
			for _, u := range plan.Tables {
				var st httpx.QueryStats
				n := 0
				for rec, err := range u.Rows(context.Background(), &st) {
					if err != nil {
						t.Fatalf("%s %s: %v", u.Table, u.Sheet, err)
					}
					if rec.Table() != u.Table {
						t.Fatalf("%s unit yielded a %s record", u.Table, rec.Table())
					}
					checkRecord(t, rec, emu.Account())
					n++
				}
				if n != want[u.Sheet] || st.Pages < 1 || st.Queries < 1 {
					t.Errorf("%s %q: %d rows (stats %+v), want %d", u.Table, u.Sheet, n, st, want[u.Sheet])
				}
				if u.SubAccount != emu.Account() {
					t.Errorf("%s %q: sub-account %q", u.Table, u.Sheet, u.SubAccount)
				}
			}

			checkReview(t, plan, emu)
			if left, _ := os.ReadDir(env.SpoolDir); len(left) > 0 {
				t.Errorf("%d spool files left after Close", len(left))
			}
		})
	}
}

func checkRecord(t *testing.T, rec dataset.Record, account string) {
	t.Helper()
	row := fmt.Sprint(rec.Row(dataset.Scope{Source: edge.Name}))
	if strings.Contains(row, emulator.SecretMarker) || strings.Contains(row, emulator.DefaultSecret) {
		t.Fatalf("a secret reached a row: %s", row)
	}
	switch r := rec.(type) {
	case dataset.Resource:
		if r.CSP != "LaceworkEdge" || r.AccountID != account || r.ResourceID == "" ||
			r.URN != "laceworkedge:"+account+":"+r.ResourceType+"/"+r.ResourceID || !r.CollectedFrom.Equal(now) {
			t.Fatalf("resource %+v", r)
		}
		var cfg map[string]any
		if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil || cfg["uuid"] != r.ResourceID || cfg["status_name"] == "" {
			t.Fatalf("config %s: %v", r.Config, err)
		}
		if r.ResourceType == "access_policy" {
			if _, ok := cfg["user_list"].([]any); !ok {
				t.Fatalf("access policy config without its assignments: %s", r.Config)
			}
			if _, ok := cfg["allow_guest_access"].(bool); !ok {
				t.Fatalf("access policy config without allow_guest_access: %s", r.Config)
			}
		}
		if r.ResourceType == "policy" {
			for _, k := range []string{"action", "app_filter", "session_filter", "status", "allow_guest_access"} {
				if _, ok := cfg[k]; !ok {
					t.Fatalf("policy config without %s: %s", k, r.Config)
				}
			}
		}
	case dataset.AuditEvent:
		if r.Time.IsZero() || r.UserName == "" || r.EventName == "" || r.UserAction == "" || !strings.HasPrefix(r.Description, "HTTP ") {
			t.Fatalf("audit event %+v", r)
		}
	default:
		t.Fatalf("unexpected record %T", rec)
	}
}

// checkReview fetches the access review and compares it with the
// emulator's own count of findings.
func checkReview(t *testing.T, plan *source.Plan, emu *emulator.Server) {
	t.Helper()
	if len(plan.Frameworks) != 1 || plan.Frameworks[0].Name != "Access review" || len(plan.Frameworks[0].Units) != 1 {
		t.Fatalf("frameworks %+v", plan.Frameworks)
	}
	unit := plan.Frameworks[0].Units[0]
	rep, err := unit.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountAlias() != emu.Account() || !rep.ReportTime().Equal(now) {
		t.Errorf("alias %q, time %v", rep.AccountAlias(), rep.ReportTime())
	}
	if r, ext, err := rep.Vendor(context.Background()); r != nil || ext != "" || err != nil {
		t.Errorf("vendor report: %v %q %v", r, ext, err)
	}
	read := func() []source.Control {
		var out []source.Control
		for c, err := range rep.Controls() {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	first := read()
	if second := read(); !reflect.DeepEqual(first, second) {
		t.Fatal("Controls is not re-iterable: the second pass differs")
	}
	want := emu.Review()
	var assessed int64
	failing, violations, active, manual := 0, 0, 0, 0
	for _, c := range first {
		assessed += c.Assessed
		violations += len(c.Violations)
		if c.Status == "NonCompliant" {
			failing++
		}
		if c.Status == "RequiresManualAssessment" {
			manual++
		}
		if c.Category == "Active access policies" {
			active++
		}
		if c.ID == "" || c.Title == "" || c.Service == "" || c.Severity != "High" {
			t.Errorf("control %+v", c)
		}
		if c.Status != "NonCompliant" && len(c.Violations) > 0 || c.Status == "NonCompliant" && len(c.Violations) == 0 {
			t.Errorf("control %s: status %s with %d violations", c.ID, c.Status, len(c.Violations))
		}
		for _, v := range c.Violations {
			if v.Resource == "" || len(v.Reasons) == 0 {
				t.Errorf("violation %+v", v)
			}
		}
	}
	if len(first) != want.Accesses+want.Policies || active != want.Active || assessed != int64(want.Assignments+want.PoliciesActive) ||
		failing != want.Failing+want.PoliciesGuest || manual != want.PoliciesActive-want.PoliciesGuest ||
		violations != want.Suspended+want.Unknown+want.Expired+want.Guest+want.PoliciesGuest {
		t.Errorf("review: %d controls, %d active, %d assessed, %d failing, %d violations; emulator says %+v",
			len(first), active, assessed, failing, violations, want)
	}
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rep.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, err := range rep.Controls() {
		if err == nil {
			t.Fatal("Controls after Close still reads")
		}
	}
}

func TestWantsAndHas(t *testing.T) {
	_, url := startEmulator(t, emulator.Config{})
	tenant, vars := demo.EdgeTenant("edge-demo", url)
	src := openSource(t, tenant, testEnv(t, vars))
	acct := emulator.DefaultAccount
	tests := []struct {
		name       string
		datasets   []string
		shard      func(string) bool
		frameworks int
		sheets     []string
	}{
		{"everything", allDatasets(), nil, 1, []string{"Users", "Groups", "Apps", "Access policies", "Policies", ""}},
		{"reports only", []string{dataset.Reports}, nil, 1, nil},
		{"inventory only", []string{dataset.Inventory}, nil, 0, []string{"Users", "Groups", "Apps", "Access policies", "Policies"}},
		{"audit logs only", []string{dataset.AuditLogs}, nil, 0, []string{""}},
		{"evaluations: Edge has none", []string{dataset.Evaluations}, nil, 0, nil},
		{"a shard with the users and the review", allDatasets(), func(k string) bool {
			return k == "inventory|user|"+acct || k == "report|Access review|"+acct
		}, 1, []string{"Users"}},
		{"a shard with the audit log", allDatasets(), func(k string) bool { return k == "audit_logs|"+acct }, 0, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request(tc.datasets...)
			req.InShard = tc.shard
			plan, err := src.Plan(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var sheets []string
			for _, u := range plan.Tables {
				sheets = append(sheets, u.Sheet)
			}
			if len(plan.Frameworks) != tc.frameworks || !reflect.DeepEqual(sheets, tc.sheets) {
				t.Errorf("%d frameworks, sheets %q; want %d, %q", len(plan.Frameworks), sheets, tc.frameworks, tc.sheets)
			}
		})
	}
}

func TestConfigErrorsNameTheTenant(t *testing.T) {
	tests := []struct {
		name   string
		tenant config.Tenant
		vars   map[string]string
		want   []string
	}{
		{"unknown key", section(t, "acme-edge-prod", "api_url: https://edge.example\naccount: acme\napi_ky_env: X\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"acme-edge-prod", "api_ky_env"}},
		{"unknown path key", section(t, "t2", "api_url: https://edge.example\naccount: acme\npaths:\n  user: /u\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"t2", "user"}},
		{"nothing set", config.Tenant{Name: "t3", Source: edge.Name}, nil,
			[]string{"tenant t3", "api_url", "LW_EDGE_API_URL", "account", "LW_EDGE_ACCOUNT", "LW_EDGE_API_TOKEN"}},
		{"named variables unset (login basic implied)", section(t, "t4", "api_url: https://edge.example\naccount: a\napi_key_env: MY_KEY\napi_secret_env: MY_SECRET\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"tenant t4", "MY_KEY", "MY_SECRET"}},
		{"only the old uuid and secret variables", section(t, "t7", "api_url: https://edge.example\naccount: a\n"),
			map[string]string{edge.EnvAPIKey: "k", edge.EnvAPISecret: "s"}, []string{"tenant t7", "LW_EDGE_API_TOKEN", "set login: basic"}},
		{"api_token login with basic variables", section(t, "t8", "api_url: https://edge.example\naccount: a\nlogin: api_token\napi_key_env: K\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"tenant t8", "read only with login: basic"}},
		{"basic login with a token variable", section(t, "t9", "api_url: https://edge.example\naccount: a\nlogin: basic\napi_token_env: T\n"),
			map[string]string{edge.EnvAPIKey: "k", edge.EnvAPISecret: "s"}, []string{"tenant t9", "api_token_env is read only with login: api_token"}},
		{"both credentials, no login", section(t, "t10", "api_url: https://edge.example\naccount: a\napi_token_env: T\napi_secret_env: S\n"),
			map[string]string{"T": "t", "S": "s"}, []string{"tenant t10", "two different credentials"}},
		{"unknown login", section(t, "t11", "api_url: https://edge.example\naccount: a\nlogin: oauth\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"tenant t11", `login "oauth"`}},
		{"bad max_access_lookups", section(t, "t12", "api_url: https://edge.example\naccount: a\nmax_access_lookups: -3\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"tenant t12", "max_access_lookups"}},
		{"bad URL and path", section(t, "t5", "api_url: ftp://edge.example\naccount: a\npaths:\n  users: users\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"tenant t5", "api_url", "paths.users"}},
		{"bad requests_per_hour", section(t, "t6", "api_url: https://edge.example\naccount: a\nrequests_per_hour: -5\n"),
			map[string]string{edge.EnvAPIToken: "t"}, []string{"tenant t6", "requests_per_hour"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := edge.Open(context.Background(), tc.tenant, testEnv(t, tc.vars))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSettingsFromTheEnvironment(t *testing.T) {
	emu, url := startEmulator(t, emulator.Config{})
	vars := map[string]string{edge.EnvAPIURL: url, edge.EnvAccount: emu.Account(),
		edge.EnvAPIToken: emulator.DefaultAPIToken}
	src := openSource(t, config.Tenant{Name: "from-env", Source: edge.Name}, testEnv(t, vars))
	if _, err := src.Plan(context.Background(), request(dataset.Inventory)); err != nil {
		t.Fatal(err)
	}
}

// The login a section selects is the one sent: the api_token default, an
// explicit login: basic, and the basic login an existing section implies by
// naming api_key_env/api_secret_env (backwards compatible).
func TestLoginFromTheSection(t *testing.T) {
	basicVars := map[string]string{edge.EnvAPIKey: emulator.DefaultKeyID, edge.EnvAPISecret: emulator.DefaultSecret}
	tests := []struct {
		name        string
		acceptBasic bool
		extra       string
		vars        map[string]string
		wantAuth    bool // refused credentials
	}{
		{"default api token", false, "", map[string]string{edge.EnvAPIToken: emulator.DefaultAPIToken}, false},
		{"api token from a named variable", false, "api_token_env: MY_TOKEN\n", map[string]string{"MY_TOKEN": emulator.DefaultAPIToken}, false},
		{"explicit basic", true, "login: basic\n", basicVars, false},
		{"basic implied by the old keys", true, "api_key_env: LW_EDGE_API_KEY\napi_secret_env: LW_EDGE_API_SECRET\n", basicVars, false},
		{"basic to a server that takes the token", false, "login: basic\n", basicVars, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu, url := startEmulator(t, emulator.Config{AcceptBasic: tc.acceptBasic})
			tenant := section(t, "login", fmt.Sprintf("api_url: %s\naccount: %s\n%s", url, emu.Account(), tc.extra))
			src := openSource(t, tenant, testEnv(t, tc.vars))
			_, err := src.Plan(context.Background(), request(dataset.Inventory))
			if tc.wantAuth != errors.Is(err, httpx.ErrAuth) || !tc.wantAuth && err != nil {
				t.Fatalf("Plan: %v (want refused: %v)", err, tc.wantAuth)
			}
		})
	}
}

func TestRefusedCredentials(t *testing.T) {
	_, url := startEmulator(t, emulator.Config{})
	tenant, vars := demo.EdgeTenant("edge-demo", url)
	vars[edge.EnvAPIToken] = "_not_the_secret"
	src := openSource(t, tenant, testEnv(t, vars))
	_, err := src.Plan(context.Background(), request(allDatasets()...))
	if !errors.Is(err, httpx.ErrAuth) || !errors.Is(err, collect.ErrAuth) {
		t.Fatalf("err = %v, want httpx.ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "edge-demo") || strings.Contains(err.Error(), "_not_the_secret") {
		t.Errorf("error should name the tenant and not the secret: %v", err)
	}
}

func TestPathOverridesAreHonoured(t *testing.T) {
	emu, url := startEmulator(t, emulator.Config{Paths: emulator.Paths{Users: "/edge/people", AuditEvents: "/edge/audit"}})
	tenant := section(t, "custom", fmt.Sprintf("api_url: %s\naccount: %s\nrequests_per_hour: -1\npaths:\n  users: /edge/people\n  audit_events: /edge/audit\n", url, emu.Account()))
	env := testEnv(t, map[string]string{edge.EnvAPIToken: emulator.DefaultAPIToken})
	src := openSource(t, tenant, env)
	plan, err := src.Plan(context.Background(), request(dataset.Inventory, dataset.AuditLogs))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range plan.Tables {
		for _, err := range u.Rows(context.Background(), nil) {
			if err != nil {
				t.Fatalf("%s: %v", u.Sheet, err)
			}
		}
	}
}

func TestFailedReviewLeavesNoSpool(t *testing.T) {
	// The users list is not where the section says: the review fails after
	// spooling the accesses.
	_, url := startEmulator(t, emulator.Config{})
	tenant := section(t, "broken", fmt.Sprintf("api_url: %s\naccount: %s\npaths:\n  users: /nowhere\n", url, emulator.DefaultAccount))
	env := testEnv(t, map[string]string{edge.EnvAPIToken: emulator.DefaultAPIToken})
	plan, err := openSource(t, tenant, env).Plan(context.Background(), request(dataset.Reports))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := plan.Frameworks[0].Units[0].Fetch(context.Background())
	if err == nil || rep != nil || httpx.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("Fetch: %v, %v; want a 404", rep, err)
	}
	if left, _ := os.ReadDir(env.SpoolDir); len(left) > 0 {
		t.Errorf("%d spool files left after a failed review", len(left))
	}
}

func TestEmulatorTenantDecodes(t *testing.T) {
	tenant, vars := demo.EdgeTenant("demo-edge", "http://127.0.0.1:1")
	var cfg edge.Config
	if err := source.DecodeSection(tenant, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.APIURL != "http://127.0.0.1:1" || cfg.Account != emulator.DefaultAccount || tenant.Source != "lacework_edge" {
		t.Errorf("config %+v, tenant %+v", cfg, tenant)
	}
	if vars[edge.EnvAPIToken] != emulator.DefaultAPIToken || len(vars) != 1 {
		t.Errorf("vars %v", vars)
	}
	out, err := yaml.Marshal(tenant)
	if err != nil || !strings.Contains(string(out), "lacework_edge:") || strings.Contains(string(out), emulator.DefaultAPIToken) {
		t.Errorf("tenant YAML %s, %v", out, err)
	}
}

// refusing answers 401 to everything once refuse is set: the API token was
// revoked after Plan.
type refusing struct {
	next   http.Handler
	refuse atomic.Bool
}

func (r *refusing) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.refuse.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"invalid API token"}`)
		return
	}
	r.next.ServeHTTP(w, req)
}

func TestTokenRevokedAfterPlan(t *testing.T) {
	h := &refusing{next: emulator.New(emulator.Config{Now: func() time.Time { return now }})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tenant, vars := demo.EdgeTenant("edge-demo", srv.URL)
	plan, err := openSource(t, tenant, testEnv(t, vars)).Plan(context.Background(), request(dataset.Reports, dataset.Inventory))
	if err != nil {
		t.Fatal(err)
	}
	h.refuse.Store(true)
	for _, err := range plan.Tables[0].Rows(context.Background(), nil) {
		if !errors.Is(err, httpx.ErrAuth) {
			t.Fatalf("unit: %v, want httpx.ErrAuth", err)
		}
	}
	if _, err := plan.Frameworks[0].Units[0].Fetch(context.Background()); !errors.Is(err, httpx.ErrAuth) {
		t.Fatalf("review: %v, want httpx.ErrAuth", err)
	}
}
