package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock records sleeps instead of sleeping and advances time by them.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.t = f.t.Add(d)
	return nil
}

func newTestClient(t *testing.T, url string, clk *fakeClock, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: url, Now: clk.Now, Sleep: clk.Sleep, Retry: Retry{MaxAttempts: 4}}
	cfg.Limiter = newLimiter(LimiterConfig{}, clk.Now, clk.Sleep)
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryRebuildsBodyAndStopsOnClientErrors(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int // responses before success; 0 means drop the connection
		wantErr   int   // expected final status, 0 for success
		wantCalls int
	}{
		{"success", nil, 0, 1},
		{"5xx then success", []int{500, 502, 503}, 0, 4},
		{"dropped then success", []int{0, 0}, 0, 3},
		{"too many 5xx", []int{500, 500, 500, 500, 500}, 500, 4},
		{"400 is final", []int{400}, 400, 1},
		{"404 is final", []int{404}, 404, 1},
		{"429 waits and does not use up attempts", []int{429, 429, 429, 429, 500}, 0, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				body, _ := io.ReadAll(r.Body)
				if string(body) != `{"q":1}` {
					t.Errorf("attempt %d got body %q", n, body)
				}
				if n < len(tc.statuses) {
					switch s := tc.statuses[n]; s {
					case 0:
						hj, _ := w.(http.Hijacker)
						conn, _, _ := hj.Hijack()
						conn.Close()
					case 429:
						w.Header().Set("Retry-After", "2")
						w.WriteHeader(s)
					default:
						w.WriteHeader(s)
						fmt.Fprintf(w, `{"message":"failure %d"}`, s)
					}
					return
				}
				fmt.Fprint(w, `{"ok":true}`)
			}))
			defer srv.Close()
			clk := newFakeClock()
			c := newTestClient(t, srv.URL, clk, nil)
			var got struct{ OK bool }
			err := c.JSON(context.Background(), Request{Method: "POST", Path: "/x", Body: []byte(`{"q":1}`)}, &got)
			if tc.wantErr == 0 {
				if err != nil || !got.OK {
					t.Fatalf("err = %v, got %+v", err, got)
				}
			} else {
				if StatusOf(err) != tc.wantErr {
					t.Fatalf("err = %v, want status %d", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("failure %d", tc.wantErr)) {
					t.Errorf("error %q does not carry the API message", err)
				}
			}
			if int(calls.Load()) != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls.Load(), tc.wantCalls)
			}
		})
	}
}

