package ibmscc

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/contract"
	"github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
)

// The contract samples live in testdata/contract (format: package
// contract). Seed 002 prints "No Sample Response" ("This method does not
// specify any sample responses") for every method this client calls, and
// does not document the IAM token endpoint's answer at all: there is no
// seed-002 sample to keep. contractEndpoints says so for each endpoint, with
// the seed's section, so that a sample added later is checked at once and an
// endpoint added to the client without either fails TestContractCoverage.

// contractEndpoint is an endpoint the client calls: the type its response
// decodes into, and how to ask the emulator for it.
type contractEndpoint struct {
	// decode returns a pointer to our type for the whole response.
	decode func() any
	// request builds the emulator request answering the same call; base
	// is the emulator's URL, first a control the call can use.
	request func(t *testing.T, base string, ctl controlRef) string
	// noSample, when set, says where seed 002 documents the endpoint and
	// that it prints no response sample.
	noSample string
}

type (
	requirementsPage struct {
		Data       []Requirement `json:"data"`
		TotalCount FlexInt       `json:"totalCount"`
	}
	resourcesPage struct {
		Data       []ControlResource `json:"data"`
		TotalCount FlexInt           `json:"totalCount"`
	}
	inventoryPage struct {
		Data       []InventoryResource `json:"data"`
		TotalCount FlexInt             `json:"totalCount"`
	}
)

// controlRef is a control of the emulator with resources, per resources path.
type controlRef map[string]string // path → resourceApiEndpoint

var contractEndpoints = map[string]contractEndpoint{
	"GET " + pathViews: {
		decode:   func() any { return new(viewsResponse) },
		request:  func(_ *testing.T, base string, _ controlRef) string { return base + pathViews },
		noSample: `seed 002, "Compliance Views": No Sample Response`,
	},
	"GET " + pathRequirements: {
		decode: func() any { return new(requirementsPage) },
		request: func(_ *testing.T, base string, _ controlRef) string {
			q := url.Values{"filter": {And(In("policy.name", emulator.DefaultPolicies[0]), In("zone.name", emulator.DefaultZones[0]))}, "pageSize": {"5"}}
			return base + pathRequirements + "?" + q.Encode()
		},
		noSample: `seed 002, "Compliance Results": No Sample Response`,
	},
	"GET " + pathCloudResources: {
		decode:   func() any { return new(resourcesPage) },
		request:  resourcesRequest(pathCloudResources),
		noSample: `seed 002, "Cloud Resources": No Sample Response`,
	},
	"GET " + pathKubeResources: {
		decode:   func() any { return new(resourcesPage) },
		request:  resourcesRequest(pathKubeResources),
		noSample: `seed 002, "Kuberenetes Resources": No Sample Response`,
	},
	"GET " + pathClusterResources: {
		decode:   func() any { return new(resourcesPage) },
		request:  resourcesRequest(pathClusterResources),
		noSample: `seed 002, "Cluster Analysis Resources": No Sample Response`,
	},
	"GET " + pathInventory: {
		decode: func() any { return new(inventoryPage) },
		request: func(_ *testing.T, base string, _ controlRef) string {
			return base + pathInventory + "?" + url.Values{"fields": {inventoryFields}, "pageSize": {"5"}}.Encode()
		},
		noSample: `seed 002, "Search and list Inventory Resources": No Sample Response`,
	},
	"GET " + pathAuditEvents: {
		decode: func() any { return new(auditPage) },
		request: func(_ *testing.T, base string, _ controlRef) string {
			to := contractNow.UnixNano()
			from := to - int64(time.Hour)
			return base + pathAuditEvents + "?from=" + strconv.FormatInt(from, 10) + "&to=" + strconv.FormatInt(to, 10) + "&limit=20"
		},
		noSample: `seed 002, "Retrieves a list of audit events": No Sample Response`,
	},
	"POST " + emulator.PathToken: {
		decode:   func() any { return new(tokenResponse) },
		noSample: `seed 002, "Authentication": names the IAM token URL and its 400 error only, no response`,
	},
}

// resourcesRequest asks for every resource (failing, accepted, passing) of
// a control whose endpoint is path, so every field of a row appears.
func resourcesRequest(path string) func(*testing.T, string, controlRef) string {
	return func(t *testing.T, base string, ctl controlRef) string {
		ep, ok := ctl[path]
		if !ok {
			t.Fatalf("the emulator has no control at %s with failing and accepted resources", path)
		}
		u, err := url.Parse(ep)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("pageSize", "1000")
		return base + u.Path + "?" + q.Encode()
	}
}

var contractNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// TestContractCoverage: every endpoint the client calls has a sample or a
// stated reason why there is none, and every sample answers an endpoint
// the client calls.
func TestContractCoverage(t *testing.T) {
	samples, err := contract.Load("testdata/contract")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range samples {
		e, ok := contractEndpoints[s.Endpoint]
		if !ok {
			t.Errorf("%s: endpoint %q is not one the client calls", s.File, s.Endpoint)
			continue
		}
		if e.request == nil {
			t.Errorf("%s: no emulator request for %s to compare it with", s.File, s.Endpoint)
		}
		have[s.Endpoint] = true
	}
	called := []string{"GET " + pathViews, "GET " + pathRequirements, "GET " + pathInventory, "GET " + pathAuditEvents, "POST " + emulator.PathToken}
	for _, p := range resourcePaths {
		called = append(called, "GET "+p)
	}
	for _, ep := range called {
		e, ok := contractEndpoints[ep]
		switch {
		case !ok:
			t.Errorf("%s: called by the client, not in contractEndpoints", ep)
		case !have[ep] && e.noSample == "":
			t.Errorf("%s: no sample in testdata/contract and no reason given", ep)
		}
	}
}

// TestContractSamples: each sample decodes into our type with every field
// filled (contract.Unfilled), and our emulator's answer to the same call
// has the sample's shape (contract.Compare). Where they disagree the sample
// wins: fix the emulator and the client.
func TestContractSamples(t *testing.T) {
	samples, err := contract.Load("testdata/contract")
	if err != nil {
		t.Fatal(err)
	}
	emu := emulator.New(emulator.Config{Seed: 7, ResourcesPerControl: 40, Now: func() time.Time { return contractNow }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	tok := contractToken(t, srv.URL)
	ctl := controlsWithResources(t, srv.URL, tok)
	for _, s := range samples {
		t.Run(s.File, func(t *testing.T) {
			e, ok := contractEndpoints[s.Endpoint]
			if !ok || e.request == nil {
				t.Skipf("endpoint %s not compared (TestContractCoverage reports it)", s.Endpoint)
			}
			unfilled, err := contract.Unfilled(s, e.decode())
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range unfilled {
				t.Errorf("%s (%s): our type leaves %s", s.File, s.Doc, u)
			}
			body := contractGet(t, e.request(t, srv.URL, ctl), tok)
			diffs, err := contract.Compare(s, body)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diffs {
				t.Errorf("%s (%s): the emulator differs from the sample: %s", s.File, s.Doc, d)
			}
		})
	}
}

// TestZoneIDsAreIntegers: seed 002 types the resource filters' zones.id as
// "integer" (and policyId too); the emulator's ids must be.
func TestZoneIDsAreIntegers(t *testing.T) {
	emu := emulator.New(emulator.Config{Seed: 7, Now: func() time.Time { return contractNow }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	var views viewsResponse
	if err := json.Unmarshal(contractGet(t, srv.URL+pathViews, contractToken(t, srv.URL)), &views); err != nil {
		t.Fatal(err)
	}
	for _, v := range views.Data {
		if _, err := strconv.ParseInt(v.ZoneID.String(), 10, 64); err != nil {
			t.Errorf("zone %q: id %q is not an integer", v.ZoneName, v.ZoneID)
		}
		for _, p := range v.Policies {
			if _, err := strconv.ParseInt(p.ID.String(), 10, 64); err != nil {
				t.Errorf("policy %q: id %q is not an integer", p.Name, p.ID)
			}
		}
	}
}

// controlsWithResources finds, for each resources path, a control with
// failing and accepted resources.
func controlsWithResources(t *testing.T, base, tok string) controlRef {
	t.Helper()
	out := controlRef{}
	for _, zone := range emulator.DefaultZones {
		for _, policy := range emulator.DefaultPolicies {
			q := url.Values{"filter": {And(In("policy.name", policy), In("zone.name", zone))}, "pageSize": {"1000"}}
			var page requirementsPage
			if err := json.Unmarshal(contractGet(t, base+pathRequirements+"?"+q.Encode(), tok), &page); err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Data {
				for _, c := range r.Controls {
					u, err := url.Parse(c.ResourceAPIEndpoint)
					if err != nil || c.ObjectsCount == 0 || c.AcceptedCount == 0 || !slices.Contains(resourcePaths, u.Path) {
						continue
					}
					if _, ok := out[u.Path]; !ok {
						out[u.Path] = c.ResourceAPIEndpoint
					}
				}
			}
		}
	}
	return out
}

func contractToken(t *testing.T, base string) string {
	t.Helper()
	form := url.Values{"grant_type": {GrantTypeAPIKey}, "apikey": {emulator.DefaultAPIKey}}
	resp, err := http.Post(base+emulator.PathToken, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: HTTP %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

func contractGet(t *testing.T, u, tok string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(HeaderInstance, emulator.DefaultInstanceID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return b
}
