package emulatorkit

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Cadence says how often each fault is injected: every k-th request gets
// it; 0 (or less) never.
type Cadence struct {
	ExpireEvery    int // the request finds its session or token expired
	ErrorEvery     int // a 5xx, cycling 500, 502, 503
	RateLimitEvery int // a 429
	DropEvery      int // a dropped connection, alternating DropBefore and DropMid
	SlowEvery      int // a delayed response; independent of the others
}

// DropMode is how a connection is dropped.
type DropMode int

// Connection drops.
const (
	DropNone   DropMode = iota
	DropBefore          // before any byte of the response
	DropMid             // after the status line, the headers and half the body
)

// FaultPlan is what one request meets. Expire, Status and Drop exclude each
// other; when cadences coincide the precedence is expiry, 5xx, 429, drop.
type FaultPlan struct {
	Slow   bool
	Expire bool
	Status int // 500, 502, 503 or 429; 0 for none
	Drop   DropMode
}

// FaultCounter counts the requests that faults are injected into, so that a
// given request sequence meets the same faults. The zero value is ready; it
// is safe for concurrent use.
type FaultCounter struct {
	mu     sync.Mutex
	n      uint64 // requests counted
	errors uint64 // 5xx injected
	drops  uint64 // drops injected
}

// Next counts one request and returns its faults under c.
func (f *FaultCounter) Next(c Cadence) FaultPlan {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	every := func(k int) bool { return k > 0 && f.n%uint64(k) == 0 }
	p := FaultPlan{Slow: every(c.SlowEvery)}
	switch {
	case every(c.ExpireEvery):
		p.Expire = true
	case every(c.ErrorEvery):
		p.Status = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[f.errors%3]
		f.errors++
	case every(c.RateLimitEvery):
		p.Status = http.StatusTooManyRequests
	case every(c.DropEvery):
		p.Drop = DropBefore + DropMode(f.drops%2)
		f.drops++
	}
	return p
}

// Drop breaks the connection of w instead of sending status and body:
// before any byte (DropBefore), or after the status line, the headers and
// half of the body (DropMid). The caller has set the headers, with the full
// Content-Length. e notes the fault ("drop-before", "drop-mid") and, for
// DropMid, the status, and is marked in flight.
//
// When w can be hijacked (HTTP/1) the connection is closed and Drop
// returns; the caller records e as usual. Otherwise (HTTP/2) Drop records e
// and aborts the handler with panic(http.ErrAbortHandler).
func (l *Log[R, P]) Drop(w http.ResponseWriter, e P, status int, body []byte, mode DropMode) {
	x := e.entry()
	if mode == DropBefore {
		x.AddFault("drop-before")
	} else {
		x.AddFault("drop-mid")
		x.Status = status
	}
	l.Begin(e)
	if breakConn(w, status, body, mode) {
		return
	}
	l.Record(e)
	panic(http.ErrAbortHandler)
}

// breakConn hijacks w's connection, writes for DropMid the status line, the
// headers and half of body, and closes it. Where w cannot be hijacked it
// writes for DropMid the status and half of body through w, flushed, and
// returns false: the caller must abort the handler.
func breakConn(w http.ResponseWriter, status int, body []byte, mode DropMode) bool {
	half := body[:len(body)/2]
	h := w.Header()
	if hj, ok := w.(http.Hijacker); ok {
		if conn, brw, err := hj.Hijack(); err == nil {
			defer conn.Close()
			if mode == DropMid {
				fmt.Fprintf(brw, "HTTP/1.1 %03d %s\r\n", status, http.StatusText(status))
				h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
				_ = h.Write(brw)
				_, _ = brw.WriteString("\r\n")
				_, _ = brw.Write(half)
				_ = brw.Flush()
			}
			return true
		}
	}
	if mode == DropMid {
		w.WriteHeader(status)
		_, _ = w.Write(half)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	return false
}

// Blocks tracks Retry-After blocks by scope (an endpoint, an endpoint
// family, an operation): a request that arrives in its scope's block is a
// violation. The zero value is ready; it is safe for concurrent use.
type Blocks struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// Block blocks scope until the given instant; a block that already lasts
// longer stays.
func (b *Blocks) Block(scope string, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = map[string]time.Time{}
	}
	if until.After(b.until[scope]) {
		b.until[scope] = until
	}
}

// Remaining returns how long after now scope stays blocked; 0 when it is
// not blocked.
func (b *Blocks) Remaining(scope string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.until[scope]
	if !ok {
		return 0
	}
	if d := until.Sub(now); d > 0 {
		return d
	}
	delete(b.until, scope)
	return 0
}

// CeilSeconds rounds a positive duration up to whole seconds (so at least
// 1); 0 for d <= 0. It is the integer Retry-After of a wait.
func CeilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return max(1, int((d+time.Second-1)/time.Second))
}
