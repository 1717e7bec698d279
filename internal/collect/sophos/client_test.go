package sophos_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/httpx/httpxtest"
	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type env struct {
	emu    *emulator.Server
	client *sophos.Client
	logs   *httpxtest.SyncBuffer
}

func newEnv(t *testing.T, cfg emulator.Config, key string, wrap func(http.Handler) http.Handler) *env {
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
	if key == "" {
		key = emu.APIKey()
	}
	logs := &httpxtest.SyncBuffer{}
	c, err := sophos.New(httpx.Secret(key), sophos.Options{Options: httpx.Options{
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Retry:      httpx.Retry{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        func() time.Time { return now },
	}, BaseURL: srv.URL, Tenant: "acme-optix"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, client: c, logs: logs}
}

// checkClean asserts what every test owes: no request during a Retry-After,
// no page served twice, no key in logs or errors.
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
	if strings.Contains(text, e.emu.APIKey()) {
		t.Error("the API key appears in logs or errors")
	}
}

func collect[T any](seq func(yield func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// emuFilter translates a client filter to the emulator's.
func emuFilter(f sophos.AlertFilter, severities ...string) emulator.Filter {
	return emulator.Filter{Days: f.Days, LastSeenFrom: f.LastSeenFrom, LastSeenTo: f.LastSeenTo, AlertTypes: f.AlertTypes,
		Providers: f.Providers, PolicyTags: f.PolicyTags, AccountIDs: f.AccountIDs, States: f.States, Severities: severities}
}

func TestAlertsPaging(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 11, AlertsPerEnvironment: 500}, "", nil)
	envs := e.emu.Environments()
	longAgo := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		q          sophos.AlertQuery
		severities []string
	}{
		{"everything, 50 a page", sophos.AlertQuery{AlertFilter: sophos.AlertFilter{LastSeenFrom: longAgo}}, nil},
		{"default window, 20 a page", sophos.AlertQuery{PageSize: 20}, nil},
		{"days 30", sophos.AlertQuery{AlertFilter: sophos.AlertFilter{Days: 30}}, nil},
		{"CIS in one environment, a month", sophos.AlertQuery{AlertFilter: sophos.AlertFilter{
			PolicyTags: []string{"CIS"}, AccountIDs: []string{envs[0].ID},
			LastSeenFrom: now.AddDate(0, -1, 0), LastSeenTo: now}}, nil},
		{"ISO 27001 (a space in the value)", sophos.AlertQuery{AlertFilter: sophos.AlertFilter{PolicyTags: []string{"ISO 27001"}}}, nil},
		{"suppressed Azure high", sophos.AlertQuery{AlertFilter: sophos.AlertFilter{States: []string{"SUPPRESS"}, Providers: []string{"Azure"}},
			Severities: []string{"high"}}, []string{"high"}},
		{"window ending in a non-UTC zone", sophos.AlertQuery{AlertFilter: sophos.AlertFilter{
			LastSeenFrom: now.AddDate(0, -2, 0), LastSeenTo: now.AddDate(0, 0, -3).In(time.FixedZone("CET", 3600))}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st httpx.QueryStats
			tc.q.Stats = &st
			alerts, err := collect(e.client.Alerts(context.Background(), tc.q))
			if err != nil {
				t.Fatal(err)
			}
			want := e.emu.CountAlerts(emuFilter(tc.q.AlertFilter, tc.severities...))
			if len(alerts) != want.Alerts || want.Alerts == 0 {
				t.Fatalf("got %d alerts, emulator holds %d", len(alerts), want.Alerts)
			}
			seen := map[sophos.Text]bool{}
			resources := 0
			for _, a := range alerts {
				if seen[a.ID] {
					t.Fatalf("alert %s twice", a.ID)
				}
				seen[a.ID] = true
				resources += len(a.RuleResult.AffectedResources)
				if a.LastSeen.IsZero() || a.AccountID == "" || a.AlertID == "" {
					t.Fatalf("incomplete alert %+v", a)
				}
			}
			if resources != want.Resources {
				t.Errorf("got %d affected resources, want %d", resources, want.Resources)
			}
			size := tc.q.PageSize
			if size == 0 {
				size = sophos.MaxAlertPageSize
			}
			if wantPages := max((want.Alerts+size-1)/size, 1); st.Pages != wantPages || st.Queries != 1 {
				t.Errorf("stats %+v, want %d pages", st, wantPages)
			}
			counts, err := e.client.AlertCounts(context.Background(), tc.q.AlertFilter)
			if err != nil {
				t.Fatal(err)
			}
			if tc.severities == nil && int(counts.Total) != want.Alerts {
				t.Errorf("AlertCounts total %d, want %d", counts.Total, want.Alerts)
			}
		})
	}
	e.checkClean(t)
}

func TestAlertsStopWhenTheLoopBreaks(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 1, AlertsPerEnvironment: 1000}, "", nil)
	n := 0
	for _, err := range e.client.Alerts(context.Background(), sophos.AlertQuery{PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 15 {
			break
		}
	}
	if got := len(e.emu.Requests()); got != 2 {
		t.Errorf("%d requests for 15 alerts of 10 a page, want 2", got)
	}
}

