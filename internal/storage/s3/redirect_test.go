package s3_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
)

// An endpoint that answers with a 307 to another server never gets the
// request sent there: the SDK's own client follows a 307 to any host (a
// read would return the other server's bytes as the evidence; an upload
// with a re-readable body would send the evidence and its signed headers
// there). The refusal is not retried, and names both origins without the
// query string.
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
	var mu sync.Mutex
	redirected := map[string]int{} // method: requests redirected
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "redirected") {
			mu.Lock()
			redirected[r.Method]++
			mu.Unlock()
			_, _ = io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, other.URL+r.URL.Path+"?secret-query=1", http.StatusTemporaryRedirect)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()

	cfg := g.config(g.bucket(t, false))
	cfg.Endpoint = front.URL // the SDK's default retries (3 attempts)
	s := g.store(t, cfg)
	if _, err := s.Put(t.Context(), "acme/evidence.txt", strings.NewReader("evidence"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"Get", func() error {
			// The object exists on the gateway under the redirected key's
			// twin; the front redirects every request naming "redirected".
			rc, err := s.Get(t.Context(), "acme/redirected.txt")
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			return err
		}},
		{"Put", func() error {
			_, err := s.Put(t.Context(), "acme/redirected.txt", strings.NewReader("evidence"), storage.PutOptions{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			clear(redirected)
			mu.Unlock()
			err := tc.do()
			if err == nil || !strings.Contains(err.Error(), "refusing a redirect") {
				t.Fatalf("err = %v, want the redirect refused", err)
			}
			if !strings.Contains(err.Error(), front.URL) || !strings.Contains(err.Error(), other.URL) || strings.Contains(err.Error(), "secret-query") {
				t.Errorf("err = %v, want both origins named, without the query", err)
			}
			// (A failed Put checks with a HEAD whether its object exists:
			// another request, not a retry.)
			mu.Lock()
			defer mu.Unlock()
			for m, n := range redirected {
				if n != 1 {
					t.Errorf("the endpoint got %d redirected %s requests: a refused redirect is not retried", n, m)
				}
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("the other server got %d requests", n)
			}
		})
	}
}
