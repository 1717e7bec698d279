package sophos_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/demo"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/sophos"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

var span = period.Window{From: now.AddDate(0, 0, -30), To: now}

type fixture struct {
	emu   *emulator.Server
	url   string
	env   source.Env
	vars  map[string]string
	spool string
}

func newFixture(t *testing.T, cfg emulator.Config) *fixture {
	t.Helper()
	cfg.Now = func() time.Time { return now }
	emu := emulator.New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	_, vars := demo.SophosTenant("x", srv.URL)
	f := &fixture{emu: emu, url: srv.URL, vars: vars, spool: t.TempDir()}
	f.env = source.Env{
		Getenv:     func(k string) string { return f.vars[k] },
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Retry:      httpx.Retry{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
		Logger:     slog.New(slog.DiscardHandler),
		Now:        func() time.Time { return now },
		SpoolDir:   f.spool,
	}
	return f
}

func (f *fixture) open(t *testing.T, tenant config.Tenant) source.Source {
	t.Helper()
	s, err := sophos.Open(context.Background(), tenant, f.env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tenant builds a tenant from a sophos: section written as YAML.
func tenant(t *testing.T, name, section string) config.Tenant {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(section), &doc); err != nil {
		t.Fatal(err)
	}
	return config.Tenant{Name: name, Source: "sophos", Sections: map[string]yaml.Node{"sophos": *doc.Content[0]}}
}

func request(datasets ...string) source.Request {
	if len(datasets) == 0 {
		datasets = []string{dataset.Reports, dataset.Evaluations, dataset.Inventory, dataset.AuditLogs}
	}
	return source.Request{Period: span, Audit: span, Datasets: datasets}
}

// controls reads a report's controls.
func controls(t *testing.T, r source.Report) []source.Control {
	t.Helper()
	var out []source.Control
	for c, err := range r.Controls() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func rows(t *testing.T, u source.TableUnit) (int, map[string]int) {
	t.Helper()
	var st httpx.QueryStats
	n, status := 0, map[string]int{}
	for r, err := range u.Rows(context.Background(), &st) {
		if err != nil {
			t.Fatalf("%s %s: %v", u.Partition, u.Account, err)
		}
		if r.Table() != u.Table {
			t.Fatalf("%s: a %s record in a %s unit", u.Partition, r.Table(), u.Table)
		}
		n++
		switch v := r.(type) {
		case dataset.Evaluation:
			status[v.Status]++
			if v.ControlID == "" || v.Severity == "" || v.AccountID != u.Account || !strings.Contains(v.Remediation, `"last_action":`) {
				t.Fatalf("evaluation %+v", v)
			}
		case dataset.Resource:
			if v.ResourceID == "" || v.CSP == "" || v.Config == "" {
				t.Fatalf("resource %+v", v)
			}
		case dataset.AuditEvent:
			if v.Time.IsZero() || v.AccountName == "" || v.UserName == "" || v.EventName == "" || !strings.Contains(v.UserAction, v.EventName) ||
				!strings.HasPrefix(v.Description, "{") || v.Time.Before(u.Window.From) || !v.Time.Before(u.Window.To) {
				t.Fatalf("audit event %+v", v)
			}
		}
	}
	return n, status
}

// TestCollectEverything opens the emulator's tenant, plans every dataset
// and runs every unit, while the server fails now and then: each unit's
// rows, controls and violations equal what the emulator holds.
func TestCollectEverything(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 17, AlertsPerEnvironment: 2400, HostsPerEnvironment: 140,
		Faults: emulator.Faults{ErrorEvery: 13, DropEvery: 17, RateLimitEvery: 19, RetryAfter: 5 * time.Millisecond}})
	tn, _ := demo.SophosTenant("acme", f.url)
	s := f.open(t, tn)
	if info := s.Info(); info.System != "sophos" || info.BaseURL != f.url || info.API != "Sophos Cloud Optix API v1" {
		t.Errorf("info %+v", info)
	}
	ctx := context.Background()
	p, err := s.Plan(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	envs := f.emu.Environments()
	var enabled []emulator.Environment
	for _, e := range envs {
		if !e.Disabled {
			enabled = append(enabled, e)
		}
	}
	if len(p.Accounts) != len(enabled) || len(p.Failures) != 0 || !slices.Equal(p.SubAccounts, []string{"acme"}) {
		t.Fatalf("plan accounts %v, failures %v, sub-accounts %v", p.Accounts, p.Failures, p.SubAccounts)
	}
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "disabled") || strings.Contains(w, "audit log") {
		t.Errorf("warnings %q", w)
	}
	if len(p.Frameworks) != len(emulator.PolicyTags()) {
		t.Fatalf("%d frameworks, want %d", len(p.Frameworks), len(emulator.PolicyTags()))
	}
	totalControls := 0
	for _, fw := range p.Frameworks {
		if len(fw.Units) != len(enabled) {
			t.Fatalf("framework %s: %d units", fw.Name, len(fw.Units))
		}
		for _, u := range fw.Units {
			before := len(f.emu.Requests())
			rep, err := u.Fetch(ctx)
			if err != nil {
				t.Fatalf("%s %s: %v", fw.Name, u.Account, err)
			}
			for _, r := range f.emu.Requests()[before:] {
				if !strings.HasSuffix(r.Path, "/alerts") {
					t.Errorf("%s %s: a report fetch sent %s: only alert pages are needed", fw.Name, u.Account, r.Path)
				}
			}
			first := controls(t, rep)
			if again := controls(t, rep); !reflect.DeepEqual(first, again) {
				t.Fatalf("%s %s: controls differ on the second read", fw.Name, u.Account)
			}
			want := f.emu.CountAlerts(emulator.Filter{AccountIDs: []string{u.Account}, PolicyTags: []string{fw.Name},
				LastSeenFrom: span.From, LastSeenTo: span.To})
			viol, supp := 0, 0
			for _, c := range first {
				viol += len(c.Violations)
				supp += len(c.Suppressions)
				if c.SeverityRank < 1 || c.SeverityRank > 4 || c.Title == "" || c.Category == "" ||
					(c.Status != "NonCompliant" && c.Status != "Suppressed") || c.Assessed != int64(len(c.Violations)+len(c.Suppressions)) {
					t.Fatalf("control %+v", c)
				}
				for _, v := range c.Violations {
					if v.Resource == "" || len(v.Reasons) == 0 {
						t.Fatalf("violation %+v", v)
					}
				}
			}
			if len(first) != want.Rules || viol != want.Violations || supp != want.Suppressed {
				t.Errorf("%s %s: %d controls, %d violations, %d suppressed; emulator %+v", fw.Name, u.Account, len(first), viol, supp, want)
			}
			totalControls += len(first)
			if rep.AccountAlias() == "" || rep.ReportTime().IsZero() {
				t.Errorf("report alias %q time %v", rep.AccountAlias(), rep.ReportTime())
			}
			if r, _, err := rep.Vendor(ctx); r != nil || err != nil {
				t.Errorf("vendor report %v %v", r, err)
			}
			if err := rep.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if totalControls == 0 {
		t.Fatal("no controls at all")
	}
	if left, _ := os.ReadDir(f.spool); len(left) != 0 {
		t.Errorf("spool files left after Close: %v", left)
	}

	want := map[string]int{"dataset=Environments": len(envs)}
	for _, p := range []string{"AWS", "Azure", "GCP"} {
		want["dataset="+prefix(p)+"Hosts"] = f.emu.CountHosts(p)
		want["dataset="+prefix(p)+"Users"] = f.emu.CountUsers(p)
	}
	for _, p := range []string{"AWS", "Azure"} {
		want["dataset="+prefix(p)+"Serverless"] = f.emu.CountServerless(p)
	}
	for _, cp := range []string{"eks", "aks", "gke", "native"} {
		for _, ct := range []string{"clusters", "nodes", "pods", "containers"} {
			want["dataset="+strings.ToUpper(cp[:1])+cp[1:]+strings.ToUpper(ct[:1])+ct[1:]] = f.emu.CountContainers(cp, ct)
		}
	}
	seen := map[string]bool{}
	evalUnits := 0
	for _, u := range p.Tables {
		n, status := rows(t, u)
		switch u.Table {
		case dataset.Evaluations:
			evalUnits++
			c := f.emu.CountAlerts(emulator.Filter{AccountIDs: []string{u.Account}, LastSeenFrom: span.From, LastSeenTo: span.To})
			if n != c.Resources || status["NonCompliant"] != c.Violations || status["Suppressed"] != c.Suppressed || n == 0 {
				t.Errorf("evaluations of %s: %d rows %v; emulator %+v", u.Account, n, status, c)
			}
		case dataset.Inventory:
			w, ok := want[u.Partition]
			if !ok {
				t.Errorf("unexpected inventory unit %s", u.Partition)
			}
			if n != w {
				t.Errorf("%s: %d rows, emulator holds %d", u.Partition, n, w)
			}
			seen[u.Partition] = true
		case dataset.AuditLogs:
			// Cloud activity logs (search), one unit per provider.
			p := map[string]string{"dataset=AwsActivityLogs": "AWS", "dataset=AzureActivityLogs": "Azure", "dataset=GcpActivityLogs": "GCP"}[u.Partition]
			if w := f.emu.CountActivityLogs(p, span.From, span.To); p == "" || n != w || w == 0 || u.Window != span {
				t.Errorf("%s: %d rows, emulator holds %d (window %+v)", u.Partition, n, w, u.Window)
			}
			seen[u.Partition] = true
		default:
			t.Errorf("unit of table %s", u.Table)
		}
	}
	for _, p := range []string{"Aws", "Azure", "Gcp"} {
		if !seen["dataset="+p+"ActivityLogs"] {
			t.Errorf("no activity-log unit for %s", p)
		}
	}
	if evalUnits != len(enabled) {
		t.Errorf("%d evaluation units, want one per enabled environment (%d)", evalUnits, len(enabled))
	}
	for part, n := range want {
		if n > 0 && !seen[part] {
			t.Errorf("no unit for %s (%d rows in the emulator)", part, n)
		}
	}
	if v := f.emu.Violations(); len(v) > 0 {
		t.Errorf("%d requests during a Retry-After", len(v))
	}
	if d := f.emu.DuplicatePages(); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}
	if s.Stats().Requests.Load() == 0 {
		t.Error("no requests counted")
	}
}

func prefix(cloud string) string {
	return map[string]string{"AWS": "Aws", "Azure": "Azure", "GCP": "Gcp"}[cloud]
}

func TestDatasetsAndShards(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 2})
	tn, _ := demo.SophosTenant("acme", f.url)
	s := f.open(t, tn)
	ctx := context.Background()

	p, err := s.Plan(ctx, request(dataset.Inventory))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Frameworks) != 0 || strings.Contains(strings.Join(p.Warnings, " "), "audit") {
		t.Errorf("inventory only: %d frameworks, warnings %v", len(p.Frameworks), p.Warnings)
	}
	for _, u := range p.Tables {
		if u.Table != dataset.Inventory {
			t.Errorf("inventory only: a %s unit", u.Table)
		}
	}

	names := func(p *source.Plan) []string {
		var out []string
		for _, fw := range p.Frameworks {
			for _, u := range fw.Units {
				out = append(out, "report "+fw.Name+" "+u.Account)
			}
		}
		for _, u := range p.Tables {
			out = append(out, u.Table+" "+u.Partition+" "+u.Account)
		}
		return out
	}
	all, err := s.Plan(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	var union []string
	for shard := range 3 {
		req := request()
		req.InShard = func(key string) bool {
			h := fnv.New32a()
			h.Write([]byte(key))
			return int(h.Sum32()%3) == shard
		}
		p, err := s.Plan(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if p.Units() == 0 || p.Units() == all.Units() {
			t.Errorf("shard %d has %d of %d units", shard, p.Units(), all.Units())
		}
		union = append(union, names(p)...)
	}
	a := names(all)
	slices.Sort(a)
	slices.Sort(union)
	if !slices.Equal(a, union) {
		t.Errorf("shards do not partition the units: %d in all, %d in the shards", len(a), len(union))
	}
}

func TestFilters(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 3})
	envs := f.emu.Environments()
	aws := envs[0]
	s := f.open(t, tenant(t, "filtered", fmt.Sprintf(`
api_url: %s
environments: [%q, "000000000000"]
frameworks: [PCI, NIST-800-53]
`, f.url, aws.ID)))
	p, err := s.Plan(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Failures) != 1 || !strings.Contains(p.Failures[0].Err.Error(), "000000000000") || p.Failures[0].SubAccount != "filtered" {
		t.Errorf("failures %+v", p.Failures)
	}
	if !strings.Contains(strings.Join(p.Warnings, " "), `"NIST-800-53"`) {
		t.Errorf("no warning about the unknown framework: %v", p.Warnings)
	}
	var fws []string
	for _, fw := range p.Frameworks {
		fws = append(fws, fw.Name)
		for _, u := range fw.Units {
			if u.Account != aws.ID || u.Cloud != "AWS" {
				t.Errorf("%s: unit of %s/%s", fw.Name, u.Cloud, u.Account)
			}
		}
	}
	if !slices.Equal(fws, []string{"PCI", "NIST-800-53"}) {
		t.Errorf("frameworks %v", fws)
	}
	for _, u := range p.Tables {
		n, _ := rows(t, u)
		switch u.Partition {
		case "dataset=Environments":
			if n != 1 {
				t.Errorf("environments: %d rows, want the one configured", n)
			}
		case "dataset=AwsHosts":
			if want := f.emu.CountHosts("AWS", aws.ID); n != want {
				t.Errorf("hosts: %d, want %d", n, want)
			}
		case "dataset=AzureHosts", "dataset=GcpHosts":
			t.Errorf("unit %s for an environment outside the filter", u.Partition)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 1})
	tests := []struct {
		name    string
		section string
		vars    map[string]string
		want    []string
	}{
		{"unknown key", "api_url: http://x\nregion: eu\n", nil, []string{"tenant bad", "region"}},
		{"key in the file", "api_key: s3cr3t\n", nil, []string{"tenant bad", "never read from the config file", "SOPHOS_OPTIX_API_KEY"}},
		{"key variable unset", "api_key_env: OPTIX_KEY_PROD\n", map[string]string{}, []string{"tenant bad", "OPTIX_KEY_PROD is empty or unset"}},
		{"default variable unset", "api_url: http://x\n", map[string]string{}, []string{"tenant bad", "SOPHOS_OPTIX_API_KEY is empty or unset"}},
		{"comma in a framework", "frameworks: ['CIS,PCI']\n", nil, []string{"tenant bad", "sophos.frameworks"}},
		{"bad URL", "api_url: ftp://x\n", nil, []string{"tenant bad", "ftp"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := f.env
			if tc.vars != nil {
				env.Getenv = func(k string) string { return tc.vars[k] }
			}
			_, err := sophos.Open(context.Background(), tenant(t, "bad", tc.section), env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Error("the secret appears in the error")
			}
		})
	}
}

