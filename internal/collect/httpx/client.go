package httpx

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Authorizer adds credentials to a request. Authorize returns an identity of
// the credential it used (e.g. the token), which Invalidate receives after a
// 401 so that only a stale credential is dropped, not one refreshed meanwhile.
type Authorizer interface {
	Authorize(ctx context.Context, req *http.Request) (credential string, err error)
	Invalidate(credential string)
}

// Retry bounds retries of 5xx, 429 and network errors.
type Retry struct {
	MaxAttempts int           // attempts per request, including the first; default 6
	BaseDelay   time.Duration // first backoff ceiling; default 500ms
	MaxDelay    time.Duration // backoff ceiling; default 30s
	// MaxElapsed bounds the time spent on one request, waits included
	// (default 2h): a retry, a Retry-After or a blocked rate-limit bucket
	// that would end later fails at once with ErrWaitTooLong. Our choice:
	// Lacework's limit is 480 requests an hour on a rolling one-hour window
	// (seed 000, "Rate Limits"), so a server honestly out of tokens may ask
	// for up to an hour; two hours allow that wait once with the retries
	// around it, and refuse the days a broken server may ask for. The run's
	// deadline (the context's) is usually the tighter bound.
	MaxElapsed time.Duration

	// Once the headers are in, a response body must deliver at least
	// SlowBytes in every SlowWindow (defaults 64 KiB per minute, about
	// 1 KiB/s, like curl --speed-limit 1092 --speed-time 60); a body that
	// stops altogether fails at the end of its window too. The whole
	// response must arrive within MaxAttempt of the request (default 15
	// minutes), and within what is left of MaxElapsed. Otherwise the
	// attempt fails and is retried like a dropped connection. A server
	// trickling a byte a second would otherwise hold each attempt for the
	// HTTP client's whole timeout, or forever without one. Our choice: a
	// working API sends a page at hundreds of KiB per second, so a
	// 64 MiB page arrives in minutes even at 100 KiB/s, a 512 MiB spool
	// (DefaultMaxSpoolBytes) in 15 minutes at 600 KiB/s; the time a server takes to compute a page before its
	// headers is not limited by the window, only by MaxAttempt. Only a
	// broken or hostile server meets these bounds. They replace the HTTP
	// client's Timeout, which New leaves unset when the caller gives no
	// client: one overall timeout would cut a large download short at a
	// healthy speed.
	SlowBytes  int64
	SlowWindow time.Duration
	MaxAttempt time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 6
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.MaxElapsed <= 0 {
		r.MaxElapsed = 2 * time.Hour
	}
	if r.SlowBytes <= 0 {
		r.SlowBytes = 64 << 10
	}
	if r.SlowWindow <= 0 {
		r.SlowWindow = time.Minute
	}
	if r.MaxAttempt <= 0 {
		r.MaxAttempt = 15 * time.Minute
	}
	return r
}

// Config configures a Client. BaseURL is required.
type Config struct {
	BaseURL    string
	HTTPClient *http.Client // default: a client with a 5 minute timeout
	Auth       Authorizer   // nil: no credentials
	Limiter    *Limiter     // nil: unlimited, 429s still honoured per client
	Retry      Retry
	Header     http.Header // sent on every request (e.g. Account-Name)
	UserAgent  string
	Logger     *slog.Logger
	Stats      *Stats // nil: a private one
	// Redactor removes the tenant's secrets from the server's text that
	// httpx puts into errors and logs (an error body echoing the request's
	// headers, a redirect's host); nil redacts nothing.
	Redactor *Redactor
	// MaxBodyBytes bounds a buffered response (JSON), MaxSpoolBytes a
	// spooled one (Spool); defaults DefaultMaxBodyBytes, DefaultMaxSpoolBytes.
	MaxBodyBytes, MaxSpoolBytes int64

	// Now and Sleep replace the clock in tests.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
}

// Client sends requests to one API host. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	hc      *http.Client
	auth    Authorizer
	limiter *Limiter
	retry   Retry
	header  http.Header
	ua      string
	log     *slog.Logger
	stats   *Stats
	red     *Redactor
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error

	maxBody, maxSpool int64
}

// Stats counts what a client did. Fields are read with their Load methods.
type Stats struct {
	Requests     atomic.Int64 // requests sent, retries included
	Retries      atomic.Int64
	RateLimited  atomic.Int64 // 429 responses
	ServerErrors atomic.Int64 // 5xx responses
	NetErrors    atomic.Int64 // dropped connections, timeouts
	BytesIn      atomic.Int64

	mu      sync.Mutex
	latency map[string][]time.Duration // by bucket: the first latencySamples answered requests' times
}

