package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrForeignURL reports a URL (usually a next-page URL from a response) whose
// scheme or host is not the configured base. Such URLs are never fetched.
var ErrForeignURL = errors.New("URL is not on the configured API host")

// ErrWaitTooLong means the server asked for a wait (Retry-After,
// RateLimit-Reset) that ends after the run's deadline or the request's
// retry budget: the request fails at once instead of sleeping.
var ErrWaitTooLong = errors.New("the server asked to wait longer than the time left")

// ErrSlowResponse means an attempt's response arrived too slowly: under
// Retry.SlowBytes in a Retry.SlowWindow, or not whole within
// Retry.MaxAttempt (or what was left of Retry.MaxElapsed). Such an attempt
// is retried like a dropped connection.
var ErrSlowResponse = errors.New("response too slow")

// ErrRetriesExhausted wraps the last error when the retry budget is spent.
var ErrRetriesExhausted = errors.New("retries exhausted")

// APIError is a non-2xx response. Callers branch on it with errors.As.
type APIError struct {
	Method     string
	Path       string // path only: queries may be long, and are not secret but noisy
	Status     int
	Message    string // the API's own message, when the body carried one
	RequestID  string
	RetryAfter time.Duration
	// Wait quotes the server's own rate-limit words when it sent any
	// ("Retry-After: 604800"), for messages about a refused wait.
	Wait string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if t := http.StatusText(e.Status); t != "" {
		fmt.Fprintf(&b, " %s", t)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// StatusOf returns the HTTP status of the first *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// errorMessage finds the human message in the error-body shapes seen in the
// sources' APIs: {"message": …}, {"data": {"message": …}}, {"error": …},
// {"errors": [{"message": …}]}, {"errorMessage": …}. It returns "" when the
// body is not JSON or has none of them; the raw body is never returned, since
// it may be HTML from a proxy.
func errorMessage(body []byte) string {
	var v struct {
		Message      json.RawMessage `json:"message"`
		ErrorMessage string          `json:"errorMessage"`
		Error        json.RawMessage `json:"error"`
		Errors       []struct {
			Message string `json:"message"`
		} `json:"errors"`
		Data struct {
			Message       string `json:"message"`
			ErrorMsg      string `json:"ErrorMsg"`
			StatusMessage string `json:"statusMessage"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, raw := range []json.RawMessage{v.Message, v.Error} {
		if s := stringish(raw); s != "" {
			return s
		}
	}
	for _, s := range []string{v.ErrorMessage, v.Data.Message, v.Data.ErrorMsg, v.Data.StatusMessage} {
		if s != "" {
			return s
		}
	}
	for _, e := range v.Errors {
		if e.Message != "" {
			return e.Message
		}
	}
	return ""
}

// plainMessage is a text/plain error body as a one-line message: some APIs
// (Sophos Cloud Optix's 400s) answer in plain text what others put in JSON.
// Whitespace runs become one space, anything not printable is dropped, and
// it is cut at 300 characters. Only a body declared text/plain is read so
// (an HTML page from a proxy is not).
func plainMessage(body []byte) string {
	if !utf8.Valid(body) {
		return ""
	}
	s := strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, string(body))), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// stringish returns a JSON string's value, or the "message" of an object.
func stringish(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Message
	}
	return ""
}
