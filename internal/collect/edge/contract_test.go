package edge

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/contract"
	"github.com/evidence-pack/evidence/internal/collect/edge/emulator"
)

// contractEmu is the emulator (unpaged, as the document shows lists) with
// a session, for the contract test's raw requests.
type contractEmu struct {
	t     *testing.T
	srv   *httptest.Server
	paths emulator.Paths
	token string
	login []byte // the TokenLogin response
}

func newContractEmu(t *testing.T) *contractEmu {
	t.Helper()
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	emu := emulator.New(emulator.Config{Seed: 11, Users: 30, Apps: 6, Now: func() time.Time { return at }})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c := &contractEmu{t: t, srv: srv, paths: emu.Paths()}
	status, body := c.get(c.paths.TokenLogin, url.Values{paramAccount: {emu.Account()}}, "Bearer "+emulator.DefaultAPIToken)
	var s session
	if err := json.Unmarshal(body, &s); status != http.StatusOK || err != nil || s.Token == "" {
		t.Fatalf("login: %d %s %v", status, body, err)
	}
	c.login, c.token = body, s.Token
	return c
}

func (c *contractEmu) get(path string, q url.Values, auth string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if auth == "" {
		auth = "Bearer " + c.token
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// list returns the records of key in the emulator's answer to path?q.
func (c *contractEmu) list(path, key string, q url.Values) []json.RawMessage {
	c.t.Helper()
	status, body := c.get(path, q, "")
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); status != http.StatusOK || err != nil {
		c.t.Fatalf("GET %s?%s: %d %s", path, q.Encode(), status, body)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(m[key], &recs); err != nil {
		c.t.Fatalf("GET %s: %s: %v", path, key, err)
	}
	return recs
}

// pair finds an (app, user) lookup of path whose answer has records of
// key, so that element shapes can be compared.
func (c *contractEmu) pair(path, key string, extra url.Values) url.Values {
	c.t.Helper()
	ids := func(p, k string) []string {
		var out []string
		for _, r := range c.list(p, k, url.Values{paramStatus: {allStatuses}}) {
			var v struct {
				UUID string `json:"uuid"`
			}
			_ = json.Unmarshal(r, &v)
			out = append(out, v.UUID)
		}
		return out
	}
	for _, app := range ids(c.paths.Apps, "apps") {
		for _, user := range ids(c.paths.Users, "users") {
			q := url.Values{paramAppID: {app}, paramUserID: {user}}
			for k, v := range extra {
				q[k] = v
			}
			if len(c.list(path, key, q)) > 0 {
				return q
			}
		}
	}
	c.t.Fatalf("no (app, user) pair of %s has %s", path, key)
	return nil
}

// Every response sample of seed 001 for a call we make (testdata/contract)
// (a) decodes into our type with every declared field filled where the
// sample has a value, and (b) has the shape of our emulator's answer to
// the same call. Lists print their elements collapsed, so the element
// samples (the document's Get … details) are compared with each element
// of the list's answer. Where the two disagree, the sample wins: fix the
// emulator (or the type), not the sample.
func TestContractSamples(t *testing.T) {
	samples, err := contract.Load("testdata/contract")
	if err != nil {
		t.Fatal(err)
	}
	emu := newContractEmu(t)
	p := emu.paths
	dirQ := url.Values{paramStatus: {allStatuses}}
	accessQ := emu.pair(p.Accesses, "accesses", nil)
	policyQ := emu.pair(p.Policies, "policies", url.Values{paramResolveNames: {"true"}})
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	auditQ := url.Values{paramStartTime: {strconv.FormatInt(at.Add(-24*time.Hour).UnixMilli(), 10)}, paramEndTime: {strconv.FormatInt(at.UnixMilli(), 10)}}

	tests := []struct {
		file    string
		path    string
		query   url.Values
		element string // "": the whole answer; else each element of this key
		into    func() any
	}{
		{"tokenlogin.json", p.TokenLogin, nil, "", func() any { return &session{} }},
		{"users.json", p.Users, dirQ, "", func() any {
			return &struct {
				Users []User `json:"users"`
			}{}
		}},
		{"groups.json", p.Groups, dirQ, "", func() any {
			return &struct {
				Groups []Group `json:"groups"`
			}{}
		}},
		{"apps.json", p.Apps, dirQ, "", func() any {
			return &struct {
				Apps []App `json:"apps"`
			}{}
		}},
		{"accesses.json", p.Accesses, accessQ, "", func() any {
			return &struct {
				Accesses []Access `json:"accesses"`
				Apps     []App    `json:"apps"`
				Groups   []Group  `json:"groups"`
				Users    []User   `json:"users"`
			}{}
		}},
		{"policies.json", p.Policies, policyQ, "", func() any {
			return &struct {
				Policies []Policy `json:"policies"`
			}{}
		}},
		{"audit_events.json", p.AuditEvents, auditQ, "", func() any {
			return &struct {
				AuditEvents []AuditEvent `json:"audit_events"`
			}{}
		}},
		{"user.json", p.Users, dirQ, "users", func() any { return &User{} }},
		{"group.json", p.Groups, dirQ, "groups", func() any { return &Group{} }},
		{"app.json", p.Apps, dirQ, "apps", func() any { return &App{} }},
		{"access.json", p.Accesses, accessQ, "accesses", func() any { return &Access{} }},
		{"user.json", p.Accesses, accessQ, "users", func() any { return &User{} }},
		{"group.json", p.Accesses, accessQ, "groups", func() any { return &Group{} }},
		{"app.json", p.Accesses, accessQ, "apps", func() any { return &App{} }},
		{"policy.json", p.Policies, policyQ, "policies", func() any { return &Policy{} }},
		{"audit_event.json", p.AuditEvents, auditQ, "audit_events", func() any { return &AuditEvent{} }},
	}
	byFile := map[string]contract.Sample{}
	for _, s := range samples {
		byFile[s.File] = s
	}
	used := map[string]bool{}
	for _, tc := range tests {
		name := tc.file
		if tc.element != "" {
			name += " in " + tc.path + " " + tc.element
		}
		t.Run(name, func(t *testing.T) {
			s, ok := byFile[tc.file]
			if !ok {
				t.Fatalf("no sample %s", tc.file)
			}
			used[tc.file] = true
			// (a) our type reads every field the sample fills.
			missing, err := contract.Unfilled(s, tc.into())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range missing {
				t.Errorf("%s: our type leaves %s unfilled", s.File, m)
			}
			// (b) the emulator answers in the sample's shape.
			var answers [][]byte
			switch {
			case tc.path == p.TokenLogin:
				answers = [][]byte{emu.login}
			case tc.element == "":
				status, body := emu.get(tc.path, tc.query, "")
				if status != http.StatusOK {
					t.Fatalf("%d %s", status, body)
				}
				answers = [][]byte{body}
			default:
				for _, r := range emu.list(tc.path, tc.element, tc.query) {
					answers = append(answers, r)
				}
				if len(answers) == 0 {
					t.Fatalf("the emulator answered no %s to compare", tc.element)
				}
			}
			for _, a := range answers {
				diffs, err := contract.Compare(s, a)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range diffs {
					t.Errorf("%s: emulator differs from the sample: %s", s.File, d)
				}
				if len(diffs) > 0 {
					break
				}
			}
		})
	}
	for f := range byFile {
		if !used[f] {
			t.Errorf("sample %s is not checked", f)
		}
	}
}
