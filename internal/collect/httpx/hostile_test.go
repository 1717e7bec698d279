package httpx

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A redirect off the configured scheme, host and port is never followed:
// not from a token POST (Go would re-send the secret header and, for a 307,
// the body), not from a data GET (the other host's rows would pass as the
// API's), not to another port of the same host (Go keeps Authorization
// there). A redirect within the API's own origin still works.
func TestRedirectsStayOnTheOrigin(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.WriteString(w, `{"data":[{"stolen":true}]}`)
	}))
	defer other.Close()
	otherURL, _ := url.Parse(other.URL)

	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token": // 307 keeps the method and body
			http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
		case "/data":
			http.Redirect(w, r, other.URL+"/data?x=1", http.StatusFound)
		case "/port": // same host name, other port
			http.Redirect(w, r, "http://localhost:"+otherURL.Port()+"/data", http.StatusFound)
		case "/moved": // same origin: fine
			http.Redirect(w, r, "/here", http.StatusMovedPermanently)
		case "/here":
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	defer api.Close()
	base := strings.Replace(api.URL, "127.0.0.1", "localhost", 1)

	for _, tc := range []struct {
		name, method, path string
	}{
		{"token POST 307", http.MethodPost, "/token"},
		{"data GET 302", http.MethodGet, "/data"},
		{"same host, other port", http.MethodGet, "/port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			c := newTestClient(t, base, clk, nil)
			h := http.Header{"X-Lw-Uaks": {"the-api-secret"}}
			var v any
			err := c.JSON(context.Background(), Request{Method: tc.method, Path: tc.path, Header: h, Body: []byte(`{"keyId":"k"}`)}, &v)
			if !errors.Is(err, ErrForeignURL) || !strings.Contains(err.Error(), "refusing a redirect") {
				t.Fatalf("err = %v, want a refused redirect", err)
			}
			if strings.Contains(err.Error(), "x=1") {
				t.Errorf("the error quotes the redirect's query: %v", err)
			}
			if n := c.Stats().Requests.Load(); n != 1 {
				t.Errorf("%d requests: a refused redirect is not retried", n)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other server got %d requests", n)
	}
	c := newTestClient(t, base, newFakeClock(), nil)
	var v struct{ OK bool }
	if err := c.JSON(context.Background(), Request{Method: http.MethodGet, Path: "/moved"}, &v); err != nil || !v.OK {
		t.Errorf("a same-origin redirect: %v %+v", err, v)
	}
	// The caller's client is not changed.
	shared := &http.Client{}
	if _, err := New(Config{BaseURL: base, HTTPClient: shared}); err != nil || shared.CheckRedirect != nil {
		t.Errorf("New changed the shared client: %v", err)
	}
}

// A server asking for a wait the run cannot afford fails the request at once,
// quoting the server's words, instead of blocking the bucket for days or
// (when the value overflowed) hammering the server every second.
func TestWaitsBeyondTheBudgetFailAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		header   map[string]string
		status   int
		deadline time.Duration // 0: none (the request's MaxElapsed budget applies)
		quote    string
	}{
		{"429 Retry-After a week", map[string]string{"Retry-After": "604800"}, 429, 2 * time.Hour, "Retry-After: 604800"},
		{"429 Retry-After a billion seconds", map[string]string{"Retry-After": "1000000000"}, 429, 0, "Retry-After: 1000000000"},
		{"429 RateLimit-Reset a week", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "604800"}, 429, 2 * time.Hour, "RateLimit-Reset: 604800"},
		{"503 Retry-After a week", map[string]string{"Retry-After": "604800"}, 503, 0, "Retry-After: 604800"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			// Deadlines are on the real clock: the fake one starts there.
			clk := &fakeClock{t: time.Now()}
			c := newTestClient(t, srv.URL, clk, nil)
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, clk.Now().Add(tc.deadline))
				defer cancel()
			}
			var v any
			err := c.JSON(ctx, Request{Method: "GET", Path: "/a"}, &v)
			if !errors.Is(err, ErrWaitTooLong) || !strings.Contains(err.Error(), tc.quote) {
				t.Fatalf("err = %v, want ErrWaitTooLong quoting %q", err, tc.quote)
			}
			if n.Load() != 1 || len(clk.sleeps) != 0 {
				t.Errorf("%d requests, sleeps %v: want one request and no sleep", n.Load(), clk.sleeps)
			}
		})
	}
}