func TestRefusedKey(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 1})
	f.vars["SOPHOS_OPTIX_API_KEY"] = "expired-key-123"
	tn, _ := demo.SophosTenant("acme", f.url)
	_, err := f.open(t, tn).Plan(context.Background(), request())
	if !errors.Is(err, httpx.ErrAuth) || !strings.Contains(err.Error(), "acme") || strings.Contains(err.Error(), "expired-key-123") {
		t.Errorf("err = %v, want ErrAuth naming the tenant, without the key", err)
	}
}

func TestEmulatorTenantURLFromEnvironment(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 1})
	f.vars[sophos.URLEnv] = f.url
	s := f.open(t, tenant(t, "envurl", "frameworks: [CIS]\n"))
	if got := s.Info().BaseURL; got != f.url {
		t.Errorf("base URL %q, want %s from %s", got, f.url, sophos.URLEnv)
	}
	if _, err := s.Plan(context.Background(), request(dataset.Reports)); err != nil {
		t.Fatal(err)
	}
}

// --account (the request's accounts) narrows like environments: does, every
// table included, without failing the accounts other tenants hold.
func TestAccountFlagNarrowsEveryTable(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 3})
	aws := f.emu.Environments()[0]
	s := f.open(t, tenant(t, "flagged", fmt.Sprintf("api_url: %s\n", f.url)))
	req := request()
	req.Accounts = []string{aws.ID, "999999999999"}
	p, err := s.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Failures) != 0 {
		t.Errorf("failures %+v", p.Failures)
	}
	for _, fw := range p.Frameworks {
		for _, u := range fw.Units {
			if u.Account != aws.ID {
				t.Errorf("%s: unit of %s", fw.Name, u.Account)
			}
		}
	}
	for _, u := range p.Tables {
		n, _ := rows(t, u)
		switch {
		case u.Partition == "dataset=Environments" && n != 1:
			t.Errorf("environments: %d rows, want 1", n)
		case u.Partition == "dataset=AwsHosts" && n != f.emu.CountHosts("AWS", aws.ID):
			t.Errorf("hosts: %d, want %d", n, f.emu.CountHosts("AWS", aws.ID))
		case u.Partition == "dataset=AwsActivityLogs" && n != f.emu.CountActivityLogs("AWS", span.From, span.To, aws.ID):
			t.Errorf("activity logs: %d, want %d", n, f.emu.CountActivityLogs("AWS", span.From, span.To, aws.ID))
		case strings.HasPrefix(u.Partition, "dataset=Azure"), strings.HasPrefix(u.Partition, "dataset=Gcp"), strings.HasPrefix(u.Partition, "dataset=Aks"), strings.HasPrefix(u.Partition, "dataset=Gke"):
			t.Errorf("unit %s for an environment outside --account", u.Partition)
		}
	}
}

