package ibmscc_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/httpx/httpxtest"
	ibmclient "github.com/evidence-pack/evidence/internal/collect/ibmscc"
	"github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/demo"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/ibmscc"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

var day = period.Window{From: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}

type fixture struct {
	emu   *emulator.Server
	url   string
	env   source.Env
	vars  map[string]string
	spool string
	logs  *httpxtest.SyncBuffer
}

func newFixture(t *testing.T, cfg emulator.Config) *fixture {
	t.Helper()
	return newWrappedFixture(t, cfg, nil)
}

// newWrappedFixture puts wrap (a misbehaving server) in front of the
// emulator.
func newWrappedFixture(t *testing.T, cfg emulator.Config, wrap func(http.Handler) http.Handler) *fixture {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	emu := emulator.New(cfg)
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, vars := demo.IBMSCCTenant("x", srv.URL)
	f := &fixture{emu: emu, url: srv.URL, vars: vars, spool: t.TempDir(), logs: &httpxtest.SyncBuffer{}}
	f.env = source.Env{
		Getenv:     func(k string) string { return f.vars[k] },
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Retry:      httpx.Retry{MaxAttempts: 8, BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond},
		Logger:     slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		UserAgent:  "evidence-test",
		Now:        func() time.Time { return now },
		SpoolDir:   f.spool,
	}
	return f
}

// tenant is the emulator tenant with the keys of extra (YAML) set over
// its section.
func (f *fixture) tenant(t *testing.T, name, extra string) config.Tenant {
	t.Helper()
	base, _ := demo.IBMSCCTenant(name, f.url)
	node := base.Sections[ibmscc.Name]
	section := map[string]any{}
	if err := node.Decode(&section); err != nil {
		t.Fatal(err)
	}
	over := map[string]any{}
	if err := yaml.Unmarshal([]byte(extra), &over); err != nil {
		t.Fatal(err)
	}
	for k, v := range over {
		section[k] = v
	}
	var merged yaml.Node
	if err := merged.Encode(section); err != nil {
		t.Fatal(err)
	}
	base.Sections[ibmscc.Name] = merged
	return base
}

