package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/ibmscc"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// FuzzFilterQuote: a value quoted by the client parses back to itself.
func FuzzFilterQuote(f *testing.F) {
	for _, s := range []string{"CIS Docker Benchmark", `Custom "Prod" Policy \ v1`, "", `\`, `"`, "ملف 名前", "a) or (b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		conds, err := parseFilter(ibmscc.And(ibmscc.In("policy.name", s, "x"), "pass=false"), "policy.name", "pass")
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if len(conds) != 2 || conds[0].values[0] != s || conds[0].values[1] != "x" || conds[1].values[0] != "false" {
			t.Fatalf("%q: parsed %+v", s, conds)
		}
	})
}

// FuzzParseFilter: arbitrary filters never panic.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`policyId=15 and zones.id=100b83d6 and pass=false`, `a in ("x", y)`, `a != "\"`, `name contains "x"`, `(`, `a = `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseFilter(s, "a", "name", "policyId", "zones.id", "pass")
	})
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in  string
		ok  bool
		len int
	}{
		{`policyId=15 and zones.id=100b83d6`, true, 2},
		{`policy.name in ("CIS", "SOC 2") AND pass = false`, true, 2},
		{``, true, 0},
		{`pass=false or pass=true`, false, 0},
		{`name contains "x"`, false, 0},
		{`unknown=1`, false, 0},
		{`pass=`, false, 0},
		{`name in ("x"`, false, 0},
		{`name = "x\q"`, false, 0},
	}
	for _, tc := range tests {
		conds, err := parseFilter(tc.in, "policyId", "zones.id", "policy.name", "pass", "name")
		if (err == nil) != tc.ok || len(conds) != tc.len {
			t.Errorf("%q: %+v, %v", tc.in, conds, err)
		}
	}
}

