package job_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// A full Lacework run (three sub-accounts, five frameworks, about a hundred
// files) costs some ten seconds under the race detector, nearly all of it
// in making the files. Tests that only read a whole pack share the two
// runs of the golden configuration below instead of making their own; a
// test that needs a pack of a particular shape makes a narrowed one (one
// sub-account, one framework, or one dataset; see narrow).

func TestMain(m *testing.M) {
	code := m.Run()
	golden.close()
	os.Exit(code)
}

// golden is the configuration of TestDeterministicFiles: emulator seed 3
// with tricky values, the fixed clock and run id, and a fixed API URL
// whatever port the emulator got, so that its files are the same in every
// process. Its two runs are made once, when a test first asks for them.
var golden goldenRuns

type goldenRuns struct {
	once   sync.Once
	err    error // the configuration did not load
	srv    *httptest.Server
	client *http.Client
	runs   [2]goldenRun
}

// goldenRun is one run of the golden configuration and the store it wrote.
type goldenRun struct {
	res   job.Result
	store *memstore.Store
	err   error
}

// start makes the two runs; t is the first test that asks for them (its
// temporary folder holds the configuration file while it is read).
func (g *goldenRuns) start(t *testing.T) {
	g.err = errors.New("the golden configuration did not load") // until it does: t.Fatal ends start
	cfg := g.config(t)
	g.err = nil
	g.srv = httptest.NewServer(emulator.New(emulator.Config{Seed: 3, Faults: emulator.Faults{Tricky: true}, Now: func() time.Time { return now },
		EvaluationsPerDay: 300, InventoryPerCSP: 100, AuditLogsPerDay: 100, Recommendations: 8}))
	// The files name the API's URL: a fixed one, whatever port the
	// emulator got, so they are the same in every process.
	addr := g.srv.Listener.Addr().String()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	g.client = &http.Client{Transport: &http.Transport{DialContext: dial}}
	for i := range g.runs {
		r := &g.runs[i]
		r.store = memstore.New()
		r.res, r.err = job.Run(context.Background(), cfg, g.deps(r.store))
	}
}

// config is the golden run's configuration, a new copy each time: the
// emulator's fixed API URL, whatever port it got.
func (g *goldenRuns) config(t *testing.T) *config.Config {
	t.Helper()
	return testConfig(t, "http://acme.emulator.test", nil)
}

func (g *goldenRuns) deps(store *memstore.Store) job.Deps {
	return job.Deps{Getenv: testGetenv, Sources: testSources, Store: store, HTTPClient: g.client, Now: func() time.Time { return now },
		Rand: strings.NewReader(strings.Repeat("\x01", 64))}
}

// get returns the golden configuration's two runs, made on first use.
func (g *goldenRuns) get(t *testing.T) [2]goldenRun {
	t.Helper()
	g.once.Do(func() { g.start(t) })
	if g.err != nil {
		t.Fatal(g.err)
	}
	for i, r := range g.runs {
		if r.err != nil {
			t.Fatalf("golden run %d: %v", i+1, r.err)
		}
	}
	return g.runs
}

func (g *goldenRuns) close() {
	if g.srv != nil {
		g.srv.Close()
	}
}

// narrowConfig is testConfig scoped to the sub-account acme and one
// framework: a fifth of a full run's files, every kind of unit still there.
// For tests whose point is not the breadth of the tenant.
func narrowConfig(t *testing.T, url string, mod func(map[string]string)) *config.Config {
	t.Helper()
	cfg := testConfig(t, url, func(v map[string]string) {
		oneSubAccount(v)
		if mod != nil {
			mod(v)
		}
	})
	cfg.Frameworks = []string{"AWS SOC 2 Report"}
	return cfg
}

// oneSubAccount is a testConfig mod: the sub-account acme only.
func oneSubAccount(v map[string]string) { v["LW_SUBACCOUNT"] = "acme" }
