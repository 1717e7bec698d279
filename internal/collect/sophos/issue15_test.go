package sophos_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
)

// pagesAsked lists the page parameter of every request to path, in order,
// with the status it got ("0:400", "1:200").
func pagesAsked(e *env, path string) []string {
	var out []string
	for _, r := range e.emu.Requests() {
		if r.Path != path {
			continue
		}
		q, _ := url.ParseQuery(r.RawQuery)
		out = append(out, q.Get("page")+":"+http.StatusText(r.Status))
	}
	return out
}

// Seed 004 says serverless pages start at 0, and lists the 400 "Page
// number should be greater than 0": both answers are handled.
func TestServerlessFirstPage(t *testing.T) {
	tests := []struct {
		name    string
		fromOne bool
		want    []string // pages asked of AWS: 300 functions, 100 a page
	}{
		{"pages from 0 (documented start)", false, []string{"0:OK", "1:OK", "2:OK"}},
		{"page 0 refused: pages from 1", true, []string{"0:Bad Request", "1:OK", "2:OK", "3:OK"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 5, FunctionsPerEnvironment: 150, ServerlessPagesFromOne: tc.fromOne}, "", nil)
			var st httpx.QueryStats
			fs, err := collect(e.client.Serverless(context.Background(), sophos.InventoryQuery{Provider: "AWS", PageSize: 100, Stats: &st}))
			if err != nil {
				t.Fatal(err)
			}
			if want := e.emu.CountServerless("AWS"); len(fs) != want || want != 300 {
				t.Errorf("%d functions, emulator holds %d", len(fs), want)
			}
			if got := pagesAsked(e, sophos.PathServerless); !slices.Equal(got, tc.want) {
				t.Errorf("pages asked %v, want %v", got, tc.want)
			}
			if st.Pages != 3 {
				t.Errorf("%d pages counted, want 3", st.Pages)
			}
			e.checkClean(t)
		})
	}
	t.Run("other endpoints do not retry from 1", func(t *testing.T) {
		// Only serverless documents the message; a refused page 0 elsewhere
		// is an error.
		srv := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"errorMessage":"Page number should be greater than 0"}`))
			})
		}
		e := newEnv(t, emulator.Config{Seed: 5}, "", srv)
		_, err := collect(e.client.Hosts(context.Background(), sophos.InventoryQuery{Provider: "AWS"}))
		if !errors.Is(err, sophos.ErrInvalidQuery) {
			t.Errorf("err = %v, want ErrInvalidQuery", err)
		}
	})
}

// firstSeen and lastSeen decode to the same instants whether the emulator
// sends epoch milliseconds or seconds.
func TestAlertTimeUnits(t *testing.T) {
	q := sophos.AlertQuery{AlertFilter: sophos.AlertFilter{Days: 30}}
	var want []sophos.Alert
	for _, seconds := range []bool{false, true} {
		e := newEnv(t, emulator.Config{Seed: 8, AlertsPerEnvironment: 100, EpochSeconds: seconds}, "", nil)
		got, err := collect(e.client.Alerts(context.Background(), q))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Fatal("no alerts")
		}
		for _, a := range got {
			if a.LastSeen.Before(now.AddDate(0, 0, -31)) || a.LastSeen.After(now) || a.FirstSeen.After(a.LastSeen.Time) {
				t.Fatalf("seconds=%v: alert %s firstSeen %v lastSeen %v, want within the last 30 days", seconds, a.ID, a.FirstSeen, a.LastSeen)
			}
		}
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			// Seconds drop the milliseconds.
			if !got[i].LastSeen.Equal(want[i].LastSeen.Truncate(time.Second)) || !got[i].FirstSeen.Equal(want[i].FirstSeen.Truncate(time.Second)) {
				t.Errorf("alert %d: seconds give %v/%v, milliseconds %v/%v", i, got[i].FirstSeen, got[i].LastSeen, want[i].FirstSeen, want[i].LastSeen)
			}
		}
	}
}

func TestAccountsPaged(t *testing.T) {
	tests := []struct {
		name     string
		pageSize int
		requests int
	}{
		{"one plain array (the document's sample)", 0, 1},
		{"paged, 2 a page", 2, 3},
		{"paged, 4 a page", 4, 2},
		{"paged, everything on one page", 10, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 3, AccountsPageSize: tc.pageSize}, "", nil)
			accts, err := e.client.Accounts(context.Background(), sophos.AccountQuery{})
			if err != nil {
				t.Fatal(err)
			}
			envs := e.emu.Environments()
			var ids []string
			for _, a := range accts {
				ids = append(ids, string(a.AccountID))
			}
			var want []string
			for _, v := range envs {
				want = append(want, v.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("environments %v, want %v", ids, want)
			}
			if n := len(e.emu.Requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			e.checkClean(t)
		})
	}
}

// AWS account ids keep their leading zeros when the API sends them as JSON
// numbers (GET accounts with NumericAccountIDs, and the AWS vms, which the
// document types "number").
func TestAWSAccountIDLeadingZeros(t *testing.T) {
	envs := []emulator.Environment{
		{ID: "012345678901", Name: "zero", Type: "AWS"},
		{ID: "210987654321", Name: "plain", Type: "AWS"},
		{ID: "0012345", Name: "gcp digits", Type: "GCP"},
	}
	e := newEnv(t, emulator.Config{Seed: 2, Environments: envs, NumericAccountIDs: true, HostsPerEnvironment: 3}, "", nil)
	ctx := context.Background()
	accts, err := e.client.Accounts(ctx, sophos.AccountQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range accts {
		if string(a.AccountID) != envs[i].ID {
			t.Errorf("environment %d: id %q, want %q", i, a.AccountID, envs[i].ID)
		}
	}
	if !strings.Contains(string(accts[0].Raw), `"accountId":12345678901`) {
		t.Fatalf("the emulator did not send a number: %s", accts[0].Raw)
	}
	hosts, err := collect(e.client.Hosts(ctx, sophos.InventoryQuery{Provider: "AWS", AccountIDs: []string{"012345678901"}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 3 {
		t.Fatalf("%d hosts", len(hosts))
	}
	for _, h := range hosts {
		if h.AccountID != "012345678901" {
			t.Errorf("host %s: account %q", h.InstanceID, h.AccountID)
		}
	}
	e.checkClean(t)
}

// The document's 400 messages are explained the same whether the body is
// JSON or the bare text.
func TestPlainTextErrors(t *testing.T) {
	noKey := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("Authorization")
			next.ServeHTTP(w, r)
		})
	}
	for _, plain := range []bool{false, true} {
		cfg := emulator.Config{Seed: 1, PlainTextErrors: plain}
		name := map[bool]string{false: "JSON", true: "plain text"}[plain]
		t.Run(name+": unknown environment", func(t *testing.T) {
			e := newEnv(t, cfg, "", nil)
			_, err := collect(e.client.Hosts(context.Background(), sophos.InventoryQuery{Provider: "AWS", AccountIDs: []string{"999999999999"}}))
			if !errors.Is(err, sophos.ErrEnvironmentNotFound) || !strings.Contains(err.Error(), "does not know environment(s) 999999999999") {
				t.Errorf("err = %v", err)
			}
			_, err = e.client.Accounts(context.Background(), sophos.AccountQuery{AccountIDs: []string{"999999999999"}})
			if !errors.Is(err, sophos.ErrEnvironmentNotFound) {
				t.Errorf("accounts: err = %v", err)
			}
			_, err = collect(e.client.Alerts(context.Background(), sophos.AlertQuery{AlertFilter: sophos.AlertFilter{AccountIDs: []string{"999999999999"}}}))
			if !errors.Is(err, sophos.ErrEnvironmentNotFound) {
				t.Errorf("alerts: err = %v", err)
			}
		})
		t.Run(name+": no key", func(t *testing.T) {
			e := newEnv(t, cfg, "", noKey)
			_, err := e.client.Accounts(context.Background(), sophos.AccountQuery{})
			if !errors.Is(err, httpx.ErrAuth) || !strings.Contains(err.Error(), "received no API key") {
				t.Errorf("err = %v", err)
			}
		})
		t.Run(name+": serverless page 0 refused", func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 1, PlainTextErrors: plain, ServerlessPagesFromOne: true}, "", nil)
			fs, err := collect(e.client.Serverless(context.Background(), sophos.InventoryQuery{Provider: "Azure"}))
			if err != nil || len(fs) != e.emu.CountServerless("Azure") {
				t.Errorf("%d functions, %v", len(fs), err)
			}
		})
	}
}

func TestActivityLogs(t *testing.T) {
	cfg := emulator.Config{Seed: 9, ActivityLogsPerEnvironment: 230}
	envs := emulator.New(cfg).Environments()
	from, to := now.AddDate(0, 0, -90), now.AddDate(0, 0, -10)
	tests := []struct {
		name  string
		q     sophos.ActivityLogQuery
		pages int
	}{
		{"AWS, everything, one page", sophos.ActivityLogQuery{Provider: "AWS"}, 1},
		{"AWS, 100 a page", sophos.ActivityLogQuery{Provider: "AWS", PageSize: 100}, 5},
		{"AWS, one environment, a window", sophos.ActivityLogQuery{Provider: "AWS", AccountIDs: []string{envs[1].ID}, From: from, To: to, PageSize: 100}, 5},
		{"Azure, a window", sophos.ActivityLogQuery{Provider: "Azure", From: from, To: to, PageSize: 10000}, 1},
		{"GCP, from only", sophos.ActivityLogQuery{Provider: "GCP", From: from, PageSize: 229}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cfg, "", nil)
			var st httpx.QueryStats
			tc.q.Stats = &st
			logs, err := collect(e.client.ActivityLogs(context.Background(), tc.q))
			if err != nil {
				t.Fatal(err)
			}
			want := e.emu.CountActivityLogs(tc.q.Provider, tc.q.From, tc.q.To, tc.q.AccountIDs...)
			if len(logs) != want || want == 0 {
				t.Errorf("%d events, want %d", len(logs), want)
			}
			if st.Pages != tc.pages {
				t.Errorf("%d pages, want %d", st.Pages, tc.pages)
			}
			for _, l := range logs {
				if l.Time.IsZero() || l.User == "" || l.Event == "" || l.Service == "" || l.AccountID == "" || len(l.Raw) == 0 ||
					sophos.NormalizeCloud(l.AccountType) != tc.q.Provider {
					t.Fatalf("event %+v", l)
				}
				if !tc.q.From.IsZero() && l.Time.Before(tc.q.From) || !tc.q.To.IsZero() && !l.Time.Before(tc.q.To) {
					t.Fatalf("event at %v outside the window", l.Time)
				}
				if len(tc.q.AccountIDs) > 0 && string(l.AccountID) != tc.q.AccountIDs[0] {
					t.Fatalf("event of %s", l.AccountID)
				}
			}
			e.checkClean(t)
		})
	}
	t.Run("the document's limits are refused before sending", func(t *testing.T) {
		e := newEnv(t, emulator.Config{Seed: 9}, "", nil)
		for _, q := range []sophos.ActivityLogQuery{
			{Provider: "AWS", PageSize: 10001},
			{Provider: "AWS", PageSize: -1},
			{Provider: "Kubernetes"},
			{Provider: "AWS", From: to, To: from},
		} {
			if _, err := collect(e.client.ActivityLogs(context.Background(), q)); !errors.Is(err, sophos.ErrInvalidQuery) {
				t.Errorf("%+v: err = %v", q, err)
			}
		}
		if n := len(e.emu.Requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
}

// The search pages are bounded: rows announced (totalElements, totalPages)
// must be the rows received.
func TestActivityLogsBounds(t *testing.T) {
	tamper := func(edit func(m map[string]any)) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				var m map[string]any
				if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
					w.WriteHeader(rec.Code)
					_, _ = w.Write(rec.Body.Bytes())
					return
				}
				edit(m)
				b, _ := json.Marshal(m)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(b)
			})
		}
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"more rows announced than sent", func(m map[string]any) { m["totalElements"] = m["totalElements"].(float64) + 1 },
			"announced 461 rows (totalElements), 460 were delivered"},
		{"fewer rows announced than sent", func(m map[string]any) { m["totalElements"] = 5.0 }, "rows received, the API announced 5"},
		{"a row dropped from every page", func(m map[string]any) { d := m["data"].([]any); m["data"] = d[:len(d)-1] },
			"were delivered"},
		{"ends before the announced pages", func(m map[string]any) { m["hasNext"] = false }, "announced 5 pages (totalPages), 1 were delivered"},
		{"a page larger than asked", func(m map[string]any) { m["data"] = append(m["data"].([]any), map[string]any{"accountId": "x"}) },
			"more than 100 rows in a page of size 100"},
		{"no data", func(m map[string]any) { delete(m, "data") }, `no "data"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 9, ActivityLogsPerEnvironment: 230}, "", tamper(tc.edit))
			_, err := collect(e.client.ActivityLogs(context.Background(), sophos.ActivityLogQuery{Provider: "AWS", PageSize: 100}))
			if !errors.Is(err, sophos.ErrPaging) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
