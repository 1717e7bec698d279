package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/schedule"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func cmdPlan(ctx context.Context, args []string, e env) (int, error) {
	probe := true
	cfg, f, err := runConfig("plan", args, e, func(fs *flag.FlagSet) {
		fs.BoolVar(&probe, "probe", true, "fetch the first page of each result set to count its rows (--probe=false: no data requests, a floor)")
	})
	if err != nil {
		return exitUsage, err
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, config.DefaultTimeout)
	p, err := job.MakePlan(ctx, cfg, job.Deps{Logger: f.logger(e), Getenv: e.getenv, Sources: sources.Registry(sources.Options{})}, probe)
	if errors.Is(err, source.ErrRefused) {
		return exitUsage, usageError{err}
	}
	if err != nil {
		return exitFailed, err
	}
	p.Print(e.stdout, cfg.Period)
	return exitOK, nil
}

// cmdFrameworks lists, per tenant, the frameworks and cloud accounts
// discovery finds: what --framework and --account can name.
func cmdFrameworks(ctx context.Context, args []string, e env) (int, error) {
	cfg, f, err := runConfig("frameworks", args, e)
	if err != nil {
		return exitUsage, err
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, config.DefaultTimeout)
	found, err := job.Discover(ctx, cfg, job.Deps{Logger: f.logger(e), Getenv: e.getenv, Sources: sources.Registry(sources.Options{}),
		Build: job.Build{Version: version}})
	if errors.Is(err, source.ErrRefused) {
		return exitUsage, usageError{err}
	}
	if err != nil {
		return exitFailed, err
	}
	for _, d := range found {
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "TENANT %s (%s, %s)\n", d.Tenant, d.API, d.BaseURL)
		for _, fl := range d.Failures {
			fmt.Fprintf(tw, "  unreachable %s\n", fl)
		}
		fmt.Fprintln(tw, "\n  FRAMEWORK\tCLOUD\tREPORTS")
		for _, fw := range d.Frameworks {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", fw.Name, fw.Cloud, len(fw.Units))
		}
		fmt.Fprintln(tw, "\n  ACCOUNT (<sub-account>/<cloud>:<id>)")
		for _, a := range d.Accounts {
			fmt.Fprintf(tw, "  %s\n", a)
		}
		tw.Flush()
	}
	return exitOK, nil
}

// progress shows a bar on a terminal; elsewhere it is silent (the JSON log
// has a line per unit).
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	rows  atomic.Int64
	units atomic.Int64
	tty   bool
	e     env
	done  bool
}

func newProgress(e env) *progress { return &progress{tty: e.isTTY, e: e} }

func (p *progress) Start(tenant string, units int) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions(units,
		progressbar.OptionSetWriter(p.e.stderr),
		progressbar.OptionSetDescription(tenant),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *progress) UnitDone(unit string, ok bool) {
	n := p.units.Add(1)
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%d units, %d rows · %s", n, p.rows.Load(), unit))
		_ = p.bar.Add(1)
	}
}

func (p *progress) Rows(n int64) { p.rows.Add(n) }

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && !p.done {
		_ = p.bar.Finish()
		p.done = true
	}
}

// cmdSchedule runs the same job as `run` on the config's schedule until
// SIGTERM/SIGINT, never two runs at once. Each run covers the period the
// flags give, computed when it starts (default: the previous UTC day).
func cmdSchedule(ctx context.Context, args []string, e env) (int, error) {
	var f runFlags
	fs := newFlagSet("schedule", e)
	bindRunFlags(fs, &f)
	grace := fs.Duration("grace", 30*time.Second, "on SIGTERM, how long the current run may finish before it is cancelled")
	if err := parse(fs, args); err != nil {
		return exitUsage, err
	}
	cfg, err := loadConfig(f, e)
	if err != nil {
		return exitUsage, err
	}
	if cfg.Schedule == "" {
		return exitUsage, usagef("schedule: the config has no schedule: (e.g. schedule: \"15 2 * * *\" or \"@daily\")")
	}
	if _, err := schedule.ParseSpec(cfg.Schedule); err != nil {
		return exitUsage, usageError{err}
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return exitUsage, usagef("timezone %q: %v", cfg.TimeZone, err)
	}
	log := f.logger(e)
	sched, _ := schedule.ParseSpec(cfg.Schedule) // checked above
	run := func(ctx context.Context) error {
		cfg, err := loadConfig(f, e) // a fresh period for every run
		if err != nil {
			return err
		}
		// The run (every day it catches up) ends when the next one is
		// due, or at its timeout if that comes first: runs never overlap.
		// It gets at least a minute, cron's own granularity: only an
		// "@every" of seconds fires sooner, and a tick that comes while a
		// run is going is skipped anyway.
		now := time.Now().In(loc)
		next := sched.Next(now)
		if min := now.Add(time.Minute); next.Before(min) {
			next = min
		}
		cfg.Deadline = config.Deadline{At: next, Reason: "the next scheduled run"}
		return catchUp(ctx, cfg, log, e)
	}
	if err := schedule.Run(ctx, schedule.Options{Spec: cfg.Schedule, Location: loc, Grace: *grace, Logger: log}, run, nil); err != nil {
		return exitFailed, err
	}
	return exitOK, nil
}

// catchUp runs every day missed since the tenant's last published period
// (state.json beside the packs), oldest first, then the current one. The
// audit log of each run starts at the watermark, so no interval is skipped
// or collected twice. Tenants are caught up one by one.
func catchUp(ctx context.Context, cfg *config.Config, log *slog.Logger, e env) error {
	store, err := openStore(ctx, cfg.Output, cfg.S3, log)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range cfg.Tenants {
		one := *cfg
		one.Tenants = []config.Tenant{t}
		st, err := job.ReadState(ctx, store, t.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		days := job.CatchUp(st, cfg.Period.To, cfg.CatchUpDays)
		if len(days) > 1 {
			log.Warn("catching up missed days", "tenant", t.Name, "from", days[0].From, "days", len(days))
		}
		for _, w := range days {
			if st, err = job.ReadState(ctx, store, t.Name); err != nil {
				errs = append(errs, err)
				break
			}
			one.Period, one.AuditFrom = w, st.AuditWatermark
			code, err := execute(ctx, &one, log, e, job.Deps{})
			if err != nil {
				// No pack: later days wait for this one, so the state never skips it.
				errs = append(errs, fmt.Errorf("tenant %s, %s: %w", t.Name, w.From.Format(time.DateOnly), err))
				break
			}
			if code != exitOK {
				log.Warn("pack published with failed units", "tenant", t.Name, "day", w.From.Format(time.DateOnly))
			}
		}
	}
	return errors.Join(errs...)
}
