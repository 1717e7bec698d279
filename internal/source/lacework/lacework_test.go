package lacework

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
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
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(tc.section), &node); err != nil {
			t.Fatal(err)
		}
		var cfg Config
		if err := source.DecodeSection(config.Tenant{Source: Name, Sections: map[string]yaml.Node{Name: *node.Content[0]}}, &cfg); err != nil {
			t.Fatal(err)
		}
		if got := cfg.vendorPDF(source.Request{NoVendorReports: tc.flag}); got != tc.want {
			t.Errorf("%q, --no-vendor-pdf %v: vendor PDF %v, want %v", tc.section, tc.flag, got, tc.want)
		}
	}
}