// A 200 that empties the bucket until a week from now makes the next
// request of that bucket fail at once, not sleep for a week: past the run's
// deadline when there is one, past the request's retry budget otherwise.
// A server answering 429 to every request is bounded by the same budget.
func TestRateLimitBlocksBeyondTheBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		header   map[string]string
		status   int
		deadline time.Duration // 0: none
		requests int64         // how many the server gets
		want     []string      // in the error
	}{
		{"reset a week, deadline in 2h", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "604800"}, 200, 2 * time.Hour, 1,
			[]string{"RateLimit-Reset: 604800", "168h0m0s", "deadline in 2h0m0s"}},
		{"reset a week, no deadline", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "604800"}, 200, 0, 1,
			[]string{"RateLimit-Reset: 604800", "168h0m0s", "2h0m0s retry budget"}},
		// The first request is the 200; the second sees 429s at minutes
		// 0, 1, …, 120 of its 2h budget, and refuses the 121st wait.
		{"429 every minute, no deadline", map[string]string{"Retry-After": "60"}, 429, 0, 1 + 121,
			[]string{"Retry-After: 60", "retry budget"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if n.Add(1) == 1 {
					w.WriteHeader(200) // the first request of each case succeeds
				} else {
					w.WriteHeader(tc.status)
				}
				io.WriteString(w, `{}`)
			}))
			defer srv.Close()
			clk := &fakeClock{t: time.Now()} // deadlines are on the real clock
			c := newTestClient(t, srv.URL, clk, func(cfg *Config) { cfg.Retry.MaxElapsed = 2 * time.Hour })
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, clk.Now().Add(tc.deadline))
				defer cancel()
			}
			var v any
			if err := c.JSON(ctx, Request{Method: "GET", Path: "/a"}, &v); err != nil && tc.status == 200 {
				t.Fatal(err)
			}
			start := clk.Now()
			err := c.JSON(ctx, Request{Method: "GET", Path: "/a"}, &v)
			if !errors.Is(err, ErrWaitTooLong) {
				t.Fatalf("err = %v, want ErrWaitTooLong", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
			if n.Load() != tc.requests {
				t.Errorf("%d requests, want %d", n.Load(), tc.requests)
			}
			if took := clk.Now().Sub(start); took > 2*time.Hour {
				t.Errorf("the request took %s of the clock, past its 2h budget", took)
			}
		})
	}
}

// Limiter.Acquire refuses a block past the context's deadline at once,
// quoting the server's words, instead of sleeping into a cancelled run.
func TestLimiterAcquireRefusesPastTheDeadline(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	l := newLimiter(LimiterConfig{}, clk.Now, clk.Sleep)
	l.Observe("GET /a", http.StatusTooManyRequests, http.Header{"Retry-After": {"7200"}})
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(time.Hour))
	defer cancel()
	release, err := l.Acquire(ctx, "GET /a")
	if err == nil {
		release()
	}
	if !errors.Is(err, ErrWaitTooLong) || !strings.Contains(err.Error(), "Retry-After: 7200") || !strings.Contains(err.Error(), "2h0m0s") {
		t.Fatalf("err = %v, want ErrWaitTooLong quoting the server", err)
	}
	if len(clk.sleeps) != 0 {
		t.Errorf("slept %v", clk.sleeps)
	}
	// The slot was released: a request within the budget still goes.
	clk.Sleep(ctx, 2*time.Hour)
	release, err = l.Acquire(context.Background(), "GET /a")
	if err != nil {
		t.Fatal(err)
	}
	release()
}

// trickle is a response body that delivers one byte per Read, each Read
// taking a second of the fake clock: a server trickling a byte a second.
type trickle struct {
	clk  *fakeClock
	left int
}

func (b *trickle) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	b.clk.mu.Lock()
	b.clk.t = b.clk.t.Add(time.Second)
	b.clk.mu.Unlock()
	b.left--
	p[0] = ' '
	return 1, nil
}

func (b *trickle) Close() error { return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A body trickling a byte a second fails its attempt after the slow-body
// window (a minute), not the HTTP client's five-minute timeout, and the
// request gives up after its attempts: minutes, not hours.
func TestTricklingBodyIsBounded(t *testing.T) {
	clk := newFakeClock()
	var reads []int
	var cur *trickle
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if cur != nil {
			reads = append(reads, 100000-cur.left)
		}
		cur = &trickle{clk: clk, left: 100000}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: cur, Request: r}, nil
	})}
	c := newTestClient(t, "https://api.example", clk, func(cfg *Config) { cfg.HTTPClient = hc })
	start := clk.Now()
	var v any
	err := c.JSON(context.Background(), Request{Method: "GET", Path: "/a"}, &v)
	reads = append(reads, 100000-cur.left)
	if !errors.Is(err, ErrRetriesExhausted) || !strings.Contains(err.Error(), "too slow") {
		t.Fatalf("err = %v, want the slow body retried, then given up", err)
	}
	for i, n := range reads {
		if n > 61 {
			t.Errorf("attempt %d read %d bytes (seconds) before failing, want about 60", i+1, n)
		}
	}
	if len(reads) != 4 {
		t.Errorf("%d attempts, want the client's 4", len(reads))
	}
	if took := clk.Now().Sub(start); took > 10*time.Minute {
		t.Errorf("the request took %s of the clock", took)
	}
}

