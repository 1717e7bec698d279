package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testNow is the emulated "now" of most tests.
var testNow = time.Date(2026, 11, 20, 13, 4, 5, 0, time.UTC)

// fakeClock is a settable emulated clock.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// env is an emulator behind a real HTTP server and a client without
// keep-alives (so injected drops are never retried by the transport).
type env struct {
	t      *testing.T
	emu    *Server
	ts     *httptest.Server
	client *http.Client
	clock  *fakeClock
	token  string
	host   string     // Host header override
	wall   *fakeClock // Config.Clock: token expiry, rate limits, Retry-After
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	clock := newClock(testNow)
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	// Token expiry, rate limits and Retry-After blocks run on a fake clock
	// too: a test advances it past an expiry or a block instead of
	// sleeping until then.
	wall := newClock(time.Now())
	if cfg.Clock == nil {
		cfg.Clock = wall.Now
	}
	emu := New(cfg)
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{t: t, emu: emu, ts: ts, client: &http.Client{Transport: tr, Timeout: time.Minute}, clock: clock, wall: wall}
}

type result struct {
	status int
	header http.Header
	body   []byte
	err    error // transport or body-read error
}

// message returns the "message" of an error body.
func (r result) message() string {
	var m struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(r.body, &m)
	return m.Message
}

// raw sends a request; target is a path or an absolute URL. A non-empty body
// is sent as application/json unless hdr sets Content-Type.
func (e *env) raw(method, target, body string, hdr map[string]string) result {
	e.t.Helper()
	u := target
	if !strings.HasPrefix(u, "http") {
		u = e.ts.URL + target
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.host != "" {
		req.Host = e.host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// login returns a (cached) access token.
func (e *env) login() string {
	e.t.Helper()
	if e.token != "" {
		return e.token
	}
	cfg := e.emu.cfg
	r := e.raw(http.MethodPost, "/api/v2/access/tokens", `{"keyId":"`+cfg.KeyID+`","expiryTime":3600}`, map[string]string{"X-LW-UAKS": cfg.Secret})
	if r.err != nil || r.status != http.StatusCreated {
		e.t.Fatalf("login: %d %v %s", r.status, r.err, r.body)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(r.body, &tok); err != nil || tok.Token == "" {
		e.t.Fatalf("login body %s: %v", r.body, err)
	}
	e.token = tok.Token
	return e.token
}

// api sends an authenticated request; sub "" sends no Account-Name.
func (e *env) api(method, target, body, sub string) result {
	e.t.Helper()
	hdr := map[string]string{"Authorization": "Bearer " + e.login()}
	if sub != "" {
		hdr["Account-Name"] = sub
	}
	return e.raw(method, target, body, hdr)
}

// page is a decoded paged response.
type page struct {
	Paging struct {
		Rows      int `json:"rows"`
		TotalRows int `json:"totalRows"`
		Urls      struct {
			NextPage *string `json:"nextPage"`
		} `json:"urls"`
	} `json:"paging"`
	Data []json.RawMessage `json:"data"`
}

// collect runs a paged query to the end and returns all rows and pages.
func (e *env) collect(method, target, body, sub string) ([]json.RawMessage, []page) {
	e.t.Helper()
	var rows []json.RawMessage
	var pages []page
	r := e.api(method, target, body, sub)
	for {
		if r.err != nil || r.status != http.StatusOK {
			e.t.Fatalf("%s %s: %d %v %s", method, target, r.status, r.err, r.body)
		}
		var p page
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			e.t.Fatalf("decoding page: %v", err)
		}
		if unpaged := !bytes.Contains(r.body, []byte(`"paging"`)); unpaged != strings.Contains(target, "/AuditLogs") {
			// AuditLogs answers without paging, as the document's samples do.
			e.t.Fatalf("%s: paging present %v", target, !unpaged)
		}
		if p.Paging.Rows != len(p.Data) && strings.Contains(string(r.body), `"paging"`) {
			e.t.Fatalf("paging.rows %d != len(data) %d", p.Paging.Rows, len(p.Data))
		}
		if p.Data == nil {
			e.t.Fatalf("data is null, want []")
		}
		pages = append(pages, p)
		rows = append(rows, p.Data...)
		if p.Paging.Urls.NextPage == nil {
			return rows, pages
		}
		next := *p.Paging.Urls.NextPage
		if e.host == "" && !strings.HasPrefix(next, e.ts.URL+"/api/v2/") {
			e.t.Fatalf("nextPage %q is not an absolute URL on %s", next, e.ts.URL)
		}
		r = e.api(http.MethodGet, next, "", sub)
	}
}

func evalBody(dataset, start, end string, extra ...string) string {
	b := `{"dataset":"` + dataset + `"`
	if start != "" || end != "" {
		b += `,"timeFilter":{"startTime":"` + start + `","endTime":"` + end + `"}`
	}
	for _, x := range extra {
		b += "," + x
	}
	return b + "}"
}
