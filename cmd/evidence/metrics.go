package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/metrics"
	"github.com/evidence-pack/evidence/internal/pack"
)

// publishMetrics sends the run's metrics where the config says; a tenant
// that failed is reported with success 0.
func publishMetrics(ctx context.Context, cfg *config.Config, res job.Result, runErr error, took time.Duration) error {
	if cfg.Metrics.Pushgateway == "" && cfg.Metrics.Textfile == "" {
		return nil
	}
	var runs []metrics.Run
	done := map[string]bool{}
	for _, p := range res.Packs {
		var st pack.Stats
		if p.Manifest.Stats != nil {
			st = *p.Manifest.Stats
		}
		runs = append(runs, metrics.Run{Tenant: p.Tenant, Success: true, UnitsOK: p.UnitsOK(), UnitsFailed: int64(len(p.Manifest.Failures)),
			Rows: st.Rows, Bytes: p.Bytes(), Requests: st.Requests, RateLimited: st.RateLimited, Retries: st.Retries,
			Duration: time.Duration(st.DurationMS) * time.Millisecond, Finished: time.Now()})
		done[p.Tenant] = true
	}
	if runErr != nil {
		for _, t := range cfg.Tenants {
			if !done[t.Name] {
				runs = append(runs, metrics.Run{Tenant: t.Name, Duration: took, Finished: time.Now()})
				break // tenants after the failed one did not run
			}
		}
	}
	var errs []error
	if p := cfg.Metrics.Textfile; p != "" {
		errs = append(errs, metrics.WriteTextfile(p, runs))
	}
	if u := cfg.Metrics.Pushgateway; u != "" {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		var grouping map[string]string
		if sh := cfg.Shard; sh.Count > 1 {
			grouping = map[string]string{"shard": fmt.Sprintf("%d-of-%d", sh.Index, sh.Count)}
		}
		errs = append(errs, metrics.Push(pctx, u, nil, runs, grouping))
	}
	return errors.Join(errs...)
}