func (f *fixture) open(t *testing.T, tn config.Tenant) source.Source {
	t.Helper()
	src, err := source.Registry{ibmscc.Name: ibmscc.Open}.Open(context.Background(), tn, f.env)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func allDatasets() []string {
	return []string{dataset.Reports, dataset.Evaluations, dataset.Inventory, dataset.AuditLogs}
}

// reportTotals reads every control of a report, twice.
type reportTotals struct {
	controls, violations, manual int
	accepted, assessed           int64
}

func readReport(t *testing.T, rep source.Report) reportTotals {
	t.Helper()
	var r reportTotals
	{
		ids := map[string]bool{}
		for c, err := range rep.Controls() {
			if err != nil {
				t.Fatal(err)
			}
			if ids[c.ID] {
				t.Fatalf("control %s twice", c.ID)
			}
			ids[c.ID] = true
			if c.ID == "" || c.Title == "" || c.Category == "" || c.SeverityRank < 1 || c.SeverityRank > 5 {
				t.Fatalf("control not mapped: %+v", c)
			}
			// The emulator names every requirement "<n>.<m> <title>".
			if c.Requirement == "" || !strings.HasPrefix(c.Category, c.Requirement+" ") {
				t.Fatalf("control %s: requirement %q, not the number its requirement %q starts with", c.ID, c.Requirement, c.Category)
			}
			if want := map[string]int{"Critical": 1, "High": 2, "Medium": 3, "Low": 4, "Info": 5}[c.Severity]; want != c.SeverityRank {
				t.Fatalf("severity %s rank %d", c.Severity, c.SeverityRank)
			}
			switch c.Status {
			case "Compliant":
				if len(c.Violations) > 0 {
					t.Fatalf("compliant control with violations: %+v", c)
				}
			case "NonCompliant":
				if len(c.Violations) == 0 {
					t.Fatalf("non-compliant control without violations: %+v", c)
				}
			case "Suppressed":
				if len(c.Suppressions) == 0 || len(c.Violations) > 0 {
					t.Fatalf("suppressed control: %+v", c)
				}
			case "RequiresManualAssessment":
				r.manual++
			default:
				t.Fatalf("status %q", c.Status)
			}
			for _, v := range c.Violations {
				if v.Resource == "" {
					t.Fatalf("violation without a resource: %+v", c)
				}
			}
			for _, s := range c.Suppressions {
				var n int64
				if i := strings.LastIndex(s, ": "); i < 0 || func() error { _, err := fmt.Sscanf(s[i+2:], "%d resources", &n); return err }() != nil {
					t.Fatalf("suppression %q", s)
				}
				r.accepted += n
			}
			r.controls++
			r.violations += len(c.Violations)
			r.assessed += c.Assessed
		}
	}
	return r
}

// fetch gets the unit's report and reads its controls, as the pipeline
// does (once): the first error of either.
func fetch(ctx context.Context, u source.ReportUnit) error {
	rep, err := u.Fetch(ctx)
	if err != nil {
		return err
	}
	defer rep.Close()
	for _, err := range rep.Controls() {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestOpenPlanCollect(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 11, InventoryResources: 777, AuditEventsPerDay: 1500})
	src := f.open(t, f.tenant(t, "ibm-prod", "page_size: 9\naudit_limit: 200\n"))
	if info := src.Info(); info.System != "ibm_scc" || info.API != "IBM Cloud SCC Workload Protection API" || info.BaseURL != f.url {
		t.Fatalf("info %+v", info)
	}
	ctx := context.Background()
	audit := period.Window{From: day.From.Add(-6 * time.Hour), To: day.To}
	plan, err := src.Plan(ctx, source.Request{Period: day, Audit: audit, Datasets: allDatasets()})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Failures) > 0 {
		t.Fatalf("failures: %+v", plan.Failures)
	}
	if !slices.ContainsFunc(plan.Warnings, func(w string) bool { return strings.Contains(w, "evaluations") }) {
		t.Errorf("no warning about evaluations: %v", plan.Warnings)
	}
	if len(plan.SubAccounts) != 1 || plan.SubAccounts[0] != emulator.DefaultInstanceID {
		t.Errorf("sub-accounts %v", plan.SubAccounts)
	}
	// Every (policy, zone) of the emulator is one report unit.
	want := map[string]bool{}
	for _, z := range f.emu.Zones() {
		for _, p := range f.emu.ZonePolicies(z) {
			want[p+"|"+z] = true
		}
	}
	units := 0
	for _, fw := range plan.Frameworks {
		for _, u := range fw.Units {
			units++
			key := fw.Name + "|" + u.Account
			if !want[key] {
				t.Fatalf("unexpected unit %s", key)
			}
			delete(want, key)
			rep, err := u.Fetch(ctx)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			got := readReport(t, rep)
			wc := f.emu.CountReport(fw.Name, u.Account)
			if got.controls != wc.Controls || int64(got.violations) != wc.Failing || got.accepted != wc.Accepted ||
				got.assessed != wc.Failing+wc.Accepted+wc.Passing || got.manual != wc.Manual {
				t.Errorf("%s: read %+v, emulator holds %+v", key, got, wc)
			}
			if rep.ReportTime().IsZero() || rep.ReportTime().After(now) {
				t.Errorf("%s: report time %v", key, rep.ReportTime())
			}
			if body, _, err := rep.Vendor(ctx); body != nil || err != nil {
				t.Errorf("vendor report: %v", err)
			}
			if err := rep.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(want) > 0 || units == 0 {
		t.Fatalf("units missing: %v", want)
	}
	if n := len(plan.Accounts); n != len(f.emu.Zones()) {
		t.Errorf("accounts %v", plan.Accounts)
	}
	if plan.Units() != units+2 || len(plan.Tables) != 2 {
		t.Fatalf("%d units, tables %+v", plan.Units(), plan.Tables)
	}
	for _, u := range plan.Tables {
		var st httpx.QueryStats
		n := int64(0)
		for rec, err := range u.Rows(ctx, &st) {
			if err != nil {
				t.Fatalf("%s: %v", u.Table, err)
			}
			if rec.Table() != u.Table {
				t.Fatalf("record of %s in %s", rec.Table(), u.Table)
			}
			row := rec.Row(dataset.Scope{Source: "ibm_scc", Tenant: "ibm-prod", SubAccount: u.SubAccount})
			if cols := tableColumns(u.Table); len(row) != cols {
				t.Fatalf("%s row has %d cells, the table %d columns", u.Table, len(row), cols)
			}
			n++
		}
		var wantRows int64
		switch u.Table {
		case dataset.Inventory:
			wantRows = f.emu.CountInventory()
		case dataset.AuditLogs:
			wantRows = f.emu.CountAuditEvents(audit.From, audit.To)
			if u.Window != audit {
				t.Errorf("audit unit window %+v", u.Window)
			}
		}
		if n != wantRows || st.Pages == 0 {
			t.Errorf("%s: %d rows (stats %+v), emulator holds %d", u.Table, n, st, wantRows)
		}
	}
	if entries, _ := os.ReadDir(f.spool); len(entries) > 0 {
		t.Errorf("spool not cleaned: %v", entries)
	}
	if strings.Contains(f.logs.String(), emulator.DefaultAPIKey) {
		t.Error("the API key is in the logs")
	}
	if src.Stats().Requests.Load() == 0 {
		t.Error("no requests counted")
	}
}

func tableColumns(name string) int {
	for _, tb := range dataset.All() {
		if tb.Name == name {
			return len(tb.Columns)
		}
	}
	return -1
}

func TestPlanSelection(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 12})
	policies := f.emu.Policies()
	zones := f.emu.Zones()
	tests := []struct {
		name       string
		extra      string
		datasets   []string
		inShard    func(string) bool
		frameworks []string // want, sorted
		units      int      // report units, -1: don't check
		tables     []string
		warning    string
	}{
		{name: "frameworks by name, any case", extra: "frameworks: [\"" + strings.ToUpper(policies[3]) + "\"]\n",
			datasets: []string{dataset.Reports}, frameworks: []string{policies[3]}, units: len(zonesOf(f.emu, policies[3]))},
		{name: "frameworks by id, and an unknown one", extra: "frameworks: [\"15\", \"NIST 800-53\"]\n",
			datasets: []string{dataset.Reports}, frameworks: []string{policies[0]}, units: -1, warning: "NIST 800-53"},
		{name: "a quoted policy name", extra: "frameworks: ['" + policies[4] + "']\n",
			datasets: []string{dataset.Reports}, frameworks: []string{policies[4]}, units: -1},
		{name: "zones", extra: "zones: [\"" + zones[1] + "\"]\n", datasets: []string{dataset.Reports},
			frameworks: sorted(f.emu.ZonePolicies(zones[1])), units: len(f.emu.ZonePolicies(zones[1]))},
		{name: "unknown zone", extra: "zones: [\"Nowhere\"]\n", datasets: []string{dataset.Reports}, units: 0, warning: "Nowhere"},
		{name: "audit only", datasets: []string{dataset.AuditLogs}, units: 0, tables: []string{dataset.AuditLogs}},
		{name: "shard without the inventory", datasets: allDatasets(), units: -1, tables: []string{dataset.AuditLogs},
			inShard: func(k string) bool { return !strings.HasPrefix(k, "inventory|") }},
		{name: "shard with one report", datasets: []string{dataset.Reports}, frameworks: []string{policies[0]}, units: 1,
			inShard: func(k string) bool { return k == "report|"+policies[0]+"|"+emulator.DefaultInstanceID+"|"+zones[0] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := f.open(t, f.tenant(t, "sel", tc.extra))
			plan, err := src.Plan(context.Background(), source.Request{Period: day, Audit: day, Datasets: tc.datasets, InShard: tc.inShard})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			units := 0
			for _, fw := range plan.Frameworks {
				names = append(names, fw.Name)
				units += len(fw.Units)
			}
			if tc.frameworks != nil && !slices.Equal(names, tc.frameworks) {
				t.Errorf("frameworks %q, want %q", names, tc.frameworks)
			}
			if tc.units >= 0 && units != tc.units {
				t.Errorf("%d report units, want %d", units, tc.units)
			}
			var tables []string
			for _, u := range plan.Tables {
				tables = append(tables, u.Table)
			}
			if !slices.Equal(tables, tc.tables) {
				t.Errorf("tables %v, want %v", tables, tc.tables)
			}
			if tc.warning != "" && !slices.ContainsFunc(plan.Warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
				t.Errorf("no warning naming %q: %v", tc.warning, plan.Warnings)
			}
		})
	}
}

