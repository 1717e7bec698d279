package lacework

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// ErrAuth means the API key or secret was refused. Nothing can be collected;
// the run fails (exit code 1) and no pack is written.
var ErrAuth = fmt.Errorf("lacework: %w", httpx.ErrAuth)

// ErrSubAccountForbidden means the key cannot reach a sub-account (HTTP 403).
// Only that sub-account's units fail.
var ErrSubAccountForbidden = errors.New("lacework: sub-account not reachable with this API key")

// Credentials identify a Lacework tenant and API key, with the lacework
// CLI's names (LW_ACCOUNT, LW_SUBACCOUNT, LW_API_KEY, LW_API_SECRET).
type Credentials struct {
	Account    string       // "acme" or "acme.lacework.net"
	SubAccount string       // optional: scope every request to this sub-account
	KeyID      string       // LW_API_KEY
	Secret     httpx.Secret // LW_API_SECRET
	BaseURL    string       // LW_API_URL; default https://<account>.lacework.net
}

// Validate lists every missing field.
func (c Credentials) Validate() error {
	var errs []error
	if c.Account == "" && c.BaseURL == "" {
		errs = append(errs, errors.New("lacework: account is not set (LW_ACCOUNT or lacework.account in the config)"))
	}
	if c.KeyID == "" {
		errs = append(errs, errors.New("lacework: API key id is not set (LW_API_KEY)"))
	}
	if c.Secret == "" {
		errs = append(errs, errors.New("lacework: API secret is not set (LW_API_SECRET)"))
	}
	return errors.Join(errs...)
}

// AccountName returns the account's short name ("acme" of acme.lacework.net).
func (c Credentials) AccountName() string {
	a := strings.TrimSpace(c.Account)
	a = strings.TrimPrefix(strings.TrimPrefix(a, "https://"), "http://")
	if i := strings.Index(a, ".lacework.net"); i > 0 {
		a = a[:i]
	}
	return strings.TrimRight(a, "/")
}

// URL returns the API base URL.
func (c Credentials) URL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return "https://" + c.AccountName() + ".lacework.net"
}

// Options are the optional parts of a Client. The shared ones' Limiter is
// shared per API key; by default the client makes its own from
// Limits.RequestsPerHour. SpoolDir is where reports are buffered.
type Options struct {
	httpx.Options
	Limits    Limits
	OrgAccess bool // send Org-Access: true (org-level data sets; needs org admin)
	// Stats, when set, counts the client's requests (clients of several
	// keys of one tenant add up in one); default: the client's own.
	Stats *httpx.Stats
}

// Client talks to one Lacework account or sub-account. It is safe for
// concurrent use. Clients made by SubAccount share the token, the rate-limit
// buckets and the request counters of their parent.
type Client struct {
	creds      Credentials
	subAccount string
	opts       Options
	limits     Limits
	tokens     *httpx.TokenCache
	stats      *httpx.Stats
	http       *httpx.Client
	log        *slog.Logger
}

// New returns a Client for creds.
func New(creds Credentials, opts Options) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	limits := opts.Limits.withDefaults()
	opts.Options = opts.Options.WithDefaults().WithLimiter(httpx.LimiterConfig{PerHour: max(limits.RequestsPerHour, 0), Burst: limits.Burst})
	opts.Redactor.Add(creds.KeyID, creds.Secret.Reveal())
	if _, err := httpx.ParseBase(creds.URL()); err != nil {
		return nil, fmt.Errorf("lacework account %q: %w", creds.AccountName(), err)
	}
	c := &Client{
		creds:  creds,
		opts:   opts,
		limits: limits,
		stats:  cmp.Or(opts.Stats, &httpx.Stats{}),
		log:    opts.Logger.With("source", "lacework", "tenant", creds.AccountName()),
	}
	tokHTTP, err := c.newHTTP(nil, nil)
	if err != nil {
		return nil, err
	}
	fetcher := &tokenFetcher{http: tokHTTP, creds: creds, expiry: limits.TokenExpiry, now: opts.Now, log: c.log}
	c.tokens = opts.Tokens(fetcher.fetch)
	return c.forSubAccount(creds.SubAccount)
}

func (c *Client) newHTTP(auth httpx.Authorizer, header http.Header) (*httpx.Client, error) {
	return c.opts.New(httpx.Config{BaseURL: c.creds.URL(), Auth: auth, Header: header, Logger: c.log, Stats: c.stats})
}

