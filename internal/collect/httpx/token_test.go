package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// tokenFetcher is a Fetch that counts its calls and issues tok1, tok2, …,
// each living life from the fake clock's now.
type tokenFetcher struct {
	clk   *fakeClock
	life  time.Duration
	err   error         // returned instead of a token when set
	gate  chan struct{} // when set, each fetch waits for a value (or its ctx)
	calls atomic.Int32
}

func (f *tokenFetcher) fetch(ctx context.Context) (string, time.Time, error) {
	n := f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return "", time.Time{}, ctx.Err()
		}
	}
	if f.err != nil {
		return "", time.Time{}, f.err
	}
	return fmt.Sprintf("tok%d", n), f.clk.Now().Add(f.life), nil
}

func (f *fakeClock) advance(d time.Duration) { f.mu.Lock(); defer f.mu.Unlock(); f.t = f.t.Add(d) }

func TestTokenCacheConcurrentCallersShareOneFetch(t *testing.T) {
	for _, callers := range []int{1, 2, 16} {
		t.Run(fmt.Sprint(callers, " callers"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := newFakeClock()
				f := &tokenFetcher{clk: clk, life: time.Hour, gate: make(chan struct{})}
				tc := NewTokenCache(TokenCacheConfig{Fetch: f.fetch, Now: clk.Now})
				var wg sync.WaitGroup
				got := make([]string, callers)
				errs := make([]error, callers)
				for i := range callers {
					wg.Go(func() { got[i], errs[i] = tc.Token(context.Background()) })
				}
				// In the bubble, Wait returns when every caller is blocked: the
				// first one fetching (on the gate), the others queued behind it.
				synctest.Wait()
				if f.calls.Load() != 1 {
					t.Fatalf("%d fetches under way, want 1", f.calls.Load())
				}
				close(f.gate)
				wg.Wait()
				for i := range callers {
					if errs[i] != nil || got[i] != "tok1" {
						t.Errorf("caller %d: %q, %v; want tok1", i, got[i], errs[i])
					}
				}
				if n := f.calls.Load(); n != 1 || tc.Refreshes() != 1 {
					t.Errorf("%d fetches, Refreshes %d; want 1 and 1", n, tc.Refreshes())
				}
			})
		})
	}
}

func TestTokenCacheRenewsEarlyAndAfterExpiry(t *testing.T) {
	tests := []struct {
		name        string
		life        time.Duration
		renewEarly  time.Duration
		after       time.Duration // clock advance before the second call
		wantFetches int32
	}{
		{"fresh", time.Hour, 0, 54*time.Minute + 59*time.Second, 1},
		{"due: 5 minutes early at most", time.Hour, 0, 55 * time.Minute, 2},
		{"short life: a fifth early, still fresh", 10 * time.Minute, 0, 7*time.Minute + 59*time.Second, 1},
		{"short life: a fifth early, due", 10 * time.Minute, 0, 8 * time.Minute, 2},
		{"custom margin, fresh", time.Hour, time.Minute, 58*time.Minute + 59*time.Second, 1},
		{"custom margin, due", time.Hour, time.Minute, 59 * time.Minute, 2},
		{"expired", time.Hour, 0, 2 * time.Hour, 2},
		{"issued already expired by our clock: used 30 s anyway", -time.Minute, 0, 29 * time.Second, 1},
		{"issued already expired, after 30 s", -time.Minute, 0, 30 * time.Second, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			f := &tokenFetcher{clk: clk, life: tc.life}
			c := NewTokenCache(TokenCacheConfig{Fetch: f.fetch, Now: clk.Now, RenewEarly: tc.renewEarly})
			if tok, err := c.Token(context.Background()); err != nil || tok != "tok1" {
				t.Fatalf("first Token: %q, %v", tok, err)
			}
			clk.advance(tc.after)
			tok, err := c.Token(context.Background())
			want := fmt.Sprintf("tok%d", tc.wantFetches)
			if err != nil || tok != want || f.calls.Load() != tc.wantFetches || c.Refreshes() != int64(tc.wantFetches) {
				t.Errorf("second Token: %q, %v after %d fetches (Refreshes %d); want %s after %d",
					tok, err, f.calls.Load(), c.Refreshes(), want, tc.wantFetches)
			}
		})
	}
}

