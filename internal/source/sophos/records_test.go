package sophos

import (
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/sophos"
)

// The alert's remediation trail (lastAction, lastActionTime, jiraId, the
// resource's remediateDate) reaches the evaluation rows.
func TestRemediationTrail(t *testing.T) {
	res := func(date string) sophos.AffectedResource {
		return sophos.AffectedResource{AffectedResource: "arn:aws:s3:::b", RemediateDate: sophos.Text(date)}
	}
	tests := []struct {
		name  string
		alert sophos.Alert
		want  []string // one per row
	}{
		{"everything", sophos.Alert{LastAction: "Suppressed", LastActionTime: "2026-11-01T08:00:00.000+00:00", JiraID: "SEC-1234",
			RuleResult: sophos.RuleResult{AffectedResources: []sophos.AffectedResource{res("2026-11-15"), res("")}}},
			[]string{"last action: Suppressed at 2026-11-01T08:00:00.000+00:00; Jira: SEC-1234; remediated: 2026-11-15",
				"last action: Suppressed at 2026-11-01T08:00:00.000+00:00; Jira: SEC-1234"}},
		{"action without a time", sophos.Alert{LastAction: "Created", RuleResult: sophos.RuleResult{AffectedResources: []sophos.AffectedResource{res("")}}},
			[]string{"last action: Created"}},
		{"a ticket only, no resources", sophos.Alert{JiraID: "42"}, []string{"Jira: 42"}},
		{"nothing recorded", sophos.Alert{RuleResult: sophos.RuleResult{AffectedResources: []sophos.AffectedResource{res(" ")}}}, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := evaluations(tc.alert, sophos.Account{AccountType: "AWS"})
			if len(rows) != len(tc.want) {
				t.Fatalf("%d rows, want %d", len(rows), len(tc.want))
			}
			for i, r := range rows {
				if r.Remediation != tc.want[i] {
					t.Errorf("row %d: %q, want %q", i, r.Remediation, tc.want[i])
				}
			}
		})
	}
}