func (c *Client) forSubAccount(name string) (*Client, error) {
	h := http.Header{}
	// Seed 000: with Org-Access: true the Account-Name header is ignored,
	// so every sub-account would get the same organization-level data under
	// its own name. A sub-account's client therefore never sends both.
	switch {
	case name != "":
		h.Set("Account-Name", name)
	case c.opts.OrgAccess:
		h.Set("Org-Access", "true")
	}
	hc, err := c.newHTTP(c.tokens, h)
	if err != nil {
		return nil, err
	}
	n := *c
	n.subAccount = name
	n.http = hc
	n.log = c.log.With("subaccount", name)
	return &n, nil
}

// SubAccount returns a client for the named sub-account, sharing this
// client's token, rate-limit buckets and counters.
func (c *Client) SubAccount(name string) (*Client, error) {
	return c.forSubAccount(name)
}

// Name is the sub-account this client reads, or the account when none is set.
func (c *Client) Name() string {
	if c.subAccount != "" {
		return c.subAccount
	}
	return c.creds.AccountName()
}

// BaseURL is the API base URL (never carries secrets).
func (c *Client) BaseURL() string { return c.creds.URL() }

// Stats returns the request counters shared by this client's family.
func (c *Client) Stats() *httpx.Stats { return c.stats }

// Limits returns the API limits in force.
func (c *Client) Limits() Limits { return c.limits }

// TokenRefreshes returns how many access tokens were requested.
func (c *Client) TokenRefreshes() int64 { return c.tokens.Refreshes() }

// getJSON sends a GET and decodes the body, adding context to errors.
func (c *Client) getJSON(ctx context.Context, r httpx.Request, v any) error {
	r.Method = http.MethodGet
	return c.wrap(c.http.JSON(ctx, r, v))
}

// wrap turns a 403 into ErrSubAccountForbidden with the fix, and a refused
// token into ErrAuth; other errors pass unchanged.
func (c *Client) wrap(err error) error {
	if err == nil || errors.Is(err, ErrAuth) {
		return err
	}
	if httpx.StatusOf(err) == http.StatusForbidden {
		return fmt.Errorf("%w: sub-account %q of account %q refused the request (HTTP 403); "+
			"use an API key of an organization admin or one created in %q, or leave it out of scope: %w",
			ErrSubAccountForbidden, c.Name(), c.creds.AccountName(), c.Name(), err)
	}
	return err
}

// tokenFetcher gets access tokens (POST /api/v2/access/tokens) for an
// httpx.TokenCache, which caches and renews them.
type tokenFetcher struct {
	http   *httpx.Client
	creds  Credentials
	expiry time.Duration
	now    func() time.Time
	log    *slog.Logger
}

func (t *tokenFetcher) fetch(ctx context.Context) (string, time.Time, error) {
	body, err := json.Marshal(tokenRequest{KeyID: t.creds.KeyID, ExpiryTime: int(t.expiry / time.Second)})
	if err != nil {
		return "", time.Time{}, err
	}
	h := http.Header{}
	h.Set("X-LW-UAKS", t.creds.Secret.Reveal())
	var resp tokenResponse
	issued := t.now()
	err = t.http.JSON(ctx, httpx.Request{Method: http.MethodPost, Path: pathTokens, Header: h, Body: body}, &resp)
	if err != nil {
		if s := httpx.StatusOf(err); s == http.StatusUnauthorized || s == http.StatusForbidden {
			return "", time.Time{}, fmt.Errorf("%w for account %q with key id %s: check LW_API_KEY and LW_API_SECRET (or the lacework profile): %w",
				ErrAuth, t.creds.AccountName(), keyHint(t.creds.KeyID), err)
		}
		return "", time.Time{}, fmt.Errorf("lacework: get access token for account %q: %w", t.creds.AccountName(), err)
	}
	if resp.Token == "" {
		return "", time.Time{}, fmt.Errorf("%w for account %q: the token response carried no token", ErrAuth, t.creds.AccountName())
	}
	expires := resp.ExpiresAt.Time
	if expires.IsZero() {
		expires = issued.Add(t.expiry)
	}
	t.log.Debug("access token issued", "expires_at", expires.Format(time.RFC3339))
	return resp.Token, expires, nil
}

// keyHint shows enough of a key id to tell keys apart, never all of it.
func keyHint(id string) string {
	if len(id) <= 8 {
		return "…"
	}
	return id[:4] + "…" + id[len(id)-4:]
}
