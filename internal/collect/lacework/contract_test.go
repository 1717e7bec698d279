package lacework

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/contract"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
)

// TestContract holds our client types and our emulator to the response
// samples of the API document (testdata/contract, from seed 000): each
// sample decodes into the type the client reads it with, every field that
// type declares filled where the sample has a value, and the emulator
// answers the same call with the sample's keys and JSON types.
func TestContract(t *testing.T) {
	samples, err := contract.Load("testdata/contract")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(emulator.New(emulator.Config{Now: func() time.Time { return now }, PageSize: 3, EvaluationsPerDay: 20,
		InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 3}))
	defer srv.Close()
	token := ""
	call := func(t *testing.T, method, path string, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if path == pathTokens {
			req.Header.Set("X-LW-UAKS", emulator.DefaultSecret)
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Account-Name", "acme-prod")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	var tok tokenResponse
	if err := json.Unmarshal(call(t, http.MethodPost, pathTokens, `{"keyId":"`+emulator.DefaultKeyID+`","expiryTime":3600}`), &tok); err != nil {
		t.Fatal(err)
	}
	token = tok.Token

	search := `{"timeFilter":{"startTime":"2026-11-20T00:00:00Z","endTime":"2026-11-21T00:00:00Z"}`
	type target struct {
		into         func() any // the type the client decodes the answer into
		method, path string
		body         string
	}
	var reportAccount string
	targets := map[string]target{
		"POST /api/v2/access/tokens": {func() any { return new(tokenResponse) }, http.MethodPost, pathTokens,
			`{"keyId":"` + emulator.DefaultKeyID + `","expiryTime":3600}`},
		"GET /api/v2/UserProfile":                {func() any { return new(userProfiles) }, http.MethodGet, pathUserProfile, ""},
		"GET /api/v2/CloudAccounts":              {func() any { return new(page[CloudAccount]) }, http.MethodGet, pathCloudAccounts, ""},
		"GET /api/v2/CloudAccounts/AwsCfg":       {func() any { return new(page[CloudAccount]) }, http.MethodGet, pathCloudAccounts + "/AwsCfg", ""},
		"GET /api/v2/Configs/AzureSubscriptions": {func() any { return new(page[AzureConfig]) }, http.MethodGet, pathAzureSubscriptions, ""},
		"GET /api/v2/Configs/GcpProjects":        {func() any { return new(page[GcpConfig]) }, http.MethodGet, pathGcpProjects, ""},
		"GET /api/v2/AuditLogs":                  {func() any { return new(page[AuditLog]) }, http.MethodGet, pathAuditLogs + "?startTime=2026-11-20&endTime=2026-11-21", ""},
		"POST /api/v2/Inventory/search":          {func() any { return new(page[Resource]) }, http.MethodPost, pathInventory, search + `,"csp":"AWS"}`},
		"POST /api/v2/Configs/ComplianceEvaluations/search": {func() any { return new(page[Evaluation]) }, http.MethodPost, pathEvaluations,
			search + `,"dataset":"AwsCompliance"}`},
		"GET /api/v2/Reports": {func() any { return new(page[ReportHeader]) }, http.MethodGet, "", ""},
	}
	for _, s := range samples {
		t.Run(s.File, func(t *testing.T) {
			tg, ok := targets[s.Endpoint]
			if !ok {
				t.Fatalf("no call for %s: add it to the test", s.Endpoint)
			}
			unfilled, err := contract.Unfilled(s, tg.into())
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range unfilled {
				t.Errorf("the sample's %s is lost decoding into our type", u)
			}
			path := tg.path
			if s.Endpoint == "GET /api/v2/Reports" {
				if reportAccount == "" {
					var acc page[CloudAccount]
					json.Unmarshal(call(t, http.MethodGet, pathCloudAccounts+"/AwsCfg", ""), &acc)
					var d cloudAccountData
					json.Unmarshal(acc.Data[0].Data, &d)
					reportAccount = d.AwsAccountID
				}
				path = pathReports + "?format=json&reportType=AWS_CIS_14&primaryQueryId=" + reportAccount
			}
			got := call(t, tg.method, path, tg.body)
			diffs, err := contract.Compare(s, got)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diffs {
				t.Errorf("emulator differs from the sample (%s): %s", s.Doc, d)
			}
			if t.Failed() {
				var out bytes.Buffer
				json.Indent(&out, got, "", "  ")
				t.Logf("emulator answered:\n%.2000s", out.String())
			}
		})
	}
}
