package edge

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// ErrAuth means the API token was refused. Nothing can be collected for the
// tenant. It wraps httpx.ErrAuth, the sentinel every layer above checks.
var ErrAuth = fmt.Errorf("lacework edge: %w", httpx.ErrAuth)

// Login is how TokenLogin is given the API token.
type Login string

// Login modes.
const (
	// LoginAPIToken (the default) sends one long-lived API token, the
	// credential the public EdgeGuardian client logs in with (the
	// edgeguardian/actions-client README: "The user's long-lived API key to
	// login", passed whole to "egctl advanced token-login <token>"). The
	// document's TokenLogin ("Triggers login using a provided API token")
	// lists only the query parameters account and redirect, so the token
	// travels in a header: "Authorization: Bearer <api token>". That header
	// is inferred: neither the document nor the public client shows the
	// wire format; Bearer is the scheme the returned JWT is sent with.
	LoginAPIToken Login = "api_token"
	// LoginBasic sends the token's uuid and secret (as Create Token returns
	// them) as HTTP Basic credentials. No source documents it: a guess,
	// used only when configured (login: basic).
	LoginBasic Login = "basic"
)

// Credentials identify a Lacework Edge account and API token.
type Credentials struct {
	Account string // account name: TokenLogin's account parameter
	BaseURL string // API base URL, e.g. https://edge.example.com
	// Login selects the credential; "" is LoginAPIToken.
	Login Login
	// APIToken is the long-lived API token (LoginAPIToken).
	APIToken httpx.Secret
	KeyID    string       // LoginBasic: the API token's uuid
	Secret   httpx.Secret // LoginBasic: the API token's secret
}

func (c Credentials) login() Login {
	if c.Login == "" {
		return LoginAPIToken
	}
	return c.Login
}

// Validate lists every missing or contradictory field.
func (c Credentials) Validate() error {
	var errs []error
	if strings.TrimSpace(c.BaseURL) == "" {
		errs = append(errs, errors.New("lacework edge: API URL is not set"))
	} else if _, err := httpx.ParseBase(c.BaseURL); err != nil {
		errs = append(errs, fmt.Errorf("lacework edge: %w", err))
	}
	if strings.TrimSpace(c.Account) == "" {
		errs = append(errs, errors.New("lacework edge: account is not set"))
	}
	switch c.login() {
	case LoginAPIToken:
		if c.APIToken == "" {
			errs = append(errs, errors.New("lacework edge: API token is not set"))
		}
		if c.KeyID != "" || c.Secret != "" {
			errs = append(errs, errors.New("lacework edge: a token uuid and secret are only used with login basic; the api_token login sends the API token alone"))
		}
	case LoginBasic:
		if c.KeyID == "" {
			errs = append(errs, errors.New("lacework edge: API key (token uuid) is not set"))
		}
		if c.Secret == "" {
			errs = append(errs, errors.New("lacework edge: API secret is not set"))
		}
		if c.APIToken != "" {
			errs = append(errs, errors.New("lacework edge: login basic sends the token uuid and secret, not an API token"))
		}
	default:
		errs = append(errs, fmt.Errorf("lacework edge: login %q: want %q (default) or %q", c.Login, LoginAPIToken, LoginBasic))
	}
	return errors.Join(errs...)
}

// Options are the optional parts of a Client. Without a Limiter (shared
// per API token), the client makes one of its own from
// Limits.RequestsPerHour; SpoolDir is where responses are spooled.
type Options struct {
	httpx.Options
	Limits Limits
	Paths  Paths // empty fields: DefaultPaths
}

// Client reads one Lacework Edge account. It is safe for concurrent use.
type Client struct {
	creds  Credentials
	opts   Options
	limits Limits
	paths  Paths
	tokens *httpx.TokenCache
	stats  *httpx.Stats
	http   *httpx.Client
	log    *slog.Logger
}

// New returns a Client for creds. It makes no request.
func New(creds Credentials, opts Options) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	paths := opts.Paths.WithDefaults()
	if err := paths.Validate(); err != nil {
		return nil, fmt.Errorf("lacework edge: %w", err)
	}
	limits := opts.Limits.withDefaults()
	opts.Options = opts.Options.WithDefaults().WithLimiter(httpx.LimiterConfig{PerHour: limits.RequestsPerHour})
	if creds.login() == LoginBasic {
		opts.Redactor.AddBasic(creds.KeyID, creds.Secret.Reveal())
	} else {
		opts.Redactor.Add(creds.APIToken.Reveal())
	}
	c := &Client{
		creds:  creds,
		opts:   opts,
		limits: limits,
		paths:  paths,
		stats:  &httpx.Stats{},
		log:    opts.Logger.With("source", "lacework_edge", "account", creds.Account),
	}
	login, err := opts.New(httpx.Config{BaseURL: creds.BaseURL, Logger: c.log, Stats: c.stats})
	if err != nil {
		return nil, fmt.Errorf("lacework edge account %q: %w", creds.Account, err)
	}
	fetcher := &tokenFetcher{http: login, creds: creds, path: paths.TokenLogin, fallback: limits.TokenTTL, now: opts.Now, log: c.log}
	c.tokens = opts.Tokens(fetcher.login)
	if c.http, err = opts.New(httpx.Config{BaseURL: creds.BaseURL, Auth: c.tokens, Logger: c.log, Stats: c.stats}); err != nil {
		return nil, fmt.Errorf("lacework edge account %q: %w", creds.Account, err)
	}
	return c, nil
}

