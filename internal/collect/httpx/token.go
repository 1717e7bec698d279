package httpx

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// TokenCacheConfig configures a TokenCache. Fetch is required.
type TokenCacheConfig struct {
	// Fetch obtains a new bearer token and the time it expires (a login, a
	// key exchange). Its errors reach the caller unchanged.
	Fetch func(ctx context.Context) (token string, expiresAt time.Time, err error)
	// Now replaces the clock in tests; default time.Now.
	Now func() time.Time
	// RenewEarly caps how long before expiry a token is renewed: a fifth of
	// its lifetime early, at most RenewEarly, so a long page fetch never
	// starts with a token about to lapse. Default 5 minutes.
	RenewEarly time.Duration
	// Redactor, when set, gets every token Fetch obtains before any request
	// carries it, so a server echoing the Authorization header in an error
	// body cannot get it into logs or the pack.
	Redactor *Redactor
}

// TokenCache caches a bearer token and implements Authorizer. One Fetch runs
// at a time; callers that arrive meanwhile wait for it and share its result.
// It is safe for concurrent use.
type TokenCache struct {
	fetch      func(context.Context) (string, time.Time, error)
	now        func() time.Time
	renewEarly time.Duration
	red        *Redactor
	sem        chan struct{} // one-slot semaphore held while fetching

	mu        sync.Mutex
	token     string
	renewAt   time.Time
	refreshes int64
}

var _ Authorizer = (*TokenCache)(nil)

// errEmptyToken is returned when Fetch succeeds without a token.
var errEmptyToken = errors.New("httpx: token fetch returned no token")

// NewTokenCache returns an empty TokenCache: the first Token or Authorize
// calls Fetch.
func NewTokenCache(cfg TokenCacheConfig) *TokenCache {
	if cfg.Fetch == nil {
		panic("httpx: TokenCacheConfig.Fetch is nil")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RenewEarly <= 0 {
		cfg.RenewEarly = 5 * time.Minute
	}
	return &TokenCache{fetch: cfg.Fetch, now: cfg.Now, renewEarly: cfg.RenewEarly, red: cfg.Redactor, sem: make(chan struct{}, 1)}
}

// Authorize sets "Authorization: Bearer <token>" and returns the token.
func (t *TokenCache) Authorize(ctx context.Context, req *http.Request) (string, error) {
	tok, err := t.Token(ctx)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return tok, nil
}

// Invalidate drops tok if it is still the cached token (after a 401): a
// token fetched meanwhile stays.
func (t *TokenCache) Invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == tok {
		t.token = ""
	}
}

// Refreshes returns how many tokens Fetch obtained.
func (t *TokenCache) Refreshes() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refreshes
}

// Token returns the cached token, or fetches one when none is cached or it
// is due for renewal. A caller that waits for another's fetch gives up when
// ctx ends.
func (t *TokenCache) Token(ctx context.Context) (string, error) {
	if tok, ok := t.cached(); ok {
		return tok, nil
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-t.sem }()
	if tok, ok := t.cached(); ok { // fetched while we waited
		return tok, nil
	}
	issued := t.now()
	tok, expires, err := t.fetch(ctx)
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", errEmptyToken
	}
	t.red.Add(tok)
	margin := min(expires.Sub(issued)/5, t.renewEarly)
	// An expiry already past by our clock (the server's clock behind ours)
	// would make every request fetch a token: keep it minTokenUse, and let
	// a 401 (Invalidate) say when it really is stale.
	renewAt := expires.Add(-margin)
	if floor := issued.Add(minTokenUse); renewAt.Before(floor) {
		renewAt = floor
	}
	t.mu.Lock()
	t.token = tok
	t.renewAt = renewAt
	t.refreshes++
	t.mu.Unlock()
	return tok, nil
}

// minTokenUse is how long a fetched token is used at least.
const minTokenUse = 30 * time.Second

func (t *TokenCache) cached() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token, t.token != "" && t.now().Before(t.renewAt)
}