func TestQueryValidation(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 1}, "", nil)
	ctx := context.Background()
	from := now.AddDate(0, 0, -7)
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"days and lastSeenFrom", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: sophos.AlertFilter{Days: 7, LastSeenFrom: from}}))
			return err
		}, "not both"},
		{"days 0 is no filter, days 366 is refused", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: sophos.AlertFilter{Days: 366}}))
			return err
		}, "days 366"},
		{"negative days", func() error {
			_, err := e.client.AlertCounts(ctx, sophos.AlertFilter{Days: -1})
			return err
		}, "days -1"},
		{"lastSeenTo equal to lastSeenFrom", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: sophos.AlertFilter{LastSeenFrom: from, LastSeenTo: from}}))
			return err
		}, "must come after"},
		{"page size 51", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{PageSize: 51}))
			return err
		}, "page size 51"},
		{"severity in upper case", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{Severities: []string{"HIGH"}}))
			return err
		}, `severity "HIGH"`},
		{"GCP is not an alert provider", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: sophos.AlertFilter{Providers: []string{"GCP"}}}))
			return err
		}, `provider "GCP"`},
		{"comma in a framework", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: sophos.AlertFilter{PolicyTags: []string{"CIS,PCI"}}}))
			return err
		}, "without commas"},
		{"hosts without provider", func() error {
			_, err := collect(e.client.Hosts(ctx, sophos.InventoryQuery{}))
			return err
		}, "provider is mandatory"},
		{"serverless on GCP", func() error {
			_, err := collect(e.client.Serverless(ctx, sophos.InventoryQuery{Provider: "GCP"}))
			return err
		}, `provider "GCP"`},
		{"inventory page size 99", func() error {
			_, err := collect(e.client.Users(ctx, sophos.InventoryQuery{Provider: "AWS", PageSize: 99}))
			return err
		}, "page size 99"},
		{"container type", func() error {
			_, err := collect(e.client.Containers(ctx, sophos.ContainerQuery{CloudProvider: "eks", ContainerType: "vms"}))
			return err
		}, `container type "vms"`},
		{"account provider spelling", func() error {
			_, err := e.client.Accounts(ctx, sophos.AccountQuery{Provider: "aws"})
			return err
		}, `provider "aws"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, sophos.ErrInvalidQuery) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "acme-optix") {
				t.Errorf("err = %v; want ErrInvalidQuery naming the tenant and %q", err, tc.want)
			}
		})
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid queries", n)
	}
}

func TestServerErrors(t *testing.T) {
	stripAuth := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("days") == "1" {
				r.Header.Del("Authorization")
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, emulator.Config{Seed: 1}, "", stripAuth)
	ctx := context.Background()
	tests := []struct {
		name  string
		run   func() error
		is    error
		wants []string
	}{
		{"unknown environment", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: sophos.AlertFilter{AccountIDs: []string{"111122223333"}, PolicyTags: []string{"PCI"}}}))
			return err
		}, sophos.ErrEnvironmentNotFound, []string{"acme-optix", "111122223333", "framework PCI", "sophos.environments"}},
		{"unknown environment in the inventory", func() error {
			_, err := collect(e.client.Hosts(ctx, sophos.InventoryQuery{Provider: "AWS", AccountIDs: []string{"999"}}))
			return err
		}, sophos.ErrEnvironmentNotFound, []string{"hosts AWS of environment 999"}},
		{"no key reached the server", func() error {
			_, err := collect(e.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: sophos.AlertFilter{Days: 1}}))
			return err
		}, httpx.ErrAuth, []string{"no API key", "SOPHOS_OPTIX_API_KEY"}},
		{"native clusters", func() error {
			_, err := collect(e.client.Containers(ctx, sophos.ContainerQuery{CloudProvider: "native", ContainerType: "clusters"}))
			return err
		}, sophos.ErrNotSupported, []string{"native/clusters"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not mention %q", err, w)
				}
			}
			if httpx.StatusOf(err) != http.StatusBadRequest {
				t.Errorf("status %d, want the API's 400 in the chain", httpx.StatusOf(err))
			}
		})
	}
	e.checkClean(t)
}

func TestWrongKey(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 1}, "not-the-key-0000", nil)
	_, err := e.client.Accounts(context.Background(), sophos.AccountQuery{})
	if !errors.Is(err, httpx.ErrAuth) || httpx.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("err = %v, want ErrAuth with HTTP 401", err)
	}
	for _, w := range []string{"acme-optix", "SOPHOS_OPTIX_API_KEY", "Unauthorized access or ApiKey expired"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not mention %q", err, w)
		}
	}
	if strings.Contains(err.Error()+e.logs.String(), "not-the-key-0000") {
		t.Error("the key appears in the error or the logs")
	}
	if n := len(e.emu.Requests()); n > 2 {
		t.Errorf("%d requests after a 401, want at most 2", n)
	}
	if _, err := sophos.New("", sophos.Options{Tenant: "t1", KeyEnv: "MY_KEY"}); !errors.Is(err, httpx.ErrAuth) || !strings.Contains(err.Error(), "MY_KEY") {
		t.Errorf("empty key: %v", err)
	}
}

func TestInventory(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 4, HostsPerEnvironment: 260, UsersPerEnvironment: 101, ContainerObjectsPerType: 120}, "", nil)
	ctx := context.Background()
	accts, err := e.client.Accounts(ctx, sophos.AccountQuery{})
	if err != nil {
		t.Fatal(err)
	}
	envs := e.emu.Environments()
	if len(accts) != len(envs) {
		t.Fatalf("%d environments, emulator has %d", len(accts), len(envs))
	}
	for i, a := range accts {
		if string(a.AccountID) != envs[i].ID || a.Cloud() != envs[i].Type || a.Enabled() == envs[i].Disabled || len(a.Raw) == 0 {
			t.Errorf("environment %d: %+v, want %+v", i, a, envs[i])
		}
		if a.Enabled() && a.BenchmarkTime().IsZero() {
			t.Errorf("environment %s: no benchmark time", a.AccountID)
		}
	}
	count := func(t *testing.T, n int, err error, want int) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if n != want || want == 0 {
			t.Errorf("got %d, emulator holds %d", n, want)
		}
	}
	for _, p := range sophos.HostProviders() {
		t.Run("hosts "+p, func(t *testing.T) {
			hs, err := collect(e.client.Hosts(ctx, sophos.InventoryQuery{Provider: p}))
			count(t, len(hs), err, e.emu.CountHosts(p))
			for _, h := range hs {
				if h.InstanceID == "" || sophos.NormalizeCloud(h.AccountType) != p {
					t.Fatalf("host %+v", h)
				}
			}
		})
	}
	for _, p := range sophos.UserProviders() {
		t.Run("users "+p, func(t *testing.T) {
			us, err := collect(e.client.Users(ctx, sophos.InventoryQuery{Provider: p, PageSize: 100}))
			count(t, len(us), err, e.emu.CountUsers(p))
		})
	}
	for _, p := range sophos.ServerlessProviders() {
		t.Run("serverless "+p, func(t *testing.T) {
			fs, err := collect(e.client.Serverless(ctx, sophos.InventoryQuery{Provider: p}))
			count(t, len(fs), err, e.emu.CountServerless(p))
		})
	}
	t.Run("pods of one EKS environment", func(t *testing.T) {
		var st httpx.QueryStats
		cs, err := collect(e.client.Containers(ctx, sophos.ContainerQuery{CloudProvider: "eks", ContainerType: "pods",
			AccountIDs: []string{envs[0].ID}, PageSize: 100, Stats: &st}))
		count(t, len(cs), err, e.emu.CountContainers("eks", "pods", envs[0].ID))
		if st.Pages != 2 {
			t.Errorf("%d pages for 120 pods at 100 a page", st.Pages)
		}
	})
	e.checkClean(t)
}

// TestStorms pages through alerts and inventory while the server fails
// often: the rows must still be exact, no page served twice, and no request
// sent during a Retry-After.
func TestStorms(t *testing.T) {
	faults := []struct {
		name string
		f    emulator.Faults
	}{
		{"5xx", emulator.Faults{ErrorEvery: 3, RetryAfter: 10 * time.Millisecond}},
		{"429", emulator.Faults{RateLimitEvery: 2, RetryAfter: 10 * time.Millisecond}},
		{"drops", emulator.Faults{DropEvery: 3}},
		{"everything", emulator.Faults{ErrorEvery: 5, RateLimitEvery: 7, DropEvery: 4, RetryAfter: 10 * time.Millisecond}},
	}
	for _, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 21, AlertsPerEnvironment: 300, HostsPerEnvironment: 220, Faults: tc.f}, "", nil)
			ctx := context.Background()
			q := sophos.AlertQuery{AlertFilter: sophos.AlertFilter{PolicyTags: []string{"SOC2"}}, PageSize: 25}
			alerts, err := collect(e.client.Alerts(ctx, q))
			if err != nil {
				t.Fatal(err)
			}
			if want := e.emu.CountAlerts(emuFilter(q.AlertFilter)).Alerts; len(alerts) != want {
				t.Errorf("%d alerts, want %d", len(alerts), want)
			}
			hosts, err := collect(e.client.Hosts(ctx, sophos.InventoryQuery{Provider: "AWS", PageSize: 100}))
			if err != nil {
				t.Fatal(err)
			}
			if want := e.emu.CountHosts("AWS"); len(hosts) != want {
				t.Errorf("%d hosts, want %d", len(hosts), want)
			}
			faults := 0
			for _, r := range e.emu.Requests() {
				if r.Fault != "" {
					faults++
				}
			}
			if faults == 0 {
				t.Error("no fault was injected")
			}
			e.checkClean(t)
		})
	}
}
