// Package schedule runs a job on a cron schedule in a long-lived process
// (`evidence schedule`), with the semantics of a Kubernetes CronJob whose
// concurrencyPolicy is Forbid: a run never overlaps the previous one (the
// tick is skipped and logged), and a stop signal stops new runs, lets the
// current one finish within a grace period, and otherwise cancels it (the
// job then publishes nothing: no manifest.json for a cancelled run).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Options configure a Scheduler.
type Options struct {
	Spec     string         // standard 5-field cron, or a descriptor (@daily, @every 1h)
	Location *time.Location // time zone of the spec; default UTC
	Grace    time.Duration  // how long a running job may finish after a stop; default 30s
	Logger   *slog.Logger
}

// Job is one run; ctx is cancelled when the grace period after a stop ends.
type Job func(ctx context.Context) error

// Stats counts what the scheduler did.
type Stats struct {
	Started, Skipped, Failed atomic.Int64
}

// ParseSpec checks a schedule the way Run reads it.
func ParseSpec(spec string) (cron.Schedule, error) {
	s, err := parser().Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w (want 5 fields, e.g. \"15 2 * * *\", or @daily / @every 6h)", spec, err)
	}
	return s, nil
}

func parser() cron.Parser {
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// Run runs job on the schedule until ctx is done, then stops as the package
// documents. It returns nil after a clean stop, or an error when the
// schedule is invalid or the running job had to be cancelled.
func Run(ctx context.Context, opts Options, job Job, stats *Stats) error {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Grace <= 0 {
		opts.Grace = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = &Stats{}
	}
	sched, err := ParseSpec(opts.Spec)
	if err != nil {
		return err
	}
	log := opts.Logger.With("schedule", opts.Spec, "tz", opts.Location.String())

	// Jobs run under their own context: a stop signal must not cancel the
	// run in progress at once, only when the grace period is over.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	var running sync.Mutex // held while a job runs: the Forbid policy
	c := cron.New(cron.WithLocation(opts.Location), cron.WithParser(parser()))
	c.Schedule(sched, cron.FuncJob(func() {
		if !running.TryLock() {
			stats.Skipped.Add(1)
			log.Warn("previous run still going; this tick is skipped (no overlapping runs)")
			return
		}
		defer running.Unlock()
		stats.Started.Add(1)
		start := time.Now()
		log.Info("scheduled run starting")
		if err := job(jobCtx); err != nil {
			stats.Failed.Add(1)
			log.Error("scheduled run failed", "err", err, "duration", time.Since(start).String())
			return
		}
		log.Info("scheduled run done", "duration", time.Since(start).String())
	}))
	c.Start()
	log.Info("scheduler started", "next", sched.Next(time.Now().In(opts.Location)).Format(time.RFC3339))

	<-ctx.Done()
	log.Info("stop requested: no new runs; waiting for the current one", "grace", opts.Grace.String())
	stopped := c.Stop() // done when running jobs have returned
	select {
	case <-stopped.Done():
		log.Info("scheduler stopped cleanly")
		return nil
	case <-time.After(opts.Grace):
	}
	log.Warn("grace period over: cancelling the current run; it publishes nothing")
	cancelJobs()
	<-stopped.Done()
	return errors.New("schedule: the run in progress was cancelled at shutdown; nothing of it was published")
}
