package httpx

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorRedact(t *testing.T) {
	const secret = `_s3cr3t+/value"x`
	const token = "eyJhbGciOi.token.part"
	r := NewRedactor()
	r.Add(secret, token, "short") // "short" is below the minimum length: ignored
	r.AddBasic("user-uuid-1", "basic-pass")

	for _, tc := range []struct{ name, in string }{
		{"raw", "echo: X-LW-UAKS: " + secret},
		{"bearer", "Authorization: Bearer " + token},
		{"url-encoded", "?secret=" + url.QueryEscape(secret)},
		{"json-escaped", `{"h":"` + strings.ReplaceAll(secret, `"`, `\"`) + `"}`},
		{"base64", "blob " + base64.StdEncoding.EncodeToString([]byte(secret))},
		{"basic", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("user-uuid-1:basic-pass"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Redact(tc.in)
			for _, leak := range []string{secret, token, "basic-pass", "user-uuid-1", url.QueryEscape(secret),
				base64.StdEncoding.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString([]byte("user-uuid-1:basic-pass"))} {
				if strings.Contains(got, leak) {
					t.Errorf("Redact(%q) = %q: still holds %q", tc.in, got, leak)
				}
			}
			if !strings.Contains(got, Redacted) {
				t.Errorf("Redact(%q) = %q: no %s marker", tc.in, got, Redacted)
			}
		})
	}
	if got := r.Redact("a short word"); got != "a short word" {
		t.Errorf("values under the minimum length must not be redacted: %q", got)
	}
	var nilR *Redactor
	if got := nilR.Redact(secret); got != secret {
		t.Errorf("nil Redactor changed text: %q", got)
	}
}

func TestRedactorErrorKeepsChain(t *testing.T) {
	r := NewRedactor()
	r.Add("tok-123456")
	base := &APIError{Method: "GET", Path: "/x", Status: 400, Message: "bad header Bearer tok-123456"}
	err := r.Error(fmt.Errorf("collect: %w", base))
	if strings.Contains(err.Error(), "tok-123456") {
		t.Fatalf("error still holds the token: %v", err)
	}
	if StatusOf(err) != 400 {
		t.Errorf("redacted error lost its chain: StatusOf = %d", StatusOf(err))
	}
	plain := errors.New("nothing secret")
	if r.Error(plain) != plain {
		t.Error("an error without secrets must be returned unchanged")
	}
}

func TestRedactorHandler(t *testing.T) {
	r := NewRedactor()
	r.Add("tok-abcdef")
	var buf bytes.Buffer
	log := slog.New(r.Handler(slog.NewJSONHandler(&buf, nil))).With("pre", "with tok-abcdef")
	log.Info("msg tok-abcdef", "s", "x tok-abcdef", "err", errors.New("e tok-abcdef"),
		slog.Group("g", "inner", "tok-abcdef"), "n", 3)
	out := buf.String()
	if strings.Contains(out, "tok-abcdef") {
		t.Fatalf("log line leaks the token: %s", out)
	}
	if strings.Count(out, Redacted) != 5 || !strings.Contains(out, `"n":3`) {
		t.Errorf("want 5 redactions and other attributes intact: %s", out)
	}
}
