package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// slowBody is a response body that sends chunk bytes every interval, n in
// all, and after stallAt bytes (when > 0) nothing more: its Read blocks
// until the request's context ends, as a real connection's does when the
// transport cancels it. Time is the synctest bubble's.
type slowBody struct {
	ctx     context.Context
	chunk   int
	every   time.Duration
	n       int64
	stallAt int64
	sent    int64
	avail   int // of the current chunk, whatever the reader's buffer size
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.sent >= b.n {
		return 0, io.EOF
	}
	if b.stallAt > 0 && b.sent >= b.stallAt {
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	if b.avail == 0 {
		t := time.NewTimer(b.every)
		defer t.Stop()
		select {
		case <-t.C:
		case <-b.ctx.Done():
			return 0, b.ctx.Err()
		}
		b.avail = b.chunk
	}
	k := int(min(int64(min(len(p), b.avail)), b.n-b.sent))
	b.avail -= k
	for i := range p[:k] {
		p[i] = ' '
	}
	b.sent += int64(k)
	return k, nil
}

func (b *slowBody) Close() error { return nil }

// A body that stalls, trickles or crawls fails its attempt within the
// slow-body window or the per-attempt ceiling, and the request within its
// attempts and MaxElapsed; a slow but working server (late headers, a large
// body at 128 KiB/s) is not cut. Timers run on synctest's clock: the
// watchdog that ends a stalled Read is a real timer, not the Config.Now
// hook that only a returning Read consults.
func TestSlowResponsesAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name       string
		headers    time.Duration // before the response's headers
		body       slowBody
		maxElapsed time.Duration
		attempts   int64         // requests sent
		wantErr    bool          // ErrSlowResponse, after all attempts
		within     time.Duration // the whole request's bound
	}{
		{name: "stall after 100 bytes", body: slowBody{chunk: 100, every: time.Millisecond, n: 1 << 20, stallAt: 100},
			attempts: 3, wantErr: true, within: 3*time.Minute + 3*time.Second},
		{name: "a byte a second", body: slowBody{chunk: 1, every: time.Second, n: 1 << 20},
			attempts: 3, wantErr: true, within: 3*time.Minute + 3*time.Second},
		// 2 KiB/s passes the window (64 KiB a minute) but 10 MiB would take
		// 85 minutes: the 15-minute ceiling cuts each attempt, and the
		// third is cut by what is left of the 40-minute budget.
		{name: "crawl past the ceiling", body: slowBody{chunk: 2 << 10, every: time.Second, n: 10 << 20}, maxElapsed: 40 * time.Minute,
			attempts: 3, wantErr: true, within: 40*time.Minute + time.Second},
		{name: "headers after 4 minutes", headers: 4 * time.Minute, body: slowBody{chunk: 64 << 10, every: time.Millisecond, n: 1 << 20},
			attempts: 1, within: 5 * time.Minute},
		{name: "30 MiB at 128 KiB/s", body: slowBody{chunk: 128 << 10, every: time.Second, n: 30 << 20},
			attempts: 1, within: 241 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var sent int64
				hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					sent++
					select {
					case <-time.After(tc.headers):
					case <-r.Context().Done():
						return nil, r.Context().Err()
					}
					b := tc.body
					b.ctx = r.Context()
					return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &b, Request: r}, nil
				})}
				c, err := New(Config{BaseURL: "https://api.example", HTTPClient: hc,
					Retry: Retry{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Second, MaxElapsed: tc.maxElapsed}})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				var got int64
				err = c.Do(t.Context(), Request{Method: "GET", Path: "/a"}, func(r io.Reader) error {
					var err error
					got, err = io.Copy(io.Discard, r)
					return err
				})
				took := time.Since(start)
				if tc.wantErr {
					if !errors.Is(err, ErrSlowResponse) || !errors.Is(err, ErrRetriesExhausted) {
						t.Errorf("err = %v, want the slow response retried, then given up", err)
					}
				} else if err != nil || got != tc.body.n {
					t.Errorf("err = %v after %d of %d bytes, want the whole body", err, got, tc.body.n)
				}
				if sent != tc.attempts {
					t.Errorf("%d requests, want %d", sent, tc.attempts)
				}
				if took > tc.within {
					t.Errorf("the request took %s, want at most %s", took, tc.within)
				}
				t.Logf("%s: %v", took, err)
			})
		})
	}
}

// Without a caller's client, New sets no overall Timeout: one would cut a
// 512 MiB report at any healthy speed under 1.7 MiB/s after 5 minutes,
// while Retry's slow-body window and MaxAttempt already bound each attempt
// (TestSlowResponsesAreBounded). A caller's Timeout is kept.
func TestNoOverallTimeoutByDefault(t *testing.T) {
	c, err := New(Config{BaseURL: "https://api.example"})
	if err != nil {
		t.Fatal(err)
	}
	if c.hc.Timeout != 0 {
		t.Errorf("default client Timeout = %s, want none", c.hc.Timeout)
	}
	c, err = New(Config{BaseURL: "https://api.example", HTTPClient: &http.Client{Timeout: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if c.hc.Timeout != time.Hour {
		t.Errorf("caller's Timeout = %s, want 1h kept", c.hc.Timeout)
	}
}
