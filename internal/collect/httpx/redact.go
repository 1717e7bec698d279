package httpx

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Redactor removes known secret values (API secrets, key ids, bearer tokens)
// from text that came from a server, or that may quote one: an API's error
// body may echo the request's headers, and that text then reaches logs,
// manifest.json and summary.pdf. A source registers every credential it
// holds and every token it obtains; the pipeline passes all text of server
// origin through Redact before it logs or stores it.
//
// A nil *Redactor redacts nothing. It is safe for concurrent use.
type Redactor struct {
	mu     sync.RWMutex
	values []string // longest first, so a value containing another is removed whole
}

// NewRedactor returns an empty Redactor.
func NewRedactor() *Redactor { return &Redactor{} }

// minRedactLen is the shortest value worth redacting: shorter ones (a test
// fixture's "k", an empty string) would blank ordinary words.
const minRedactLen = 6

// Redacted replaces every registered value.
const Redacted = "[redacted]"

// Add registers values, with the forms a server may echo them in: as sent,
// URL-encoded, JSON-escaped, and base64 (Basic credentials, tokens in
// encoded blobs). Values shorter than 6 bytes are ignored.
func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	var forms []string
	for _, v := range values {
		if len(v) < minRedactLen {
			continue
		}
		forms = append(forms, v, url.QueryEscape(v), url.PathEscape(v), base64.StdEncoding.EncodeToString([]byte(v)),
			base64.RawURLEncoding.EncodeToString([]byte(v)))
		if b, err := json.Marshal(v); err == nil {
			forms = append(forms, string(b[1:len(b)-1]))
		}
	}
	if len(forms) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range forms {
		if !slices.Contains(r.values, f) {
			r.values = append(r.values, f)
		}
	}
	slices.SortStableFunc(r.values, func(a, b string) int { return len(b) - len(a) })
}

// AddBasic registers the credential of an HTTP Basic login: the user, the
// password and their "user:password" base64 form.
func (r *Redactor) AddBasic(user, password string) {
	r.Add(user, password, user+":"+password)
}

// Redact returns s with every registered value replaced by "[redacted]".
func (r *Redactor) Redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// Error returns err with its text redacted, or err itself when nothing in it
// is secret (so errors.Is and errors.As keep working in the common case). A
// redacted error keeps its chain: Unwrap returns err.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.Redact(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Handler wraps h so that the message and every string, error and
// Stringer attribute of a record is redacted before h sees it.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	if r == nil {
		return h
	}
	return &redactHandler{h: h, r: r}
}

type redactHandler struct {
	h slog.Handler
	r *Redactor
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &redactHandler{h: h.h.WithAttrs(red), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{h: h.h.WithGroup(name), r: h.r}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.r.Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.r.Redact(x.String()))
		case []byte:
			return slog.String(a.Key, h.r.Redact(string(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
