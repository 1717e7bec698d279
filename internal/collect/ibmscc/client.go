package ibmscc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// ErrForbidden means the key's access policy does not allow the request
// (HTTP 403, "Forbidden access to CSPM v1"): only what needs that service
// fails.
var ErrForbidden = errors.New("ibm_scc: access forbidden")

// Credentials identify a Workload Protection instance and the API key that
// reads it.
type Credentials struct {
	APIKey     httpx.Secret // IBM Cloud API key (IBMCLOUD_API_KEY)
	InstanceID string       // the instance GUID, sent as IBMInstanceID
	TeamID     string       // optional: sent as SysdigTeamID (HeaderTeam)
	BaseURL    string       // regional endpoint, e.g. RegionURL("us-south"); a trailing /api is removed
	IAMURL     string       // IAM token endpoint; default DefaultIAMURL
}

// Validate lists every missing or malformed field.
func (c Credentials) Validate() error {
	var errs []error
	if c.APIKey == "" {
		errs = append(errs, errors.New("ibm_scc: API key is not set"))
	}
	if strings.TrimSpace(c.InstanceID) == "" {
		errs = append(errs, errors.New("ibm_scc: instance_id (the IBMInstanceID GUID) is not set"))
	}
	if _, err := httpx.ParseBase(c.apiURL()); err != nil {
		errs = append(errs, fmt.Errorf("ibm_scc: api_url: %w", err))
	}
	if _, err := httpx.ParseBase(c.iamURL()); err != nil {
		errs = append(errs, fmt.Errorf("ibm_scc: iam_url: %w", err))
	}
	return errors.Join(errs...)
}

// apiURL is the base URL without the document's "/api" suffix: every path
// carries it.
func (c Credentials) apiURL() string {
	u := strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	return strings.TrimSuffix(u, "/api")
}

func (c Credentials) iamURL() string {
	if c.IAMURL == "" {
		return DefaultIAMURL
	}
	return strings.TrimSpace(c.IAMURL)
}

// Options are the optional parts of a Client. Without a Limiter, the
// client makes one of its own from Limits; SpoolDir is where list pages are
// spooled.
type Options struct {
	httpx.Options
	Limits Limits
}

// Client reads one Workload Protection instance. It is safe for concurrent
// use.
type Client struct {
	creds  Credentials
	limits Limits
	now    func() time.Time
	tokens *httpx.TokenCache
	http   *httpx.Client
	stats  *httpx.Stats
	log    *slog.Logger
	spool  string
}

// New returns a Client for creds. It makes no request.
func New(creds Credentials, opts Options) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	limits := opts.Limits.withDefaults()
	opts.Options = opts.Options.WithDefaults().WithLimiter(httpx.LimiterConfig{PerHour: max(limits.RequestsPerMinute, 0) * 60, Burst: limits.Burst})
	opts.Redactor.Add(creds.APIKey.Reveal())
	log := opts.Logger.With("source", "ibm_scc", "instance", creds.InstanceID)
	stats := &httpx.Stats{}
	// The IAM endpoint is another host: a client of its own, with its own
	// bucket and no Authorizer.
	iam, err := opts.New(httpx.Config{BaseURL: creds.iamURL(), Logger: log, Stats: stats})
	if err != nil {
		return nil, fmt.Errorf("ibm_scc: iam_url: %w", err)
	}
	fetcher := &tokenFetcher{http: iam, key: creds.APIKey, now: opts.Now, log: log}
	tokens := opts.Tokens(fetcher.fetch)
	h := http.Header{}
	h.Set(HeaderInstance, strings.TrimSpace(creds.InstanceID))
	if t := strings.TrimSpace(creds.TeamID); t != "" {
		h.Set(HeaderTeam, t)
	}
	api, err := opts.New(httpx.Config{BaseURL: creds.apiURL(), Auth: tokens, Header: h, Logger: log, Stats: stats})
	if err != nil {
		return nil, fmt.Errorf("ibm_scc: api_url: %w", err)
	}
	return &Client{creds: creds, limits: limits, now: opts.Now, tokens: tokens, http: api, stats: stats, log: log, spool: opts.SpoolDir}, nil
}

// BaseURL is the API base URL (never carries secrets).
func (c *Client) BaseURL() string { return c.creds.apiURL() }

// InstanceID is the instance GUID the client reads.
func (c *Client) InstanceID() string { return strings.TrimSpace(c.creds.InstanceID) }