// latencySamples bounds the request times Stats keeps per bucket: enough
// for a median of the probes a plan sends, small whatever a run sends.
const latencySamples = 64

// observe records the time of one answered request of bucket: from
// sending it to its body read (a rate-limit wait before it not included).
func (s *Stats) observe(bucket string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latency == nil {
		s.latency = map[string][]time.Duration{}
	}
	if len(s.latency[bucket]) < latencySamples {
		s.latency[bucket] = append(s.latency[bucket], d)
	}
}

// Latency is the median time of the answered requests of bucket (its
// Request.Bucket, else method and path; the first 64 of them), from
// sending each to its body read, and how many were timed (0: none yet).
// Rate-limit waits and failed attempts are not included. A median, not a
// mean: the first request of a kind, or one that met a pause, takes far
// longer than the others.
func (s *Stats) Latency(bucket string) (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return median(s.latency[bucket]), len(s.latency[bucket])
}

// Latencies is Latency of every bucket with an answered request.
func (s *Stats) Latencies() map[string]time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Duration{}
	for b, l := range s.latency {
		out[b] = median(l)
	}
	return out
}

// median is the middle of ds (the mean of the two middle ones of an even
// count); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	base, err := ParseBase(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:    base,
		hc:      cfg.HTTPClient,
		auth:    cfg.Auth,
		limiter: cfg.Limiter,
		retry:   cfg.Retry.withDefaults(),
		header:  cfg.Header.Clone(),
		ua:      cfg.UserAgent,
		log:     cfg.Logger,
		stats:   cfg.Stats,
		red:     cfg.Redactor,
		now:     cfg.Now,
		sleep:   cfg.Sleep,

		maxBody:  cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes),
		maxSpool: cmp.Or(cfg.MaxSpoolBytes, DefaultMaxSpoolBytes),
	}
	// A copy: the caller's client may be shared, and only ours refuses
	// redirects off the base (below). Without one, no Timeout: Retry's
	// MaxAttempt and slow-body window bound every attempt.
	var hc http.Client
	if c.hc != nil {
		hc = *c.hc
	}
	hc.CheckRedirect = SameOriginRedirects(base, hc.CheckRedirect)
	c.hc = &hc
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.stats == nil {
		c.stats = &Stats{}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.limiter == nil {
		c.limiter = newLimiter(LimiterConfig{}, c.now, c.sleep)
	}
	return c, nil
}

