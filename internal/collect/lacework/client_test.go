package lacework_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/httpx/httpxtest"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/period"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func day(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }

type env struct {
	emu    *emulator.Server
	srv    *httptest.Server
	client *lacework.Client
	logs   *httpxtest.SyncBuffer
	auth   *httpxtest.AuthRecorder
}

func newEnv(t *testing.T, cfg emulator.Config, opts lacework.Options, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	emu := emulator.New(cfg)
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	logs := &httpxtest.SyncBuffer{}
	rec := &httpxtest.AuthRecorder{Next: http.DefaultTransport}
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.HTTPClient = &http.Client{Transport: rec, Timeout: 30 * time.Second}
	opts.Retry = httpx.Retry{MaxAttempts: 8, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond}
	if opts.Limits.RequestsPerHour == 0 {
		opts.Limits.RequestsPerHour = -1 // unlimited: the emulator's limits apply
	}
	if opts.Limits.PageRows == 0 {
		opts.Limits.PageRows = cfg.PageSize // the server's page is the documented one
	}
	c, err := lacework.New(lacework.Credentials{Account: "acme", KeyID: emulator.DefaultKeyID,
		Secret: emulator.DefaultSecret, BaseURL: srv.URL}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, srv: srv, client: c, logs: logs, auth: rec}
}

// checkClean asserts what every test owes: no request during a Retry-After,
// no page served twice, no secret or token in the logs.
func (e *env) checkClean(t *testing.T, errs ...error) {
	t.Helper()
	if v := e.emu.Violations(); len(v) > 0 {
		t.Errorf("%d requests sent while a Retry-After was in force, first %+v", len(v), v[0])
	}
	if d := e.emu.DuplicatePages(); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}
	text := e.logs.String()
	for _, err := range errs {
		if err != nil {
			text += err.Error()
		}
	}
	if strings.Contains(text, emulator.DefaultSecret) {
		t.Error("the API secret appears in logs or errors")
	}
	for _, tok := range e.auth.Tokens() {
		if strings.Contains(text, tok) {
			t.Errorf("an access token appears in logs or errors")
		}
	}
}

