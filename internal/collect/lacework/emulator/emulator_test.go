package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evidence-pack/evidence/internal/testtool"
)

func TestAccessTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	good := map[string]string{"X-LW-UAKS": DefaultSecret}
	tests := []struct {
		name    string
		method  string
		body    string
		hdr     map[string]string
		status  int
		message string
	}{
		{"ok", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":3600}`, good, 201, ""},
		{"max expiry", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":86400}`, good, 201, ""},
		{"wrong secret", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":3600}`, map[string]string{"X-LW-UAKS": "nope"}, 401, "Invalid"},
		{"no secret", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":3600}`, nil, 401, "Invalid"},
		{"wrong key", "POST", `{"keyId":"OTHER","expiryTime":3600}`, good, 401, "Invalid"},
		{"expiry zero", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":0}`, good, 400, "expiryTime"},
		{"expiry too long", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":86401}`, good, 400, "expiryTime"},
		{"expiry missing", "POST", `{"keyId":"EMULATOR_KEY_ID"}`, good, 400, "expiryTime"},
		{"expiry string", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":"3600"}`, good, 400, "expiryTime"},
		{"not json", "POST", `{"keyId":`, good, 400, "invalid request body"},
		{"wrong content type", "POST", `{"keyId":"EMULATOR_KEY_ID","expiryTime":3600}`, map[string]string{"X-LW-UAKS": DefaultSecret, "Content-Type": "text/plain"}, 400, "Content-Type"},
		{"GET", "GET", "", good, 405, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.raw(tc.method, "/api/v2/access/tokens", tc.body, tc.hdr)
			if r.err != nil || r.status != tc.status {
				t.Fatalf("status %d (%v), want %d: %s", r.status, r.err, tc.status, r.body)
			}
			for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
				if r.header.Get(h) == "" {
					t.Errorf("missing %s header", h)
				}
			}
			if tc.status != 201 {
				if !strings.Contains(r.message(), tc.message) {
					t.Errorf("message %q, want it to contain %q", r.message(), tc.message)
				}
				return
			}
			var body map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatal(err)
			}
			if _, wrapped := body["data"]; wrapped || len(body) != 2 {
				t.Errorf("token body %s: want top-level expiresAt and token only", r.body)
			}
			exp, _ := body["expiresAt"].(string)
			if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(exp) {
				t.Errorf("expiresAt %q is not RFC3339 with milliseconds", exp)
			}
			if tok, _ := body["token"].(string); tok == "" {
				t.Error("empty token")
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Faults: Faults{TokenTTL: time.Second}})
	r := e.raw("POST", "/api/v2/access/tokens", `{"keyId":"EMULATOR_KEY_ID","expiryTime":3600}`, map[string]string{"X-LW-UAKS": DefaultSecret})
	var tok struct {
		Token     string
		ExpiresAt time.Time
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		t.Fatal(err)
	}
	if d := tok.ExpiresAt.Sub(e.wall.Now()); d > time.Second || d < 0 {
		t.Errorf("expiresAt %v: TokenTTL cap not applied", tok.ExpiresAt)
	}
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"bearer", "Bearer " + tok.Token, 200},
		{"lower-case bearer", "bearer " + tok.Token, 200},
		{"raw token (go-sdk)", tok.Token, 200},
		{"missing", "", 401},
		{"unknown", "Bearer nope", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.auth != "" {
				hdr["Authorization"] = tc.auth
			}
			r := e.raw("GET", "/api/v2/UserProfile", "", hdr)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 401 && r.message() == "" {
				t.Errorf("401 without message: %s", r.body)
			}
		})
	}
	e.wall.Add(tok.ExpiresAt.Sub(e.wall.Now()) + time.Millisecond) // past the expiry
	r = e.raw("GET", "/api/v2/UserProfile", "", map[string]string{"Authorization": "Bearer " + tok.Token})
	if r.status != 401 || !strings.Contains(r.message(), "expired") {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
}

func TestAccountsAndRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Forbidden: []string{"ACME-DEV"}})
	tests := []struct {
		name, method, path, sub string
		status                  int
		message                 string
	}{
		{"primary by default", "GET", "/api/v2/UserProfile", "", 200, ""},
		{"sub-account, case-insensitive", "GET", "/api/v2/CloudAccounts", "ACME-Prod", 200, ""},
		{"unknown account", "GET", "/api/v2/CloudAccounts", "globex", 403, "Access denied to account globex"},
		{"forbidden account", "GET", "/api/v2/CloudAccounts", "acme-dev", 403, "Access denied to account acme-dev"},
		{"unknown path", "GET", "/api/v2/Nope", "", 404, "no such endpoint"},
		{"outside api", "GET", "/", "", 404, "no such endpoint"},
		{"trailing slash", "GET", "/api/v2/CloudAccounts/", "", 404, ""},
		{"wrong method", "DELETE", "/api/v2/UserProfile", "", 405, "not allowed"},
		{"GET on search", "GET", "/api/v2/Inventory/search", "", 405, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.api(tc.method, tc.path, "", tc.sub)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if r.header.Get("RateLimit-Remaining") == "" {
				t.Error("missing RateLimit-Remaining")
			}
			if tc.status >= 400 && !strings.Contains(r.message(), tc.message) {
				t.Errorf("message %q, want %q", r.message(), tc.message)
			}
		})
	}
	log := e.emu.Requests()
	last := log[len(log)-1]
	if last.Status != 405 || last.Bucket != "Inventory/search" || last.Completed {
		t.Errorf("last log entry %+v", last)
	}
}

func TestTenantEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ten := e.emu.Tenant()
	if ten.Account != "acme" || len(ten.SubAccounts) != 3 || !ten.SubAccounts[0].Primary {
		t.Fatalf("tenant %+v", ten)
	}
	prod := e.emu.Tenant().SubAccounts[1]
	ten.SubAccounts[1].AWS[0].AccountID = "mutated"
	if e.emu.Tenant().SubAccounts[1].AWS[0].AccountID == "mutated" {
		t.Fatal("Tenant() returned shared state")
	}
	type profile struct {
		Data []struct {
			URL        string `json:"url"`
			OrgAccount bool   `json:"orgAccount"`
			Accounts   []struct {
				AccountName string `json:"accountName"`
				UserEnabled int    `json:"userEnabled"`
			} `json:"accounts"`
		} `json:"data"`
	}
	type cloudAccounts struct {
		Data []struct {
			IntgGuid string            `json:"intgGuid"`
			Type     string            `json:"type"`
			Enabled  int               `json:"enabled"`
			State    struct{ Ok bool } `json:"state"`
			Data     json.RawMessage   `json:"data"`
		} `json:"data"`
	}
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, body []byte)
	}{
		{"UserProfile", "/api/v2/UserProfile", func(t *testing.T, b []byte) {
			// A bare array, as the document's sample is.
			var p profile
			mustUnmarshal(t, append(append([]byte(`{"data":`), b...), '}'), &p)
			if len(p.Data) != 1 || p.Data[0].URL != "acme.lacework.net" || !p.Data[0].OrgAccount {
				t.Fatalf("profile %s", b)
			}
			var names []string
			for _, a := range p.Data[0].Accounts {
				if a.UserEnabled != 1 {
					t.Errorf("userEnabled %d", a.UserEnabled)
				}
				names = append(names, a.AccountName)
			}
			if !slices.Equal(names, []string{"ACME", "ACME-PROD", "ACME-DEV"}) {
				t.Errorf("accounts %v", names)
			}
		}},
		{"CloudAccounts", "/api/v2/CloudAccounts", func(t *testing.T, b []byte) {
			var ca cloudAccounts
			mustUnmarshal(t, b, &ca)
			types := map[string]int{}
			disabled := 0
			for _, a := range ca.Data {
				types[a.Type]++
				if a.Enabled == 0 {
					disabled++
				}
			}
			if types["AwsCfg"] != 3 || types["AzureCfg"] != 1 || types["GcpCfg"] != 1 || disabled != 1 {
				t.Errorf("types %v disabled %d", types, disabled)
			}
		}},
		{"CloudAccounts/AwsCfg", "/api/v2/CloudAccounts/AwsCfg", func(t *testing.T, b []byte) {
			var ca cloudAccounts
			mustUnmarshal(t, b, &ca)
			for i, a := range ca.Data {
				var d struct {
					Creds struct {
						RoleArn string `json:"roleArn"`
					} `json:"crossAccountCredentials"`
					ID string `json:"awsAccountId"`
				}
				mustUnmarshal(t, a.Data, &d)
				if d.ID != prod.AWS[i].AccountID || !strings.HasPrefix(d.Creds.RoleArn, "arn:aws:iam::"+d.ID+":") {
					t.Errorf("AwsCfg %d: %s", i, a.Data)
				}
			}
			if len(ca.Data) != 3 {
				t.Errorf("%d AwsCfg", len(ca.Data))
			}
		}},
		{"CloudAccounts/AzureCfg", "/api/v2/CloudAccounts/AzureCfg", func(t *testing.T, b []byte) {
			if !bytes.Contains(b, []byte(`"tenantId":"`+prod.Azure[0].TenantID+`"`)) || !bytes.Contains(b, []byte(`"clientId"`)) {
				t.Errorf("AzureCfg %s", b)
			}
		}},
		{"CloudAccounts/GcpCfg", "/api/v2/CloudAccounts/GcpCfg", func(t *testing.T, b []byte) {
			if !bytes.Contains(b, []byte(`"idType":"ORGANIZATION","id":"`+prod.GCP[0].OrgID+`"`)) {
				t.Errorf("GcpCfg %s", b)
			}
		}},
		{"CloudAccounts/AwsCtSqs (none)", "/api/v2/CloudAccounts/AwsCtSqs", func(t *testing.T, b []byte) {
			if string(b) != `{"data":[]}` {
				t.Errorf("got %s", b)
			}
		}},
		{"CloudAccounts/{intgGuid}", "/api/v2/CloudAccounts/" + prod.AWS[2].IntgGuid, func(t *testing.T, b []byte) {
			if !bytes.HasPrefix(b, []byte(`{"data":{`)) || !bytes.Contains(b, []byte(`"enabled":0`)) {
				t.Errorf("got %s", b)
			}
		}},
		{"AzureSubscriptions", "/api/v2/Configs/AzureSubscriptions?tenantId=" + prod.Azure[0].TenantID, func(t *testing.T, b []byte) {
			want := fmt.Sprintf(`{"data":[{"tenant":"%s (%s)","subscriptions":["%s (%s)","%s (%s)"]}]}`,
				prod.Azure[0].TenantID, prod.Azure[0].TenantName,
				prod.Azure[0].Subscriptions[0].ID, prod.Azure[0].Subscriptions[0].Name,
				prod.Azure[0].Subscriptions[1].ID, prod.Azure[0].Subscriptions[1].Name)
			if string(b) != want {
				t.Errorf("got  %s\nwant %s", b, want)
			}
		}},
		{"AzureSubscriptions unknown tenant", "/api/v2/Configs/AzureSubscriptions?tenantId=nope", func(t *testing.T, b []byte) {
			if string(b) != `{"data":[]}` {
				t.Errorf("got %s", b)
			}
		}},
		{"GcpProjects", "/api/v2/Configs/GcpProjects?orgId=" + prod.GCP[0].OrgID, func(t *testing.T, b []byte) {
			want := fmt.Sprintf(`{"data":[{"organization":"%s (acme-prod-org)","projects":["acme-prod-proj-a (Project A)","acme-prod-proj-b (Project B)"]}]}`, prod.GCP[0].OrgID)
			if string(b) != want {
				t.Errorf("got  %s\nwant %s", b, want)
			}
		}},
		{"ReportDefinitions", "/api/v2/ReportDefinitions", func(t *testing.T, b []byte) {
			var rd struct {
				Data []struct {
					ReportName, ReportType, SubReportType, CreatedBy string
					Enabled                                          int
					ReportDefinition                                 struct {
						Sections []struct{ Policies []string }
					}
				}
			}
			mustUnmarshal(t, b, &rd)
			if len(rd.Data) != len(ten.Frameworks) {
				t.Fatalf("%d definitions, want %d", len(rd.Data), len(ten.Frameworks))
			}
			for i, d := range rd.Data {
				f := ten.Frameworks[i]
				n := 0
				for _, s := range d.ReportDefinition.Sections {
					n += len(s.Policies)
				}
				if d.ReportName != f.ReportName || d.ReportType != "COMPLIANCE" || d.SubReportType != f.Cloud ||
					(d.Enabled == 1) != f.Enabled || (d.CreatedBy == "SYSTEM") != (f.CreatedBy == "SYSTEM") || n != DefaultRecommendations {
					t.Errorf("definition %d: %+v", i, d)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.api("GET", tc.path, "", "acme-prod")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			tc.check(t, r.body)
		})
	}
	if r := e.api("GET", "/api/v2/CloudAccounts/NotAType", "", ""); r.status != 404 {
		t.Errorf("unknown type: %d", r.status)
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// evalRowT is an evaluation row as a strict client decodes it.
type evalRowT struct {
	Account struct {
		AccountID    string `json:"AccountId"`
		AccountAlias string `json:"Account_Alias"`
	} `json:"account"`
	EvalType       string  `json:"evalType"`
	ID             string  `json:"id"`
	Reason         *string `json:"reason"`
	Recommendation string  `json:"recommendation"`
	ReportTime     string  `json:"reportTime"`
	Resource       string  `json:"resource"`
	Section        *string `json:"section"`
	Severity       string  `json:"severity"`
	Status         string  `json:"status"`
}

func TestEvaluationsPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Seed: 7, EvaluationsPerDay: 500, PageSize: 175})
	ten := e.emu.Tenant()
	accounts := func(sub, ds string) []string {
		for _, sa := range ten.SubAccounts {
			if sa.Name != sub {
				continue
			}
			var ids []string
			switch ds {
			case "AwsCompliance":
				for _, a := range sa.AWS {
					if a.Enabled {
						ids = append(ids, a.AccountID)
					}
				}
			case "AzureCompliance":
				for _, s := range sa.Azure[0].Subscriptions {
					ids = append(ids, s.ID)
				}
			case "GcpCompliance":
				for _, p := range sa.GCP[0].Projects {
					ids = append(ids, p.ID)
				}
			default:
				ids = sa.K8sClusters
			}
			return ids
		}
		return nil
	}
	tests := []struct {
		name, sub, dataset, start, end string
		wantRows                       int // -1: only compare with CountEvaluations
	}{
		{"two whole days", "acme-prod", "AwsCompliance", "2026-11-18", "2026-11-20", 1000},
		{"hour format, crosses midnight", "acme-dev", "AzureCompliance", "2026-11-19T22", "2026-11-20T02", 41 + 42},
		{"seconds format", "acme", "GcpCompliance", "2026-11-19T00:00:30Z", "2026-11-19T00:01:30Z", -1},
		{"millis format", "acme-prod", "K8sCompliance", "2026-11-19T00:02:52.800Z", "2026-11-19T00:02:52.801Z", 1},
		{"ends after now (clamped)", "acme-prod", "AwsCompliance", "2026-11-20T12", "2026-11-21", -1},
		{"exactly 7 days", "acme-dev", "AwsCompliance", "2026-11-13T13", "2026-11-20T13", 7 * 500},
		{"empty window", "acme-prod", "AwsCompliance", "2026-11-20T13:04:06Z", "2026-11-20T14", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, _ := parseAPITime("s", tc.start)
			to, _ := parseAPITime("e", tc.end)
			want := e.emu.CountEvaluations(tc.sub, tc.dataset, from, to)
			if tc.wantRows >= 0 && want != tc.wantRows {
				t.Fatalf("CountEvaluations = %d, want %d", want, tc.wantRows)
			}
			rows, pages := e.collect("POST", "/api/v2/Configs/ComplianceEvaluations/search", evalBody(tc.dataset, tc.start, tc.end), tc.sub)
			if len(rows) != want {
				t.Fatalf("received %d rows, want %d", len(rows), want)
			}
			if wantPages := max(1, (want+174)/175); len(pages) != wantPages {
				t.Errorf("%d pages, want %d", len(pages), wantPages)
			}
			ids := accounts(tc.sub, tc.dataset)
			seen := map[string]bool{}
			prev := ""
			for _, raw := range rows {
				if seen[string(raw)] {
					t.Fatalf("duplicate row %s", raw)
				}
				seen[string(raw)] = true
				var r evalRowT
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&r); err != nil {
					t.Fatalf("row %s: %v", raw, err)
				}
				rt, err := time.Parse(rfc3339Milli, r.ReportTime)
				if err != nil || rt.Before(from) || !rt.Before(to) || !rt.Before(testNow) || r.ReportTime <= prev {
					t.Fatalf("reportTime %q outside [%v, %v) or not increasing", r.ReportTime, from, to)
				}
				prev = r.ReportTime
				if !slices.Contains(ids, r.Account.AccountID) || r.EvalType != "LW_SA" || !strings.HasPrefix(r.ID, "lacework-global-") {
					t.Fatalf("row %s", raw)
				}
				if !slices.Contains([]string{"Critical", "High", "Medium", "Low", "Info"}, r.Severity) ||
					!slices.Contains([]string{"Compliant", "NonCompliant", "Suppressed", "CouldNotAssess", "RequiresManualAssessment"}, r.Status) {
					t.Fatalf("row %s", raw)
				}
			}
			for _, p := range pages {
				if p.Paging.TotalRows != want {
					t.Errorf("totalRows %d, want %d", p.Paging.TotalRows, want)
				}
			}
		})
	}
	if d := e.emu.DuplicatePages(); len(d) != 0 {
		t.Errorf("duplicate pages %v", d)
	}
	for _, r := range e.emu.Requests() {
		if r.Bucket == bucketEvaluations && (r.PageID == "" || !r.Completed || !strings.HasPrefix(r.PageID, "Configs/ComplianceEvaluations/search|")) {
			t.Errorf("log entry %+v", r)
		}
	}
}

func TestResultCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		perDay, cap, pageSize int
		wantRows, wantPages   int
	}{
		{"cap below total", 100, 25, 10, 25, 3},
		{"cap on page boundary", 100, 30, 10, 30, 3},
		{"cap above total", 100, 1000, 40, 100, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{EvaluationsPerDay: tc.perDay, ResultCap: tc.cap, PageSize: tc.pageSize})
			from, to := mustTime(t, "2026-11-19T00:00:00Z"), mustTime(t, "2026-11-20T00:00:00Z")
			if got := e.emu.CountEvaluations("acme", "AwsCompliance", from, to); got != tc.wantRows {
				t.Errorf("CountEvaluations %d, want %d", got, tc.wantRows)
			}
			rows, pages := e.collect("POST", "/api/v2/Configs/ComplianceEvaluations/search", evalBody("AwsCompliance", "2026-11-19", "2026-11-20"), "")
			if len(rows) != tc.wantRows || len(pages) != tc.wantPages {
				t.Fatalf("%d rows in %d pages, want %d in %d", len(rows), len(pages), tc.wantRows, tc.wantPages)
			}
			if pages[0].Paging.TotalRows != tc.wantRows {
				t.Errorf("totalRows %d", pages[0].Paging.TotalRows)
			}
		})
	}
}

func TestSearchValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	const evals = "/api/v2/Configs/ComplianceEvaluations/search"
	const inv = "/api/v2/Inventory/search"
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		message                  string
	}{
		{"8-day window", "POST", evals, evalBody("AwsCompliance", "2026-11-10", "2026-11-18T00:00:00.001Z"), nil, 400, "maximum time range is 7 days"},
		{"older than 90 days", "POST", evals, evalBody("AwsCompliance", "2026-08-21", "2026-08-25"), nil, 400, "90 days"},
		{"90 days is fine", "POST", evals, evalBody("AwsCompliance", "2026-08-23", "2026-08-25"), nil, 200, ""},
		{"no timeFilter: last 24h", "POST", evals, `{"dataset":"AwsCompliance"}`, nil, 200, ""},
		{"missing dataset", "POST", evals, `{}`, nil, 400, "dataset is required"},
		{"empty body", "POST", evals, ``, map[string]string{"Content-Type": "application/json"}, 400, "dataset is required"},
		{"unknown dataset", "POST", evals, evalBody("OciCompliance", "", ""), nil, 400, "unknown dataset"},
		{"offset time", "POST", evals, evalBody("AwsCompliance", "2026-11-19T00:00:00+00:00", "2026-11-20"), nil, 400, "timeFilter.startTime"},
		{"nanosecond time", "POST", evals, evalBody("AwsCompliance", "2026-11-19", "2026-11-20T00:00:00.123456Z"), nil, 400, "timeFilter.endTime"},
		{"minutes time", "POST", evals, evalBody("AwsCompliance", "2026-11-19T10:00", "2026-11-20"), nil, 400, "timeFilter.startTime"},
		{"end before start", "POST", evals, evalBody("AwsCompliance", "2026-11-20", "2026-11-19"), nil, 400, "must be after"},
		{"not json", "POST", evals, `{"dataset":`, nil, 400, "invalid request body"},
		{"trailing data", "POST", evals, `{"dataset":"AwsCompliance"} {}`, nil, 400, "invalid request body"},
		{"unknown field (keys are case-sensitive)", "POST", evals, `{"dataset":"AwsCompliance","timefilter":{}}`, nil, 400, "timefilter"},
		{"unknown timeFilter field", "POST", evals, `{"dataset":"AwsCompliance","timeFilter":{"starttime":"2026-11-19"}}`, nil, 400, "starttime"},
		{"unknown filter field", "POST", evals, `{"dataset":"AwsCompliance","filters":[{"Field":"status","expression":"eq","value":"x"}]}`, nil, 400, "Field"},
		{"non-string filter value", "POST", evals, `{"dataset":"AwsCompliance","filters":[{"field":"status","expression":"eq","value":1}]}`, nil, 400, "invalid request body"},
		{"csp on evaluations", "POST", evals, `{"dataset":"AwsCompliance","csp":"AWS"}`, nil, 400, "csp"},
		{"wrong content type", "POST", evals, `{"dataset":"AwsCompliance"}`, map[string]string{"Content-Type": "text/plain"}, 400, "Content-Type"},
		{"body over 1 MB", "POST", evals, `{"dataset":"AwsCompliance","returns":["` + strings.Repeat("x", 1<<20) + `"]}`, nil, 400, "1 MB"},
		{"unsupported filter field", "POST", evals, evalBody("AwsCompliance", "", "", `"filters":[{"field":"nope","expression":"eq","value":"x"}]`), nil, 400, "not supported"},
		{"eq with values", "POST", evals, evalBody("AwsCompliance", "", "", `"filters":[{"field":"status","expression":"eq","values":["x"]}]`), nil, 400, `"value"`},
		{"in with value", "POST", evals, evalBody("AwsCompliance", "", "", `"filters":[{"field":"status","expression":"in","value":"x"}]`), nil, 400, `"values"`},
		{"gt unsupported", "POST", evals, evalBody("AwsCompliance", "", "", `"filters":[{"field":"status","expression":"gt","value":"x"}]`), nil, 400, "not supported"},
		{"unknown expression", "POST", evals, evalBody("AwsCompliance", "", "", `"filters":[{"field":"status","expression":"equals","value":"x"}]`), nil, 400, "unknown filter expression"},
		{"bad regexp", "POST", evals, evalBody("AwsCompliance", "", "", `"filters":[{"field":"status","expression":"rlike","value":"("}]`), nil, 400, "invalid pattern"},
		{"unknown returns", "POST", evals, evalBody("AwsCompliance", "", "", `"returns":["nope"]`), nil, 400, "returns"},
		{"inventory: missing csp", "POST", inv, `{}`, nil, 400, "csp is required"},
		{"inventory: unknown csp", "POST", inv, `{"csp":"aws"}`, nil, 400, "unknown csp"},
		{"inventory: deprecated dataset", "POST", inv, `{"dataset":"AwsCompliance"}`, nil, 200, ""},
		{"inventory: csp and dataset disagree", "POST", inv, `{"csp":"AWS","dataset":"GcpCompliance"}`, nil, 400, "does not match"},
		{"inventory: bad time", "POST", inv, `{"csp":"AWS","timeFilter":{"startTime":"yesterday"}}`, nil, 400, "timeFilter.startTime"},
		{"auditlogs: bad startTime", "GET", "/api/v2/AuditLogs?startTime=2026-11-19T00:00", "", nil, 400, "startTime"},
		{"auditlogs search: dataset", "POST", "/api/v2/AuditLogs/search", `{"dataset":"AwsCompliance"}`, nil, 400, `unknown field "dataset"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": "Bearer " + e.login()}
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			r := e.raw(tc.method, tc.path, tc.body, hdr)
			if r.err != nil || r.status != tc.status {
				t.Fatalf("status %d (%v), want %d: %.300s", r.status, r.err, tc.status, r.body)
			}
			if tc.status != 200 && !strings.Contains(r.message(), tc.message) {
				t.Errorf("message %q, want it to contain %q", r.message(), tc.message)
			}
		})
	}
}

func TestFiltersAndReturns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{EvaluationsPerDay: 600, PageSize: 100})
	const path = "/api/v2/Configs/ComplianceEvaluations/search"
	all, _ := e.collect("POST", path, evalBody("AwsCompliance", "2026-11-19", "2026-11-20"), "acme-prod")
	var rows []evalRowT
	for _, raw := range all {
		var r evalRowT
		mustUnmarshal(t, raw, &r)
		rows = append(rows, r)
	}
	acct := rows[0].Account.AccountID
	tests := []struct {
		name, filters string
		keep          func(r evalRowT) bool
	}{
		{"status eq", `[{"field":"status","expression":"eq","value":"NonCompliant"}]`, func(r evalRowT) bool { return r.Status == "NonCompliant" }},
		{"account and status (AND)", `[{"field":"account.AccountId","expression":"eq","value":"` + acct + `"},{"field":"status","expression":"ne","value":"Compliant"}]`,
			func(r evalRowT) bool { return r.Account.AccountID == acct && r.Status != "Compliant" }},
		{"severity in", `[{"field":"severity","expression":"in","values":["Critical","High"]}]`, func(r evalRowT) bool { return r.Severity == "Critical" || r.Severity == "High" }},
		{"severity not_in", `[{"field":"severity","expression":"not_in","values":["Critical","High"]}]`, func(r evalRowT) bool { return r.Severity != "Critical" && r.Severity != "High" }},
		{"resource ilike", `[{"field":"resource","expression":"ilike","value":"ARN:AWS:S3:::%"}]`, func(r evalRowT) bool { return strings.HasPrefix(r.Resource, "arn:aws:s3:::") }},
		{"id rlike", `[{"field":"id","expression":"rlike","value":"lacework-global-1[0-9]"}]`, func(r evalRowT) bool { return regexp.MustCompile(`^lacework-global-1[0-9]$`).MatchString(r.ID) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for i, r := range rows {
				if tc.keep(r) {
					want = append(want, string(all[i]))
				}
			}
			got, pages := e.collect("POST", path, evalBody("AwsCompliance", "2026-11-19", "2026-11-20", `"filters":`+tc.filters), "acme-prod")
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range got {
				if string(got[i]) != want[i] {
					t.Fatalf("row %d: %s, want %s", i, got[i], want[i])
				}
			}
			if pages[0].Paging.TotalRows != len(want) {
				t.Errorf("totalRows %d, want %d", pages[0].Paging.TotalRows, len(want))
			}
		})
	}
	t.Run("returns", func(t *testing.T) {
		got, _ := e.collect("POST", path, evalBody("AwsCompliance", "2026-11-19", "2026-11-20", `"returns":["id","status","account"]`), "acme-prod")
		if len(got) != len(all) {
			t.Fatalf("%d rows, want %d", len(got), len(all))
		}
		for i, raw := range got {
			var m map[string]json.RawMessage
			mustUnmarshal(t, raw, &m)
			if len(m) != 3 || m["id"] == nil || m["status"] == nil || m["account"] == nil {
				t.Fatalf("row %s", raw)
			}
			if string(m["id"]) != strconv.Quote(rows[i].ID) {
				t.Fatalf("row %d id %s, want %s", i, m["id"], rows[i].ID)
			}
		}
	})
	if d := e.emu.DuplicatePages(); len(d) != 0 {
		t.Errorf("filtered and unfiltered result sets share page ids: %v", d)
	}
}

func TestNextPageRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{PageSize: 100})
	first := e.api("POST", "/api/v2/Configs/ComplianceEvaluations/search", evalBody("AwsCompliance", "2026-11-19", "2026-11-20"), "acme-prod")
	var p page
	mustUnmarshal(t, first.body, &p)
	next := *p.Paging.Urls.NextPage
	tok := next[strings.LastIndex(next, "/")+1:]
	tampered := []byte(tok)
	tampered[5] ^= 1
	tests := []struct {
		name, url, sub string
		status         int
		message        string
	}{
		{"ok", next, "acme-prod", 200, ""},
		{"again (duplicate)", next, "acme-prod", 200, ""},
		{"other account", next, "acme-dev", 400, "does not match"},
		{"no Account-Name (primary)", next, "", 400, "does not match"},
		{"tampered token", e.ts.URL + nextEvaluations + string(tampered), "acme-prod", 400, "invalid next page token"},
		{"token on another endpoint", e.ts.URL + nextInventory + tok, "acme-prod", 400, "does not belong"},
		{"POST", next, "acme-prod", 405, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.name == "POST" {
				method = "POST"
			}
			r := e.api(method, tc.url, "", tc.sub)
			if r.status != tc.status || (tc.status != 200 && !strings.Contains(r.message(), tc.message)) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	dups := e.emu.DuplicatePages()
	if len(dups) != 1 || !strings.HasSuffix(dups[0], "|100") {
		t.Errorf("DuplicatePages %v, want the second page", dups)
	}
	e.clock.Add(24*time.Hour + time.Second)
	if r := e.api("GET", next, "", "acme-prod"); r.status != 400 || !strings.Contains(r.message(), "expired") {
		t.Errorf("expired next page: %d %s", r.status, r.body)
	}
}

func TestInventory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{InventoryPerCSP: 250, PageSize: 100})
	tests := []struct {
		name, csp, timeFilter string
		wantStart             string // "" = no collection in the window
	}{
		{"whole day", "AWS", `{"startTime":"2026-11-19","endTime":"2026-11-20"}`, "2026-11-19T02:00:00.000Z"},
		{"several days: last collection", "Azure", `{"startTime":"2026-11-15","endTime":"2026-11-20T12"}`, "2026-11-20T02:00:00.000Z"},
		{"default: last 24h", "GCP", ``, "2026-11-20T02:00:00.000Z"},
		{"start inclusive", "AWS", `{"startTime":"2026-11-20T02","endTime":"2026-11-20T02:00:00.001Z"}`, "2026-11-20T02:00:00.000Z"},
		{"end exclusive", "AWS", `{"startTime":"2026-11-19T03","endTime":"2026-11-20T02"}`, ""},
		{"after the collection", "GCP", `{"startTime":"2026-11-20T03","endTime":"2026-11-20T12"}`, ""},
		{"beyond the data horizon", "AWS", `{"startTime":"2026-07-01","endTime":"2026-07-02"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"csp":"` + tc.csp + `"}`
			from, to := testNow.Add(-24*time.Hour), testNow
			if tc.timeFilter != "" {
				body = `{"csp":"` + tc.csp + `","timeFilter":` + tc.timeFilter + `}`
				var tf struct{ StartTime, EndTime string }
				mustUnmarshal(t, []byte(tc.timeFilter), &tf)
				from, _ = parseAPITime("s", tf.StartTime)
				to, _ = parseAPITime("e", tf.EndTime)
			}
			want := e.emu.CountInventory("acme-prod", tc.csp, from, to)
			if (tc.wantStart == "") != (want == 0) || (want != 0 && want != 250) {
				t.Fatalf("CountInventory = %d", want)
			}
			rows, _ := e.collect("POST", "/api/v2/Inventory/search", body, "acme-prod")
			if len(rows) != want {
				t.Fatalf("%d rows, want %d", len(rows), want)
			}
			seen := map[string]bool{}
			for _, raw := range rows {
				var r struct {
					Csp          string            `json:"csp"`
					StartTime    string            `json:"startTime"`
					EndTime      string            `json:"endTime"`
					Urn          string            `json:"urn"`
					ResourceType string            `json:"resourceType"`
					ResourceTags map[string]string `json:"resourceTags"`
					CloudDetails map[string]string `json:"cloudDetails"`
					Status       struct {
						FormatVersion int    `json:"formatVersion"`
						Status        string `json:"status"`
					} `json:"status"`
					ResourceConfig map[string]any `json:"resourceConfig"`
				}
				mustUnmarshal(t, raw, &r)
				wantEnd := strings.Replace(tc.wantStart, "T02:", "T03:", 1)
				if r.Csp != tc.csp || r.StartTime != tc.wantStart || r.EndTime != wantEnd || r.Status.FormatVersion != 2 || r.Status.Status != "success" || r.ResourceConfig == nil {
					t.Fatalf("row %s", raw)
				}
				if seen[r.Urn] {
					t.Fatalf("duplicate resource %s", r.Urn)
				}
				seen[r.Urn] = true
				keys := []string{"accountAlias", "accountID"}
				switch tc.csp {
				case "Azure":
					keys = append(keys, "subscriptionId", "tenantId")
				case "GCP":
					keys = append(keys, "organizationId", "projectId")
				}
				for _, k := range keys {
					if r.CloudDetails[k] == "" {
						t.Fatalf("cloudDetails.%s missing: %s", k, raw)
					}
				}
			}
		})
	}
}

func TestAuditLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{AuditLogsPerDay: 48, PageSize: 20})
	tests := []struct {
		name, method, path, body string
		from, to                 string
	}{
		{"GET date format", "GET", "/api/v2/AuditLogs?startTime=2026-11-18&endTime=2026-11-19", "", "2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z"},
		{"GET hour format", "GET", "/api/v2/AuditLogs?startTime=2026-11-18T08&endTime=2026-11-18T20", "", "2026-11-18T08:00:00Z", "2026-11-18T20:00:00Z"},
		{"GET seconds format", "GET", "/api/v2/AuditLogs?startTime=2026-11-18T08:00:00Z&endTime=2026-11-18T09:00:00Z", "", "2026-11-18T08:00:00Z", "2026-11-18T09:00:00Z"},
		{"GET millis format, endTime defaults to now", "GET", "/api/v2/AuditLogs?startTime=2026-11-19T08:00:00.000Z", "", "2026-11-19T08:00:00Z", "2026-11-20T13:04:05Z"},
		{"GET no window: last 24h", "GET", "/api/v2/AuditLogs", "", "2026-11-19T13:04:05Z", "2026-11-20T13:04:05Z"},
		{"GET 30 days (no 7-day limit)", "GET", "/api/v2/AuditLogs?startTime=2026-10-20&endTime=2026-11-19", "", "2026-10-20T00:00:00Z", "2026-11-19T00:00:00Z"},
		{"GET across the 120-day horizon", "GET", "/api/v2/AuditLogs?startTime=2026-07-20&endTime=2026-07-26", "", "2026-07-20T00:00:00Z", "2026-07-26T00:00:00Z"},
		{"POST search", "POST", "/api/v2/AuditLogs/search", `{"timeFilter":{"startTime":"2026-11-18T10","endTime":"2026-11-19T10"}}`, "2026-11-18T10:00:00Z", "2026-11-19T10:00:00Z"},
		{"POST search with filter", "POST", "/api/v2/AuditLogs/search", `{"timeFilter":{"startTime":"2026-11-18T10","endTime":"2026-11-19T10"},"filters":[{"field":"userName","expression":"eq","value":"alice@example.com"}]}`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, _ := e.collect(tc.method, tc.path, tc.body, "acme-dev")
			if tc.from != "" {
				from, to := mustTime(t, tc.from), mustTime(t, tc.to)
				// Unpaged, as the document's samples are: an answer holds
				// at most one page (cut silently past it: the worst case
				// of what the document leaves open).
				if want := min(e.emu.CountAuditLogs("acme-dev", from, to), 20); len(rows) != want || want == 0 {
					t.Fatalf("%d rows, want %d", len(rows), want)
				}
			}
			var prev int64
			for _, raw := range rows {
				var r struct {
					CreatedTime                                                    int64
					AccountName, UserName, EventName, UserAction, EventDescription string
				}
				dec := json.NewDecoder(bytes.NewReader(raw))
				if err := dec.Decode(&r); err != nil {
					t.Fatalf("%s: %v", raw, err)
				}
				if r.AccountName != "ACME-DEV" || r.UserName == "" || r.EventName == "" || r.CreatedTime <= prev {
					t.Fatalf("row %s", raw)
				}
				if tc.name == "POST search with filter" && r.UserName != "alice@example.com" {
					t.Fatalf("filter not applied: %s", raw)
				}
				prev = r.CreatedTime
			}
		})
	}
	for _, r := range e.emu.Requests() {
		if strings.Contains(r.Path, "/AuditLogs") && r.Bucket != bucketAuditLogs {
			t.Errorf("AuditLogs request in bucket %q", r.Bucket)
		}
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Faults: Faults{RateLimit: 3, RateWindow: 3 * time.Second}})
	e.login()
	type step struct {
		path       string
		status     int
		remaining  string
		retryAfter string
		violation  bool
	}
	steps := []step{
		{"/api/v2/UserProfile", 200, "2", "", false},
		{"/api/v2/UserProfile", 200, "1", "", false},
		{"/api/v2/UserProfile", 200, "0", "", false},
		{"/api/v2/UserProfile", 429, "0", "1", false},  // bucket empty: blocked until a token refills
		{"/api/v2/UserProfile", 429, "0", "1", true},   // too early: violation
		{"/api/v2/CloudAccounts", 200, "2", "", false}, // other functionality, other bucket
		{"sleep", 0, "", "", false},                    // honour Retry-After
		{"/api/v2/UserProfile", 200, "0", "", false},
	}
	for i, s := range steps {
		if s.path == "sleep" {
			e.wall.Add(1100 * time.Millisecond)
			continue
		}
		r := e.api("GET", s.path, "", "")
		if r.status != s.status || r.header.Get("RateLimit-Remaining") != s.remaining || r.header.Get("Retry-After") != s.retryAfter || r.header.Get("RateLimit-Limit") != "3" {
			t.Fatalf("step %d: status %d remaining %q retry-after %q limit %q: %s", i, r.status, r.header.Get("RateLimit-Remaining"), r.header.Get("Retry-After"), r.header.Get("RateLimit-Limit"), r.body)
		}
		if s.remaining == "0" && s.status == 200 && r.header.Get("RateLimit-Reset") == "0" {
			t.Errorf("step %d: RateLimit-Reset 0 with no tokens left", i)
		}
		if s.status == 429 && r.message() != "Rate limit exceeded" {
			t.Errorf("step %d: message %q", i, r.message())
		}
	}
	v := e.emu.Violations()
	if len(v) != 1 || v[0].Bucket != "UserProfile" || v[0].Status != 429 {
		t.Fatalf("violations %+v", v)
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	type step struct {
		sleep      time.Duration
		status     int    // 0: transport error before any response
		bodyErr    bool   // response arrives but the body is cut
		retryAfter string // expected Retry-After
		fault      string // expected Request.Fault
		violation  bool
	}
	ok := step{status: 200}
	tests := []struct {
		name   string
		faults Faults
		steps  []step
	}{
		{"5xx every 3rd", Faults{ErrorEvery: 3}, []step{ok, ok, {status: 500, fault: "500"}, ok, ok, {status: 502, fault: "502"}, ok, ok, {status: 503, retryAfter: "1", fault: "503"}, ok}},
		{"drop every 2nd", Faults{DropEvery: 2}, []step{ok, {status: 0, fault: "drop-before"}, ok, {status: 200, bodyErr: true, fault: "drop-mid"}, ok, {status: 0, fault: "drop-before"}}},
		{"429 every 2nd", Faults{RateLimitEvery: 2}, []step{ok, {status: 429, retryAfter: "1", fault: "429"}, {status: 429, retryAfter: "1", violation: true}, {sleep: 1050 * time.Millisecond, status: 200}, {status: 429, retryAfter: "1", fault: "429"}}},
		{"slow every 2nd", Faults{SlowEvery: 2, SlowDelay: 150 * time.Millisecond}, []step{ok, {status: 200, fault: "slow"}, ok}},
		{"precedence: 5xx over drop", Faults{ErrorEvery: 2, DropEvery: 2}, []step{ok, {status: 500, fault: "500"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{Faults: tc.faults})
			e.login()
			for i, s := range tc.steps {
				e.wall.Add(s.sleep) // the emulator's clock: past a Retry-After
				start := time.Now()
				r := e.api("GET", "/api/v2/UserProfile", "", "acme-prod")
				took := time.Since(start)
				if s.status == 0 {
					if r.err == nil {
						t.Fatalf("step %d: got %d, want a dropped connection", i, r.status)
					}
				} else if r.status != s.status || (r.err != nil) != s.bodyErr || r.header.Get("Retry-After") != s.retryAfter {
					t.Fatalf("step %d: status %d err %v retry-after %q", i, r.status, r.err, r.header.Get("Retry-After"))
				}
				log := e.emu.Requests()
				last := log[len(log)-1]
				if last.Fault != s.fault || last.Violation != s.violation {
					t.Fatalf("step %d: log %+v", i, last)
				}
				if wantDone := s.status == 200 && !s.bodyErr; last.Completed != wantDone {
					t.Fatalf("step %d: Completed %v", i, last.Completed)
				}
				if s.fault == "slow" && took < tc.faults.SlowDelay {
					t.Fatalf("step %d: took %v", i, took)
				}
				if s.status >= 500 && r.message() == "" {
					t.Fatalf("step %d: 5xx without message: %s", i, r.body)
				}
			}
		})
	}
}

func TestSlowRespectsContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Faults: Faults{SlowEvery: 1, SlowDelay: 5 * time.Second}})
	tok := e.login()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/api/v2/UserProfile", nil)
	req.Header.Set("Authorization", tok)
	start := time.Now()
	if _, err := e.client.Do(req); err == nil {
		t.Fatal("want a timeout")
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		log := e.emu.Requests()
		if last := log[len(log)-1]; last.Path == "/api/v2/UserProfile" {
			if last.Status != 0 || time.Since(start) > 2*time.Second {
				t.Fatalf("log %+v", last)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("slow request still running after its client went away")
}

// reportT is a report as a strict client decodes it.
type reportT struct {
	Data []struct {
		ReportType      string `json:"reportType"`
		ReportTitle     string `json:"reportTitle"`
		ReportTime      string `json:"reportTime"`
		Recommendations []struct {
			AccountID    string   `json:"ACCOUNT_ID"`
			StartTime    int64    `json:"START_TIME"`
			Suppressions []string `json:"SUPPRESSIONS"`
			Assessed     int64    `json:"ASSESSED_RESOURCE_COUNT"`
			Status       string   `json:"STATUS"`
			RecID        string   `json:"REC_ID"`
			Violations   []struct {
				Region   *string  `json:"region"`
				Resource string   `json:"resource"`
				Reasons  []string `json:"reasons"`
			} `json:"VIOLATIONS"`
			ResourceCount int64  `json:"RESOURCE_COUNT"`
			Severity      int    `json:"SEVERITY"`
			TenantID      string `json:"TENANT_ID"`
			ProjectID     string `json:"PROJECT_ID"`
		} `json:"recommendations"`
		Summary []map[string]int64 `json:"summary"`
	} `json:"data"`
	Ok      bool   `json:"ok"`
	Message string `json:"message"`
}

func TestReports(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Faults: Faults{Tricky: true}})
	prod := e.emu.Tenant().SubAccounts[1]
	aws, az, gcp := prod.AWS[0], prod.Azure[0], prod.GCP[0]
	q := func(kv ...string) string {
		v := []string{}
		for i := 0; i+1 < len(kv); i += 2 {
			v = append(v, kv[i]+"="+strings.ReplaceAll(kv[i+1], " ", "+"))
		}
		return "/api/v2/Reports?" + strings.Join(v, "&")
	}
	tests := []struct {
		name, path   string
		status       int
		cloud        string
		filteredRecs bool
	}{
		{"AWS CIS by type", q("primaryQueryId", aws.AccountID, "format", "json", "reportType", "AWS_CIS_14"), 200, "AWS", false},
		{"AWS SOC 2 by name", q("primaryQueryId", prod.AWS[1].AccountID, "format", "json", "reportName", "AWS SOC 2 Report"), 200, "AWS", false},
		{"AWS PCI", q("primaryQueryId", aws.AccountID, "format", "json", "reportType", "AWS_PCI_DSS_3.2.1"), 200, "AWS", false},
		{"Azure CIS", q("primaryQueryId", az.TenantID, "secondaryQueryId", az.Subscriptions[1].ID, "format", "json", "reportType", "AZURE_CIS_1_5"), 200, "Azure", false},
		{"GCP CIS by name", q("primaryQueryId", gcp.OrgID, "secondaryQueryId", gcp.Projects[0].ID, "format", "json", "reportName", "GCP CIS Benchmark 1.3"), 200, "GCP", false},
		{"severity and status filters", q("primaryQueryId", aws.AccountID, "format", "json", "reportType", "AWS_CIS_14", "severity", "critical,high", "status", "NonCompliant,Compliant"), 200, "AWS", true},
		{"missing reportType", q("primaryQueryId", aws.AccountID, "format", "json"), 400, "", false},
		{"unknown reportType", q("primaryQueryId", aws.AccountID, "format", "json", "reportType", "AWS_CIS_99"), 400, "", false},
		{"disabled custom definition", q("primaryQueryId", aws.AccountID, "format", "json", "reportName", "Acme Custom AWS Controls"), 400, "", false},
		{"type and name disagree", q("primaryQueryId", aws.AccountID, "format", "json", "reportType", "AWS_CIS_14", "reportName", "AWS SOC 2 Report"), 400, "", false},
		{"csv", q("primaryQueryId", aws.AccountID, "format", "csv", "reportType", "AWS_CIS_14"), 400, "", false},
		{"unknown AWS account", q("primaryQueryId", "000000000000", "format", "json", "reportType", "AWS_CIS_14"), 404, "", false},
		{"account of another sub-account", q("primaryQueryId", e.emu.Tenant().SubAccounts[2].AWS[0].AccountID, "format", "json", "reportType", "AWS_CIS_14"), 404, "", false},
		{"disabled AWS integration", q("primaryQueryId", prod.AWS[2].AccountID, "format", "json", "reportType", "AWS_CIS_14"), 404, "", false},
		{"Azure id with alias", q("primaryQueryId", az.TenantID, "secondaryQueryId", az.Subscriptions[0].ID+" ("+az.Subscriptions[0].Name+")", "format", "json", "reportType", "AZURE_CIS_1_5"), 404, "", false},
		{"Azure without subscription", q("primaryQueryId", az.TenantID, "format", "json", "reportType", "AZURE_CIS_1_5"), 400, "", false},
		{"AWS report for a GCP project", q("primaryQueryId", gcp.Projects[0].ID, "format", "json", "reportType", "AWS_CIS_14"), 404, "", false},
		{"Azure report for an AWS account", q("primaryQueryId", aws.AccountID, "secondaryQueryId", az.Subscriptions[0].ID, "format", "json", "reportType", "AZURE_CIS_1_5"), 400, "", false},
		{"GCP report for an Azure tenant", q("primaryQueryId", az.TenantID, "secondaryQueryId", gcp.Projects[0].ID, "format", "json", "reportName", "GCP CIS Benchmark 1.3"), 400, "", false},
		{"invalid severity", q("primaryQueryId", aws.AccountID, "format", "json", "reportType", "AWS_CIS_14", "severity", "urgent"), 400, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.api("GET", tc.path, "", "acme-prod")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.400s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				if r.message() == "" {
					t.Errorf("no message: %s", r.body)
				}
				return
			}
			var rep reportT
			mustUnmarshal(t, r.body, &rep)
			if !rep.Ok || rep.Message != "SUCCESS" || len(rep.Data) != 1 || len(rep.Data[0].Summary) != 1 {
				t.Fatalf("envelope %.300s", r.body)
			}
			d := rep.Data[0]
			if _, err := time.Parse(rfc3339Milli, d.ReportTime); err != nil {
				t.Errorf("reportTime %q", d.ReportTime)
			}
			header := map[string]string{"AWS": `"accountId"`, "Azure": `"tenantId"`, "GCP": `"organizationId"`}[tc.cloud]
			if bytes.Index(r.body, []byte(`"recommendations"`)) > bytes.Index(r.body, []byte(header)) {
				t.Errorf("recommendations must precede %s", header)
			}
			if tc.cloud == "Azure" && !bytes.Contains(r.body, []byte(`"subscriptionId":"`+az.Subscriptions[1].ID+`"`)) {
				t.Errorf("Azure report lacks subscriptionId")
			}
			if !tc.filteredRecs && len(d.Recommendations) != e.emu.ReportRecommendations() {
				t.Fatalf("%d recommendations, want %d", len(d.Recommendations), e.emu.ReportRecommendations())
			}
			want := map[string]int64{"NUM_RECOMMENDATIONS": int64(len(d.Recommendations))}
			violated, suppressed := map[string]bool{}, map[string]bool{}
			var maxAssessed, sumAssessed int64
			for _, rec := range d.Recommendations {
				if rec.Severity < 1 || rec.Severity > 5 || rec.Violations == nil || rec.Suppressions == nil || rec.StartTime == 0 {
					t.Fatalf("recommendation %+v", rec)
				}
				if tc.filteredRecs && (rec.Severity > 2 || (rec.Status != "Compliant" && rec.Status != "NonCompliant")) {
					t.Fatalf("filters not applied: %+v", rec)
				}
				if (tc.cloud == "Azure") != (rec.TenantID != "") || (tc.cloud == "GCP") != (rec.ProjectID != "") {
					t.Fatalf("cloud identity keys: %+v", rec)
				}
				switch rec.Status {
				case "Compliant":
					want["NUM_COMPLIANT"]++
				case "Suppressed":
					want["NUM_SUPPRESSED"]++
					if len(rec.Suppressions) == 0 {
						t.Errorf("suppressed recommendation without SUPPRESSIONS")
					}
				case "NonCompliant":
					want["NUM_NOT_COMPLIANT"]++
					want[fmt.Sprintf("NUM_SEVERITY_%d_NON_COMPLIANCE", rec.Severity)]++
					if n := len(rec.Violations); n < 1 || n > 20 || int64(n) > rec.Assessed {
						t.Errorf("%d violations, %d assessed", n, rec.Assessed)
					}
				case "CouldNotAssess", "RequiresManualAssessment":
				default:
					t.Errorf("status %q", rec.Status)
				}
				if rec.Status != "NonCompliant" && len(rec.Violations) != 0 {
					t.Errorf("%s recommendation with violations", rec.Status)
				}
				if rec.ResourceCount != rec.Assessed {
					t.Errorf("RESOURCE_COUNT %d != ASSESSED_RESOURCE_COUNT %d", rec.ResourceCount, rec.Assessed)
				}
				for _, v := range rec.Violations {
					violated[v.Resource] = true
					if (v.Region != nil) != (tc.cloud == "AWS") || len(v.Reasons) == 0 || v.Resource == "" {
						t.Errorf("violation %+v", v)
					}
				}
				for _, s := range rec.Suppressions {
					suppressed[s] = true
				}
				maxAssessed = max(maxAssessed, rec.Assessed)
				sumAssessed += rec.Assessed
			}
			want["VIOLATED_RESOURCE_COUNT"] = int64(len(violated))
			want["SUPPRESSED_RESOURCE_COUNT"] = int64(len(suppressed))
			sum := d.Summary[0]
			if len(sum) != 12 {
				t.Errorf("summary has %d keys: %v", len(sum), sum)
			}
			for k, v := range sum {
				if k == "ASSESSED_RESOURCE_COUNT" {
					if v < maxAssessed || v > sumAssessed {
						t.Errorf("ASSESSED_RESOURCE_COUNT %d outside [%d, %d]", v, maxAssessed, sumAssessed)
					}
					continue
				}
				if want[k] != v {
					t.Errorf("summary %s = %d, want %d", k, v, want[k])
				}
			}
		})
	}
}

func TestReportPDF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	prod := e.emu.Tenant().SubAccounts[1]
	path := "/api/v2/Reports?primaryQueryId=" + prod.AWS[0].AccountID + "&reportType=AWS_CIS_14" // format defaults to pdf
	a := e.api("GET", path, "", "acme-prod")
	b := e.api("GET", path, "", "acme-prod")
	if a.status != 200 || a.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("%d %s", a.status, a.header.Get("Content-Type"))
	}
	pdf := a.body
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.HasSuffix(pdf, []byte("%%EOF")) {
		t.Fatalf("not a PDF: %q ... %q", pdf[:10], pdf[len(pdf)-10:])
	}
	if !bytes.Equal(pdf, b.body) {
		t.Error("PDF bytes differ between identical requests")
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 7\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n \n`).FindAllSubmatch(pdf[xref:], -1)
	if len(entries) != 6 {
		t.Fatalf("%d xref entries", len(entries))
	}
	for i, en := range entries {
		off, _ := strconv.Atoi(string(en[1]))
		if !bytes.HasPrefix(pdf[off:], fmt.Appendf(nil, "%d 0 obj\n", i+1)) {
			t.Errorf("xref entry %d (offset %d) does not point at its object", i+1, off)
		}
	}
	cmd := exec.Command(testtool.Poppler(t, "pdftotext"), "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	for _, want := range []string{"CIS Amazon Web Services Foundations Benchmark v1.4.0", prod.AWS[0].AccountID, "ACME-PROD"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, out)
		}
	}
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, method, path, body string }{
		{"evaluations page", "POST", "/api/v2/Configs/ComplianceEvaluations/search", evalBody("AwsCompliance", "2026-11-19", "2026-11-20")},
		{"inventory page", "POST", "/api/v2/Inventory/search", `{"csp":"GCP"}`},
		{"audit page", "GET", "/api/v2/AuditLogs?startTime=2026-11-19", ""},
		{"report", "GET", "/api/v2/Reports?format=json&reportType=AWS_CIS_14&primaryQueryId=", ""},
		{"cloud accounts", "GET", "/api/v2/CloudAccounts", ""},
	}
	cfg := func(seed int64) Config {
		return Config{Seed: seed, PageSize: 500, Faults: Faults{Tricky: true}}
	}
	a, b, c := newEnv(t, cfg(0)), newEnv(t, cfg(0)), newEnv(t, cfg(1))
	for _, x := range []*env{a, b, c} {
		x.host = "acme.lacework.net"
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			get := func(x *env) result {
				path := tc.path
				if strings.HasSuffix(path, "=") {
					path += x.emu.Tenant().SubAccounts[1].AWS[0].AccountID
				}
				return x.api(tc.method, path, tc.body, "acme-prod")
			}
			ra, rb, rc := get(a), get(b), get(c)
			if ra.status != 200 || rc.status != 200 {
				t.Fatalf("%d %d: %.200s", ra.status, rc.status, ra.body)
			}
			if !bytes.Equal(ra.body, rb.body) {
				t.Error("same seed, different bytes")
			}
			if bytes.Equal(ra.body, rc.body) {
				t.Error("different seeds, same bytes")
			}
		})
	}
	// The nextPage URL uses the request's own host.
	r := a.api("POST", tests[0].path, tests[0].body, "acme-prod")
	if !bytes.Contains(r.body, []byte(`"nextPage":"http://acme.lacework.net/api/v2/Configs/ComplianceEvaluations/search/next/`)) {
		t.Errorf("nextPage not on the request host: %.300s", r.body)
	}
}

func TestTrickyValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{PageSize: 1000, Faults: Faults{Tricky: true}})
	rows, _ := e.collect("POST", "/api/v2/Configs/ComplianceEvaluations/search", evalBody("AwsCompliance", "2026-11-18", "2026-11-20"), "acme")
	var long, nullReason, nullSection, formula, cjk, rtl int
	for _, raw := range rows {
		var r evalRowT
		mustUnmarshal(t, raw, &r)
		if r.Reason == nil {
			nullReason++
		} else {
			if utf8.RuneCountInString(*r.Reason) > 32767 {
				long++
			}
			if *r.Reason != "" && strings.ContainsAny((*r.Reason)[:1], "=+-@") {
				formula++
			}
			if strings.Contains(*r.Reason, "東京") {
				cjk++
			}
			if strings.Contains(*r.Reason, "مرحبا") {
				rtl++
			}
		}
		if r.Section == nil {
			nullSection++
		}
	}
	if long != 1 || nullReason == 0 || nullSection == 0 || formula < 4 || cjk == 0 || rtl == 0 {
		t.Errorf("long %d null reason %d null section %d formula %d cjk %d rtl %d", long, nullReason, nullSection, formula, cjk, rtl)
	}
	inv, _ := e.collect("POST", "/api/v2/Inventory/search", `{"csp":"AWS"}`, "acme")
	var nullTags, longInv int
	for _, raw := range inv {
		if bytes.Contains(raw, []byte(`"resourceTags":null`)) {
			nullTags++
		}
		if len(raw) > 40000 {
			longInv++
		}
	}
	if nullTags == 0 || longInv != 1 {
		t.Errorf("inventory: null tags %d, long values %d", nullTags, longInv)
	}
}

