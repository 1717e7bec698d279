package httpx

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limiter paces requests per functionality bucket. Each bucket is a token
// bucket (capacity Burst, refilled at PerHour/hour) that the server's own
// headers correct: RateLimit-Remaining replaces the local count, a 429 or a
// remaining count of zero blocks the bucket until Retry-After / RateLimit-Reset
// has passed. It also bounds how many requests of one bucket are in flight, so
// that no request is sent while another's 429 is still unread.
//
// One Limiter is shared by every client that uses the same credentials: the
// Lacework limit is per user, across sub-accounts.
type Limiter struct {
	perHour     float64
	burst       float64
	concurrency int
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens       float64
	last         time.Time
	blockedUntil time.Time
	blockedBy    string // the server's words that set blockedUntil ("Retry-After: 60")
	slots        chan struct{}
	waited       time.Duration
}

// LimiterConfig sets a Limiter's budget. Zero PerHour means unlimited
// (only server feedback paces).
type LimiterConfig struct {
	PerHour     int // tokens added per hour to each bucket
	Burst       int // bucket capacity; defaults to PerHour
	Concurrency int // requests of one bucket in flight at once; default 1
}

// NewLimiter returns a Limiter using the real clock.
func NewLimiter(cfg LimiterConfig) *Limiter {
	return newLimiter(cfg, time.Now, sleepCtx)
}

func newLimiter(cfg LimiterConfig, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	if cfg.Burst <= 0 {
		cfg.Burst = cfg.PerHour
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	return &Limiter{
		perHour:     float64(cfg.PerHour),
		burst:       float64(cfg.Burst),
		concurrency: cfg.Concurrency,
		now:         now,
		sleep:       sleep,
		buckets:     map[string]*bucket{},
	}
}

func (l *Limiter) get(name string) *bucket {
	b, ok := l.buckets[name]
	if !ok {
		b = &bucket{tokens: l.burst, last: l.now(), slots: make(chan struct{}, l.concurrency)}
		l.buckets[name] = b
	}
	return b
}

// Acquire waits until a request of bucket name may be sent and returns the
// function that releases its in-flight slot; call it after Observe. A wait
// that would end after ctx's deadline fails at once with ErrWaitTooLong,
// quoting the server's words when they set it.
func (l *Limiter) Acquire(ctx context.Context, name string) (release func(), err error) {
	return l.acquire(ctx, name, -1, 0)
}

// acquire is Acquire that also refuses a wait longer than left (unless
// negative), what remains of a request's retry budget of the given length.
// A duration, not a time: the caller's clock may not be the limiter's.
func (l *Limiter) acquire(ctx context.Context, name string, left, budget time.Duration) (release func(), err error) {
	l.mu.Lock()
	b := l.get(name)
	l.mu.Unlock()
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release = func() { <-b.slots }
	for {
		wait, words := l.reserve(b)
		if wait <= 0 {
			return release, nil
		}
		why := "rate-limit bucket " + name + ": the local budget has no token left"
		if words != "" {
			why = "rate-limit bucket " + name + ": the server asked to wait (" + words + ")"
		}
		now := l.now()
		// The run's deadline first: it names the budget the user set.
		if err := beyondDeadline(ctx, now, wait, why); err != nil {
			release()
			return nil, err
		}
		if left >= 0 && wait > left {
			release()
			return nil, fmt.Errorf("%w: %s for %s, beyond the request's %s retry budget (%s left)",
				ErrWaitTooLong, why, wait.Round(time.Second), budget, left.Round(time.Second))
		}
		if err := l.sleep(ctx, wait); err != nil {
			release()
			return nil, err
		}
		if left >= 0 {
			left -= wait
		}
	}
}

// reserve takes a token and returns 0, or returns how long to wait first
// and, when the server's headers set that wait, their words.
func (l *Limiter) reserve(b *bucket) (time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(b.blockedUntil) {
		d := b.blockedUntil.Sub(now)
		b.waited += d
		return d, b.blockedBy
	}
	if l.perHour <= 0 {
		return 0, ""
	}
	rate := l.perHour / 3600 // tokens per second
	if now.After(b.last) {
		if b.tokens < l.burst { // the server may have granted more than our burst
			b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*rate)
		}
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, ""
	}
	d := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	b.waited += d
	return max(d, time.Millisecond), ""
}

// Observe feeds a response's rate-limit headers back into bucket name and
// returns how long the bucket is now blocked (0 when it is not).
func (l *Limiter) Observe(name string, status int, h http.Header) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(name)
	now := l.now()
	reset, hasReset := seconds(h.Get("RateLimit-Reset"))
	if rem, err := strconv.Atoi(h.Get("RateLimit-Remaining")); err == nil && rem >= 0 {
		// The server's count is the truth, up or down: it knows about
		// other clients of the same key, and refills we did not see.
		b.tokens = float64(rem)
		if now.After(b.last) {
			b.last = now
		}
		if rem == 0 && hasReset {
			b.block(now.Add(reset), "RateLimit-Remaining: 0, RateLimit-Reset: "+h.Get("RateLimit-Reset"))
		}
	}
	if status == http.StatusTooManyRequests {
		d, words := RetryAfter(h, now), "Retry-After: "+h.Get("Retry-After")
		if d <= 0 {
			d, words = reset, "RateLimit-Reset: "+h.Get("RateLimit-Reset")
		}
		if d <= 0 {
			d, words = time.Second, "" // a 429 with no hint still means "not now"
		}
		b.block(now.Add(d), words)
	}
	if now.Before(b.blockedUntil) {
		return b.blockedUntil.Sub(now)
	}
	return 0
}

// block stops the bucket until the given time, when the server's bucket has
// room for one more request again.
func (b *bucket) block(until time.Time, words string) {
	if until.After(b.blockedUntil) {
		b.blockedUntil = until
		b.blockedBy = words
		b.tokens = 1
		b.last = until
	}
}

// Waited returns the total time requests of bucket name spent waiting.
func (l *Limiter) Waited(name string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[name]; ok {
		return b.waited
	}
	return 0
}

// RetryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if d, ok := seconds(v); ok {
		return d
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// maxServerWait caps the waits servers ask for (100 years): longer values
// are kept as this, which every run's time budget refuses.
const maxServerWait = 100 * 365 * 24 * time.Hour

// seconds parses a non-negative integer or decimal number of seconds.
func seconds(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) {
		return 0, false
	}
	// Saturate instead of overflowing: a server asking for a billion
	// seconds means "not within this run", never "in a second".
	if f > maxServerWait.Seconds() {
		return maxServerWait, true
	}
	return time.Duration(f * float64(time.Second)), true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// beyondDeadline returns an ErrWaitTooLong error when waiting d from now
// would end after ctx's deadline (the run's time budget): such a wait is
// refused at once rather than slept through to a cancelled run.
func beyondDeadline(ctx context.Context, now time.Time, d time.Duration, why string) error {
	dl, ok := ctx.Deadline()
	if !ok || !now.Add(d).After(dl) {
		return nil
	}
	return fmt.Errorf("%w: %s for %s, beyond the run's time budget (deadline in %s)", ErrWaitTooLong, why, d.Round(time.Second), dl.Sub(now).Round(time.Second))
}