// Stats returns the request counters (IAM requests included).
func (c *Client) Stats() *httpx.Stats { return c.stats }

// Limits returns the limits in force.
func (c *Client) Limits() Limits { return c.limits }

// TokenRefreshes returns how many access tokens were obtained.
func (c *Client) TokenRefreshes() int64 { return c.tokens.Refreshes() }

// Authenticate obtains an access token unless a fresh one is cached: a
// refused API key returns an error wrapping httpx.ErrAuth.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.tokens.Token(ctx)
	return err
}

// getJSON sends a GET and decodes the body into v.
func (c *Client) getJSON(ctx context.Context, r httpx.Request, v any) error {
	r.Method = http.MethodGet
	return c.wrap(c.http.JSON(ctx, r, v))
}

// getPage sends a GET and spools its body: a list page is then decoded
// one row at a time (readPage), never held whole.
func (c *Client) getPage(ctx context.Context, r httpx.Request) (*httpx.Spooled, error) {
	r.Method = http.MethodGet
	sp, err := c.http.SpoolPage(ctx, c.spool, r)
	return sp, c.wrap(err)
}

// readPage passes each record of the list under key in a spooled page to
// row, and decodes the envelope's other keys into meta's pointers.
func readPage[T any](sp *httpx.Spooled, key string, meta map[string]any, row func(T) bool) (httpx.Decoded, error) {
	return httpx.DecodeEnvelope(sp, httpx.Envelope{List: key, Meta: meta, Record: func(dec *json.Decoder) (bool, error) {
		var v T
		if err := dec.Decode(&v); err != nil {
			return false, err
		}
		return row(v), nil
	}})
}

// wrap turns a 401 that survived a token refresh into httpx.ErrAuth and a
// 403 into ErrForbidden, with what to check.
func (c *Client) wrap(err error) error {
	if err == nil || errors.Is(err, httpx.ErrAuth) {
		return err
	}
	switch httpx.StatusOf(err) {
	case http.StatusUnauthorized:
		return httpx.Auth(fmt.Errorf("ibm_scc: instance %s refused a fresh IAM token (HTTP 401): check instance_id (the IBMInstanceID GUID) "+
			"and that the API key's identity has a Workload Protection role on it: %w", c.InstanceID(), err))
	case http.StatusForbidden:
		return fmt.Errorf("%w: instance %s (HTTP 403): the API key's identity lacks the IAM action for this request, or team_id is wrong: %w",
			ErrForbidden, c.InstanceID(), err)
	}
	return err
}

// tokenFetcher exchanges the API key for IAM access tokens for an
// httpx.TokenCache, which caches and renews them.
type tokenFetcher struct {
	http *httpx.Client
	key  httpx.Secret
	now  func() time.Time
	log  *slog.Logger
}

// defaultTokenLifetime is assumed when the response states none; IAM
// access tokens live 60 minutes.
const defaultTokenLifetime = time.Hour

func (t *tokenFetcher) fetch(ctx context.Context) (string, time.Time, error) {
	form := url.Values{"grant_type": {GrantTypeAPIKey}, "apikey": {t.key.Reveal()}}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	var resp tokenResponse
	issued := t.now()
	err := t.http.JSON(ctx, httpx.Request{Method: http.MethodPost, Header: h, Body: []byte(form.Encode()), Bucket: bucketIAM}, &resp)
	if err != nil {
		switch httpx.StatusOf(err) {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			// The document: a 400 from the token endpoint means the API
			// key is not valid.
			return "", time.Time{}, httpx.Auth(fmt.Errorf("ibm_scc: the IAM token endpoint refused the API key: check the API key variable (default IBMCLOUD_API_KEY): %w", err))
		}
		return "", time.Time{}, fmt.Errorf("ibm_scc: get IAM access token: %w", err)
	}
	if resp.AccessToken == "" {
		return "", time.Time{}, httpx.Auth(errors.New("ibm_scc: the IAM token response carried no access_token"))
	}
	if tt := resp.TokenType; tt != "" && !strings.EqualFold(tt, "Bearer") {
		return "", time.Time{}, fmt.Errorf("ibm_scc: IAM token type %q, want Bearer", truncate(tt, 20))
	}
	life := time.Duration(resp.ExpiresIn) * time.Second
	if life <= 0 || life > 24*time.Hour {
		life = defaultTokenLifetime
	}
	expires := issued.Add(life)
	t.log.Debug("IAM access token issued", "expires_at", expires.UTC().Format(time.RFC3339))
	return resp.AccessToken, expires, nil
}
