package sophos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// DefaultBaseURL is where the Cloud Optix console and its API live. The API
// document names no regional hosts; api_url overrides it.
const DefaultBaseURL = "https://optix.sophos.com"

// DefaultKeyEnv is the environment variable the API key is read from unless
// the tenant's config names another.
const DefaultKeyEnv = "SOPHOS_OPTIX_API_KEY"

// API paths (seed 004). Each is also its own rate-limit bucket: the document
// states no rate limits, so buckets are paced by the server's 429 and
// Retry-After only, one request in flight per endpoint.
const (
	PathAlerts      = "/api/v1/alerts"
	PathAlertsCount = "/api/v1/alerts/count"
	PathAccounts    = "/api/v1/accounts"
	PathVMs         = "/api/v1/vms"
	PathUsers       = "/api/v1/users"
	PathServerless  = "/api/v1/serverless"
	PathContainers  = "/api/v1/containers"
)

// ErrInvalidQuery means a query breaks a rule of the API document: the
// client refuses it before sending, or the API answered 400 with one of the
// document's filter messages.
var ErrInvalidQuery = errors.New("sophos: invalid query")

// ErrEnvironmentNotFound means the API does not know an account id that was
// asked for ("Account Ids <ids> not found").
var ErrEnvironmentNotFound = errors.New("sophos: environment not found")

// ErrNotSupported means the API does not offer a combination of
// parameters ("Provider:<p> not supported for Container-Type:<t>"): there is
// nothing of that kind to collect.
var ErrNotSupported = errors.New("sophos: combination not supported by the API")

// Options are the optional parts of a Client. Without a Limiter (shared by
// the clients of one API key), the client makes one of its own; SpoolDir is
// where pages are spooled.
type Options struct {
	httpx.Options
	BaseURL string // default DefaultBaseURL
	Tenant  string // the tenant's name, for messages
	KeyEnv  string // where the key came from, for messages; default DefaultKeyEnv
}

// Client reads one Cloud Optix customer through its API key. It is safe for
// concurrent use.
type Client struct {
	http     *httpx.Client
	base     string
	tenant   string
	keyEnv   string
	spoolDir string
	log      *slog.Logger
}