func zonesOf(emu *emulator.Server, policy string) []string {
	var out []string
	for _, z := range emu.Zones() {
		if slices.Contains(emu.ZonePolicies(z), policy) {
			out = append(out, z)
		}
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// The section's accounts, or else --account, narrow the inventory.
func TestInventoryAccountsFilter(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 13, InventoryResources: 301})
	accts := emulator.Accounts()
	for _, tc := range []struct {
		name, section string
		flag          []string
	}{
		{"section", fmt.Sprintf("accounts: [%q, %q]\n", accts[0].ID, accts[2].ID), nil},
		{"--account", "", []string{accts[0].ID, accts[2].ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := f.open(t, f.tenant(t, "acct", tc.section))
			plan, err := src.Plan(context.Background(), source.Request{Period: day, Audit: day, Datasets: []string{dataset.Inventory}, Accounts: tc.flag})
			if err != nil {
				t.Fatal(err)
			}
			n := int64(0)
			for rec, err := range plan.Tables[0].Rows(context.Background(), &httpx.QueryStats{}) {
				if err != nil {
					t.Fatal(err)
				}
				r := rec.(dataset.Resource)
				if r.AccountID != accts[0].ID && r.AccountID != accts[2].ID {
					t.Fatalf("resource of account %q", r.AccountID)
				}
				if r.ResourceID == "" || r.CSP == "" || r.Region == "" || r.URN == "" || r.Config == "" || r.CollectedTo.IsZero() {
					t.Fatalf("resource not mapped: %+v", r)
				}
				n++
			}
			if want := f.emu.CountInventory(accts[0].ID, accts[2].ID); n != want {
				t.Fatalf("%d rows, want %d", n, want)
			}
		})
	}
}

