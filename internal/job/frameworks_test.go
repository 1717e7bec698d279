package job_test

import (
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/source"
)

// `evidence frameworks` lists what --framework and --account can name, in
// columns, with the unreachable parts of the tenant first.
func TestDiscoveryPrint(t *testing.T) {
	d := job.Discovery{Tenant: "acme", API: "Lacework API v2", BaseURL: "https://acme.lacework.net",
		Failures: []string{"discover acme-dev: 403"},
		Frameworks: []source.Framework{
			{Name: "AWS SOC 2 Report", Cloud: "AWS", Units: make([]source.ReportUnit, 2)},
			{Name: "CIS Benchmark", Cloud: "GCP", Units: make([]source.ReportUnit, 1)},
		},
		Accounts: []string{"acme/AWS:123456789012", "acme/GCP:proj"}}
	var b strings.Builder
	if err := d.Print(&b); err != nil {
		t.Fatal(err)
	}
	want := `TENANT acme (Lacework API v2, https://acme.lacework.net)
  unreachable discover acme-dev: 403

  FRAMEWORK         CLOUD  REPORTS
  AWS SOC 2 Report  AWS    2
  CIS Benchmark     GCP    1

  ACCOUNT (<sub-account>/<cloud>:<id>)
  acme/AWS:123456789012
  acme/GCP:proj
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