// TestScale: counts and deep pages are arithmetic, cheap at any size.
func TestScale(t *testing.T) {
	s := New(Config{Now: func() time.Time { return now }, InventoryResources: 2_000_003, AuditEventsPerDay: maxAuditEventsPerDay})
	var sum int64
	for _, a := range Accounts() {
		sum += s.CountInventory(a.ID)
	}
	if total := s.CountInventory(); total != 2_000_003 || sum != total {
		t.Fatalf("inventory: total %d, per account %d", total, sum)
	}
	if got, want := s.CountAuditEvents(now.Add(-100*24*time.Hour), now), int64(90*maxAuditEventsPerDay); got != want {
		t.Fatalf("audit: %d events in the horizon, want %d", got, want)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	tok := token(t, srv.URL)
	// The last page of a two-million-row inventory, one account.
	acct := Accounts()[3].ID
	n := s.CountInventory(acct)
	q := url.Values{"filter": {ibmscc.In("account", acct)}, "pageSize": {"1000"}, "pageNumber": {strconv.FormatInt((n+999)/1000, 10)}, "fields": {"id,metadata"}}
	var page struct {
		Data []struct {
			ID       string         `json:"id"`
			Name     string         `json:"name"`
			Metadata map[string]any `json:"metadata"`
		} `json:"data"`
		TotalCount int64 `json:"totalCount"`
	}
	get(t, srv.URL+"/api/cspm/v1/inventory/resources?"+q.Encode(), tok, &page)
	if page.TotalCount != n || int64(len(page.Data)) != n-(n+999)/1000*1000+1000 {
		t.Fatalf("last page: %d rows of %d", len(page.Data), page.TotalCount)
	}
	for _, r := range page.Data {
		if r.Name != "" || r.ID == "" || r.Metadata["subscription"] != acct {
			t.Fatalf("fields or account wrong: %+v", r)
		}
	}
}

// TestViewsAgreeWithRequirements: the views' scores are the sums of the
// requirements the requirements endpoint serves.
func TestViewsAgreeWithRequirements(t *testing.T) {
	s := New(Config{Seed: 9, Now: func() time.Time { return now }})
	srv := httptest.NewServer(s)
	defer srv.Close()
	tok := token(t, srv.URL)
	var views struct {
		Data []struct {
			ZoneName string `json:"zoneName"`
			Policies []struct {
				Name                string `json:"name"`
				FailedControls      int    `json:"failedControls"`
				RequirementsHistory []struct {
					FailedRequirements int `json:"failedRequirements"`
				} `json:"requirementsHistory"`
			} `json:"policies"`
		} `json:"data"`
	}
	get(t, srv.URL+"/api/cspm/v1/compliance/views", tok, &views)
	for _, v := range views.Data {
		for _, p := range v.Policies {
			q := url.Values{"filter": {ibmscc.And(ibmscc.In("policy.name", p.Name), ibmscc.In("zone.name", v.ZoneName), "pass=false")}, "pageSize": {"1000"}}
			var reqs struct {
				Data []struct {
					FailedControls int `json:"failedControls"`
				} `json:"data"`
				TotalCount string `json:"totalCount"`
			}
			get(t, srv.URL+"/api/cspm/v1/compliance/requirements?"+q.Encode(), tok, &reqs)
			failed := 0
			for _, r := range reqs.Data {
				failed += r.FailedControls
			}
			if strconv.Itoa(len(reqs.Data)) != reqs.TotalCount || len(reqs.Data) != p.RequirementsHistory[0].FailedRequirements || failed != p.FailedControls {
				t.Errorf("%s / %s: %d failing requirements (%s), %d failed controls; views say %d and %d", v.ZoneName, p.Name,
					len(reqs.Data), reqs.TotalCount, failed, p.RequirementsHistory[0].FailedRequirements, p.FailedControls)
			}
		}
	}
}

func TestAuditRefusals(t *testing.T) {
	s := New(Config{Now: func() time.Time { return now }})
	srv := httptest.NewServer(s)
	defer srv.Close()
	tok := token(t, srv.URL)
	ns := strconv.FormatInt(now.UnixNano(), 10)
	twoWeeksAgo := strconv.FormatInt(now.Add(-14*24*time.Hour).UnixNano(), 10)
	tests := []struct {
		name, query string
		status      int
	}{
		{"cursor with from/to", "from=" + ns + "&to=" + ns + "&cursor=abc", 400},
		{"milliseconds", "from=" + strconv.FormatInt(now.UnixMilli()-1000, 10) + "&to=" + strconv.FormatInt(now.UnixMilli(), 10), 400},
		{"limit 10000", "from=" + twoWeeksAgo + "&to=" + ns + "&limit=10000", 400},
		{"limit 9999", "from=" + twoWeeksAgo + "&to=" + ns + "&limit=9999", 200},
		{"exactly 2 weeks", "from=" + twoWeeksAgo + "&to=" + ns, 200},
		{"2 weeks and a nanosecond", "from=" + strconv.FormatInt(now.Add(-14*24*time.Hour).UnixNano()-1, 10) + "&to=" + ns, 400},
		{"3 years", "from=1700000000000000000&to=" + ns, 400},
		{"bad cursor", "cursor=%%%", 400},
		{"nothing", "", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v2/activityAudit/events?"+tc.query, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("IBMInstanceID", DefaultInstanceID)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

func token(t *testing.T, base string) string {
	t.Helper()
	form := url.Values{"grant_type": {ibmscc.GrantTypeAPIKey}, "apikey": {DefaultAPIKey}}
	resp, err := http.Post(base+PathToken, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn != 3600 {
		t.Fatalf("token: HTTP %d %v %+v", resp.StatusCode, err, tok)
	}
	return tok.AccessToken
}

func get(t *testing.T, u, tok string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("IBMInstanceID", DefaultInstanceID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// FuzzServeQuery: any query string on any endpoint gets a 2xx or 4xx, never
// a panic or a 5xx.
func FuzzServeQuery(f *testing.F) {
	f.Add(uint8(0), "")
	f.Add(uint8(1), "filter=policy.name+in+(%22SOC+2%22)&pageNumber=2&pageSize=3&includeControls=true")
	f.Add(uint8(2), "controlId=1000000&providerType=AWS&resourceKind=AWS_S3_BUCKET&filter=policyId%3D15+and+zones.id%3Dx")
	f.Add(uint8(5), "filter=account+in+(%22123456789012%22)&fields=id,hash&pageNumber=999999999")
	f.Add(uint8(6), "cursor=Yjo5OTk5OTk5OTk5OTk5OTk5OTk5&limit=9999")
	f.Add(uint8(6), "from=1700000000000000000&to=1700000000000000001&limit=1")
	paths := []string{pathViews, pathRequirements, pathCloudResources, pathKubeResources, pathClusterResources, pathInventory, pathAuditEvents}
	s := New(Config{Seed: 1, Now: func() time.Time { return now }, Tricky: true})
	rec := httptest.NewRecorder()
	form := url.Values{"grant_type": {ibmscc.GrantTypeAPIKey}, "apikey": {DefaultAPIKey}}
	req := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(rec.Body).Decode(&tok); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p uint8, query string) {
		u := &url.URL{Path: paths[int(p)%len(paths)], RawQuery: query}
		req := httptest.NewRequest(http.MethodGet, "http://emulator/", nil)
		req.URL = u
		req.RequestURI = u.String()
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("IBMInstanceID", DefaultInstanceID)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%s?%s: HTTP %d %s", u.Path, query, rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s?%s: invalid JSON", u.Path, query)
		}
	})
}

// TestAcceptedResources: accepted resources are not found by pass=false
// (the document's example filter "pass=false or accepted=true" implies it),
// accepted=true finds exactly acceptedCount of them, each with an
// acceptance, and the three counts partition the unfiltered list.
func TestAcceptedResources(t *testing.T) {
	s := New(Config{Seed: 3, ResourcesPerControl: 40, Now: func() time.Time { return now }})
	srv := httptest.NewServer(s)
	defer srv.Close()
	tok := token(t, srv.URL)
	type resources struct {
		Data []struct {
			Passed     bool            `json:"passed"`
			Acceptance json.RawMessage `json:"acceptance"`
		} `json:"data"`
		TotalCount int `json:"totalCount"`
	}
	list := func(endpoint, term string) resources {
		u, err := url.Parse(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("filter", ibmscc.And(q.Get("filter"), term))
		q.Set("pageSize", "1000")
		var r resources
		get(t, srv.URL+u.Path+"?"+q.Encode(), tok, &r)
		return r
	}
	checked := 0
	for _, zone := range s.Zones() {
		for _, policy := range s.ZonePolicies(zone) {
			var reqs struct {
				Data []struct {
					Controls []struct {
						ObjectsCount        int    `json:"objectsCount"`
						AcceptedCount       int    `json:"acceptedCount"`
						PassingCount        int    `json:"passingCount"`
						ResourceAPIEndpoint string `json:"resourceApiEndpoint"`
					} `json:"controls"`
				} `json:"data"`
			}
			q := url.Values{"filter": {ibmscc.And(ibmscc.In("policy.name", policy), ibmscc.In("zone.name", zone))}, "pageSize": {"1000"}}
			get(t, srv.URL+"/api/cspm/v1/compliance/requirements?"+q.Encode(), tok, &reqs)
			for _, r := range reqs.Data {
				for _, c := range r.Controls {
					if c.AcceptedCount == 0 || checked > 20 {
						continue
					}
					checked++
					failing, accepted, all := list(c.ResourceAPIEndpoint, "pass=false"), list(c.ResourceAPIEndpoint, "accepted=true"), list(c.ResourceAPIEndpoint, "")
					for _, res := range failing.Data {
						if res.Passed || len(res.Acceptance) > 0 && string(res.Acceptance) != "null" {
							t.Fatalf("pass=false found a passing or accepted resource")
						}
					}
					for _, res := range accepted.Data {
						if len(res.Acceptance) == 0 || string(res.Acceptance) == "null" {
							t.Fatalf("accepted=true found a resource without acceptance")
						}
					}
					if len(failing.Data) != c.ObjectsCount || len(accepted.Data) != c.AcceptedCount || all.TotalCount != c.ObjectsCount+c.AcceptedCount+c.PassingCount {
						t.Fatalf("pass=false %d, accepted=true %d, all %d; counts %+v", len(failing.Data), len(accepted.Data), all.TotalCount, c)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no control with accepted resources")
	}
}