// SameOriginRedirects returns a CheckRedirect that follows a redirect only
// to base's scheme, host and port, then defers to next (nil: Go's default of
// at most 10 redirects). Go forwards custom headers on a redirect (an API
// secret in X-LW-UAKS, a 307 re-sends a POST body) and keeps Authorization
// for another port of the same host, so a redirect anywhere else would hand
// the credentials to another server, or let its rows pass as the API's.
func SameOriginRedirects(base *url.URL, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !strings.EqualFold(req.URL.Scheme, base.Scheme) || !sameHost(req.URL, base) {
			return fmt.Errorf("%w: refusing a redirect from %s://%s%s to %s://%s", ErrForeignURL,
				via[0].URL.Scheme, via[0].URL.Host, via[0].URL.Path, req.URL.Scheme, req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// ParseBase checks an API base URL: http or https, a host, no user info.
func ParseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("API base URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("API base URL %q: want http(s)://host[:port], without user info", u.Redacted())
	}
	return u, nil
}

// Base returns the configured base URL.
func (c *Client) Base() *url.URL { u := *c.base; return &u }

// Stats returns the client's counters.
func (c *Client) Stats() *Stats { return c.stats }

// Request is one API call. Exactly one of Path and URL is set.
type Request struct {
	Method string
	Path   string     // relative to the base URL, e.g. "/api/v2/UserProfile"
	Query  url.Values // added to Path
	URL    string     // absolute or relative URL (next pages); must be on the base host
	Header http.Header
	Body   []byte // sent on every attempt; nil for none
	Bucket string // rate-limit bucket; default Method+" "+Path

	// maxBytes, when > 0, fails a 2xx response whose Content-Length is
	// larger before any of it is read (set by JSON and Spool).
	maxBytes int64
}

// Resolve returns the absolute URL of ref if it is on the base's scheme and
// host, and ErrForeignURL otherwise.
func (c *Client) Resolve(ref string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrForeignURL, err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: %q carries user info", ErrForeignURL, u.Redacted())
	}
	abs := c.base.ResolveReference(u)
	if !strings.EqualFold(abs.Scheme, c.base.Scheme) || !sameHost(abs, c.base) {
		return nil, fmt.Errorf("%w: %s://%s is not %s://%s", ErrForeignURL, abs.Scheme, abs.Host, c.base.Scheme, c.base.Host)
	}
	return abs, nil
}

func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func (c *Client) target(r Request) (*url.URL, error) {
	if r.URL != "" {
		return c.Resolve(r.URL)
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + r.Path
	u.RawPath = ""
	if len(r.Query) > 0 {
		u.RawQuery = r.Query.Encode()
	}
	return &u, nil
}

// Do sends r, retrying as the package documents, and hands a 2xx response body
// to read. read is called once per attempt that got a 2xx status and must
// start from scratch each time: when it fails while reading (a dropped
// connection), the request is retried. An error read returns that is not a
// transport error ends the call.
//
// Server text in the error (an API's message, a redirect's host) has the
// Config.Redactor's values replaced; errors.Is and errors.As still see the
// whole chain.
func (c *Client) Do(ctx context.Context, r Request, read func(io.Reader) error) error {
	return c.red.Error(c.do(ctx, r, read))
}

func (c *Client) do(ctx context.Context, r Request, read func(io.Reader) error) error {
	u, err := c.target(r)
	if err != nil {
		return err
	}
	bucket := r.Bucket
	if bucket == "" {
		bucket = r.Method + " " + u.Path
	}
	log := c.log.With("method", r.Method, "path", u.Path, "bucket", bucket)
	start := c.now()
	refreshed := false
	var last error
	for attempt, waits := 1, 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		retryIn, err := c.attempt(ctx, r, u, bucket, start, read, &refreshed)
		if err == nil {
			return nil
		}
		if retryIn < 0 { // permanent
			return err
		}
		last = err
		if StatusOf(err) == http.StatusTooManyRequests || StatusOf(err) == http.StatusUnauthorized {
			// A rate-limit wait or a token refresh is not a failed try: the
			// elapsed-time bound below still ends a server that never relents.
			attempt--
			if waits++; waits > 1000 {
				return fmt.Errorf("%s %s: %w: too many rate-limit responses: %w", r.Method, u.Path, ErrRetriesExhausted, last)
			}
		}
		if attempt >= c.retry.MaxAttempts {
			return fmt.Errorf("%s %s: %w after %d attempts: %w", r.Method, u.Path, ErrRetriesExhausted, attempt, last)
		}
		asked := serverWait(last)
		if retryIn == 0 {
			retryIn = c.backoff(attempt)
		}
		why := "the next try is due"
		if asked != "" {
			why = "the server asked to wait (" + asked + ")"
		}
		// The run's deadline first: it names the budget the user set.
		if err := beyondDeadline(ctx, c.now(), retryIn, why); err != nil {
			return fmt.Errorf("%s %s: %w: %w", r.Method, u.Path, err, last)
		}
		if c.now().Add(retryIn).Sub(start) > c.retry.MaxElapsed {
			if asked != "" {
				return fmt.Errorf("%s %s: %w: the server asked to wait %s (%s), past the request's %s retry budget: %w",
					r.Method, u.Path, ErrWaitTooLong, retryIn.Round(time.Second), asked, c.retry.MaxElapsed, last)
			}
			return fmt.Errorf("%s %s: %w: next try would pass the %s limit: %w", r.Method, u.Path, ErrRetriesExhausted, c.retry.MaxElapsed, last)
		}
		c.stats.Retries.Add(1)
		log.Debug("retrying", "attempt", attempt, "retry_in", retryIn, "err", c.red.Error(err))
		if err := c.sleep(ctx, retryIn); err != nil {
			return err
		}
	}
}

// backoff is exponential with full jitter: uniform in [0, min(max, base·2ⁿ)).
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.retry.BaseDelay << min(attempt-1, 20)
	if ceil > c.retry.MaxDelay || ceil <= 0 {
		ceil = c.retry.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(ceil))) + time.Millisecond
}