func TestTokenCacheInvalidate(t *testing.T) {
	tests := []struct {
		name        string
		invalidate  func(t *testing.T, c *TokenCache) // after tok1 was fetched
		wantToken   string
		wantFetches int32
	}{
		{"the cached token is dropped", func(t *testing.T, c *TokenCache) { c.Invalidate("tok1") }, "tok2", 2},
		{"a stale token does not drop a newer one", func(t *testing.T, c *TokenCache) {
			c.Invalidate("tok1")
			if _, err := c.Token(context.Background()); err != nil { // fetches tok2
				t.Fatal(err)
			}
			c.Invalidate("tok1") // a late 401 of a request that carried tok1
		}, "tok2", 2},
		{"an unknown token changes nothing", func(t *testing.T, c *TokenCache) { c.Invalidate("other") }, "tok1", 1},
		{"an empty credential changes nothing", func(t *testing.T, c *TokenCache) { c.Invalidate("") }, "tok1", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			f := &tokenFetcher{clk: clk, life: time.Hour}
			c := NewTokenCache(TokenCacheConfig{Fetch: f.fetch, Now: clk.Now})
			if _, err := c.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			tc.invalidate(t, c)
			tok, err := c.Token(context.Background())
			if err != nil || tok != tc.wantToken || f.calls.Load() != tc.wantFetches {
				t.Errorf("Token %q, %v after %d fetches; want %s after %d", tok, err, f.calls.Load(), tc.wantToken, tc.wantFetches)
			}
		})
	}
}

func TestTokenCacheFetchErrors(t *testing.T) {
	refused := errors.New("refused")
	tests := []struct {
		name    string
		fetch   func(context.Context) (string, time.Time, error)
		wantErr error
	}{
		{"the fetch error, unchanged", func(context.Context) (string, time.Time, error) {
			return "", time.Time{}, fmt.Errorf("login: %w", refused)
		}, refused},
		{"no token", func(context.Context) (string, time.Time, error) {
			return "", time.Now().Add(time.Hour), nil
		}, errEmptyToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls int
			c := NewTokenCache(TokenCacheConfig{Fetch: func(ctx context.Context) (string, time.Time, error) {
				calls++
				return tc.fetch(ctx)
			}})
			req, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
			for range 2 { // a failure is not cached: each call tries again
				cred, err := c.Authorize(context.Background(), req)
				if !errors.Is(err, tc.wantErr) || cred != "" {
					t.Errorf("Authorize: %q, %v; want %v", cred, err, tc.wantErr)
				}
			}
			if calls != 2 || c.Refreshes() != 0 || req.Header.Get("Authorization") != "" {
				t.Errorf("%d fetches, Refreshes %d, Authorization %q; want 2, 0, none", calls, c.Refreshes(), req.Header.Get("Authorization"))
			}
		})
	}
}

func TestTokenCacheWaiterGivesUpWithItsContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{"canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { time.Sleep(5 * time.Millisecond); cancel() }() // the bubble's clock
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 5*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := newFakeClock()
				f := &tokenFetcher{clk: clk, life: time.Hour, gate: make(chan struct{})}
				c := NewTokenCache(TokenCacheConfig{Fetch: f.fetch, Now: clk.Now})
				first := make(chan error, 1)
				go func() { _, err := c.Token(context.Background()); first <- err }()
				synctest.Wait() // the first caller is fetching, blocked on the gate
				ctx, cancel := tc.ctx()
				defer cancel()
				if tok, err := c.Token(ctx); !errors.Is(err, tc.wantErr) {
					t.Errorf("waiter: %q, %v; want %v", tok, err, tc.wantErr)
				}
				close(f.gate)
				if err := <-first; err != nil {
					t.Errorf("the fetching caller: %v", err)
				}
				if n := f.calls.Load(); n != 1 {
					t.Errorf("%d fetches, want 1", n)
				}
			})
		})
	}
}

func TestTokenCacheAuthorizeSetsBearer(t *testing.T) {
	clk := newFakeClock()
	f := &tokenFetcher{clk: clk, life: time.Hour}
	var a Authorizer = NewTokenCache(TokenCacheConfig{Fetch: f.fetch, Now: clk.Now})
	req, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
	cred, err := a.Authorize(context.Background(), req)
	if err != nil || cred != "tok1" || req.Header.Get("Authorization") != "Bearer tok1" {
		t.Errorf("Authorize: %q, %v, header %q", cred, err, req.Header.Get("Authorization"))
	}
}

// Every token obtained is known to the Redactor before any request carries
// it.
func TestTokenCacheAddsTokensToTheRedactor(t *testing.T) {
	red := NewRedactor()
	n := 0
	tc := NewTokenCache(TokenCacheConfig{Redactor: red, Fetch: func(context.Context) (string, time.Time, error) {
		n++
		return fmt.Sprintf("token-number-%d", n), time.Now().Add(time.Hour), nil
	}})
	for range 2 {
		tok, err := tc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := red.Redact("echo " + tok); got != "echo "+Redacted {
			t.Errorf("Redact = %q", got)
		}
		tc.Invalidate(tok)
	}
}
