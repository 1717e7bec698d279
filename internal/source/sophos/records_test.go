package sophos

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/sophos"
)

// The alert's remediation trail (last action and its time, Jira issue, an
// affected resource's remediation date) is kept on its evaluation rows.
func TestRemediationTrailIsKept(t *testing.T) {
	var a sophos.Alert
	if err := json.Unmarshal([]byte(`{"accountId":"123456789012","provider":"AWS","lastAction":"Jira ticket created","lastActionTime":"2026-11-20T10:00:00Z",
		"jiraId":"SEC-42","ruleResult":{"affectedResources":[{"affectedResource":"arn:aws:s3:::b","remediateDate":1793520000000,"Comment":"fixed"}]}}`), &a); err != nil {
		t.Fatal(err)
	}
	rows := evaluations(a, sophos.Account{})
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	var trail map[string]string
	if err := json.Unmarshal([]byte(rows[0].Remediation), &trail); err != nil {
		t.Fatalf("%q: %v", rows[0].Remediation, err)
	}
	want := map[string]string{"last_action": "Jira ticket created", "last_action_time": "2026-11-20T10:00:00Z", "jira_id": "SEC-42",
		"comment": "fixed", "remediate_date": "2026-11-01T08:00:00Z"}
	if !maps.Equal(trail, want) {
		t.Errorf("trail %v, want %v", trail, want)
	}
	if rows := evaluations(sophos.Alert{}, sophos.Account{}); rows[0].Remediation != "" {
		t.Errorf("an alert without a trail: %q", rows[0].Remediation)
	}
}