func TestMidBodyDropIsRetriedWholly(t *testing.T) {
	var calls atomic.Int32
	full := `{"data":[` + strings.Repeat(`"x",`, 1000) + `"y"]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(full)))
			w.WriteHeader(200)
			io.WriteString(w, full[:len(full)/2])
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, full)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, newFakeClock(), nil)
	var got struct{ Data []string }
	if err := c.JSON(context.Background(), Request{Method: "GET", Path: "/p"}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 1001 || calls.Load() != 2 {
		t.Fatalf("rows %d calls %d", len(got.Data), calls.Load())
	}
	if c.Stats().NetErrors.Load() != 1 {
		t.Errorf("net errors = %d, want 1", c.Stats().NetErrors.Load())
	}
}

func TestRetryAfterBlocksTheBucket(t *testing.T) {
	clk := newFakeClock()
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, clk.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, clk, nil)
	var v any
	if err := c.JSON(context.Background(), Request{Method: "GET", Path: "/a"}, &v); err != nil {
		t.Fatal(err)
	}
	if got := times[1].Sub(times[0]); got < 7*time.Second {
		t.Fatalf("second request %s after the 429, want >= 7s", got)
	}
	// Another request of the same bucket made right away is not held back
	// any more, since the block has passed.
	if err := c.JSON(context.Background(), Request{Method: "GET", Path: "/a"}, &v); err != nil {
		t.Fatal(err)
	}
	if c.Stats().RateLimited.Load() != 1 {
		t.Errorf("429s counted = %d", c.Stats().RateLimited.Load())
	}
}

func TestLimiterPacesAndObeysHeaders(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(LimiterConfig{PerHour: 3600, Burst: 2}, clk.Now, clk.Sleep)
	ctx := context.Background()
	start := clk.Now()
	for range 5 {
		release, err := l.Acquire(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	// Burst 2, then one per second.
	if got := clk.Now().Sub(start); got < 3*time.Second || got > 3*time.Second+10*time.Millisecond {
		t.Errorf("5 requests took %s, want ~3s", got)
	}
	// Remaining 0 with a reset blocks even when the local bucket is full.
	h := http.Header{}
	h.Set("RateLimit-Remaining", "0")
	h.Set("RateLimit-Reset", "30")
	if d := l.Observe("other", 200, h); d != 30*time.Second {
		t.Errorf("blocked for %s, want 30s", d)
	}
	before := clk.Now()
	release, err := l.Acquire(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	release()
	if got := clk.Now().Sub(before); got < 30*time.Second {
		t.Errorf("waited %s after RateLimit-Remaining: 0, want 30s", got)
	}
	// After a 429 the server's RateLimit-Remaining restores the budget: no
	// pacing at the local rate once the server says there is room.
	h429 := http.Header{}
	h429.Set("Retry-After", "1")
	h429.Set("RateLimit-Remaining", "0")
	l.Observe("b", 429, h429)
	ok := http.Header{}
	ok.Set("RateLimit-Remaining", "100")
	l.Observe("b", 200, ok)
	clk.Sleep(ctx, time.Second)
	before = clk.Now()
	for range 50 {
		release, err := l.Acquire(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if got := clk.Now().Sub(before); got > 0 {
		t.Errorf("50 requests with 100 remaining waited %s", got)
	}
	// A cancelled context ends the wait.
	h.Set("RateLimit-Reset", "3600")
	l.Observe("other", 200, h)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Acquire(cctx, "other"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

type countingAuth struct {
	mu          sync.Mutex
	gen         int
	invalidated []string
}

func (a *countingAuth) Authorize(_ context.Context, r *http.Request) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := fmt.Sprintf("tok%d", a.gen)
	r.Header.Set("Authorization", "Bearer "+tok)
	return tok, nil
}

func (a *countingAuth) Invalidate(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.invalidated = append(a.invalidated, tok)
	a.gen++
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	for _, always401 := range []bool{false, true} {
		t.Run(fmt.Sprint("always401=", always401), func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if always401 || r.Header.Get("Authorization") == "Bearer tok0" {
					w.WriteHeader(401)
					io.WriteString(w, `{"message":"token expired"}`)
					return
				}
				io.WriteString(w, `{}`)
			}))
			defer srv.Close()
			auth := &countingAuth{}
			c := newTestClient(t, srv.URL, newFakeClock(), func(c *Config) { c.Auth = auth })
			var v any
			err := c.JSON(context.Background(), Request{Method: "GET", Path: "/a"}, &v)
			if always401 {
				if StatusOf(err) != 401 || calls.Load() != 2 {
					t.Fatalf("err %v after %d calls, want 401 after 2", err, calls.Load())
				}
				return
			}
			if err != nil || calls.Load() != 2 || len(auth.invalidated) != 1 || auth.invalidated[0] != "tok0" {
				t.Fatalf("err %v calls %d invalidated %v", err, calls.Load(), auth.invalidated)
			}
		})
	}
}

func TestResolvePinsHost(t *testing.T) {
	c := newTestClient(t, "https://acme.lacework.net", newFakeClock(), nil)
	tests := []struct {
		ref  string
		want string // "" for refused
	}{
		{"https://acme.lacework.net/api/v2/x/next/abc", "https://acme.lacework.net/api/v2/x/next/abc"},
		{"https://ACME.lacework.net:443/api/v2/x", "https://ACME.lacework.net:443/api/v2/x"},
		{"/api/v2/x?page=2", "https://acme.lacework.net/api/v2/x?page=2"},
		{"http://acme.lacework.net/api/v2/x", ""},
		{"https://evil.example/api/v2/x", ""},
		{"https://acme.lacework.net.evil.example/x", ""},
		{"https://acme.lacework.net:8443/x", ""},
		{"//evil.example/x", ""},
		{"https://user:pw@acme.lacework.net/x", ""},
		{"ftp://acme.lacework.net/x", ""},
	}
	for _, tc := range tests {
		u, err := c.Resolve(tc.ref)
		if tc.want == "" {
			if !errors.Is(err, ErrForeignURL) {
				t.Errorf("Resolve(%q) = %v, %v; want ErrForeignURL", tc.ref, u, err)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", tc.ref, u, err, tc.want)
		}
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"https://acme.lacework.net/a", "//x", "/a?b", "https://a@acme.lacework.net/", "http://[::1]:80/"} {
		f.Add(s)
	}
	c, err := New(Config{BaseURL: "https://acme.lacework.net"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		u, err := c.Resolve(ref)
		if err != nil {
			return
		}
		if u.Scheme != "https" || !strings.EqualFold(u.Hostname(), "acme.lacework.net") || u.User != nil {
			t.Fatalf("Resolve(%q) accepted %s", ref, u)
		}
	})
}

func TestErrorMessageShapes(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"message":"Invalid dataset"}`, "Invalid dataset"},
		{`{"data":{"message":"inner"}}`, "inner"},
		{`{"data":{"ErrorMsg":"pascal"}}`, "pascal"},
		{`{"error":"flat"}`, "flat"},
		{`{"error":{"message":"nested"}}`, "nested"},
		{`{"errors":[{"message":"first"}]}`, "first"},
		{`<html>bad gateway</html>`, ""},
		{``, ""},
	}
	for _, tc := range tests {
		if got := errorMessage([]byte(tc.body)); got != tc.want {
			t.Errorf("errorMessage(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

// A text/plain error body is the message; HTML and other types are not.
func TestPlainMessage(t *testing.T) {
	tests := []struct{ ctype, body, want string }{
		{"text/plain", "Account Ids 12 not found", "Account Ids 12 not found"},
		{"text/plain;charset=UTF-8", "  Pageable size cannot be\r\n greater than 500\n", "Pageable size cannot be greater than 500"},
		{"text/html", "<html>bad gateway</html>", ""},
		{"", "Account Ids 12 not found", ""},
		{"text/plain", "\xff\xfe", ""},
		{"text/plain", strings.Repeat("x", 600), strings.Repeat("x", 500) + "…"},
	}
	for _, tc := range tests {
		if got := plainMessage(tc.ctype, []byte(tc.body)); got != tc.want {
			t.Errorf("plainMessage(%q, %q) = %q, want %q", tc.ctype, tc.body, got, tc.want)
		}
	}
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"message":"x"}`))
	f.Add([]byte(`{"errors":[{"message":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { _ = errorMessage(b) })
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("_super_secret_value")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("creds", "secret", s, "struct", struct{ S Secret }{s})
	b, _ := json.Marshal(map[string]any{"s": s})
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", s, s, s, s) + string(b)
	if strings.Contains(out, "super_secret") {
		t.Fatalf("secret leaked: %s", out)
	}
	if s.Reveal() != "_super_secret_value" {
		t.Fatal("Reveal lost the value")
	}
}

func TestDialErrorsAreRetriedAndBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial fails
	clk := newFakeClock()
	c := newTestClient(t, "http://"+addr, clk, nil)
	var v any
	err = c.JSON(context.Background(), Request{Method: "GET", Path: "/"}, &v)
	if !errors.Is(err, ErrRetriesExhausted) || c.Stats().Requests.Load() != 4 {
		t.Fatalf("err %v after %d requests", err, c.Stats().Requests.Load())
	}
	for i, d := range clk.sleeps {
		if d <= 0 || d > 30*time.Second {
			t.Errorf("backoff %d = %s", i, d)
		}
	}
}

// A host name that does not exist (a misspelled account) is not retried:
// one attempt, an error that says so and names the host.
func TestNoSuchHostIsNotRetried(t *testing.T) {
	clk := newFakeClock()
	dials := 0
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials++
		return nil, &net.DNSError{Err: "no such host", Name: "acmme.lacework.net", IsNotFound: true}
	}}}
	c := newTestClient(t, "https://acmme.lacework.net", clk, func(cfg *Config) { cfg.HTTPClient = hc })
	err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/api/v2/UserProfile"}, func(io.Reader) error { return nil })
	if !errors.Is(err, ErrNoSuchHost) || !strings.Contains(err.Error(), "acmme.lacework.net") || dials != 1 {
		t.Fatalf("err = %v after %d dials; want ErrNoSuchHost naming the host, after one", err, dials)
	}
}
