package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
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

// ErrNoSuchHost means the API's host name does not exist (DNS answered
// that it has no such name): a misspelled account or URL, never retried.
var ErrNoSuchHost = errors.New("no such host")

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

// maxPlainMessage bounds the text plainMessage keeps of a body.
const maxPlainMessage = 500

// plainMessage returns a text/plain error body as a message: some APIs
// answer a 400 with the bare sentence ("Account Ids 1 not found") instead
// of a JSON body. Only a text/plain body is read (never HTML from a
// proxy); it is trimmed, put on one line (control characters become
// spaces), cut to maxPlainMessage bytes, and "" when not valid UTF-8.
func plainMessage(contentType string, body []byte) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "text/plain" || !utf8.Valid(body) {
		return ""
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, string(body))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxPlainMessage {
		s = strings.ToValidUTF8(s[:maxPlainMessage], "") + "…"
	}
	return s
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
