package main

import (
	"context"
	"errors"
	"flag"

	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

// cmdFrameworks lists, per tenant, the frameworks and cloud accounts
// discovery finds: what --framework and --account can name.
func cmdFrameworks(ctx context.Context, args []string, e env) error {
	cfg, f, err := runConfig("frameworks", args, e, func(fs *flag.FlagSet, f *runFlags) {
		bindTenantFlags(fs, f)
		bindPeriodFlags(fs, f)
	})
	if err != nil {
		return err
	}
	found, err := job.Discover(ctx, cfg, job.Deps{Logger: f.logger(e), Getenv: e.getenv, Sources: sources.Registry(sources.Options{}),
		Build: job.Build{Version: version}})
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range found {
		errs = append(errs, d.Print(e.stdout))
	}
	return errors.Join(errs...)
}