// With probes, the plan's alert requests equal the alert pages the reports
// and evaluations then fetch.
func TestEstimateCountsAlertPages(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 4, HistoryDays: 2, AlertsPerEnvironment: 600})
	s := f.open(t, tenant(t, "est", fmt.Sprintf("api_url: %s\n", f.url)))
	req := request(dataset.Reports, dataset.Evaluations)
	p, err := s.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	buckets, err := s.(source.Estimator).Estimate(context.Background(), p, req, true)
	if err != nil || len(buckets) != 1 || buckets[0].Name != "alerts" || buckets[0].Requests <= buckets[0].Units {
		t.Fatalf("buckets %+v, %v: want more alert pages than units", buckets, err)
	}
	before := len(f.emu.Requests())
	for _, fw := range p.Frameworks {
		for _, u := range fw.Units {
			rep, err := u.Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			rep.Close()
		}
	}
	for _, u := range p.Tables {
		rows(t, u)
	}
	if sent := len(f.emu.Requests()) - before; sent != buckets[0].Requests {
		t.Errorf("estimated %d alert requests, the units sent %d", buckets[0].Requests, sent)
	}
}

// Audit logs are the selected environments' cloud activity logs: a plan
// with no AWS, Azure or GCP environment has none, and says so.
func TestAuditLogUnits(t *testing.T) {
	f := newFixture(t, emulator.Config{Seed: 3})
	var k8s, aws emulator.Environment
	for _, e := range f.emu.Environments() {
		switch {
		case e.Type == "Kubernetes":
			k8s = e
		case e.Type == "AWS" && aws.ID == "":
			aws = e
		}
	}
	tests := []struct {
		name     string
		accounts []string
		units    []string
		warn     bool
	}{
		{"every environment", nil, []string{"dataset=AwsActivityLogs", "dataset=AzureActivityLogs", "dataset=GcpActivityLogs"}, false},
		{"one AWS account", []string{aws.ID}, []string{"dataset=AwsActivityLogs"}, false},
		{"a Kubernetes cluster only", []string{k8s.ID}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := f.open(t, tenant(t, "audit", fmt.Sprintf("api_url: %s\n", f.url)))
			req := request(dataset.AuditLogs)
			req.Accounts = tc.accounts
			p, err := s.Plan(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var units []string
			for _, u := range p.Tables {
				if u.Table != dataset.AuditLogs || u.Sheet != "ActivityLogs" || u.SubAccount != "audit" {
					t.Errorf("unit %+v", u)
				}
				units = append(units, u.Partition)
			}
			if !slices.Equal(units, tc.units) {
				t.Errorf("units %v, want %v", units, tc.units)
			}
			if warned := strings.Contains(strings.Join(p.Warnings, " "), "no cloud activity logs"); warned != tc.warn {
				t.Errorf("warnings %v", p.Warnings)
			}
		})
	}
}
