package edge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/edge"
	"github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// Endless continuation tokens end the list: an empty page naming a next one
// at once, a page of padding past the value budget at once.
func TestListCannotRunAway(t *testing.T) {
	for _, tc := range []struct {
		name string
		page func(n int) string
		want string
	}{
		{"empty pages with new tokens", func(n int) string {
			return fmt.Sprintf(`{"users":[],"continuation_token":"t%d"}`, n)
		}, "empty page with a continuation_token"},
		{"padding past the value budget", func(n int) string {
			return `{"users":` + strings.Repeat(" ", httpx.DefaultMaxValueBytes+1<<20) + `[]}`
		}, "passes 32 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := emulator.New(emulator.Config{Now: func() time.Time { return now }})
			var served atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/users" {
					emu.ServeHTTP(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tc.page(int(served.Add(1)))))
			}))
			defer srv.Close()
			c, err := edge.New(edge.Credentials{BaseURL: srv.URL, Account: emu.Account(), APIToken: emulator.DefaultAPIToken},
				edge.Options{Options: httpx.Options{Now: func() time.Time { return now }, SpoolDir: t.TempDir()}, Limits: edge.Limits{RequestsPerHour: -1}})
			if err != nil {
				t.Fatal(err)
			}
			var gotErr error
			for _, err := range c.Users(context.Background(), nil) {
				if err != nil {
					gotErr = err
					break
				}
			}
			if gotErr == nil || !strings.Contains(gotErr.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", gotErr, tc.want)
			}
			if n := served.Load(); n != 1 {
				t.Errorf("%d pages served, want 1", n)
			}
		})
	}
}
