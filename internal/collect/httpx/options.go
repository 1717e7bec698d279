package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// DefaultUserAgent is sent when the caller names no user agent.
const DefaultUserAgent = "evidence"

// Options are the optional parts every API client shares; each client's
// own Options embed them beside what is the client's alone (its limits,
// paths, base URL). A client's New fills what the caller left unset
// (WithDefaults, WithLimiter) and builds its httpx.Clients with New.
type Options struct {
	HTTPClient *http.Client
	// Limiter is shared by the clients of one credential; default: one of
	// the client's own, from its documented limits (WithLimiter).
	Limiter   *Limiter
	Retry     Retry
	Logger    *slog.Logger // default: discards
	UserAgent string       // default DefaultUserAgent
	Now       func() time.Time
	SpoolDir  string // where responses are spooled; default os.TempDir()
	// Redactor, when set, gets the credentials and every token obtained,
	// and redacts them from the servers' text in errors (nil: none).
	Redactor *Redactor
}

// WithDefaults returns o with a logger that discards, time.Now and
// DefaultUserAgent where it has none.
func (o Options) WithDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	return o
}

// WithLimiter returns o with a Limiter of its own, from cfg, where it has
// none: a client's default budget.
func (o Options) WithLimiter(cfg LimiterConfig) Options {
	if o.Limiter == nil {
		o.Limiter = NewLimiter(cfg)
	}
	return o
}

// New returns a Client for cfg with o's HTTP client, limiter, retries,
// user agent, redactor and clock; cfg gives the rest (base URL,
// credentials, headers, counters) and, when it sets one, the logger.
func (o Options) New(cfg Config) (*Client, error) {
	cfg.HTTPClient, cfg.Limiter, cfg.Retry = o.HTTPClient, o.Limiter, o.Retry
	cfg.UserAgent, cfg.Redactor, cfg.Now = o.UserAgent, o.Redactor, o.Now
	if cfg.Logger == nil {
		cfg.Logger = o.Logger
	}
	return New(cfg)
}

// Tokens returns a TokenCache that obtains its tokens with fetch, on o's
// clock, and registers each with o's Redactor.
func (o Options) Tokens(fetch func(ctx context.Context) (string, time.Time, error)) *TokenCache {
	return NewTokenCache(TokenCacheConfig{Fetch: fetch, Now: o.Now, Redactor: o.Redactor})
}
