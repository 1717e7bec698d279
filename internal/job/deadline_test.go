package job_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// hangingRows yields one row, then hangs as a server that never answers
// does, until its context ends.
func hangingRows(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
	return func(yield func(dataset.Record, error) bool) {
		st.Pages = 1
		if !yield(dataset.Resource{ResourceID: "r1"}, nil) {
			return
		}
		<-ctx.Done()
		yield(nil, ctx.Err())
	}
}

func quickRows(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
	return func(yield func(dataset.Record, error) bool) { yield(dataset.Resource{ResourceID: "r1"}, nil) }
}

// A run whose APIs hang stops reading them at its deadline: the units not
// finished fail, saying so, and the pack with the others is published;
// nothing hangs. (Not in a synctest bubble: parquet-go's zstd encoders are
// pooled across goroutines, and a bubble may not share them. The deadline
// is short instead; nothing sleeps.)
func TestDeadlineFailsUnfinishedUnitsAndPublishes(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*config.Config)
		want string
	}{
		{"timeout", func(c *config.Config) { c.Timeout = 50 * time.Millisecond }, "not collected: the run's 50ms timeout passed"},
		{"next scheduled run", func(c *config.Config) {
			c.Deadline = config.Deadline{At: time.Now().Add(50 * time.Millisecond), Reason: "the next scheduled run"}
		}, "not collected: the run's deadline passed ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hangingFetch := func(ctx context.Context) (source.Report, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			plan := &source.Plan{SubAccounts: []string{"a", "b"},
				Tables: []source.TableUnit{
					{Table: "inventory", SubAccount: "a", Rows: quickRows},
					{Table: "inventory", SubAccount: "b", Rows: hangingRows},
				},
				Frameworks: []source.Framework{{Name: "CIS", Units: []source.ReportUnit{
					{SubAccount: "a", Account: "1", Fetch: func(context.Context) (source.Report, error) { return malformedReport{}, nil }},
					{SubAccount: "b", Account: "2", Fetch: hangingFetch},
				}}},
			}
			reg := source.Registry{"fake": func(context.Context, config.Tenant, source.Env) (source.Source, error) {
				return fakeSource{plan: plan}, nil
			}}
			cfg := &config.Config{Output: "mem", Concurrency: 2, Datasets: dataset.Names(),
				Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
			tc.mod(cfg)
			store := memstore.New()
			start := time.Now()
			res, err := job.Run(context.Background(), cfg, job.Deps{Sources: reg, Store: store})
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > time.Minute {
				t.Errorf("the run took %s", took)
			}
			m := res.Packs[0].Manifest
			if len(m.Failures) != 2 {
				t.Fatalf("failures %+v, want b's two units", m.Failures)
			}
			for _, f := range m.Failures {
				if f.SubAccount != "b" || !strings.Contains(f.Error, tc.want) {
					t.Errorf("failure %+v, want b's, with %q", f, tc.want)
				}
			}
			rep, err := pack.Verify(context.Background(), store, res.Packs[0].Prefix)
			if err != nil || !rep.OK() {
				t.Fatalf("verify: %v %+v", err, rep.Problems)
			}
		})
	}
}

// A signal (the run's context cancelled) still aborts the pack, deadline
// or not.
func TestCancelledRunPublishesNothingEvenWithADeadline(t *testing.T) {
	plan := &source.Plan{SubAccounts: []string{"b"}, Tables: []source.TableUnit{{Table: "inventory", SubAccount: "b", Rows: hangingRows}}}
	reg := source.Registry{"fake": func(context.Context, config.Tenant, source.Env) (source.Source, error) {
		return fakeSource{plan: plan}, nil
	}}
	cfg := &config.Config{Output: "mem", Concurrency: 1, Datasets: dataset.Names(), Timeout: 2 * time.Hour,
		Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond) // SIGTERM before the deadline
	defer cancel()
	store := memstore.New()
	if _, err := job.Run(ctx, cfg, job.Deps{Sources: reg, Store: store}); err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	if hasManifest(t, store) {
		t.Error("a cancelled run published a pack")
	}
}

// planFunc is a source whose discovery is fn.
type planFunc func(context.Context, source.Request) (*source.Plan, error)

func (f planFunc) Info() source.Info { return source.Info{System: "fake", API: "Fake API"} }
func (f planFunc) Plan(ctx context.Context, r source.Request) (*source.Plan, error) {
	return f(ctx, r)
}
func (f planFunc) Stats() *httpx.Stats { return &httpx.Stats{} }

// `evidence plan` and `evidence frameworks` discover within the run's
// deadline too (a server that never answers cannot hold them), and a
// server's text in their errors is redacted as a run's is.
func TestDiscoveryIsBoundedAndRedacted(t *testing.T) {
	hang := planFunc(func(ctx context.Context, _ source.Request) (*source.Plan, error) {
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
	const secret = "s3cr3t-api-key-value"
	echo := planFunc(func(ctx context.Context, _ source.Request) (*source.Plan, error) {
		return nil, errors.New(`HTTP 400: {"echo": "X-LW-UAKS: ` + secret + `"}`)
	})
	for _, tc := range []struct {
		name string
		src  source.Source
		want string
	}{
		{"no answer", hang, "the run's 50ms timeout passed"},
		{"echoed secret", echo, "[redacted]"},
	} {
		reg := source.Registry{"fake": func(_ context.Context, _ config.Tenant, env source.Env) (source.Source, error) {
			env.Redactor.Add(secret)
			return tc.src, nil
		}}
		cfg := &config.Config{Datasets: dataset.Names(), Timeout: 50 * time.Millisecond,
			Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
		for cmd, discover := range map[string]func() error{
			"plan": func() error {
				_, err := job.MakePlan(context.Background(), cfg, job.Deps{Sources: reg}, false)
				return err
			},
			"frameworks": func() error {
				_, err := job.Discover(context.Background(), cfg, job.Deps{Sources: reg})
				return err
			},
		} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				err := discover()
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
					t.Fatalf("err = %v, want one with %q and no secret", err, tc.want)
				}
			})
		}
	}
}
