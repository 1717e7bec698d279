package job

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// newRunLog is a tenant's logger: every record goes through red before
// deps' handler sees it, so a server's text quoting a credential is
// redacted in the log as it is in the pack.
func newRunLog(base *slog.Logger, red *httpx.Redactor) *slog.Logger {
	return slog.New(red.Handler(base.Handler()))
}

// recordingClient returns a copy of hc (nil: a client without Timeout, as
// httpx uses by default: its Retry bounds each attempt) whose transport adds the value of every
// credential header it sends to red: bearer tokens obtained at run time,
// API keys and Basic logins. The value is known to red before the request
// leaves, so a server that echoes the request's headers in its error body
// cannot get a secret past the redaction, whichever source or client sent
// it.
func recordingClient(hc *http.Client, red *httpx.Redactor) *http.Client {
	c := &http.Client{}
	if hc != nil {
		cp := *hc
		c = &cp
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = credentialRecorder{base: base, red: red}
	return c
}

type credentialRecorder struct {
	base http.RoundTripper
	red  *httpx.Redactor
}

func (t credentialRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	for name, vs := range req.Header {
		if !credentialHeader(name) {
			continue
		}
		for _, v := range vs {
			addCredential(t.red, v)
		}
	}
	return t.base.RoundTrip(req)
}

// credentialHeader reports whether a request header (canonical name)
// carries a credential in one of the sources' APIs.
func credentialHeader(name string) bool {
	switch name {
	case "Authorization", "Proxy-Authorization", "X-Lw-Uaks", "X-Api-Key", "Api-Key", "X-Auth-Token", "Cookie":
		return true
	}
	return false
}

// addCredential adds a header value, its token without the scheme
// ("Bearer", "Token") and, for Basic, the user and password.
func addCredential(red *httpx.Redactor, v string) {
	red.Add(v)
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return
	}
	cred = strings.TrimSpace(cred)
	red.Add(cred)
	if strings.EqualFold(scheme, "Basic") {
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if user, pass, ok := strings.Cut(string(b), ":"); ok {
				red.AddBasic(user, pass)
			}
		}
	}
}
