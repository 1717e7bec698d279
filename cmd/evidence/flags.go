package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/progress"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/sources"
	"github.com/evidence-pack/evidence/internal/suggest"
)

// listFlag is a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// runFlags are the flags of the commands that read the platforms: run,
// plan, frameworks and schedule.
type runFlags struct {
	config.Flags
	logLevel string
	logJSON  bool
}

func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package writes only the help there (-h, printHelp): parse
	// reports errors itself, in one line, on stderr.
	fs.SetOutput(e.stdout)
	fs.Usage = func() {}
	return fs
}

// bindSourceFlags binds the flags that choose what is read: the tenants,
// the period and the filters, and the log (run, plan, schedule).
func bindSourceFlags(fs *flag.FlagSet, f *runFlags) {
	bindTenantFlags(fs, f)
	bindPeriodFlags(fs, f)
	fs.Var((*listFlag)(&f.Accounts), "account", "cloud account `id`s to include (repeatable, comma-separated)")
	fs.Var((*listFlag)(&f.Frameworks), "framework", "framework `names` or report types to include (repeatable; see evidence frameworks)")
	fs.Var((*listFlag)(&f.Datasets), "dataset", "`datasets` to include: reports, evaluations, inventory, audit_logs")
	fs.BoolVar(&f.NoVendorPDF, "no-vendor-pdf", false, "leave out the platforms' own PDF of each report (Lacework: one request per cloud account and framework, half of the Reports bucket's); a tenant's section can too (vendor_pdf: false)")
	fs.StringVar(&f.Shard, "shard", "", "run only shard `i/n` of the units (0-based; an Indexed Job passes $(JOB_COMPLETION_INDEX)/n)")
}

// bindPeriodFlags binds --from and --to (run, plan, schedule, frameworks:
// what discovery finds depends on the period).
func bindPeriodFlags(fs *flag.FlagSet, f *runFlags) {
	fs.StringVar(&f.From, "from", "", "period start: a `date` (2026-11-21) or RFC 3339 time; default the previous UTC day")
	fs.StringVar(&f.To, "to", "", "period end: a `date` (inclusive) or RFC 3339 time (exclusive)")
}

// bindTenantFlags binds the flags of every command that reads the
// platforms: which tenants, how long, and the log.
func bindTenantFlags(fs *flag.FlagSet, f *runFlags) {
	fs.StringVar(&f.ConfigFile, "config", "", "YAML configuration `file` (see configs/evidence.example.yaml)")
	fs.StringVar(&f.Source, "source", "", "only the tenants of this `platform`: "+strings.Join(sources.Registry(sources.Options{}).Names(), ", "))
	fs.DurationVar(&f.Timeout, "timeout", 0, "stop reading the APIs after this `duration` (e.g. 2h); unfinished units fail and the pack is still published (default 3h30m; schedule: until the next scheduled run)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.BoolVar(&f.logJSON, "log-json", false, "JSON log lines even on a terminal")
}

// bindOutputFlags binds the flags of the commands that publish packs
// (run, schedule): where, signed how, and what else is told.
func bindOutputFlags(fs *flag.FlagSet, f *runFlags) {
	fs.StringVar(&f.Out, "out", "", "output `directory` or s3://bucket/prefix (default ./out, or output: in the config)")
	fs.StringVar(&f.S3Endpoint, "s3-endpoint", "", "S3-compatible server `URL` (path-style addressing); default AWS_ENDPOINT_URL_S3 or AWS")
	fs.StringVar(&f.SignKey, "sign-key", "", "ed25519 private key `file` (PEM or raw, from evidence keygen): sign manifest.json into manifest.sig")
	fs.StringVar(&f.Paper, "paper", "", "`paper` the PDFs and workbooks are laid out for: a4 or letter (default a4, or paper: in the config)")
	fs.StringVar(&f.Lake, "lake", "", "also copy the Parquet tables to this data-lake `directory` or s3://bucket/prefix (Hive layout; Athena and DuckDB DDL in _ddl/)")
	bindSecurityLakeFlags(fs, &f.SecurityLake)
	fs.StringVar(&f.Metrics.Pushgateway, "pushgateway", "", "push run metrics to this Pushgateway `URL`")
	fs.StringVar(&f.Metrics.Textfile, "metrics-file", "", "write run metrics to this node_exporter textfile `path` (*.prom)")
}

// bindSecurityLakeFlags binds the Amazon Security Lake export's flags
// (run, schedule, demo).
func bindSecurityLakeFlags(fs *flag.FlagSet, sl *config.SecurityLake) {
	fs.StringVar(&sl.Location, "security-lake", "", "also write the compliance results as OCSF Compliance Findings to this Amazon Security Lake custom source, s3://bucket/ext/`source-name` (or a directory)")
	fs.StringVar(&sl.Region, "security-lake-region", "", "the Security Lake's AWS `region` (region= of every object)")
	fs.StringVar(&sl.AccountID, "security-lake-account", "", "the 12-digit AWS `account` that owns the Security Lake (accountId= of results outside AWS)")
}

// parse parses a command's flags; the command takes no other argument.
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// parseFlags parses a command's flags, reporting a mistyped one in a
// line with the nearest flag, and printing the flags for -h.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // the flag package's own error line: parse writes one
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(out, fs)
		return usageError{err}
	case err != nil:
		// The flag package names flags with one dash; help and README use two.
		msg := fs.Name() + ": " + strings.ReplaceAll(err.Error(), "flag -", "flag --")
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			msg = fmt.Sprintf("%s: unknown flag --%s", fs.Name(), name)
			if n := suggest.Nearest(name, names); n != "" {
				msg += fmt.Sprintf(" (did you mean --%s?)", n)
			}
		}
		return usagef("%s; run \"evidence %s -h\" for its flags", msg, fs.Name())
	}
	return nil
}

