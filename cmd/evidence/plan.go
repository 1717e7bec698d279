package main

import (
	"context"
	"flag"
	"time"

	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/schedule"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

// cmdPlan shows what a run would do: units, requests and time under the
// rate limits, found by discovery (and, with --probe, one small request
// per result set and three reports, which time the data requests).
func cmdPlan(ctx context.Context, args []string, e env) error {
	probe := true
	cfg, f, err := runConfig("plan", args, e, func(fs *flag.FlagSet, f *runFlags) {
		bindSourceFlags(fs, f)
		fs.BoolVar(&probe, "probe", true, "fetch the first page of each result set to count its rows, and three reports to time the Reports requests (--probe=false: no data requests, a floor)")
	})
	if err != nil {
		return err
	}
	p, err := job.MakePlan(ctx, cfg, job.Deps{Logger: f.logger(e), Getenv: e.getenv, Sources: sources.Registry(sources.Options{})}, probe)
	if err != nil {
		return err
	}
	sched := job.Schedule{Spec: cfg.Schedule, Now: time.Now()}
	if cfg.Schedule != "" {
		spec, err := schedule.ParseSpec(cfg.Schedule)
		if err != nil {
			return usageError{err}
		}
		next := spec.Next(sched.Now)
		sched.Interval = spec.Next(next).Sub(next)
	}
	p.Print(e.stdout, cfg.Period, sched)
	return nil
}