// zeros is an endless-looking body that allocates nothing: n bytes of '0'.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	for i := range p[:n] {
		p[i] = '0'
	}
	z.left -= int64(n)
	return n, nil
}

func (z *zeros) Close() error { return nil }

// Oversized responses fail at their limit, counted after decompression, and
// memory stays near the limit whatever the body's size; a spooled download
// past its limit fails and leaves no file behind.
func TestOversizedResponsesFailAtTheLimit(t *testing.T) {
	const limit = 1 << 20
	t.Run("buffered page of 600 MB", func(t *testing.T) {
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: -1, Body: &zeros{left: 600 << 20}, Request: r}, nil
		})}
		c := newTestClient(t, "https://api.example", newFakeClock(), func(cfg *Config) { cfg.HTTPClient = hc; cfg.MaxBodyBytes = limit })
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var v any
		err := c.JSON(context.Background(), Request{Method: "GET", Path: "/a"}, &v)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) || c.Stats().Requests.Load() != 1 || !strings.Contains(err.Error(), "GET /a") || !strings.Contains(err.Error(), "1 MiB") {
			t.Fatalf("err = %v after %d requests, want ErrTooLarge at once, naming the endpoint and the limit", err, c.Stats().Requests.Load())
		}
		// The buffer doubles up to limit+1 bytes (about twice the limit in
		// all); the rest is the client's own few KiB. Process-wide, so
		// with a margin, yet far below the 600 MB body.
		t.Logf("allocated %.2f MiB", float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit+4<<20 {
			t.Errorf("allocated %.1f MiB for a %d MiB limit", float64(alloc)/(1<<20), limit>>20)
		}
		if read := c.Stats().BytesIn.Load(); read > limit+64<<10 {
			t.Errorf("read %d bytes of the body", read)
		}
	})
	t.Run("Content-Length over the limit", func(t *testing.T) {
		body := &zeros{left: 3 << 30}
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: 3 << 30, Body: body, Request: r}, nil
		})}
		c := newTestClient(t, "https://api.example", newFakeClock(), func(cfg *Config) { cfg.HTTPClient = hc; cfg.MaxSpoolBytes = limit })
		dir := t.TempDir()
		sp, err := c.Spool(context.Background(), dir, Request{Method: "GET", Path: "/report.pdf"})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "Content-Length 3221225472") {
			sp.Close()
			t.Fatalf("err = %v, want ErrTooLarge naming the Content-Length", err)
		}
		if body.left != 3<<30 || c.Stats().Requests.Load() != 1 {
			t.Errorf("read %d bytes in %d requests, want none in one", 3<<30-body.left, c.Stats().Requests.Load())
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("spool files left: %v", left)
		}
	})
	t.Run("gzip not asked for", func(t *testing.T) {
		var packed bytes.Buffer
		zw := gzip.NewWriter(&packed)
		io.WriteString(zw, `{"ok":true}`)
		zw.Close()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(packed.Bytes())
		}))
		defer srv.Close()
		hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		c := newTestClient(t, srv.URL, newFakeClock(), func(cfg *Config) { cfg.HTTPClient = hc })
		var v any
		err := c.JSON(context.Background(), Request{Method: "GET", Path: "/a"}, &v)
		if err == nil || !strings.Contains(err.Error(), `Content-Encoding "gzip", which was not asked for`) || c.Stats().Requests.Load() != 1 {
			t.Fatalf("err = %v, want the unasked encoding refused, not retried", err)
		}
		hc.CloseIdleConnections()
	})
	t.Run("gzip bomb", func(t *testing.T) {
		var packed bytes.Buffer
		zw := gzip.NewWriter(&packed)
		io.Copy(zw, &zeros{left: 50 << 20})
		zw.Close()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(packed.Bytes())
		}))
		defer srv.Close()
		c := newTestClient(t, srv.URL, newFakeClock(), func(cfg *Config) { cfg.MaxBodyBytes = limit })
		var v any
		if err := c.JSON(context.Background(), Request{Method: "GET", Path: "/a"}, &v); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%d compressed bytes expanding to 50 MiB: err = %v, want ErrTooLarge", packed.Len(), err)
		}
	})
	t.Run("spooled vendor PDF", func(t *testing.T) {
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &zeros{left: 3 * limit}, Request: r}, nil
		})}
		c := newTestClient(t, "https://api.example", newFakeClock(), func(cfg *Config) { cfg.HTTPClient = hc; cfg.MaxSpoolBytes = limit })
		dir := t.TempDir()
		sp, err := c.Spool(context.Background(), dir, Request{Method: "GET", Path: "/report.pdf"})
		if !errors.Is(err, ErrTooLarge) {
			sp.Close()
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("spool files left: %v", left)
		}
	})
}