func (f runFlags) logger(e env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if e.isTTY && !f.logJSON {
		// On a terminal the progress lines show progress; only warnings
		// and errors interrupt them, unless debug was asked for.
		if level == slog.LevelInfo {
			opts.Level = slog.LevelWarn
		}
		if e.screen != nil {
			return slog.New(progress.NewHandler(e.screen, opts.Level))
		}
		return slog.New(slog.NewTextHandler(e.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(e.stderr, opts))
}

// loadConfig loads the configuration the flags describe, reporting every
// usage problem at once.
func loadConfig(f runFlags, e env) (*config.Config, error) {
	var problems []error
	if names := sources.Registry(sources.Options{}).Names(); f.Source != "" && !slices.Contains(names, f.Source) {
		problems = append(problems, fmt.Errorf("--source %q: want one of %s", f.Source, strings.Join(names, ", ")))
	}
	cfg, err := config.Load(f.Flags, time.Now())
	if err != nil {
		return nil, usageError{errors.Join(append(problems, err)...)}
	}
	// The tenants' sections and the variables they name, then the rest of
	// the configuration (with the names the sources gave): every problem
	// at once.
	_, err = sources.Registry(sources.Options{}).OpenAll(context.Background(), cfg, func() source.Env {
		return source.Env{Getenv: e.getenv, Home: e.home, Redactor: httpx.NewRedactor()}
	})
	if err != nil && f.ConfigFile == "" {
		// No configuration at all: say what a first run needs.
		err = fmt.Errorf("%w\nNo tenant is configured: set LW_ACCOUNT, LW_API_KEY and LW_API_SECRET (or a ~/.lacework.toml profile), or pass --config FILE (configs/evidence.example.yaml); \"evidence demo\" runs without any", err)
	}
	problems = append(problems, err, cfg.Validate())
	if err := errors.Join(problems...); err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// runConfig parses the flags bind binds (run, plan and frameworks each
// bind their own) and loads the configuration they describe, with run's
// default timeout when none is set.
func runConfig(name string, args []string, e env, bind func(*flag.FlagSet, *runFlags)) (*config.Config, runFlags, error) {
	var f runFlags
	fs := newFlagSet(name, e)
	bind(fs, &f)
	if err := parse(fs, args); err != nil {
		return nil, f, err
	}
	cfg, err := loadConfig(f, e)
	if err != nil {
		return nil, f, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = config.DefaultTimeout
	}
	return cfg, f, nil
}
