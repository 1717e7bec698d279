package main

import (
	"context"
	"errors"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/schedule"
)

// cmdSchedule runs the same job as `run` on the config's schedule until
// SIGTERM/SIGINT, never two runs at once. Each run covers the period the
// flags give, computed when it starts (default: the previous UTC day),
// and the days missed before it (job.CatchUpRuns).
func cmdSchedule(ctx context.Context, args []string, e env) error {
	var f runFlags
	fs := newFlagSet("schedule", e)
	bindSourceFlags(fs, &f)
	bindOutputFlags(fs, &f)
	grace := fs.Duration("grace", 30*time.Second, "on SIGTERM, how long the current run may finish before it is cancelled")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(f, e)
	if err != nil {
		return err
	}
	if cfg.Schedule == "" {
		return usagef("schedule: the config has no schedule: (e.g. schedule: \"15 2 * * *\" or \"@daily\")")
	}
	sched, err := schedule.ParseSpec(cfg.Schedule)
	if err != nil {
		return usageError{err}
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return usagef("timezone %q: %v", cfg.TimeZone, err)
	}
	log := f.logger(e)
	run := func(ctx context.Context) error {
		cfg, err := loadConfig(f, e) // a fresh period for every run
		if err != nil {
			return err
		}
		now := time.Now().In(loc)
		cfg.Deadline = job.ScheduledDeadline(now, sched.Next(now))
		store, err := openStore(ctx, cfg.Output, cfg.S3, log)
		if err != nil {
			return err
		}
		return job.CatchUpRuns(ctx, cfg, store, log, func(ctx context.Context, day *config.Config) error {
			err := execute(ctx, day, log, e, job.Deps{})
			if errors.As(err, new(partialError)) {
				// Published: the failed units are listed in the pack.
				log.Warn("pack published with failed units", "tenant", day.Tenants[0].Name, "day", day.Period.From.Format(time.DateOnly))
				return nil
			}
			return err
		})
	}
	return schedule.Run(ctx, schedule.Options{Spec: cfg.Schedule, Location: loc, Grace: *grace, Logger: log}, run, nil)
}
