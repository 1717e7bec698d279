package s3_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
)

// An endpoint that answers with a 307 to another server never gets the
// request sent there: the SDK's own client follows a 307 to any host (a
// read would return the other server's bytes as the evidence; an upload
// with a re-readable body would send the evidence there).
func TestRedirectOffTheEndpointIsRefused(t *testing.T) {
	g := startGateway(t)
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer other.Close()
	target, err := url.Parse(g.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "evidence.txt") {
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()

	cfg := g.config(g.bucket(t, false))
	cfg.Endpoint = front.URL
	cfg.RetryMaxAttempts = 1
	s := g.store(t, cfg)
	if _, err := s.Put(t.Context(), "acme/evidence.txt", strings.NewReader("evidence"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(t.Context(), "acme/evidence.txt")
	if err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "refusing a redirect") {
		t.Fatalf("Get through a redirecting endpoint: err = %v, want the redirect refused", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other server got %d requests", n)
	}
}
