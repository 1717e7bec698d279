package lacework_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/period"
)

// hostilePages answers the compliance-evaluation search (and the next pages
// it names) with page(n) for the n-th page; everything else goes to the
// emulator. It counts the search's pages served.
func hostilePages(served *atomic.Int64, page func(n int, next string) any) func(http.Handler) http.Handler {
	return func(emu http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/api/v2/Configs/ComplianceEvaluations/search") && !strings.HasPrefix(r.URL.Path, "/hostile/") {
				emu.ServeHTTP(w, r)
				return
			}
			n := int(served.Add(1))
			next := fmt.Sprintf("http://%s/hostile/%d", r.Host, n+1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(page(n, next))
		})
	}
}

func rows(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"id": fmt.Sprintf("c%d", i), "status": "Compliant", "resource": fmt.Sprintf("arn:r%d", i)}
	}
	return out
}

// A result set is bounded by what its first page announced and by the
// document's limits: endless next pages, pages past totalRows, oversized
// pages and a short result all end the query with an error naming the
// numbers, after a bounded number of requests; none is called complete.
func TestPagingCannotRunAwayOrComeShort(t *testing.T) {
	for _, tc := range []struct {
		name      string
		page      func(n int, next string) any
		maxServed int64
		want      string
	}{
		{"endless unique next pages past totalRows", func(n int, next string) any {
			return map[string]any{"paging": map[string]any{"rows": 1, "totalRows": 3, "urls": map[string]any{"nextPage": next}}, "data": rows(1)}
		}, 4, "the API announced 3 rows (totalRows), page 4 brings the count past it"},
		{"endless empty next pages", func(n int, next string) any {
			return map[string]any{"paging": map[string]any{"rows": 0, "totalRows": 10, "urls": map[string]any{"nextPage": next}}, "data": rows(0)}
		}, 1, "page 1 is empty, yet names a next page"},
		{"short: 10 of 5000 rows and no next page", func(n int, next string) any {
			return map[string]any{"paging": map[string]any{"rows": 10, "totalRows": 5000, "urls": map[string]any{"nextPage": nil}}, "data": rows(10)}
		}, 1, "the API announced 5000 rows (totalRows), 10 were delivered in 1 pages"},
		{"a page over the documented 5,000 rows", func(n int, next string) any {
			return map[string]any{"paging": map[string]any{"rows": 5001, "totalRows": 5001, "urls": map[string]any{"nextPage": nil}}, "data": rows(5001)}
		}, 1, "page 1 holds more than 5000 rows, the API's documented page limit"},
		{"no data key", func(n int, next string) any {
			return map[string]any{"paging": map[string]any{"rows": 0, "totalRows": 0}}
		}, 1, `response has no "data"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var served atomic.Int64
			e := newEnv(t, emulator.Config{}, lacework.Options{}, hostilePages(&served, tc.page))
			var st httpx.QueryStats
			var got int
			var err error
			for _, e := range e.client.Evaluations(context.Background(), lacework.EvaluationQuery{Dataset: "AwsCompliance", Window: period.Window{From: day(21), To: day(22)}, Stats: &st}) {
				if e != nil {
					err = e
					break
				}
				got++
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("after %d rows: err = %v, want %q", got, err, tc.want)
			}
			if n := served.Load(); n > tc.maxServed {
				t.Errorf("%d pages served, want at most %d", n, tc.maxServed)
			}
		})
	}
}

// A 200 without the documented "data" envelope is an error, never an empty
// list: null UserProfile would drop every sub-account, {} CloudAccounts every
// report, null ReportDefinitions every framework.
func TestDiscoveryRefusesAMissingEnvelope(t *testing.T) {
	for _, path := range []string{"/api/v2/UserProfile", "/api/v2/CloudAccounts", "/api/v2/ReportDefinitions"} {
		for _, body := range []string{`null`, `{}`, `{"data":null}`} {
			t.Run(path+" "+body, func(t *testing.T) {
				e := newEnv(t, emulator.Config{}, lacework.Options{}, func(emu http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.URL.Path == path {
							w.Header().Set("Content-Type", "application/json")
							w.Write([]byte(body))
							return
						}
						emu.ServeHTTP(w, r)
					})
				})
				ctx := context.Background()
				var err error
				switch path {
				case "/api/v2/UserProfile":
					_, err = e.client.SubAccounts(ctx)
				case "/api/v2/CloudAccounts":
					_, err = e.client.Targets(ctx)
				default:
					_, err = e.client.Frameworks(ctx)
				}
				if !errors.Is(err, lacework.ErrNoEnvelope) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want ErrNoEnvelope naming %s", err, path)
				}
			})
		}
	}
}

// A report definition without an "enabled" key (go-sdk's user-created
// fixture has none) is a framework; an explicit 0 is not.
func TestReportDefinitionWithoutEnabledKey(t *testing.T) {
	body := `{"data":[
	 {"reportDefinitionGuid":"G1","reportName":"Custom AWS","displayName":"Custom AWS","reportType":"COMPLIANCE","subReportType":"AWS","createdBy":"someone@acme.com"},
	 {"reportDefinitionGuid":"G2","reportName":"Disabled AWS","displayName":"Disabled AWS","reportType":"COMPLIANCE","subReportType":"AWS","enabled":0}]}`
	e := newEnv(t, emulator.Config{}, lacework.Options{}, func(emu http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v2/ReportDefinitions" {
				w.Write([]byte(body))
				return
			}
			emu.ServeHTTP(w, r)
		})
	})
	fws, err := e.client.Frameworks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fws) != 1 || !strings.Contains(fmt.Sprint(fws[0]), "Custom AWS") {
		t.Errorf("frameworks %+v, want only the custom one", fws)
	}
}

// Org-Access: true makes the API ignore Account-Name (seed 000), so a
// sub-account's requests never carry both.
func TestOrgAccessNeverWithAccountName(t *testing.T) {
	var both atomic.Int64
	var orgOnly atomic.Int64
	e := newEnv(t, emulator.Config{}, lacework.Options{OrgAccess: true}, func(emu http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch org, name := r.Header.Get("Org-Access"), r.Header.Get("Account-Name"); {
			case org != "" && name != "":
				both.Add(1)
			case org != "":
				orgOnly.Add(1)
			}
			emu.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	if _, err := e.client.SubAccounts(ctx); err != nil {
		t.Fatal(err)
	}
	sub, err := e.client.SubAccount("acme-dev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Targets(ctx); err != nil {
		t.Fatal(err)
	}
	if both.Load() != 0 || orgOnly.Load() == 0 {
		t.Errorf("%d requests with both headers, %d with Org-Access alone", both.Load(), orgOnly.Load())
	}
}