// An --account value is looked up in the inventory (one row per value):
// one that names no cloud account of the instance is reported unmatched,
// so that the pipeline refuses the run; the section's own accounts replace
// --account and are not looked up.
func TestAccountFilterMatches(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 13, InventoryResources: 40})
	known := emulator.Accounts()[1].ID
	for _, tc := range []struct {
		name, section string
		flag, want    []string
	}{
		{"known and mistyped", "", []string{known, "12345678901"}, []string{"12345678901"}},
		{"all known", "", []string{known}, nil},
		{"section replaces the flag", fmt.Sprintf("accounts: [%q]\n", known), []string{"nope"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := f.open(t, f.tenant(t, "acct", tc.section))
			plan, err := src.Plan(context.Background(), source.Request{Period: day, Audit: day, Datasets: []string{dataset.Reports}, Accounts: tc.flag})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if plan.Filters != nil {
				got = plan.Filters.UnmatchedAccounts
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("unmatched %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	f := newFixture(t, emulator.Config{})
	tests := []struct {
		name  string
		extra string
		vars  map[string]string
		want  string
	}{
		{"unknown key", "api_token: x\n", nil, "field api_token not found"},
		{"bad region", "api_url: \"\"\nregion: mars\n", nil, "region"},
		{"no instance", "instance_id: \"\"\n", nil, "instance_id"},
		{"api key variable empty", "", map[string]string{}, "IBMCLOUD_API_KEY"},
		{"other api key variable unset", "api_key_env: SCC_KEY\n", nil, "SCC_KEY"},
		{"audit limit", "audit_limit: 10000\n", nil, "audit_limit"},
		{"bad iam url", "iam_url: \"ftp://iam\"\n", nil, "iam_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := f.env
			if tc.vars != nil {
				env.Getenv = func(k string) string { return tc.vars[k] }
			}
			tn := f.tenant(t, "broken-tenant", tc.extra)
			_, err := ibmscc.Open(context.Background(), tn, env)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "broken-tenant") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name the tenant and %q", err, tc.want)
			}
		})
	}
}

func TestPlanFailures(t *testing.T) {
	t.Run("refused API key", func(t *testing.T) {
		f := newFixture(t, emulator.Config{})
		f.vars = map[string]string{ibmscc.DefaultAPIKeyEnv: "wrong"}
		src := f.open(t, f.tenant(t, "auth", ""))
		_, err := src.Plan(context.Background(), source.Request{Period: day, Audit: day, Datasets: allDatasets()})
		if !errors.Is(err, httpx.ErrAuth) || !strings.Contains(err.Error(), "auth") {
			t.Fatalf("err = %v, want ErrAuth naming the tenant", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Fatal("the key is in the error")
		}
	})
	t.Run("unknown instance", func(t *testing.T) {
		f := newFixture(t, emulator.Config{})
		src := f.open(t, f.tenant(t, "inst", "instance_id: 11111111-2222-3333-4444-555555555555\n"))
		_, err := src.Plan(context.Background(), source.Request{Period: day, Audit: day, Datasets: []string{dataset.AuditLogs}})
		if !errors.Is(err, httpx.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
	})
	t.Run("views forbidden", func(t *testing.T) {
		f := newFixture(t, emulator.Config{})
		src := f.open(t, f.tenant(t, "team", "team_id: \"999\"\n"))
		plan, err := src.Plan(context.Background(), source.Request{Period: day, Audit: day, Datasets: []string{dataset.Reports, dataset.AuditLogs}})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Failures) != 1 || len(plan.Frameworks) != 0 || len(plan.Tables) != 1 {
			t.Fatalf("plan %+v", plan)
		}
	})
	t.Run("report fails, nothing left behind", func(t *testing.T) {
		f := newFixture(t, emulator.Config{Faults: emulator.Faults{ErrorEvery: 2}})
		f.env.Retry = httpx.Retry{MaxAttempts: 1}
		src := f.open(t, f.tenant(t, "flaky", ""))
		var plan *source.Plan
		var err error
		for range 4 { // the views may meet the injected 5xx
			if plan, err = src.Plan(context.Background(), source.Request{Period: day, Audit: day, Datasets: []string{dataset.Reports}}); err == nil && len(plan.Frameworks) > 0 {
				break
			}
		}
		if err != nil || len(plan.Frameworks) == 0 {
			t.Fatalf("plan: %v %+v", err, plan)
		}
		failed := 0
		for _, fw := range plan.Frameworks {
			for _, u := range fw.Units {
				if fetch(context.Background(), u) != nil {
					failed++
				}
			}
		}
		if failed == 0 {
			t.Fatal("no fetch failed")
		}
		if entries, _ := os.ReadDir(f.spool); len(entries) > 0 {
			t.Errorf("spool not cleaned: %v", entries)
		}
	})
}

func TestEmulatorTenant(t *testing.T) {
	tn, vars := demo.IBMSCCTenant("demo", "http://127.0.0.1:9/")
	if tn.Source != "ibm_scc" || tn.Name != "demo" || vars[ibmscc.DefaultAPIKeyEnv] != emulator.DefaultAPIKey {
		t.Fatalf("%+v %v", tn, vars)
	}
	var cfg ibmscc.Config
	if err := source.DecodeSection(tn, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.APIURL != "http://127.0.0.1:9" || cfg.IAMURL != "http://127.0.0.1:9/identity/token" || cfg.InstanceID != emulator.DefaultInstanceID || cfg.RequestsPerMinute != -1 {
		t.Fatalf("section %+v", cfg)
	}
}

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		rank int
		err  bool
	}{
		{"High", "High", 2, false}, {"medium", "Medium", 3, false}, {"LOW", "Low", 4, false},
		{"1", "Low", 4, false}, {"2", "Medium", 3, false}, {" 3 ", "High", 2, false},
		// Not among the document's 1=low, 2=medium, 3=high: refused.
		{"Critical", "", 0, true}, {"4", "", 0, true}, {"0", "", 0, true}, {"Info", "", 0, true}, {"", "", 0, true}, {"weird", "", 0, true},
	} {
		n, r, err := ibmscc.Severity(tc.in)
		if n != tc.name || r != tc.rank || (err != nil) != tc.err || err != nil && !errors.Is(err, ibmscc.ErrSeverity) {
			t.Errorf("Severity(%q) = %s %d %v", tc.in, n, r, err)
		}
	}
}

// TestRequirementNumber: the framework's number a requirement's name
// starts with (the seed's examples first), and none where the name has no
// number rather than a guess.
func TestRequirementNumber(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"1.5 - Exposing HostPort", "1.5"}, {"01.a Access Control Policy", "01.a"},
		{"CC6.1 The entity implements logical access security software", "CC6.1"}, {"A.9.2.3 Management of privileged access rights", "A.9.2.3"},
		{"3 Logging", "3"}, {"1.2. Ensure MFA", "1.2"}, {"4.1: Ensure logging", "4.1"},
		{"Access Control Policy", ""}, {"2FA enforced for admins", ""}, {"1.5", ""}, {"", ""}, {"=1.5 formula", ""}, {"1,5 comma", ""},
	} {
		if got := ibmscc.RequirementNumber(tc.name); got != tc.want {
			t.Errorf("RequirementNumber(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestCountsReconcile: a control whose listed failing or accepted resources
// differ from its objectsCount or acceptedCount fails its report, naming
// both figures, rather than put contradicting counts in the pack.
func TestCountsReconcile(t *testing.T) {
	for _, tc := range []struct {
		name, term string // the resource requests whose rows are dropped
		count      string // the control's count named in the error
	}{
		{"failing resources missing", "pass=false", "objectsCount"},
		{"accepted resources missing", "accepted=true", "acceptedCount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrap := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasSuffix(r.URL.Path, "/resources") && strings.Contains(r.URL.Query().Get("filter"), tc.term) && !strings.Contains(r.URL.Path, "inventory") {
						w.Header().Set("Content-Type", "application/json")
						_, _ = w.Write([]byte(`{"data":[],"totalCount":0}`))
						return
					}
					next.ServeHTTP(w, r)
				})
			}
			f := newWrappedFixture(t, emulator.Config{Seed: 11, RequirementsPerPolicy: 12, ResourcesPerControl: 20}, wrap)
			src := f.open(t, f.tenant(t, "ibm", ""))
			plan, err := src.Plan(context.Background(), source.Request{Period: day, Datasets: []string{dataset.Reports}})
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			for _, fw := range plan.Frameworks {
				for _, u := range fw.Units {
					err := fetch(context.Background(), u)
					if err == nil {
						continue
					}
					if !errors.Is(err, ibmclient.ErrInconsistent) || !strings.Contains(err.Error(), tc.count) {
						t.Fatalf("%s / %s: %v", fw.Name, u.Account, err)
					}
					failed++
				}
			}
			if failed == 0 {
				t.Fatal("no report refused")
			}
		})
	}
}