// TestScaleFlatMemory pages through 2,000,000 evaluation rows (scaled down
// under the race detector or -short) and checks that the heap stays flat.
func TestScaleFlatMemory(t *testing.T) {
	total := 2_000_000
	if raceEnabled || testing.Short() {
		total = 50_000
	}
	perDay := (total + 6) / 7
	e := newEnv(t, Config{EvaluationsPerDay: perDay, ResultCap: total})
	from, to := "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z"
	if got := e.emu.CountEvaluations("acme-prod", "AwsCompliance", mustTime(t, from), mustTime(t, to)); got != total {
		t.Fatalf("CountEvaluations %d, want %d", got, total)
	}
	tok := e.login()
	nextRe := regexp.MustCompile(`^\{"paging":\{"rows":(\d+),"totalRows":(\d+),"urls":\{"nextPage":(null|"[^"]*")\}\}`)
	url, body := e.ts.URL+"/api/v2/Configs/ComplianceEvaluations/search", evalBody("AwsCompliance", from, to)
	var buf bytes.Buffer
	var rows, pages int
	var peak uint64
	runtime.GC()
	for url != "" {
		method := "GET"
		if pages == 0 {
			method = "POST"
		}
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", tok)
		req.Header.Set("Account-Name", "acme-prod")
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("page %d: %d %v", pages, resp.StatusCode, err)
		}
		m := nextRe.FindSubmatch(buf.Bytes())
		if m == nil {
			t.Fatalf("page %d: %.200s", pages, buf.Bytes())
		}
		n, _ := strconv.Atoi(string(m[1]))
		if got := bytes.Count(buf.Bytes(), []byte(`"evalType":"LW_SA"`)); got != n || n > DefaultPageSize {
			t.Fatalf("page %d: %d rows, paging.rows %d", pages, got, n)
		}
		rows += n
		pages++
		url, body = "", ""
		if string(m[3]) != "null" {
			url = strings.Trim(string(m[3]), `"`)
		}
		if pages%10 == 0 || url == "" {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if rows != total || pages != (total+DefaultPageSize-1)/DefaultPageSize {
		t.Fatalf("%d rows in %d pages, want %d", rows, pages, total)
	}
	if peak > 96<<20 {
		t.Errorf("live heap reached %d MiB while paging", peak>>20)
	}
	t.Logf("%d rows, %d pages, peak live heap %d MiB", rows, pages, peak>>20)
}

func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{PageSize: 100, Faults: Faults{Tricky: true}})
	e.login()
	type job struct{ sub, dataset string }
	jobs := []job{{"acme", "AwsCompliance"}, {"acme-prod", "AzureCompliance"}, {"acme-dev", "GcpCompliance"}, {"acme-prod", "K8sCompliance"}, {"acme-prod", "AwsCompliance"}}
	from, to := "2026-11-18T18", "2026-11-19T06"
	var wg sync.WaitGroup
	errs := make(chan string, len(jobs)+1)
	for _, j := range jobs {
		wg.Go(func() {
			rows, _ := e.collect("POST", "/api/v2/Configs/ComplianceEvaluations/search", evalBody(j.dataset, from, to), j.sub)
			f, _ := parseAPITime("s", from)
			tt, _ := parseAPITime("e", to)
			if want := e.emu.CountEvaluations(j.sub, j.dataset, f, tt); len(rows) != want {
				errs <- fmt.Sprintf("%v: %d rows, want %d", j, len(rows), want)
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			_ = e.emu.Requests()
			_ = e.emu.Violations()
			_ = e.emu.DuplicatePages()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d := e.emu.DuplicatePages(); len(d) != 0 {
		t.Errorf("duplicate pages %v", d)
	}
}

func TestParseAPITime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" = error
	}{
		{"2020-12-18", "2020-12-18T00:00:00Z"},
		{"2020-12-18T08", "2020-12-18T08:00:00Z"},
		{"2020-12-18T08:00:00Z", "2020-12-18T08:00:00Z"},
		{"2020-12-18T08:00:00.123Z", "2020-12-18T08:00:00.123Z"},
		{"2020-12-18T08:00:00.1Z", ""},
		{"2020-12-18T08:00:00.123456Z", ""},
		{"2020-12-18T08:00:00+01:00", ""},
		{"2020-12-18T08:00", ""},
		{"2020-13-18", ""},
		{"2020-12-18T25", ""},
		{"18-12-2020", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseAPITime("startTime", tc.in)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "startTime") {
					t.Fatalf("got %v, %v; want an error naming the field", got, err)
				}
				return
			}
			if err != nil || !got.Equal(mustTime(t, tc.want)) {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestFmtMs(t *testing.T) {
	t.Parallel()
	for _, ms := range []int64{0, 1, 999, 1000, 1795179845123, -1, -86_400_001, 253402300799999, 253402300800000} {
		if got, want := fmtMs(ms), time.UnixMilli(ms).UTC().Format(rfc3339Milli); got != want {
			t.Errorf("fmtMs(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestSeriesArithmetic(t *testing.T) {
	t.Parallel()
	tests := []struct{ perDay int64 }{{1}, {3}, {7}, {500}, {2000}, {86_400_000}}
	for _, tc := range tests {
		t.Run(strconv.FormatInt(tc.perDay, 10), func(t *testing.T) {
			s := series{tc.perDay}
			base := int64(20_000) * msPerDay
			for _, ms := range []int64{base, base + 1, base + msPerDay/3, base + msPerDay - 1, base + msPerDay} {
				g := s.first(ms)
				if s.at(g) < ms || (g > 0 && s.at(g-1) >= ms) {
					t.Fatalf("first(%d) = %d: at(g)=%d at(g-1)=%d", ms, g, s.at(g), s.at(g-1))
				}
			}
			lo, hi := s.span(base, base+msPerDay)
			if hi-lo != tc.perDay {
				t.Fatalf("one day holds %d rows", hi-lo)
			}
		})
	}
}

func TestTinyTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Account: " Globex ", SubAccounts: []string{"Globex-EU", "globex-eu", "GLOBEX"}, InventoryPerCSP: 1, Recommendations: 1, EvaluationsPerDay: 1, AuditLogsPerDay: 1})
	ten := e.emu.Tenant()
	if ten.Account != "globex" || len(ten.SubAccounts) != 2 || ten.SubAccounts[1].Name != "globex-eu" {
		t.Fatalf("tenant %+v", ten)
	}
	eu := ten.SubAccounts[1]
	tests := []struct {
		name, method, path, body string
		wantRows                 int // -1: not paged
	}{
		{"evaluations: one row per day", "POST", "/api/v2/Configs/ComplianceEvaluations/search", evalBody("AwsCompliance", "2026-11-13", "2026-11-20"), 7},
		{"inventory: one resource", "POST", "/api/v2/Inventory/search", `{"csp":"Azure"}`, 1},
		{"audit logs: midnights of Nov 10..20", "GET", "/api/v2/AuditLogs?startTime=2026-11-10", "", 11},
		{"report of an account without resources", "GET", "/api/v2/Reports?format=json&reportType=AWS_SOC_2&primaryQueryId=" + eu.AWS[1].AccountID, "", -1},
		{"report pdf", "GET", "/api/v2/Reports?reportType=GCP_CIS13&primaryQueryId=" + eu.GCP[0].OrgID + "&secondaryQueryId=" + eu.GCP[0].Projects[1].ID, "", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantRows < 0 {
				if r := e.api(tc.method, tc.path, tc.body, "GLOBEX-EU"); r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			rows, _ := e.collect(tc.method, tc.path, tc.body, "GLOBEX-EU")
			if len(rows) != tc.wantRows {
				t.Fatalf("%d rows, want %d", len(rows), tc.wantRows)
			}
		})
	}
}
