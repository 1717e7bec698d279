package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// A redirect off the configured scheme, host and port is never followed:
// not from a token POST (Go would re-send the secret header and, for a 307,
// the body), not from a data GET (the other host's rows would pass as the
// API's), not to another port of the same host (Go keeps Authorization
// there). A redirect within the API's own origin still works.
func TestRedirectsStayOnTheOrigin(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.WriteString(w, `{"data":[{"stolen":true}]}`)
	}))
	defer other.Close()
	otherURL, _ := url.Parse(other.URL)

	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token": // 307 keeps the method and body
			http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
		case "/data":
			http.Redirect(w, r, other.URL+"/data?x=1", http.StatusFound)
		case "/port": // same host name, other port
			http.Redirect(w, r, "http://localhost:"+otherURL.Port()+"/data", http.StatusFound)
		case "/moved": // same origin: fine
			http.Redirect(w, r, "/here", http.StatusMovedPermanently)
		case "/here":
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	defer api.Close()
	base := strings.Replace(api.URL, "127.0.0.1", "localhost", 1)

	for _, tc := range []struct {
		name, method, path string
	}{
		{"token POST 307", http.MethodPost, "/token"},
		{"data GET 302", http.MethodGet, "/data"},
		{"same host, other port", http.MethodGet, "/port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			c := newTestClient(t, base, clk, nil)
			h := http.Header{"X-Lw-Uaks": {"the-api-secret"}}
			var v any
			err := c.JSON(context.Background(), Request{Method: tc.method, Path: tc.path, Header: h, Body: []byte(`{"keyId":"k"}`)}, &v)
			if !errors.Is(err, ErrForeignURL) || !strings.Contains(err.Error(), "refusing a redirect") {
				t.Fatalf("err = %v, want a refused redirect", err)
			}
			if strings.Contains(err.Error(), "x=1") {
				t.Errorf("the error quotes the redirect's query: %v", err)
			}
			if n := c.Stats().Requests.Load(); n != 1 {
				t.Errorf("%d requests: a refused redirect is not retried", n)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other server got %d requests", n)
	}
	c := newTestClient(t, base, newFakeClock(), nil)
	var v struct{ OK bool }
	if err := c.JSON(context.Background(), Request{Method: http.MethodGet, Path: "/moved"}, &v); err != nil || !v.OK {
		t.Errorf("a same-origin redirect: %v %+v", err, v)
	}
	// The caller's client is not changed.
	shared := &http.Client{}
	if _, err := New(Config{BaseURL: base, HTTPClient: shared}); err != nil || shared.CheckRedirect != nil {
		t.Errorf("New changed the shared client: %v", err)
	}
}
