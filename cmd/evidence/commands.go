package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/metrics"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/sources"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/s3"
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

type runFlags struct {
	config.Flags
	logLevel string
	logJSON  bool
}

func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

func bindRunFlags(fs *flag.FlagSet, f *runFlags) {
	fs.StringVar(&f.ConfigFile, "config", "", "YAML configuration `file` (see configs/evidence.example.yaml)")
	fs.StringVar(&f.Out, "out", "", "output `directory` or s3://bucket/prefix (default ./out, or output: in the config)")
	fs.StringVar(&f.S3Endpoint, "s3-endpoint", "", "S3-compatible server `URL` (path-style addressing); default AWS_ENDPOINT_URL_S3 or AWS")
	fs.StringVar(&f.From, "from", "", "period start: a date (2026-11-21) or RFC 3339 time; default the previous UTC day")
	fs.StringVar(&f.To, "to", "", "period end: a date (inclusive) or RFC 3339 time (exclusive)")
	fs.Var((*listFlag)(&f.Accounts), "account", "cloud account `id`s to include (repeatable, comma-separated)")
	fs.Var((*listFlag)(&f.Frameworks), "framework", "framework `names` or report types to include (repeatable)")
	fs.Var((*listFlag)(&f.Datasets), "dataset", "`datasets` to include: reports, evaluations, inventory, audit_logs")
	fs.StringVar(&f.Source, "source", "", "only tenants of this `source` ("+strings.Join(sources.Registry(sources.Options{}).Names(), ", ")+")")
	fs.StringVar(&f.Metrics.Pushgateway, "pushgateway", "", "push run metrics to this Pushgateway `URL`")
	fs.StringVar(&f.Metrics.Textfile, "metrics-file", "", "write run metrics to this node_exporter textfile `path` (*.prom)")
	fs.StringVar(&f.Shard, "shard", "", "run only shard `i/n` of the units (0-based; an Indexed Job passes $(JOB_COMPLETION_INDEX)/n)")
	fs.DurationVar(&f.Timeout, "timeout", 0, "stop reading the APIs after this `duration` (e.g. 2h); unfinished units fail and the pack is still published (default 3h30m for run, plan and frameworks; the next scheduled run for schedule)")
	fs.StringVar(&f.SignKey, "sign-key", "", "ed25519 private key `file` (PEM or raw): sign manifest.json into manifest.sig")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.BoolVar(&f.logJSON, "log-json", false, "JSON log lines even on a terminal")
	bindLakeFlag(fs, &f.Flags)
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
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
		// On a terminal the progress bar shows progress; only warnings and
		// errors interrupt it, unless debug was asked for.
		if level == slog.LevelInfo {
			opts.Level = slog.LevelWarn
		}
		return slog.New(slog.NewTextHandler(e.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(e.stderr, opts))
}

func loadConfig(f runFlags, e env) (*config.Config, error) {
	// Every usage problem is reported at once.
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
	problems = append(problems, err, cfg.Validate())
	if err := errors.Join(problems...); err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// openStore opens the output location for writing packs: a directory, or
// s3://bucket/prefix with the config's S3 settings.
func openStore(ctx context.Context, out string, c config.S3, log *slog.Logger) (storage.Store, error) {
	if strings.HasPrefix(out, "s3://") {
		sc, err := s3.ParseURL(out)
		if err != nil {
			return nil, usageError{err}
		}
		sc.Region, sc.Endpoint, sc.PathStyle = c.Region, c.Endpoint, c.PathStyle
		sc.SSE, sc.KMSKeyID, sc.ObjectLockMode, sc.RetainDays = c.SSE, c.KMSKeyID, c.ObjectLockMode, c.RetainDays
		sc.PartSize = int64(c.PartSizeMiB) << 20
		sc.Logger = log
		return s3.New(ctx, sc)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", out, err)
	}
	return local.New(out)
}

// runConfig parses the flags shared by run, plan and frameworks (plus a
// command's own, bound by more) and loads the configuration they describe.
func runConfig(name string, args []string, e env, more ...func(*flag.FlagSet)) (*config.Config, runFlags, error) {
	var f runFlags
	fs := newFlagSet(name, e)
	bindRunFlags(fs, &f)
	for _, bind := range more {
		bind(fs)
	}
	if err := parse(fs, args); err != nil {
		return nil, f, err
	}
	cfg, err := loadConfig(f, e)
	return cfg, f, err
}

func cmdRun(ctx context.Context, args []string, e env) (int, error) {
	cfg, f, err := runConfig("run", args, e)
	if err != nil {
		return exitUsage, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = config.DefaultTimeout
	}
	return execute(ctx, cfg, f.logger(e), e, job.Deps{})
}

// checkOutput refuses an output location that is a pack or inside one,
// before any request: the new pack would become an extra file of the old
// one, which would then fail verification (on an Object Lock bucket, for
// its whole retention).
func checkOutput(ctx context.Context, out string, c config.S3, log *slog.Logger) error {
	var err error
	if strings.HasPrefix(out, "s3://") {
		sc, perr := s3.ParseURL(out)
		if perr != nil {
			return usageError{perr}
		}
		bucket, berr := openStore(ctx, "s3://"+sc.Bucket, c, log)
		if berr != nil {
			return berr
		}
		err = pack.EnclosingPack(ctx, bucket, sc.Prefix)
	} else {
		err = pack.EnclosingDir(out)
	}
	if errors.Is(err, pack.ErrInsidePack) {
		return usagef("output %s: %w; a pack written there would make that pack fail verification: give the folder (or prefix) that holds the tenants' folders", out, err)
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", out, err)
	}
	return nil
}

// execute runs the job and reports its packs; shared by run and demo.
func execute(ctx context.Context, cfg *config.Config, log *slog.Logger, e env, deps job.Deps) (int, error) {
	if err := checkOutput(ctx, cfg.Output, cfg.S3, log); err != nil {
		return exitUsage, err
	}
	store, err := openStore(ctx, cfg.Output, cfg.S3, log)
	if err != nil {
		return exitFailed, err
	}
	prog := newProgress(e)
	defer prog.finish()
	if cfg.SignKey != "" {
		b, err := os.ReadFile(cfg.SignKey)
		if err != nil {
			return exitUsage, usageError{fmt.Errorf("signing key: %w", err)}
		}
		priv, err := pack.ParsePrivateKey(b)
		if err != nil {
			return exitUsage, usageError{fmt.Errorf("%s: %w", cfg.SignKey, err)}
		}
		deps.Signer = pack.Ed25519Signer(priv)
	}
	if deps.Sources == nil {
		deps.Sources = sources.Registry(sources.Options{})
	}
	if deps.Getenv == nil {
		deps.Getenv, deps.Home = e.getenv, e.home
	}
	deps.Store = store
	deps.Location = cfg.Output
	deps.Logger = log
	deps.Progress = prog
	deps.Build = job.Build{Version: version, Commit: commit, Date: date}
	deps.CommandLine = job.RedactArgs(e.argv)
	start := time.Now()
	res, err := job.Run(ctx, cfg, deps)
	prog.finish()
	if errors.Is(err, source.ErrRefused) {
		return exitUsage, usageError{err}
	}
	if merr := publishMetrics(ctx, cfg, res, err, time.Since(start)); merr != nil {
		log.Warn("metrics not published", "err", merr)
	}
	code := exitOK
	var stand []string // "tenant: location" of every pack published
	published := map[string]bool{}
	for _, p := range res.Packs {
		dir := filepath.Join(cfg.Output, filepath.FromSlash(p.Prefix))
		if strings.HasPrefix(cfg.Output, "s3://") {
			dir = strings.TrimSuffix(cfg.Output, "/") + "/" + p.Prefix + "/"
		}
		stand = append(stand, p.Tenant+": "+dir)
		published[p.Tenant] = true
		fmt.Fprintf(e.stdout, "Pack for %s written to %s\n", p.Tenant, dir)
		fmt.Fprintf(e.stdout, "  %d files, %d queries, %d failed units\n", len(p.Manifest.Files), len(p.Manifest.Queries), len(p.Manifest.Failures))
		for _, fl := range p.Manifest.Failures {
			fmt.Fprintf(e.stdout, "  FAILED %s: %s\n", fl.Unit, fl.Error)
		}
		if strings.HasPrefix(dir, "s3://") {
			fmt.Fprintf(e.stdout, "  verify: evidence verify %s\n", dir)
		} else {
			fmt.Fprintf(e.stdout, "  verify: evidence verify %s   (or: cd %s && sha256sum -c SHA256SUMS)\n", dir, dir)
		}
		if len(p.Manifest.Failures) > 0 {
			code = exitPartial
		}
	}
	code = max(code, exportLake(ctx, cfg, store, res, e, log))
	if err != nil {
		// One tenant failing (or a signal) does not undo the others: say
		// which packs stand and which tenants have none.
		var missing []string
		for _, t := range cfg.Tenants {
			if !published[t.Name] {
				missing = append(missing, t.Name)
			}
		}
		return exitFailed, outcome{err: err, stand: stand, missing: missing}
	}
	return code, nil
}

// outcome is a run that ended with an error: what was published, and what
// was not.
type outcome struct {
	err     error
	stand   []string // "tenant: location" of the packs published
	missing []string // tenants without a pack
}

func (o outcome) Unwrap() error { return o.err }

func (o outcome) Error() string {
	var b strings.Builder
	if errors.Is(o.err, context.Canceled) {
		b.WriteString("interrupted")
	} else {
		b.WriteString(o.err.Error())
	}
	if len(o.stand) == 0 {
		b.WriteString("; nothing was published")
	} else {
		fmt.Fprintf(&b, "\nPublished, and complete as their manifests say (%d):", len(o.stand))
		for _, s := range o.stand {
			b.WriteString("\n  " + s)
		}
	}
	if len(o.missing) > 0 {
		fmt.Fprintf(&b, "\nNot published (%d): %s", len(o.missing), strings.Join(o.missing, ", "))
	}
	return b.String()
}

func cmdVerify(ctx context.Context, args []string, e env) (int, error) {
	fs := newFlagSet("verify", e)
	pubFile := fs.String("pub", "", "ed25519 public key `file`: also check manifest.sig")
	endpoint := fs.String("s3-endpoint", "", "S3-compatible server `URL` for s3:// locations (path-style)")
	if err := fs.Parse(args); err != nil {
		return exitUsage, usageError{err}
	}
	if fs.NArg() != 1 {
		return exitUsage, usagef("verify: want one pack location (a folder holding manifest.json)")
	}
	loc := fs.Arg(0)
	var store storage.Store
	if strings.HasPrefix(loc, "s3://") {
		// The pack's own prefix is the store's root, as a folder is locally.
		s, err := openStore(ctx, strings.TrimSuffix(loc, "/"), config.S3{Endpoint: *endpoint, PathStyle: *endpoint != ""}, slog.New(slog.DiscardHandler))
		if err != nil {
			return exitFailed, fmt.Errorf("verify %s: %w", loc, err)
		}
		store = s
	} else {
		if st, err := os.Stat(loc); err != nil || !st.IsDir() {
			return exitFailed, fmt.Errorf("verify %s: not a directory", loc)
		}
		s, err := local.New(loc)
		if err != nil {
			return exitFailed, err
		}
		store = s
	}
	rep, err := pack.Verify(ctx, store, "")
	if err != nil {
		return exitFailed, fmt.Errorf("verify %s: %w", loc, err)
	}
	fmt.Fprintln(e.stdout, rep.String())
	code := exitOK
	if !rep.OK() {
		code = exitFailed
	}
	if s3s, ok := store.(*s3.Store); ok {
		if !checkS3(ctx, e, s3s, rep.Manifest) {
			code = exitFailed
		}
	}
	if *pubFile != "" {
		b, err := os.ReadFile(*pubFile)
		if err != nil {
			return exitUsage, usageError{fmt.Errorf("public key: %w", err)}
		}
		pub, err := pack.ParsePublicKey(b)
		if err != nil {
			return exitUsage, usageError{fmt.Errorf("%s: %w", *pubFile, err)}
		}
		if err := pack.CheckSignature(ctx, store, "", pub); err != nil {
			fmt.Fprintf(e.stdout, "signature: FAILED: %v\n", err)
			return exitFailed, nil
		}
		fmt.Fprintln(e.stdout, "signature: OK (manifest.sig verifies with", *pubFile+")")
	}
	return code, nil
}

// cmdKeygen writes an ed25519 key pair for signing packs.
func cmdKeygen(_ context.Context, args []string, e env) (int, error) {
	fs := newFlagSet("keygen", e)
	out := fs.String("out", ".", "`directory` for evidence-signing.key (0600) and evidence-signing.pub")
	if err := parse(fs, args); err != nil {
		return exitUsage, err
	}
	priv, pub, err := pack.GenerateKey(rand.Reader)
	if err != nil {
		return exitFailed, err
	}
	keyPath, pubPath := filepath.Join(*out, "evidence-signing.key"), filepath.Join(*out, "evidence-signing.pub")
	for _, f := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{{keyPath, priv, 0o600}, {pubPath, pub, 0o644}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return exitFailed, fmt.Errorf("keygen: %w (an existing key is never overwritten)", err)
		}
		_, err = fh.Write(f.b)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return exitFailed, fmt.Errorf("keygen: %w", err)
		}
	}
	fmt.Fprintf(e.stdout, "Wrote %s (keep it secret) and %s.\nSign packs with: evidence run --sign-key %s\nCheck them with: evidence verify --pub %s PACK\n", keyPath, pubPath, keyPath, pubPath)
	return exitOK, nil
}