// attempt sends r once. It returns retryIn < 0 for a permanent error, 0 for
// "retry after backoff" and > 0 for "retry after exactly this long"; the
// limiter already holds the bucket for that long, so the sleep and the
// limiter agree.
func (c *Client) attempt(ctx context.Context, r Request, u *url.URL, bucket string, start time.Time, read func(io.Reader) error, refreshed *bool) (time.Duration, error) {
	left := max(c.retry.MaxElapsed-c.now().Sub(start), 0)
	release, err := c.limiter.acquire(ctx, bucket, left, c.retry.MaxElapsed)
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", r.Method, u.Path, err)
	}
	defer release()

	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	// The attempt's own context: ended by the per-attempt ceiling, by the
	// slow-body watchdog, or when the attempt returns. Its cause says why.
	// Our choice: at least a second, so that the last moments of a budget
	// still get a real try rather than an instant failure.
	left = max(c.retry.MaxElapsed-c.now().Sub(start), 0)
	ceiling := min(c.retry.MaxAttempt, max(left, time.Second))
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	why := fmt.Sprintf("the per-attempt limit is %s", c.retry.MaxAttempt)
	if ceiling < c.retry.MaxAttempt {
		why = fmt.Sprintf("what was left of the request's %s budget", c.retry.MaxElapsed)
	}
	actx, stop := context.WithTimeoutCause(actx, ceiling, fmt.Errorf("%w: not complete %s after the request (%s)", ErrSlowResponse, ceiling.Round(time.Second), why))
	defer stop()
	req, err := http.NewRequestWithContext(actx, r.Method, u.String(), body)
	if err != nil {
		return -1, fmt.Errorf("build request %s %s: %w", r.Method, u.Path, err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if r.Body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	var cred string
	if c.auth != nil {
		if cred, err = c.auth.Authorize(ctx, req); err != nil {
			return -1, err
		}
	}

	c.stats.Requests.Add(1)
	t0 := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		if cause := context.Cause(actx); actx.Err() != nil {
			c.stats.NetErrors.Add(1)
			return 0, fmt.Errorf("%s %s: %w", r.Method, u.Path, cause)
		}
		if ue := (*url.Error)(nil); errors.As(err, &ue) && errors.Is(ue.Err, ErrForeignURL) {
			// ue names the redirect's whole URL; ue.Err names origins only.
			return -1, fmt.Errorf("%s %s: %w", r.Method, u.Path, ue.Err)
		}
		c.stats.NetErrors.Add(1)
		if de := (*net.DNSError)(nil); errors.As(err, &de) && de.IsNotFound {
			// The name does not exist: asking again will not make it.
			return -1, fmt.Errorf("%s %s: %w: %s (check the configured account or API URL)", r.Method, u.Path, ErrNoSuchHost, de.Name)
		}
		return 0, fmt.Errorf("%s %s: %w", r.Method, u.Path, err)
	}
	defer resp.Body.Close()
	guarded := &speedGuard{r: resp.Body, now: c.now, sent: t0, windowStart: c.now(), retry: c.retry}
	go guarded.watch(actx, cancel)
	counted := &countingReader{r: guarded, n: &c.stats.BytesIn}
	block := c.limiter.Observe(bucket, resp.StatusCode, resp.Header)
	c.log.Debug("response", "method", r.Method, "path", u.Path, "status", resp.StatusCode, "duration", c.now().Sub(t0))

	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		if r.maxBytes > 0 && resp.ContentLength > r.maxBytes {
			return -1, fmt.Errorf("%s %s: %w: Content-Length %d, the limit is %s", r.Method, u.Path, ErrTooLarge, resp.ContentLength, byteSize(r.maxBytes))
		}
		// Go's transport asks for gzip and decompresses it itself unless
		// the request names an encoding; a body encoded anyway (a proxy, a
		// transport with DisableCompression) would reach the decoder as
		// binary and its size limit would count compressed bytes.
		if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") &&
			!resp.Uncompressed && req.Header.Get("Accept-Encoding") == "" {
			return -1, fmt.Errorf("%s %s: the server sent a body with Content-Encoding %q, which was not asked for", r.Method, u.Path, c.red.Redact(ce))
		}
		if err := read(counted); err != nil {
			if ctx.Err() != nil {
				return -1, ctx.Err()
			}
			if cause := context.Cause(actx); actx.Err() != nil {
				// The reader saw the cancellation ("context canceled");
				// the cause is what the caller needs.
				c.stats.NetErrors.Add(1)
				return 0, fmt.Errorf("%s %s: reading response: %w", r.Method, u.Path, cause)
			}
			if isTransport(err) {
				c.stats.NetErrors.Add(1)
				return 0, fmt.Errorf("%s %s: reading response: %w", r.Method, u.Path, err)
			}
			return -1, err
		}
		c.stats.observe(bucket, c.now().Sub(t0))
		return 0, nil
	case s == http.StatusUnauthorized && c.auth != nil && !*refreshed:
		*refreshed = true
		c.auth.Invalidate(cred)
		_, _ = io.Copy(io.Discard, io.LimitReader(counted, 64<<10))
		return time.Millisecond, c.apiError(r, u, resp, nil)
	default:
		apiErr := c.apiError(r, u, resp, counted)
		switch {
		case s == http.StatusTooManyRequests:
			c.stats.RateLimited.Add(1)
			c.log.Info("rate limited", "path", u.Path, "bucket", bucket, "retry_in", block)
			return max(block, time.Millisecond), apiErr
		case s >= 500:
			c.stats.ServerErrors.Add(1)
			return max(apiErr.RetryAfter, 0), apiErr
		}
		return -1, apiErr
	}
}

