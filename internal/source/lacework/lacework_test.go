package lacework

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"go.yaml.in/yaml/v3"
)

func TestSelectFrameworks(t *testing.T) {
	all := []lacework.Framework{
		{Name: "CIS Amazon Web Services Foundations Benchmark v1.4.0", DisplayName: "AWS CIS 1.4", ReportType: "AWS_CIS_14", Cloud: lacework.AWS},
		{Name: "GCP CIS Benchmark 1.3", ReportType: "GCP_CIS13", Cloud: lacework.GCP},
	}
	tests := []struct {
		name       string
		want       []string
		names      []string
		clouds     []lacework.Cloud
		warnsAbout string
	}{
		{"by name, any case", []string{"gcp cis benchmark 1.3"}, []string{"GCP CIS Benchmark 1.3"}, []lacework.Cloud{lacework.GCP}, ""},
		{"by display name", []string{"AWS CIS 1.4"}, []string{"CIS Amazon Web Services Foundations Benchmark v1.4.0"}, []lacework.Cloud{lacework.AWS}, ""},
		{"an API report type not defined here", []string{"AZURE_CIS_131"}, []string{"AZURE_CIS_131"}, []lacework.Cloud{lacework.Azure}, ""},
		{"unknown name warns", []string{"No Such Framework"}, nil, nil, `"No Such Framework"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &source.Plan{}
			got := selectFrameworks(all, tc.want, p)
			var names []string
			var clouds []lacework.Cloud
			for _, f := range got {
				names, clouds = append(names, f.Name), append(clouds, f.Cloud)
			}
			if !slices.Equal(names, tc.names) || !slices.Equal(clouds, tc.clouds) {
				t.Errorf("got %v %v, want %v %v", names, clouds, tc.names, tc.clouds)
			}
			if tc.warnsAbout == "" && len(p.Warnings) > 0 || tc.warnsAbout != "" && (len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], tc.warnsAbout)) {
				t.Errorf("warnings %q, want one about %s", p.Warnings, tc.warnsAbout)
			}
		})
	}
}

// An inventory row keeps what Lacework records with it: its apiKey and the
// collector's status.props, beside the status and its error.
func TestResourceKeepsKeyAndStatusDetails(t *testing.T) {
	var v lacework.Resource
	if err := json.Unmarshal([]byte(`{"csp":"AWS","apiKey":"4F2C9A","resourceId":"i-1","cloudDetails":{"accountID":"123"},
		"status":{"formatVersion":2,"status":"failure","errorMessage":"AccessDenied","props":{"retries":3}}}`), &v); err != nil {
		t.Fatal(err)
	}
	r, ok := resource(v).(dataset.Resource)
	if !ok || r.SourceKey != "4F2C9A" || r.StatusDetails != `{"retries":3}` || r.Status != "failure: AccessDenied" || r.AccountID != "123" {
		t.Errorf("record %+v", r)
	}
}

// A host that does not exist is a misspelled account: the error says
// which settings name the host, and still is ErrNoSuchHost.
func TestHostHint(t *testing.T) {
	err := hostHint(fmt.Errorf("GET /api/v2/UserProfile: %w: acmme.lacework.net", httpx.ErrNoSuchHost))
	if !errors.Is(err, httpx.ErrNoSuchHost) || !strings.Contains(err.Error(), "LW_ACCOUNT") || !strings.Contains(err.Error(), "LW_API_URL") {
		t.Errorf("%v", err)
	}
	if other := errors.New("500"); hostHint(other) != other {
		t.Error("other errors are changed")
	}
}

// vendor_pdf: false in the tenant's section, or --no-vendor-pdf for every
// tenant, leaves out Lacework's PDF; by default it is fetched.
func TestVendorPDFSetting(t *testing.T) {
	for _, tc := range []struct {
		section string
		flag    bool
		want    bool
	}{
		{"account: acme\n", false, true},
		{"account: acme\nvendor_pdf: true\n", false, true},
		{"account: acme\nvendor_pdf: false\n", false, false},
		{"account: acme\n", true, false},
		{"account: acme\nvendor_pdf: true\n", true, false},
	} {
		cfg := decodeSection(t, tc.section)
		if got := cfg.vendorPDF(source.Request{NoVendorReports: tc.flag}); got != tc.want {
			t.Errorf("%q, --no-vendor-pdf %v: vendor PDF %v, want %v", tc.section, tc.flag, got, tc.want)
		}
	}
}

// A section's budget replaces the documented one where it sets it; the
// opener's scaled limits stand where it does not.
func TestBudgetSetting(t *testing.T) {
	opener := lacework.Limits{RequestsPerHour: 480, Burst: 480, PageRows: 100}
	for _, tc := range []struct {
		section     string
		perHour, bu int
	}{
		{"account: acme\n", 480, 480},
		{"account: acme\nrequests_per_hour: 3600\n", 3600, 480},
		{"account: acme\nrequests_per_hour: 3600\nburst: 60\n", 3600, 60},
	} {
		cfg := decodeSection(t, tc.section)
		got := cfg.limits(opener)
		if got.RequestsPerHour != tc.perHour || got.Burst != tc.bu || got.PageRows != 100 {
			t.Errorf("%q: limits %+v, want %d an hour, burst %d, the opener's pages", tc.section, got, tc.perHour, tc.bu)
		}
	}
}

// A source may be planned twice (`evidence plan` then the run, a sharded
// plan then a whole one): each plan starts from every key, so planning
// again gives the same plan: the same units on the same keys, the same
// warnings (the refused key named each time), the same credentials and
// the same requests per bucket. Probing times each bucket's requests on
// requests of its own kind.
func TestPlanningTwiceGivesTheSamePlan(t *testing.T) {
	emu := emulator.New(emulator.Config{EvaluationsPerDay: 40, InventoryPerCSP: 30, AuditLogsPerDay: 5, Recommendations: 2,
		MoreAWSAccounts: 6, MoreKeys: map[string]string{"SECOND_KEY_ID": "_second_secret"}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	section := `account: acme
subaccount: acme
api_url: ` + srv.URL + `
api_keys:
  - {api_key: SECOND_KEY_ID, api_secret_env: SECOND_SECRET}
  - {api_key: REFUSED_KEY_ID, api_secret_env: REFUSED_SECRET}
`
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(section), &node); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"LW_API_KEY": emulator.DefaultKeyID, "LW_API_SECRET": emulator.DefaultSecret,
		"SECOND_SECRET": "_second_secret", "REFUSED_SECRET": "_not_the_secret"}
	env := source.Env{Getenv: func(k string) string { return vars[k] }, Redactor: httpx.NewRedactor(), SpoolDir: t.TempDir()}
	src, err := Opener(lacework.Limits{})(t.Context(), config.Tenant{Name: "acme", Source: Name, Sections: map[string]yaml.Node{Name: *node.Content[0]}}, env)
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	now := time.Now().UTC().Truncate(24 * time.Hour)
	day := period.Window{From: now.Add(-24 * time.Hour), To: now}
	req := source.Request{Period: day, Audit: day, Datasets: []string{dataset.Reports, dataset.Evaluations, dataset.Inventory, dataset.AuditLogs}}

	// What a plan is, as far as the pipeline and `evidence plan` see it.
	type unit struct{ Framework, Sub, Account, Lane string }
	type summary struct {
		Credential string
		Units      []unit
		Tables     []string
		Warnings   []string
		Buckets    []string
	}
	plan := func(req source.Request) summary {
		t.Helper()
		p, err := s.Plan(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		out := summary{Credential: s.Info().Credential, Warnings: p.Warnings}
		for _, f := range p.Frameworks {
			for _, u := range f.Units {
				out.Units = append(out.Units, unit{f.Name, u.SubAccount, u.Account, u.Lane})
			}
		}
		for _, u := range p.Tables {
			out.Tables = append(out.Tables, tableID(u.Table, u.Sheet, u.SubAccount)+" "+s.keyName(tableID(u.Table, u.Sheet, u.SubAccount)))
		}
		bs, err := s.Estimate(t.Context(), p, req, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if b.Latency <= 0 {
				t.Errorf("bucket %s: no latency timed, though probed", b.Name)
			}
			out.Buckets = append(out.Buckets, fmt.Sprintf("%s: %d units, %d requests", b.Name, b.Units, b.Requests))
		}
		return out
	}
	first := plan(req)
	lanes := map[string]bool{}
	for _, u := range first.Units {
		lanes[u.Lane] = true
	}
	// Fair: each bucket's units go round robin over the keys.
	perLane := map[string]int{}
	for _, u := range first.Units {
		perLane[u.Lane]++
	}
	if d := perLane["key 0"] - perLane["key 1"]; d < -1 || d > 1 {
		t.Errorf("reports per key %v: not spread evenly", perLane)
	}
	if len(lanes) != 2 || !slices.ContainsFunc(first.Warnings, func(w string) bool { return strings.Contains(w, "REFU") && strings.Contains(w, "credentials refused") }) {
		t.Fatalf("first plan: lanes %v, warnings %q: want the units on the two good keys, the refused one named", lanes, first.Warnings)
	}
	sharded := req
	sharded.Shard.Index, sharded.Shard.Count = 1, 2
	for i, tc := range []struct {
		name string
		req  source.Request
	}{{"again", req}, {"after a sharded plan", req}} {
		if i == 1 {
			plan(sharded) // keeps this shard's keys for its own plan only
		}
		if again := plan(tc.req); !reflect.DeepEqual(again, first) {
			t.Errorf("%s: plan\n%+v\nwant\n%+v", tc.name, again, first)
		}
	}
}

// Keys whose masked ids look alike (short ids are all stars) still get a
// bucket each in the plan: their budgets are their own.
func TestKeyNamesAreDistinct(t *testing.T) {
	s := &Source{keys: []*key{{name: "API key EMUL…Y_ID"}, {name: "API key *****"}, {name: "API key *****"}},
		assigned: map[string]int{"a": 0, "b": 1, "c": 2}}
	for id, want := range map[string]string{"a": "API key EMUL…Y_ID", "b": "API key ***** #2", "c": "API key ***** #3"} {
		if got := s.keyName(id); got != want {
			t.Errorf("keyName(%s) = %q, want %q", id, got, want)
		}
	}
	if one := (&Source{keys: s.keys[:1], assigned: s.assigned}); one.keyName("a") != "" {
		t.Error("a single key is named")
	}
}

// decodeSection decodes a tenant's lacework section written as YAML.
func decodeSection(t *testing.T, section string) Config {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(section), &node); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := source.DecodeSection(config.Tenant{Source: Name, Sections: map[string]yaml.Node{Name: *node.Content[0]}}, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}
