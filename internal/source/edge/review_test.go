package edge

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/edge"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

const (
	alice   = "11111111-1111-4111-8111-111111111111"
	bob     = "22222222-2222-4222-8222-222222222222"
	admins  = "33333333-3333-4333-8333-333333333333"
	retired = "44444444-4444-4444-8444-444444444444"
	ghost   = "55555555-5555-4555-8555-555555555555"
	jira    = "66666666-6666-4666-8666-666666666666"
	carol   = "abcdef01-2345-4678-9abc-def012345678"
)

func testLookup() *lookup {
	return &lookup{
		principals: map[string]*principal{
			alice:   {kind: "user", name: "Alice", status: edge.StatusActive},
			carol:   {kind: "user", name: "Carol", status: edge.StatusSuspended},
			bob:     {kind: "user", name: "Bob", status: edge.StatusSuspended},
			admins:  {kind: "group", name: "Admins", status: edge.StatusActive},
			retired: {kind: "group", name: "Retired", status: edge.StatusDeleted},
			ghost:   {}, // named by an access, not in the directory
		},
		apps: map[string]string{jira: "Jira"},
	}
}

func TestControl(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	active, suspended := edge.Enum("2"), edge.Enum("3")
	tests := []struct {
		name       string
		access     edge.Access
		status     string
		section    string
		assessed   int64
		violations []source.Violation
	}{
		{"clean", edge.Access{Status: active, UserList: []string{"user:" + alice, "group:" + admins}},
			"Compliant", sectionActive, 2, nil},
		{"suspended user and deleted group", edge.Access{Status: active, UserList: []string{"user:" + bob, "group:" + retired, "user:" + alice}},
			"NonCompliant", sectionActive, 3, []source.Violation{
				{Resource: "user:" + bob, Reasons: []string{`user "Bob" is SUSPENDED but still assigned`}},
				{Resource: "group:" + retired, Reasons: []string{`group "Retired" is DELETED but still assigned`}},
			}},
		{"unknown user", edge.Access{Status: active, UserList: []string{"user:" + ghost}},
			"NonCompliant", sectionActive, 1, []source.Violation{
				{Resource: "user:" + ghost, Reasons: []string{"assigned user is not in the directory (deleted or unknown)"}},
			}},
		{"user selector naming a group is unknown", edge.Access{Status: active, UserList: []string{"user:" + admins}},
			"NonCompliant", sectionActive, 1, []source.Violation{
				{Resource: "user:" + admins, Reasons: []string{"assigned user is not in the directory (deleted or unknown)"}},
			}},
		{"bare uuids resolve to users or groups, case-insensitively", edge.Access{Status: active, UserList: []string{admins, "22222222-2222-4222-8222-222222222222", ghost}},
			"NonCompliant", sectionActive, 3, []source.Violation{
				{Resource: "user:" + bob, Reasons: []string{`user "Bob" is SUSPENDED but still assigned`}},
				{Resource: "principal:" + ghost, Reasons: []string{"assigned user or group is not in the directory (deleted or unknown)"}},
			}},
		{"uppercase uuid", edge.Access{Status: active, UserList: []string{"user:ABCDEF01-2345-4678-9ABC-DEF012345678"}},
			"NonCompliant", sectionActive, 1, []source.Violation{
				{Resource: "user:" + carol, Reasons: []string{`user "Carol" is SUSPENDED but still assigned`}},
			}},
		{"tags, filters and non-uuid ids are not assessed", edge.Access{Status: active,
			UserList: []string{"user:" + alice, "tag:contractor", "*", "user:", "user:bob@example.com", ""}},
			"Compliant", sectionActive, 1, nil},
		{"only unresolvable selectors", edge.Access{Status: active, UserList: []string{"tag:contractor", "group:Everyone"}},
			"CouldNotAssess", sectionActive, 0, nil},
		{"empty policy", edge.Access{Status: active}, "Compliant", sectionActive, 0, nil},
		{"inactive policy is not checked", edge.Access{Status: suspended, UserList: []string{"user:" + bob, "user:" + ghost},
			EndTime: edge.Time{Time: at.Add(-time.Hour)}}, "Compliant", sectionInactive, 2, nil},
		{"ended but still active", edge.Access{UUID: "acc-1", Status: active, EndTime: edge.Time{Time: at}},
			"NonCompliant", sectionActive, 0, []source.Violation{
				{Resource: "access_policy:acc-1", Reasons: []string{"access ended 2026-11-22T12:00:00Z but the policy is still ACTIVE"}},
			}},
		{"ends in the future", edge.Access{Status: active, EndTime: edge.Time{Time: at.Add(time.Second)}}, "Compliant", sectionActive, 0, nil},
		{"status by name", edge.Access{Status: "ACTIVE", UserList: []string{"user:" + bob}}, "NonCompliant", sectionActive, 1,
			[]source.Violation{{Resource: "user:" + bob, Reasons: []string{`user "Bob" is SUSPENDED but still assigned`}}}},
		{"a revoked user is not still assigned", edge.Access{Status: active, UserList: []string{"user:" + bob, "user:" + ghost},
			RevokedUserList: []string{"user:" + bob, ghost}}, "Compliant", sectionActive, 2, nil},
		{"guest access", edge.Access{UUID: "acc-2", Status: active, AllowGuestAccess: true, UserList: []string{"user:" + alice}},
			"NonCompliant", sectionActive, 1, []source.Violation{
				{Resource: "access_policy:acc-2", Reasons: []string{"guest access is allowed (allow_guest_access): not only the selected users can reach the apps"}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.access.AppList = []string{jira, "77777777-7777-4777-8777-777777777777"}
			c := control(tc.access, testLookup(), at)
			if string(c.Status) != tc.status || c.Category != tc.section || c.Assessed != tc.assessed || !reflect.DeepEqual(c.Violations, tc.violations) {
				t.Errorf("got %s / %s / %d assessed / %+v\nwant %s / %s / %d / %+v", c.Status, c.Category, c.Assessed, c.Violations,
					tc.status, tc.section, tc.assessed, tc.violations)
			}
			if c.Service != "Jira, 77777777-7777-4777-8777-777777777777" || c.Severity != "High" || c.SeverityRank != 2 {
				t.Errorf("service %q, severity %s/%d", c.Service, c.Severity, c.SeverityRank)
			}
		})
	}
}

func TestControlTitle(t *testing.T) {
	if c := control(edge.Access{UUID: "u1", Description: "  "}, testLookup(), time.Now()); c.Title != "Access policy u1" || c.ID != "u1" {
		t.Errorf("title %q, id %q", c.Title, c.ID)
	}
	if c := control(edge.Access{UUID: "u1", Description: "Contractors to Jira"}, testLookup(), time.Now()); c.Title != "Contractors to Jira" {
		t.Errorf("title %q", c.Title)
	}
}

func TestAuditEventMapping(t *testing.T) {
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   edge.AuditEvent
		want dataset.AuditEvent
	}{
		{"full", edge.AuditEvent{CreateTime: edge.Time{Time: at}, AccountName: "acme", UserLogin: "ada@example.com", UserDisplayName: "Ada",
			Op: "UpdateAccess", Method: "PUT", Path: "/api/v1/accesses/x", MatchedPath: "/api/v1/accesses/{uuid}",
			ResponseStatus: 200, ResponseStatusText: "OK", ClientIP: "10.0.0.1", AuthType: "token"},
			dataset.AuditEvent{Time: at, AccountName: "acme", UserName: "ada@example.com", EventName: "UpdateAccess",
				UserAction: "PUT /api/v1/accesses/x", Description: "HTTP 200 OK; from 10.0.0.1; auth token"}},
		{"fallbacks", edge.AuditEvent{AuthAccountName: "acme", AuthUUID: "u-1", Method: "GET", MatchedPath: "/api/v1/users"},
			dataset.AuditEvent{AccountName: "acme", UserName: "u-1", EventName: "GET /api/v1/users", UserAction: "GET"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := auditEvent(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// An account that lists no access policy is not a clean review: one
// CouldNotAssess control says there was nothing to review.
func TestEmptyReviewIsNotCompliant(t *testing.T) {
	rep := newReport(spoolFile(t, ""), 0, nil, testLookup(), time.Now(), "acme")
	defer rep.Close()
	var got []source.Control
	for c, err := range rep.Controls() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if len(got) != 1 || got[0].Status != dataset.CouldNotAssess || !strings.Contains(got[0].Title, "not a pass") {
		t.Errorf("controls %+v", got)
	}
	if c := rep.Caveats(); len(c) != 1 || !strings.Contains(c[0], "nothing was reviewed") {
		t.Errorf("caveats %q: an empty review must be a warning too", c)
	}
	// A review that found something has no caveat.
	full := newReport(spoolFile(t, `{"uuid":"a1","status":2}`+"\n"), 1, nil, testLookup(), time.Now(), "acme")
	defer full.Close()
	if c := full.Caveats(); len(c) != 0 {
		t.Errorf("caveats %q on a review that found an access object", c)
	}
}

// spoolFile is a file holding content, as review spools accesses.
func spoolFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "accesses.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyControl(t *testing.T) {
	tests := []struct {
		name   string
		p      edge.Policy
		status string
		cat    string
		viol   int
	}{
		{"inactive applies to nothing", edge.Policy{UUID: "p1", Status: "3", AllowGuestAccess: true}, "Compliant", sectionPoliciesInactive, 0},
		{"active needs a reviewer", edge.Policy{UUID: "p2", Status: "2", Action: "101"}, "RequiresManualAssessment", sectionPolicies, 0},
		{"active with guest access", edge.Policy{UUID: "p3", Status: "ACTIVE", AllowGuestAccess: true}, "NonCompliant", sectionPolicies, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := policyControl(tc.p)
			if string(c.Status) != tc.status || c.Category != tc.cat || len(c.Violations) != tc.viol || c.ID != tc.p.UUID || c.Service == "" {
				t.Errorf("got %+v", c)
			}
		})
	}
}
