package dataset_test

import (
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
)

// Every record gives a row of its own table, full or empty: the right
// number of values, each of its column's kind, and a row_id last.
func TestRecordRows(t *testing.T) {
	at := time.Date(2026, 11, 21, 3, 4, 5, 0, time.FixedZone("x", 3600))
	sc := dataset.Scope{Source: "lacework", Tenant: "acme", SubAccount: "acme prod"}
	tests := []struct {
		name string
		rec  dataset.Record
	}{
		{"control", dataset.Control{Framework: "CIS 1.4", Cloud: "AWS", AccountID: "123", AccountAlias: "prod", ReportTime: at, ControlID: "1.1",
			Title: "t", Category: "c", Service: "s", Severity: "High", SeverityLevel: 2, Status: dataset.NonCompliant, Assessed: 3, Violating: 1,
			Suppressions: []string{"a", "b"}, InfoLink: "https://x"}},
		{"empty control", dataset.Control{}},
		{"violation", dataset.Violation{Framework: "CIS 1.4", Cloud: "AWS", AccountID: "123", ControlID: "1.1", ControlTitle: "t", Severity: "High",
			Region: "eu-west-1", Resource: "arn:x", Reasons: []string{"r"}}},
		{"empty violation", dataset.Violation{}},
		{"evaluation", dataset.Evaluation{Dataset: "AwsCompliance", AccountID: "123", ReportTime: at, Status: "Compliant", Remediation: `{"a":1}`}},
		{"empty evaluation", dataset.Evaluation{}},
		{"resource", dataset.Resource{CSP: "AWS", AccountID: "123", ResourceID: "i-1", CollectedFrom: at, CollectedTo: at, Tags: "{}"}},
		{"empty resource", dataset.Resource{}},
		{"audit event", dataset.AuditEvent{Time: at, UserName: "u", EventName: "e"}},
		{"empty audit event", dataset.AuditEvent{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table, ok := dataset.ByName(tc.rec.Table())
			if !ok {
				t.Fatalf("table %q is not a dataset table", tc.rec.Table())
			}
			row := tc.rec.Row(sc)
			if err := table.Check(row); err != nil {
				t.Fatal(err)
			}
			if id, ok := row[len(row)-1].(string); !ok || len(id) != 32 {
				t.Errorf("row_id %v, want 32 hex digits", row[len(row)-1])
			}
			for i, c := range table.Columns {
				if v, ok := row[i].(time.Time); ok && v.Location() != time.UTC {
					t.Errorf("%s = %v, want UTC", c.Name, v)
				}
			}
		})
	}
}