// publishMetrics sends the run's metrics where the config says; a tenant
// that failed is reported with success 0.
func publishMetrics(ctx context.Context, cfg *config.Config, res job.Result, runErr error, took time.Duration) error {
	if cfg.Metrics.Pushgateway == "" && cfg.Metrics.Textfile == "" {
		return nil
	}
	var runs []metrics.Run
	done := map[string]bool{}
	for _, p := range res.Packs {
		st := p.Manifest.Stats
		runs = append(runs, metrics.Run{Tenant: p.Tenant, Success: true, UnitsOK: p.UnitsOK(), UnitsFailed: int64(len(p.Manifest.Failures)),
			Rows: st["rows"], Bytes: p.Bytes(), Requests: st["requests"], RateLimited: st["rate_limited"], Retries: st["retries"],
			Duration: time.Duration(st["duration_ms"]) * time.Millisecond, Finished: time.Now()})
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

// checkS3 compares what S3 itself recorded for each file of the pack (its
// stored SHA-256 checksum, or our sha256 metadata) with the manifest, and
// reports the Object Lock state of the pack's objects.
func checkS3(ctx context.Context, e env, s *s3.Store, m pack.Manifest) bool {
	ok := true
	locked := map[string]int{}
	var earliest time.Time
	for _, f := range m.Files {
		info, err := s.Info(ctx, f.Path)
		if err != nil {
			fmt.Fprintf(e.stdout, "s3: %s: %v\n", f.Path, err)
			ok = false
			continue
		}
		if info.SHA256 != "" && info.SHA256 != f.SHA256 {
			fmt.Fprintf(e.stdout, "s3: %s: S3 records SHA-256 %s, the manifest %s\n", f.Path, info.SHA256, f.SHA256)
			ok = false
		}
		mode := info.LockMode
		if mode == "" {
			mode = "none"
		} else if earliest.IsZero() || info.RetainUntil.Before(earliest) {
			earliest = info.RetainUntil
		}
		locked[mode]++
	}
	var parts []string
	for _, mode := range []string{"COMPLIANCE", "GOVERNANCE", "none"} {
		if n := locked[mode]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, mode))
		}
	}
	line := "s3: Object Lock: " + strings.Join(parts, ", ")
	if !earliest.IsZero() {
		line += ", retained until at least " + earliest.UTC().Format(time.RFC3339)
	}
	fmt.Fprintln(e.stdout, line)
	if ok {
		fmt.Fprintln(e.stdout, "s3: the checksums S3 stored agree with the manifest")
	}
	return ok
}