// padded is `{"data": [` + n bytes of filler + `1]}`, generated as read.
type padded struct {
	head, tail string
	fill       byte
	n          int64
	pos        int64
}

func (p *padded) Read(b []byte) (int, error) {
	total := int64(len(p.head)) + p.n + int64(len(p.tail))
	if p.pos >= total {
		return 0, io.EOF
	}
	i := 0
	for ; i < len(b) && p.pos < total; i, p.pos = i+1, p.pos+1 {
		switch {
		case p.pos < int64(len(p.head)):
			b[i] = p.head[p.pos]
		case p.pos < int64(len(p.head))+p.n:
			b[i] = p.fill
		default:
			b[i] = p.tail[p.pos-int64(len(p.head))-p.n]
		}
	}
	return i, nil
}

// A streaming decoder behind a ValueBudget fails on 100 MB of whitespace
// between values, or one 100 MB string, holding only about its budget.
func TestValueBudgetBoundsStreamedDecoding(t *testing.T) {
	const budget = 1 << 20
	for _, tc := range []struct {
		name string
		body *padded
	}{
		{"whitespace between values", &padded{head: `{"data": [`, fill: ' ', n: 100 << 20, tail: `1]}`}},
		{"one huge string", &padded{head: `{"data": ["`, fill: 'x', n: 100 << 20, tail: `"]}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vb := NewValueBudget(tc.body, budget)
			dec := json.NewDecoder(vb)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := func() error {
				if err := ExpectDelim(dec, '{'); err != nil {
					return err
				}
				for dec.More() {
					vb.Reset()
					if _, err := dec.Token(); err != nil { // the key
						return err
					}
					if err := ExpectDelim(dec, '['); err != nil {
						return err
					}
					for dec.More() {
						vb.Reset()
						if err := SkipValue(dec); err != nil {
							return err
						}
					}
					if err := ExpectDelim(dec, ']'); err != nil {
						return err
					}
				}
				return ExpectDelim(dec, '}')
			}()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32*budget { // process-wide, noisy; far below 100 MB
				t.Errorf("allocated %d MiB for a %d MiB budget", alloc>>20, budget>>20)
			}
		})
	}
}

// A server echoing the request's headers in its error body, its request-id
// header or a redirect's host name never gets a credential into the error:
// the client redacts the API secret it was given and the bearer token its
// TokenCache obtained, wherever the server's text lands.
func TestServerTextIsRedacted(t *testing.T) {
	const secret, token = "the-api-secret-123", "bearer-token-456"
	var echoed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo := fmt.Sprintf("X-LW-UAKS=%s Authorization=%q", r.Header.Get("X-Lw-Uaks"), r.Header.Get("Authorization"))
		if strings.Contains(echo, secret) && strings.Contains(echo, token) {
			echoed.Add(1)
		}
		switch r.URL.Path {
		case "/message":
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"message": "bad request: " + echo})
		case "/nested":
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{"message": echo}})
		case "/request-id":
			w.Header().Set("X-Request-Id", r.Header.Get("X-Lw-Uaks"))
			w.WriteHeader(http.StatusNotFound)
		case "/redirect":
			http.Redirect(w, r, "http://"+token+".example/", http.StatusFound)
		}
	}))
	defer srv.Close()
	for _, path := range []string{"/message", "/nested", "/request-id", "/redirect"} {
		t.Run(path, func(t *testing.T) {
			echoed.Store(0)
			red := NewRedactor()
			red.Add(secret)
			tokens := NewTokenCache(TokenCacheConfig{Redactor: red, Fetch: func(context.Context) (string, time.Time, error) {
				return token, time.Now().Add(time.Hour), nil
			}})
			c := newTestClient(t, srv.URL, newFakeClock(), func(cfg *Config) { cfg.Redactor = red; cfg.Auth = tokens })
			var v any
			err := c.JSON(context.Background(), Request{Method: "GET", Path: path, Header: http.Header{"X-Lw-Uaks": {secret}}}, &v)
			if err == nil {
				t.Fatal("no error")
			}
			if path != "/redirect" && echoed.Load() == 0 {
				t.Fatal("the server did not get the credentials to echo")
			}
			var ae *APIError
			if errors.As(err, &ae) {
				for _, s := range []string{ae.Message, ae.RequestID, ae.Error()} {
					if strings.Contains(s, secret) || strings.Contains(s, token) {
						t.Errorf("APIError carries a credential: %q", s)
					}
				}
			}
			if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, token) || !strings.Contains(msg, Redacted) {
				t.Errorf("err = %v, want the credentials redacted", err)
			}
			if path == "/redirect" && !errors.Is(err, ErrForeignURL) {
				t.Errorf("err = %v: the redacted error lost its chain", err)
			}
		})
	}
}
