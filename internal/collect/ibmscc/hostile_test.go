package ibmscc_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/httpx"

	"github.com/evidence-pack/evidence/internal/collect/ibmscc"
	"github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
)

// A list is bounded by the totalCount it announced and the page size asked
// for; a short list and a page without "data" are errors, not complete.
func TestListPagingCannotRunAwayOrComeShort(t *testing.T) {
	row := `{"id":"r%d","name":"n","platform":"AWS","category":"c","lastSeen":1700000000}`
	for _, tc := range []struct {
		name      string
		page      func(n int) string
		maxServed int64
		want      string
		is        error // ibmscc.ErrPaging when nil
	}{
		{"endless pages: stops at totalCount", func(n int) string {
			return fmt.Sprintf(`{"data":[`+row+`],"totalCount":3}`, n)
		}, 3, "", nil},
		{"a page larger than asked for", func(n int) string {
			return fmt.Sprintf(`{"data":[`+row+`,`+row+`],"totalCount":3}`, n, n+100)
		}, 1, "more than 1 rows in a page of size 1", nil},
		{"short: empty page before totalCount", func(n int) string {
			if n == 1 {
				return fmt.Sprintf(`{"data":[`+row+`],"totalCount":5}`, n)
			}
			return `{"data":[],"totalCount":5}`
		}, 2, "the API announced 5 rows (totalCount), 1 were delivered", nil},
		{"no data key", func(int) string { return `{"totalCount":0}` }, 1, `response has no "data"`, nil},
		{"null body", func(int) string { return `null` }, 1, "not a JSON object", httpx.ErrDecode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var served atomic.Int64
			e := newEnv(t, emulator.Config{}, envOpts{limits: ibmscc.Limits{PageSize: 1}, wrap: func(emu http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/api/cspm/v1/inventory/resources" {
						emu.ServeHTTP(w, r)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(tc.page(int(served.Add(1)))))
				})
			}})
			rows, err := collect(e.client.Inventory(context.Background(), ibmscc.InventoryQuery{}))
			if tc.want == "" {
				if err != nil || len(rows) != 3 {
					t.Errorf("%d rows, err %v: want the 3 announced", len(rows), err)
				}
			} else if is := cmp.Or(tc.is, ibmscc.ErrPaging); !errors.Is(err, is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v with %q", err, is, tc.want)
			}
			if n := served.Load(); n > tc.maxServed {
				t.Errorf("%d pages served, want at most %d", n, tc.maxServed)
			}
		})
	}
}