func collect[T any](t *testing.T, seq func(yield func(T, error) bool)) ([]T, error) {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Discovery finds every enabled integration: AwsCfg, AwsUsGovCfg (GovCloud,
// account id with its access-key credentials), Azure subscriptions, GCP
// projects of organizations and project-level GCP integrations.
func TestDiscovery(t *testing.T) {
	for _, cfg := range []emulator.Config{{}, {GovCloud: true, GCPProjectLevel: true}} {
		t.Run(fmt.Sprintf("govcloud=%v,gcp-project-level=%v", cfg.GovCloud, cfg.GCPProjectLevel), func(t *testing.T) {
			testDiscovery(t, cfg)
		})
	}
}

func testDiscovery(t *testing.T, cfg emulator.Config) {
	e := newEnv(t, cfg, lacework.Options{}, nil)
	ctx := context.Background()
	subs, err := e.client.SubAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tenant := e.emu.Tenant()
	if len(subs) != len(tenant.SubAccounts) {
		t.Fatalf("sub-accounts %v, emulator has %d", subs, len(tenant.SubAccounts))
	}
	for _, sa := range tenant.SubAccounts {
		c, err := e.client.SubAccount(sa.Name)
		if err != nil {
			t.Fatal(err)
		}
		targets, err := c.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, a := range sa.AWS {
			if a.Enabled {
				want++
			}
		}
		for _, az := range sa.Azure {
			want += len(az.Subscriptions)
		}
		for _, g := range sa.GCP {
			want += len(g.Projects)
		}
		if len(targets) != want {
			t.Errorf("%s: %d targets %v, want %d", sa.Name, len(targets), targets, want)
		}
		found := map[string]bool{}
		for _, tg := range targets {
			if tg.ID() == "" || (tg.Cloud != lacework.AWS && tg.Secondary == "") || strings.Contains(tg.ID(), "(") {
				t.Errorf("%s: bad target %+v", sa.Name, tg)
			}
			found[tg.ID()] = true
		}
		for _, a := range sa.AWS {
			if a.Enabled && !found[a.AccountID] {
				t.Errorf("%s: AWS account %s (GovCloud %v) not discovered", sa.Name, a.AccountID, a.GovCloud)
			}
		}
		for _, g := range sa.GCP {
			for _, p := range g.Projects {
				if !found[p.ID] {
					t.Errorf("%s: GCP project %s (organization %q) not discovered", sa.Name, p.ID, g.OrgID)
				}
			}
		}
		fws, err := c.Frameworks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		enabled := 0
		for _, f := range tenant.Frameworks {
			if f.Enabled {
				enabled++
			}
		}
		if len(fws) != enabled {
			t.Errorf("frameworks %v, want %d enabled", fws, enabled)
		}
	}
	e.checkClean(t)
}

func TestAuthFailureNamesTheAccount(t *testing.T) {
	emu := emulator.New(emulator.Config{Now: func() time.Time { return now }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := lacework.New(lacework.Credentials{Account: "acme", KeyID: emulator.DefaultKeyID, Secret: "_wrong_secret", BaseURL: srv.URL}, lacework.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SubAccounts(context.Background())
	if !errors.Is(err, lacework.ErrAuth) || !strings.Contains(err.Error(), `"acme"`) || strings.Contains(err.Error(), "_wrong_secret") {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenSharedAndRefreshed(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration
		clientNow func() time.Time // a stale client clock never renews early: the server's 401 must
		maxTokens int
	}{
		{"one token for many concurrent requests", 0, nil, 1},
		{"renewed before expiry", 1500 * time.Millisecond, time.Now, 4},
		{"refreshed once on 401", 1500 * time.Millisecond, func() time.Time { return now }, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Faults: emulator.Faults{TokenTTL: tc.ttl}}, lacework.Options{Options: httpx.Options{Now: tc.clientNow}}, nil)
			ctx := context.Background()
			deadline := time.Now().Add(2500 * time.Millisecond)
			if tc.ttl == 0 {
				deadline = time.Now()
			}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for first := true; first || time.Now().Before(deadline); first = false {
						if _, err := e.client.SubAccounts(ctx); err != nil {
							errs <- err
							return
						}
						time.Sleep(20 * time.Millisecond)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			tokens := 0
			unauthorized := 0
			for _, r := range e.emu.Requests() {
				if strings.HasSuffix(r.Path, "/access/tokens") {
					tokens++
				} else if r.Status == 401 {
					unauthorized++
				}
			}
			if tokens < 1 || tokens > tc.maxTokens || int64(tokens) != e.client.TokenRefreshes() {
				t.Errorf("%d token requests (client counted %d), want 1..%d", tokens, e.client.TokenRefreshes(), tc.maxTokens)
			}
			if tc.clientNow == nil || tc.ttl == 0 {
				if unauthorized > 0 {
					t.Errorf("%d requests got 401: the token was not renewed before expiry", unauthorized)
				}
			} else if tc.name == "refreshed once on 401" && unauthorized == 0 {
				t.Error("expected the stale token to meet a 401")
			}
			e.checkClean(t)
		})
	}
}

func TestCollectorsAcrossPages(t *testing.T) {
	cfg := emulator.Config{PageSize: 97, EvaluationsPerDay: 1000, InventoryPerCSP: 450, AuditLogsPerDay: 300, Faults: emulator.Faults{Tricky: true}}
	e := newEnv(t, cfg, lacework.Options{}, nil)
	ctx := context.Background()
	sub, _ := e.client.SubAccount("acme-prod")
	w := period.Window{From: day(20), To: day(22)}
	for _, ds := range lacework.EvaluationDatasets() {
		st := &httpx.QueryStats{}
		rows, err := collect(t, sub.Evaluations(ctx, lacework.EvaluationQuery{Dataset: ds, Window: w, Stats: st}))
		if err != nil {
			t.Fatal(ds, err)
		}
		want := e.emu.CountEvaluations("acme-prod", ds, w.From, w.To)
		if len(rows) != want || st.Rows != want || want == 0 {
			t.Errorf("%s: %d rows (stats %d), emulator has %d", ds, len(rows), st.Rows, want)
		}
		if st.Pages < want/97 {
			t.Errorf("%s: %d pages for %d rows", ds, st.Pages, want)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			k := r.ReportTime.String() + r.Resource + r.ID
			if seen[k] {
				t.Fatalf("%s: duplicate row %+v", ds, r)
			}
			seen[k] = true
			if r.ReportTime.Before(w.From) || !r.ReportTime.Before(w.To) {
				t.Fatalf("%s: row outside the window: %v", ds, r.ReportTime)
			}
		}
	}
	for _, csp := range lacework.InventoryCSPs() {
		rows, err := collect(t, sub.Inventory(ctx, lacework.InventoryQuery{CSP: csp, Window: w}))
		if err != nil {
			t.Fatal(csp, err)
		}
		if want := e.emu.CountInventory("acme-prod", csp, w.From, w.To); len(rows) != want || want == 0 {
			t.Errorf("inventory %s: %d rows, want %d", csp, len(rows), want)
		}
	}
	logs, err := collect(t, sub.AuditLogs(ctx, lacework.AuditLogQuery{Window: w}))
	if err != nil {
		t.Fatal(err)
	}
	if want := e.emu.CountAuditLogs("acme-prod", w.From, w.To); len(logs) != want || want == 0 {
		t.Errorf("audit logs: %d rows, want %d", len(logs), want)
	}
	e.checkClean(t)
}

func TestWindowSplitting(t *testing.T) {
	tests := []struct {
		name        string
		emuCap      int
		from, to    time.Time
		wantQueries int // at least
		wantSplits  bool
	}{
		{"ten days in two 7-day windows", 0, day(10), day(20), 2, false},
		{"row cap halves windows", 700, day(18), day(20), 4, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{PageSize: 250, EvaluationsPerDay: 1000, ResultCap: tc.emuCap},
				lacework.Options{Limits: lacework.Limits{ResultCap: tc.emuCap}}, nil)
			sub, _ := e.client.SubAccount("acme-prod")
			st := &httpx.QueryStats{}
			w := period.Window{From: tc.from, To: tc.to}
			rows, err := collect(t, sub.Evaluations(context.Background(), lacework.EvaluationQuery{Dataset: "AwsCompliance", Window: w, Stats: st}))
			if err != nil {
				t.Fatal(err)
			}
			// Every row of the period, counted hour by hour (far below any cap).
			want := 0
			for h := w.From; h.Before(w.To); h = h.Add(time.Hour) {
				want += e.emu.CountEvaluations("acme-prod", "AwsCompliance", h, h.Add(time.Hour))
			}
			if len(rows) != want || want == 0 {
				t.Fatalf("%d rows, want %d", len(rows), want)
			}
			if st.Queries < tc.wantQueries || (st.Splits > 0) != tc.wantSplits {
				t.Errorf("stats %+v", st)
			}
			e.checkClean(t)
		})
	}
}

func TestOlderThan90DaysIsRefused(t *testing.T) {
	e := newEnv(t, emulator.Config{}, lacework.Options{}, nil)
	sub, _ := e.client.SubAccount("acme-prod")
	_, err := collect(t, sub.Evaluations(context.Background(), lacework.EvaluationQuery{Dataset: "AwsCompliance",
		Window: period.Window{From: now.AddDate(0, 0, -100), To: now.AddDate(0, 0, -95)}}))
	if !errors.Is(err, lacework.ErrOutOfHistory) || !strings.Contains(err.Error(), "--from") {
		t.Fatalf("err = %v", err)
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Errorf("%d requests sent for a refused period", n)
	}
}

func TestFaultStormsKeepRowsExact(t *testing.T) {
	faults := emulator.Faults{ErrorEvery: 4, DropEvery: 5, RateLimitEvery: 7, SlowEvery: 9, SlowDelay: 20 * time.Millisecond}
	e := newEnv(t, emulator.Config{PageSize: 200, EvaluationsPerDay: 1500, AuditLogsPerDay: 700, Faults: faults}, lacework.Options{}, nil)
	ctx := context.Background()
	sub, _ := e.client.SubAccount("acme-dev")
	w := period.Window{From: day(21), To: day(22)}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	counts := make([]int, 3)
	wg.Add(3)
	go func() {
		defer wg.Done()
		rows, err := collect(t, sub.Evaluations(ctx, lacework.EvaluationQuery{Dataset: "AwsCompliance", Window: w}))
		counts[0], errs[0] = len(rows), err
	}()
	go func() {
		defer wg.Done()
		rows, err := collect(t, sub.AuditLogs(ctx, lacework.AuditLogQuery{Window: w}))
		counts[1], errs[1] = len(rows), err
	}()
	go func() {
		defer wg.Done()
		rows, err := collect(t, sub.Inventory(ctx, lacework.InventoryQuery{CSP: "AWS", Window: w}))
		counts[2], errs[2] = len(rows), err
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []int{e.emu.CountEvaluations("acme-dev", "AwsCompliance", w.From, w.To), e.emu.CountAuditLogs("acme-dev", w.From, w.To),
		e.emu.CountInventory("acme-dev", "AWS", w.From, w.To)}
	for i := range want {
		if counts[i] != want[i] {
			t.Errorf("collector %d: %d rows, want %d", i, counts[i], want[i])
		}
	}
	st := e.client.Stats()
	if st.RateLimited.Load() == 0 || st.ServerErrors.Load() == 0 || st.NetErrors.Load() == 0 {
		t.Errorf("the storm did not happen: %d 429s, %d 5xx, %d drops", st.RateLimited.Load(), st.ServerErrors.Load(), st.NetErrors.Load())
	}
	e.checkClean(t)
}

func TestRateLimitPacing(t *testing.T) {
	// Buckets of 6 requests per 3 seconds on the server; the client, told
	// nothing but the headers, must never send into a closed bucket.
	e := newEnv(t, emulator.Config{PageSize: 100, EvaluationsPerDay: 1500, Faults: emulator.Faults{RateLimit: 6, RateWindow: 3 * time.Second}},
		lacework.Options{}, nil)
	sub, _ := e.client.SubAccount("acme-prod")
	w := period.Window{From: day(21), To: day(22)}
	rows, err := collect(t, sub.Evaluations(context.Background(), lacework.EvaluationQuery{Dataset: "GcpCompliance", Window: w}))
	if err != nil {
		t.Fatal(err)
	}
	if want := e.emu.CountEvaluations("acme-prod", "GcpCompliance", w.From, w.To); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	e.checkClean(t)
}

// Next-page URLs: one on another host is refused before any request goes
// there, and the error says what to set; one on the account's documented
// host (acme.lacework.net) while the configured base is another name for
// it is fetched from the base with its path and query.
func TestNextPageHosts(t *testing.T) {
	for _, tc := range []struct {
		name, host string
		refused    bool
	}{
		{"a foreign host", "http://evil.example", true},
		{"the documented host over plain http", "http://acme.lacework.net", true},
		{"the account's documented host", "https://acme.lacework.net", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rewritten, elsewhere atomic.Int64
			wrap := func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.HasPrefix(r.Host, "127.0.0.1") {
						elsewhere.Add(1)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					body := rec.Body.String()
					if strings.Contains(body, "http://"+r.Host) {
						rewritten.Add(1)
						body = strings.ReplaceAll(body, "http://"+r.Host, tc.host)
					}
					for k, v := range rec.Header() {
						w.Header()[k] = v
					}
					w.Header().Del("Content-Length")
					w.WriteHeader(rec.Code)
					io.WriteString(w, body)
				})
			}
			e := newEnv(t, emulator.Config{PageSize: 50, EvaluationsPerDay: 500}, lacework.Options{}, wrap)
			sub, _ := e.client.SubAccount("acme-prod")
			w := period.Window{From: day(21), To: day(22)}
			rows, err := collect(t, sub.Evaluations(context.Background(), lacework.EvaluationQuery{Dataset: "AwsCompliance", Window: w}))
			if tc.refused {
				if !errors.Is(err, httpx.ErrForeignURL) || !strings.Contains(err.Error(), "set the tenant's Lacework api_url (LW_API_URL) to "+tc.host) {
					t.Fatalf("err = %v after %d rows", err, len(rows))
				}
				if len(rows) != 50 {
					t.Errorf("%d rows before the refusal, want the first page (50)", len(rows))
				}
			} else {
				want := e.emu.CountEvaluations("acme-prod", "AwsCompliance", w.From, w.To)
				if err != nil || len(rows) != want || rewritten.Load() < 2 {
					t.Fatalf("%d rows of %d (%d pages named on %s), err = %v", len(rows), want, rewritten.Load(), tc.host, err)
				}
			}
			if n := elsewhere.Load(); n > 0 {
				t.Errorf("%d requests reached another host", n)
			}
		})
	}
}