// Account is the account name.
func (c *Client) Account() string { return c.creds.Account }

// BaseURL is the API base URL (never carries secrets).
func (c *Client) BaseURL() string { return c.http.Base().String() }

// Paths returns the paths in use.
func (c *Client) Paths() Paths { return c.paths }

// Limits returns the budgets in use.
func (c *Client) Limits() Limits { return c.limits }

// Stats returns the request counters.
func (c *Client) Stats() *httpx.Stats { return c.stats }

// TokenRefreshes returns how many session tokens were obtained.
func (c *Client) TokenRefreshes() int64 { return c.tokens.Refreshes() }

// Authenticate logs in (TokenLogin) unless a valid session token is cached.
// A refused API token is an error wrapping ErrAuth.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.tokens.Token(ctx)
	return err
}

// wrap adds context to a failed list request: a 401 that survived a fresh
// login is ErrAuth, a 403 says which permission is missing.
func (c *Client) wrap(what string, page int, err error) error {
	if errors.Is(err, ErrAuth) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("lacework edge %s: %s (page %d): %w", c.creds.Account, what, page, err)
	}
	switch httpx.StatusOf(err) {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w for account %q: the API refused a fresh session token when listing %s; check the API token's status and role: %w",
			ErrAuth, c.creds.Account, what, err)
	case http.StatusForbidden:
		return fmt.Errorf("lacework edge %s: %s: the API token's role may not read them (HTTP 403); use a token with read access to %s: %w",
			c.creds.Account, what, what, err)
	}
	return fmt.Errorf("lacework edge %s: %s (page %d): %w", c.creds.Account, what, page, err)
}

// tokenFetcher logs in with the API token for an httpx.TokenCache, which
// caches and renews the session token.
type tokenFetcher struct {
	http     *httpx.Client
	creds    Credentials
	path     string
	fallback time.Duration
	now      func() time.Time
	log      *slog.Logger
}

// login calls TokenLogin: GET <path>?account=<account> with the API token
// as "Authorization: Bearer <token>" (LoginAPIToken) or its uuid and
// secret as HTTP Basic credentials (LoginBasic); see Login for where each
// comes from.
func (t *tokenFetcher) login(ctx context.Context) (string, time.Time, error) {
	h := http.Header{}
	hint := "check LW_EDGE_API_TOKEN (the long-lived API token) and the account name"
	switch t.creds.login() {
	case LoginBasic:
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(t.creds.KeyID+":"+t.creds.Secret.Reveal())))
		hint = fmt.Sprintf("check LW_EDGE_API_KEY and LW_EDGE_API_SECRET (the API token's uuid %s and secret) and the account name; login basic is a guess no source documents: try the default api_token login", keyHint(t.creds.KeyID))
	default:
		h.Set("Authorization", "Bearer "+t.creds.APIToken.Reveal())
	}
	var s session
	issued := t.now()
	err := t.http.JSON(ctx, httpx.Request{Method: http.MethodGet, Path: t.path, Header: h,
		Query: url.Values{paramAccount: {t.creds.Account}}}, &s)
	if err != nil {
		if st := httpx.StatusOf(err); st == http.StatusUnauthorized || st == http.StatusForbidden {
			return "", time.Time{}, fmt.Errorf("%w for account %q (login %s): %s: %w",
				ErrAuth, t.creds.Account, t.creds.login(), hint, err)
		}
		return "", time.Time{}, fmt.Errorf("lacework edge: log in to account %q: %w", t.creds.Account, err)
	}
	if s.Token == "" {
		return "", time.Time{}, fmt.Errorf("%w for account %q: the login response carried no token", ErrAuth, t.creds.Account)
	}
	expires := issued.Add(t.fallback)
	switch {
	case s.TTLSec > 0:
		expires = issued.Add(time.Duration(s.TTLSec) * time.Second)
	case s.ExpireTimeSec > 0:
		if at, err := FromEpoch(int64(s.ExpireTimeSec)); err == nil && at.After(issued) {
			expires = at
		}
	}
	t.log.Debug("session token issued", "expires_at", expires.UTC().Format(time.RFC3339))
	return s.Token, expires, nil
}

// keyHint shows enough of a key id to tell keys apart, never all of it.
func keyHint(id string) string {
	if len(id) <= 8 {
		return "…"
	}
	return id[:4] + "…" + id[len(id)-4:]
}
