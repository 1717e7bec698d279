// Package httpxtest holds test helpers shared by the API clients' tests.
package httpxtest

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
)

// SyncBuffer is a bytes.Buffer safe for concurrent use, for a test's log
// handler.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// AuthRecorder is an http.RoundTripper that remembers every bearer token
// sent through it, so a test can prove no token reaches logs or errors.
type AuthRecorder struct {
	Next http.RoundTripper // nil: http.DefaultTransport

	mu     sync.Mutex
	tokens map[string]bool
}

func (a *AuthRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		a.mu.Lock()
		if a.tokens == nil {
			a.tokens = map[string]bool{}
		}
		a.tokens[tok] = true
		a.mu.Unlock()
	}
	next := a.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// Tokens returns the distinct bearer tokens sent so far.
func (a *AuthRecorder) Tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.tokens))
	for tok := range a.tokens {
		out = append(out, tok)
	}
	return out
}