func TestForbiddenSubAccountIsIsolated(t *testing.T) {
	e := newEnv(t, emulator.Config{Forbidden: []string{"acme-dev"}}, lacework.Options{}, nil)
	ctx := context.Background()
	dev, _ := e.client.SubAccount("acme-dev")
	_, err := dev.Targets(ctx)
	if !errors.Is(err, lacework.ErrSubAccountForbidden) || !strings.Contains(err.Error(), `"acme-dev"`) || !strings.Contains(err.Error(), "API key") {
		t.Fatalf("err = %v", err)
	}
	prod, _ := e.client.SubAccount("acme-prod")
	if _, err := prod.Targets(ctx); err != nil {
		t.Fatalf("acme-prod failed too: %v", err)
	}
	e.checkClean(t, err)
}

func TestReports(t *testing.T) {
	// GovCloud and a project-level GCP integration: their reports are
	// asked for like the others' (the latter with primaryQueryId "n/a").
	e := newEnv(t, emulator.Config{Recommendations: 25, GovCloud: true, GCPProjectLevel: true,
		Faults: emulator.Faults{Tricky: true, DropEvery: 3}}, lacework.Options{}, nil)
	ctx := context.Background()
	sub, _ := e.client.SubAccount("acme-prod")
	targets, err := sub.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fws, err := sub.Frameworks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range fws {
		for _, tg := range targets {
			if tg.Cloud != f.Cloud {
				continue
			}
			q := lacework.ReportQuery{Target: tg, Framework: f.Name}
			rep, err := sub.Report(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			recs, err := collect(t, rep.Recommendations())
			rep.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != e.emu.ReportRecommendations() || rep.Header.ReportTitle == "" || len(rep.Header.Summary) == 0 {
				t.Fatalf("%s: %d recommendations, header %+v", q, len(recs), rep.Header)
			}
			nc := 0
			for _, r := range recs {
				if r.Status == "NonCompliant" {
					nc++
					if len(r.Violations) == 0 {
						t.Errorf("%s: non-compliant %s without violations", q, r.RecID)
					}
				}
			}
			if nc != rep.Header.Summary[0].NumNotCompliant {
				t.Errorf("%s: %d non-compliant, summary says %d", q, nc, rep.Header.Summary[0].NumNotCompliant)
			}
			pdf, err := sub.ReportPDF(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(pdf)
			pdf.Close()
			if !bytes.HasPrefix(b, []byte("%PDF-")) || int64(len(b)) != pdf.Size {
				t.Fatalf("%s: PDF of %d bytes (size %d)", q, len(b), pdf.Size)
			}
			checked++
		}
	}
	if checked < 3 {
		t.Fatalf("only %d reports checked", checked)
	}
	e.checkClean(t)
}

func TestUnknownFrameworkErrorSurfacesAPIMessage(t *testing.T) {
	e := newEnv(t, emulator.Config{}, lacework.Options{}, nil)
	sub, _ := e.client.SubAccount("acme-prod")
	targets, _ := sub.Targets(context.Background())
	_, err := sub.Report(context.Background(), lacework.ReportQuery{Target: targets[0], Framework: "No Such Framework"})
	var ae *httpx.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Message == "" || !strings.Contains(err.Error(), ae.Message) {
		t.Fatalf("err = %v", err)
	}
}

func TestInventoryOverCapSplitsByAccount(t *testing.T) {
	w := period.Window{From: day(21), To: day(22)}
	for _, tc := range []struct {
		name    string
		split   bool
		wantErr bool
	}{{"split per account", true, false}, {"no accounts to split by", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{PageSize: 100, InventoryPerCSP: 600, ResultCap: 500},
				lacework.Options{Limits: lacework.Limits{ResultCap: 500}}, nil)
			ctx := context.Background()
			sub, _ := e.client.SubAccount("acme-prod")
			var accounts []string
			if tc.split {
				targets, err := sub.Targets(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, tg := range targets {
					if tg.Cloud == lacework.AWS {
						accounts = append(accounts, tg.ID())
					}
				}
			}
			st := &httpx.QueryStats{}
			rows, err := collect(t, sub.Inventory(ctx, lacework.InventoryQuery{CSP: "AWS", Window: w, Accounts: accounts, Stats: st}))
			if tc.wantErr {
				if !errors.Is(err, lacework.ErrResultCap) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 600 || st.Splits != 1 {
				t.Fatalf("%d rows (want 600), stats %+v", len(rows), st)
			}
			e.checkClean(t)
		})
	}
}

// AuditLogs answers without paging (the document's samples): an answer as
// long as a page may have been cut, so its window is run again as halves,
// and every kept window is listed with its rows. A window that still fills
// a page at the smallest split fails instead of passing a cut answer off
// as complete.
func TestAuditLogsUnpagedWindows(t *testing.T) {
	w := period.Window{From: day(19), To: day(22)}
	t.Run("split until no answer fills a page", func(t *testing.T) {
		e := newEnv(t, emulator.Config{PageSize: 50, AuditLogsPerDay: 120}, lacework.Options{}, nil)
		sub, _ := e.client.SubAccount("acme-prod")
		st := &httpx.QueryStats{}
		logs, err := collect(t, sub.AuditLogs(context.Background(), lacework.AuditLogQuery{Window: w, Stats: st}))
		if err != nil {
			t.Fatal(err)
		}
		want := e.emu.CountAuditLogs("acme-prod", w.From, w.To)
		if len(logs) != want || st.Rows != want {
			t.Fatalf("%d rows (stats %d), want %d", len(logs), st.Rows, want)
		}
		if st.Splits == 0 || st.Announced != 0 || st.Unannounced != len(st.Parts) {
			t.Errorf("stats %+v: want splits, no announced counts", st)
		}
		// 120 rows a day, pages of 50: the first day is split twice to 6-hour
		// windows, and the days after start at 6 hours (no answer dropped).
		if st.Splits != 2 || len(st.Parts) != 12 {
			t.Errorf("%d splits, %d windows: want 2 and 12 (later days start at the learned window)", st.Splits, len(st.Parts))
		}
		sum, prev := 0, w.From
		for _, p := range st.Parts {
			if p.HasAnnounced || p.Rows >= 50 || !p.From.Equal(prev) {
				t.Errorf("part %+v after %s", p, prev)
			}
			sum, prev = sum+p.Rows, p.To
		}
		if sum != want || !prev.Equal(w.To) {
			t.Errorf("parts hold %d rows up to %s, want %d up to %s", sum, prev, want, w.To)
		}
		e.checkClean(t)
	})
	t.Run("a window that cannot be split further", func(t *testing.T) {
		e := newEnv(t, emulator.Config{PageSize: 50, AuditLogsPerDay: 2000}, lacework.Options{Limits: lacework.Limits{MinWindow: 2 * time.Hour}}, nil)
		sub, _ := e.client.SubAccount("acme-prod")
		logs, err := collect(t, sub.AuditLogs(context.Background(), lacework.AuditLogQuery{Window: w}))
		if !errors.Is(err, lacework.ErrResultCap) || !strings.Contains(err.Error(), "may have been cut") || len(logs) != 0 {
			t.Fatalf("%d rows, err = %v", len(logs), err)
		}
	})
}
