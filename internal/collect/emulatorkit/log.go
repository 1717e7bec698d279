package emulatorkit

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Entry is what every emulator's request log records of a request. An
// emulator's Request type embeds it, adding fields of its own, and documents
// the values of PageID and Fault its API produces.
type Entry struct {
	Time      time.Time // arrival (real clock)
	Method    string
	Path      string
	RawQuery  string
	PageID    string // identifies a page of a paged result; "" for other requests
	Status    int    // status sent; 0 when the connection was dropped before any byte
	Completed bool   // a 2xx body was written in full
	Violation bool   // arrived while its rate-limit scope was blocked by a Retry-After
	Fault     string // injected faults, comma-separated ("500", "429", "drop-mid", ...)
}

// NewEntry starts the log entry of r, stamped with the real clock.
func NewEntry(r *http.Request) Entry {
	return Entry{Time: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
}

// AddFault appends an injected fault to e.Fault.
func (e *Entry) AddFault(f string) {
	if e.Fault == "" {
		e.Fault = f
	} else {
		e.Fault += "," + f
	}
}

func (e *Entry) entry() *Entry { return e }

// Record is satisfied by a pointer to any struct that embeds Entry.
type Record[R any] interface {
	*R
	entry() *Entry
}

// settleTimeout bounds how long the log accessors wait for responses in
// flight: a client that stops reading must not block them forever.
const settleTimeout = 2 * time.Second

// Log is an emulator's request log: the entries in completion order, how
// often each page was served in full, and the responses being written but
// not logged yet. Instantiate it with the emulator's request type, e.g.
// Log[Request, *Request]. The zero value is an empty log; a Log is safe for
// concurrent use and must not be copied.
//
// A request goes through it as: Write (or Drop) marks the entry in flight
// as the response starts, then Record logs it when the handler is done. The
// accessors (Requests, Violations, DuplicatePages) first wait for the
// responses in flight, so a client that has just read a response finds it
// in the log.
type Log[R any, P Record[R]] struct {
	mu      sync.Mutex
	entries []R
	pages   map[string]int // completed page id -> times served
	writing map[*Entry]chan struct{}
	timeout time.Duration // settle bound; 0: settleTimeout
}

// Begin marks e as sending its response: from here on the client may see
// the response before e is logged.
func (l *Log[R, P]) Begin(e P) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.writing == nil {
		l.writing = map[*Entry]chan struct{}{}
	}
	l.writing[e.entry()] = make(chan struct{})
}

// Record appends the finished request e to the log (a copy of it).
func (l *Log[R, P]) Record(e P) {
	x := e.entry()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, *e)
	if x.Completed && x.PageID != "" {
		if l.pages == nil {
			l.pages = map[string]int{}
		}
		l.pages[x.PageID]++
	}
	if done, ok := l.writing[x]; ok {
		close(done)
		delete(l.writing, x)
	}
}

// Write sends status and body on w, whose headers the caller has set, and
// notes in e the status, the page id and whether a 2xx body was written in
// full. e is marked in flight; the caller records it when done.
func (l *Log[R, P]) Write(w http.ResponseWriter, e P, status int, body []byte, pageID string) {
	l.Begin(e)
	w.WriteHeader(status)
	n, err := w.Write(body)
	x := e.entry()
	x.Status = status
	x.PageID = pageID
	x.Completed = status/100 == 2 && err == nil && n == len(body)
}

// Requests returns a copy of the log, in completion order. Like Violations
// and DuplicatePages, it first waits (at most 2 s) for responses already
// being written.
func (l *Log[R, P]) Requests() []R {
	l.settle()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Violations returns the requests that arrived while a Retry-After block
// was in force for their scope.
func (l *Log[R, P]) Violations() []R {
	var v []R
	for _, r := range l.Requests() {
		if P(&r).entry().Violation {
			v = append(v, r)
		}
	}
	return v
}

// DuplicatePages returns, sorted, the page ids that were served completely
// (2xx, body written in full) more than once.
func (l *Log[R, P]) DuplicatePages() []string {
	l.settle()
	l.mu.Lock()
	defer l.mu.Unlock()
	var d []string
	for id, n := range l.pages {
		if n > 1 {
			d = append(d, id)
		}
	}
	slices.Sort(d)
	return d
}

// settle waits until the responses being written when it is called have
// been logged, at most the settle timeout. Responses started later are not
// waited for.
func (l *Log[R, P]) settle() {
	l.mu.Lock()
	pending := make([]chan struct{}, 0, len(l.writing))
	for _, ch := range l.writing {
		pending = append(pending, ch)
	}
	timeout := l.timeout
	l.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	if timeout <= 0 {
		timeout = settleTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for _, ch := range pending {
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}