// New returns a Client authenticating with key.
func New(key httpx.Secret, opts Options) (*Client, error) {
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	if opts.KeyEnv == "" {
		opts.KeyEnv = DefaultKeyEnv
	}
	// Seed 004 states no rate limits (see the paths above): a limiter
	// paced by the server's 429 and Retry-After only.
	opts.Options = opts.Options.WithDefaults().WithLimiter(httpx.LimiterConfig{})
	if strings.TrimSpace(key.Reveal()) == "" {
		return nil, httpx.Auth(fmt.Errorf("sophos tenant %s: the Cloud Optix API key is empty: set %s (generate a key in Cloud Optix under Settings > Integrations > Sophos Cloud Optix API)",
			opts.Tenant, opts.KeyEnv))
	}
	opts.Redactor.Add(key.Reveal())
	log := opts.Logger.With("source", "sophos", "tenant", opts.Tenant)
	hc, err := opts.New(httpx.Config{BaseURL: opts.BaseURL, Auth: apiKey{key: key}, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("sophos tenant %s: %w", opts.Tenant, err)
	}
	return &Client{http: hc, base: hc.Base().String(), tenant: opts.Tenant, keyEnv: opts.KeyEnv, spoolDir: opts.SpoolDir, log: log}, nil
}

// BaseURL is the API base URL (it never carries secrets).
func (c *Client) BaseURL() string { return c.base }

// Stats returns the client's request counters.
func (c *Client) Stats() *httpx.Stats { return c.http.Stats() }

// apiKey sends "Authorization: ApiKey <key>". The key cannot be refreshed,
// so Invalidate does nothing: httpx's one retry after a 401 resends the
// same key and the second 401 is returned.
type apiKey struct{ key httpx.Secret }

func (a apiKey) Authorize(_ context.Context, req *http.Request) (string, error) {
	req.Header.Set("Authorization", "ApiKey "+a.key.Reveal())
	return "", nil
}

func (apiKey) Invalidate(string) {}

// get sends a GET and decodes the body into v; errors are explained for
// the scope (e.g. "alerts of environment 1234 (framework CIS)").
func (c *Client) get(ctx context.Context, r httpx.Request, scope string, v any) error {
	r.Method = http.MethodGet
	if r.Bucket == "" {
		r.Bucket = r.Path
	}
	if err := c.http.JSON(ctx, r, v); err != nil {
		return c.explain(err, scope)
	}
	return nil
}

// spool sends a GET and spools its body to disk, to be decoded a row at a
// time; errors are explained for the scope as get's are.
func (c *Client) spool(ctx context.Context, r httpx.Request, scope string) (*httpx.Spooled, error) {
	r.Method = http.MethodGet
	if r.Bucket == "" {
		r.Bucket = r.Path
	}
	sp, err := c.http.SpoolPage(ctx, c.spoolDir, r)
	if err != nil {
		return nil, c.explain(err, scope)
	}
	return sp, nil
}

// explain turns the API document's error responses into errors that say
// which tenant, environment and framework failed and what to do:
// refused keys wrap httpx.ErrAuth, unknown account ids
// ErrEnvironmentNotFound, the documented filter messages ErrInvalidQuery.
// The message is the JSON body's (message, errorMessage) or, inferred (seed
// 004 prints its 400 causes as bare sentences and no error body), a
// text/plain body's whole text: httpx puts either into APIError.Message.
func (c *Client) explain(err error, scope string) error {
	var ae *httpx.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err)
	}
	msg := strings.TrimSpace(ae.Message)
	lower := strings.ToLower(msg)
	switch {
	case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
		return httpx.Auth(fmt.Errorf("sophos tenant %s: Cloud Optix refused the API key from %s (expired, or replaced by a newer key): "+
			"generate a key in Cloud Optix under Settings > Integrations > Sophos Cloud Optix API and set %s: %w",
			c.tenant, c.keyEnv, c.keyEnv, err))
	case ae.Status == http.StatusBadRequest && strings.Contains(lower, "apikey not provided"):
		return httpx.Auth(fmt.Errorf("sophos tenant %s: Cloud Optix received no API key: set %s: %w", c.tenant, c.keyEnv, err))
	case ae.Status == http.StatusBadRequest && len(msg) > len("account ids") && strings.EqualFold(msg[:len("account ids")], "account ids"):
		ids := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(msg[len("account ids"):]), "not found"))
		return fmt.Errorf("%w: sophos tenant %s: %s: Cloud Optix does not know environment(s) %s: remove them from sophos.environments "+
			"(or --account), or use the API key of the Cloud Optix customer that holds them: %w",
			ErrEnvironmentNotFound, c.tenant, scope, ids, err)
	case ae.Status == http.StatusBadRequest && strings.Contains(lower, "not supported for container-type"):
		return fmt.Errorf("%w: sophos tenant %s: %s: %s: %w", ErrNotSupported, c.tenant, scope, msg, err)
	case ae.Status == http.StatusBadRequest && isFilterMessage(lower):
		return fmt.Errorf("%w: sophos tenant %s: %s: the API rejected the query (%s); %s: %w",
			ErrInvalidQuery, c.tenant, scope, msg, filterFix(lower), err)
	case ae.Status == http.StatusNotFound:
		return fmt.Errorf("sophos tenant %s: %s: %s is not a Cloud Optix API endpoint here: check sophos.api_url (default %s): %w",
			c.tenant, scope, ae.Path, DefaultBaseURL, err)
	}
	return fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err)
}

// filterMessages are the starts of the document's 400 messages about query
// parameters (lower case).
var filterMessages = []string{
	"date in 'lastseen", "invalid date format", "parameter ‘lastseento’", "parameter 'lastseento'",
	"can only set one of the filters", "days cannot be", "pageable size", "page number",
	"alert type not supported", "provider type not supported", "provider not provided",
	"container-type not provided", "invalid container-type", "proper arguments not provided",
}

func isFilterMessage(lower string) bool {
	for _, p := range filterMessages {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	// "Provider <p> not supported", "Provider:<p> not supported for Container-Type:<t>"
	return strings.HasPrefix(lower, "provider") && strings.Contains(lower, "not supported")
}

func filterFix(lower string) string {
	switch {
	case strings.Contains(lower, "lastseen"), strings.Contains(lower, "days"), strings.Contains(lower, "date"):
		return "check the period (--from/--to): Cloud Optix takes either days (1-365) or lastSeenFrom/lastSeenTo, with lastSeenTo after lastSeenFrom"
	case strings.Contains(lower, "pageable size"), strings.Contains(lower, "page number"):
		return "the page size or number is outside the API's limits; this is a collector bug, please report it"
	}
	return "the value is not one the API document lists; check the sophos: section of the config"
}