func (c *Client) apiError(r Request, u *url.URL, resp *http.Response, body io.Reader) *APIError {
	// Every string here is the server's: a hostile or careless one may
	// echo the request's headers (the API secret, the bearer token) in any
	// of them, and the error reaches logs and the pack's manifest.
	e := &APIError{
		Method:     r.Method,
		Path:       u.Path,
		Status:     resp.StatusCode,
		RequestID:  c.red.Redact(firstHeader(resp.Header, "X-Request-Id", "X-Amzn-Requestid", "Request-Id", "X-Correlation-Id")),
		RetryAfter: RetryAfter(resp.Header, c.now()),
	}
	for _, h := range []string{"Retry-After", "RateLimit-Reset"} {
		if v := resp.Header.Get(h); v != "" {
			e.Wait = c.red.Redact(h + ": " + v)
			break
		}
	}
	if body != nil {
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		msg := errorMessage(b)
		if msg == "" {
			msg = plainMessage(resp.Header.Get("Content-Type"), b)
		}
		e.Message = c.red.Redact(msg)
	}
	return e
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// isTransport tells errors of the connection from errors of the caller's
// decoding: only the former are worth a retry.
func isTransport(err error) bool {
	return errors.Is(err, errTransport) || errors.Is(err, io.ErrUnexpectedEOF)
}

// errTransport marks errors of the underlying reader when a decoder hides them.
var errTransport = errors.New("transport")

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", errTransport, err)
	}
	return n, err
}

// serverWait is the server's own rate-limit words in err, if any.
func serverWait(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Wait
	}
	return ""
}

// speedGuard fails a response body that arrives too slowly (see Retry): its
// errors reach the caller through countingReader as transport errors, so the
// attempt is retried within the request's bounds.
type speedGuard struct {
	r           io.Reader
	now         func() time.Time
	sent        time.Time // when the request went out
	windowStart time.Time
	inWindow    int64
	retry       Retry
	total       atomic.Int64 // bytes read, for watch
}

// watch ends the attempt (cancel, with the reason as its cause) when a
// SlowWindow passes with under SlowBytes read. Read checks the same bound,
// but only when the body returns something: a server that stops sending
// altogether holds Read until the HTTP client's timeout, if it has one.
// Cancelling the request's context makes the transport close the
// connection, and the blocked Read return. watch returns when ctx ends.
func (g *speedGuard) watch(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(g.retry.SlowWindow)
	defer t.Stop()
	var seen int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n := g.total.Load()
			if n-seen < g.retry.SlowBytes {
				cancel(fmt.Errorf("%w: %d bytes of the body in %s (at least %d expected)", ErrSlowResponse, n-seen, g.retry.SlowWindow, g.retry.SlowBytes))
				return
			}
			seen = n
		}
	}
}

func (g *speedGuard) Read(p []byte) (int, error) {
	if d := g.now().Sub(g.sent); d > g.retry.MaxAttempt {
		return 0, fmt.Errorf("%w: not complete %s after the request (the per-attempt limit is %s)", ErrSlowResponse, d.Round(time.Second), g.retry.MaxAttempt)
	}
	n, err := g.r.Read(p)
	g.inWindow += int64(n)
	g.total.Add(int64(n))
	if now := g.now(); now.Sub(g.windowStart) >= g.retry.SlowWindow {
		if g.inWindow < g.retry.SlowBytes && err == nil {
			return n, fmt.Errorf("%w: %d bytes of the body in %s (at least %d expected)", ErrSlowResponse, g.inWindow, now.Sub(g.windowStart).Round(time.Second), g.retry.SlowBytes)
		}
		g.windowStart, g.inWindow = now, 0
	}
	return n, err
}
