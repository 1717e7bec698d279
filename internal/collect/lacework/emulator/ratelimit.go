package emulator

import (
	"math"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// nominalLimit is the documented limit ("480 API requests per hour per
// user"), reported in RateLimit-Limit when Faults.RateLimit is 0 (unlimited).
const nominalLimit = 480

// bucket is one token bucket of a (key id, functionality) pair. It holds
// Faults.RateLimit tokens, refilled continuously over Faults.RateWindow.
type bucket struct {
	tokens  float64
	last    time.Time
	blocked time.Time // requests before this instant are violations
}

// rateState is what the RateLimit-* headers report.
type rateState struct {
	limit     int
	remaining int
	reset     int // seconds until a token is available when remaining is 0
}

// bucketLocked returns the named bucket, refilled to now. s.mu must be held.
func (s *Server) bucketLocked(name string, now time.Time) *bucket {
	limit := float64(s.cfg.Faults.RateLimit)
	b := s.buckets[name]
	if b == nil {
		b = &bucket{tokens: limit, last: now}
		s.buckets[name] = b
		return b
	}
	if limit > 0 && now.After(b.last) {
		rate := limit / s.cfg.Faults.RateWindow.Seconds()
		b.tokens = math.Min(limit, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	if now.After(b.last) {
		b.last = now
	}
	return b
}

// untilToken is the time until the bucket holds one whole token.
func (s *Server) untilToken(b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	rate := float64(s.cfg.Faults.RateLimit) / s.cfg.Faults.RateWindow.Seconds()
	return time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second)))
}

func (s *Server) stateLocked(b *bucket) rateState {
	if s.cfg.Faults.RateLimit <= 0 {
		return rateState{limit: nominalLimit, remaining: nominalLimit}
	}
	st := rateState{limit: s.cfg.Faults.RateLimit, remaining: int(math.Floor(b.tokens))}
	if st.remaining <= 0 {
		st.remaining = 0
		st.reset = emulatorkit.CeilSeconds(s.untilToken(b))
	}
	return st
}

// take spends one token of the named bucket at (real) time now. retryAfter
// > 0 means the request must be answered 429 with that Retry-After: the
// bucket is empty (it is then blocked until a token is available) or was
// already blocked (violation).
func (s *Server) take(name string, now time.Time) (st rateState, retryAfter int, violation bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bucketLocked(name, now)
	if now.Before(b.blocked) {
		return s.stateLocked(b), emulatorkit.CeilSeconds(b.blocked.Sub(now)), true
	}
	if s.cfg.Faults.RateLimit <= 0 {
		return s.stateLocked(b), 0, false
	}
	if b.tokens < 1 {
		wait := s.untilToken(b)
		b.blocked = now.Add(wait)
		return s.stateLocked(b), emulatorkit.CeilSeconds(wait), false
	}
	b.tokens--
	return s.stateLocked(b), 0, false
}

// block makes the named bucket refuse requests until the given instant.
func (s *Server) block(name string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bucketLocked(name, s.cfg.Clock())
	if until.After(b.blocked) {
		b.blocked = until
	}
}

// peek reports a bucket's state without spending a token. An empty name
// (no functionality) reports a full bucket.
func (s *Server) peek(name string) rateState { return s.peekAt(name, s.cfg.Clock()) }

func (s *Server) peekAt(name string, now time.Time) rateState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		return s.stateLocked(&bucket{tokens: float64(s.cfg.Faults.RateLimit)})
	}
	return s.stateLocked(s.bucketLocked(name, now))
}
