package main

import (
	"context"
	"flag"

	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

// cmdPlan shows what a run would do: units, requests and time under the
// rate limits, found by discovery (and, with --probe, one small request
// per result set).
func cmdPlan(ctx context.Context, args []string, e env) error {
	probe := true
	cfg, f, err := runConfig("plan", args, e, func(fs *flag.FlagSet, f *runFlags) {
		bindSourceFlags(fs, f)
		fs.BoolVar(&probe, "probe", true, "fetch the first page of each result set to count its rows (--probe=false: no data requests, a floor)")
	})
	if err != nil {
		return err
	}
	p, err := job.MakePlan(ctx, cfg, job.Deps{Logger: f.logger(e), Getenv: e.getenv, Sources: sources.Registry(sources.Options{})}, probe)
	if err != nil {
		return err
	}
	p.Print(e.stdout, cfg.Period)
	return nil
}