// Every accepted risk of a control is an exception of the register, with
// the acceptance's reason, description, username and expiry, as many as
// the control's acceptedCount.
func TestAcceptedRisksAreExceptions(t *testing.T) {
	now := time.Now().UTC()
	f := newFixture(t, emulator.Config{Seed: 11, RequirementsPerPolicy: 6, ResourcesPerControl: 12, Tricky: true})
	src := f.open(t, f.tenant(t, "ibm", ""))
	plan, err := src.Plan(context.Background(), source.Request{Period: day, Datasets: []string{dataset.Reports}})
	if err != nil {
		t.Fatal(err)
	}
	var exceptions, expired, suppressedLabels int64
	for _, fw := range plan.Frameworks {
		for _, u := range fw.Units {
			rep, err := u.Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for c, err := range rep.Controls() {
				if err != nil {
					t.Fatal(err)
				}
				var labelled int64 // the suppressions column's "…: N resources"
				for _, s := range c.Suppressions {
					var n int64
					if _, err := fmt.Sscanf(s[strings.LastIndex(s, ": ")+2:], "%d resources", &n); err == nil {
						labelled += n
					}
				}
				if labelled != int64(len(c.Exceptions)) {
					t.Errorf("control %s: %d exceptions, the suppressions column counts %d", c.ID, len(c.Exceptions), labelled)
				}
				suppressedLabels += labelled
				for _, e := range c.Exceptions {
					exceptions++
					if e.Kind != source.ExceptionRiskAccepted || e.Resource == "" || e.Reason == "" || e.Description == "" ||
						e.By != "secops@example.com" || e.Expires.IsZero() {
						t.Errorf("control %s: exception %+v", c.ID, e)
					}
					if e.Expires.Before(now) {
						expired++
					}
				}
			}
			rep.Close()
		}
	}
	if exceptions == 0 || expired == 0 || expired == exceptions {
		t.Errorf("%d exceptions, %d expired: want some of each", exceptions, expired)
	}
}
