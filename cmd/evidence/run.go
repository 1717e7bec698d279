package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

// cmdRun collects the period of every tenant and publishes a pack each.
func cmdRun(ctx context.Context, args []string, e env) error {
	cfg, f, err := runConfig("run", args, e, func(fs *flag.FlagSet, f *runFlags) {
		bindSourceFlags(fs, f)
		bindOutputFlags(fs, f)
	})
	if err != nil {
		return err
	}
	return execute(ctx, cfg, f.logger(e), e, job.Deps{})
}

// execute runs the job and reports its packs; shared by run, schedule and
// demo. deps holds what the caller sets (the demo's environment); the rest
// comes from cfg and e. It returns nil when every pack is complete, a
// partialError when they are published with failed units or the lake
// export failed, and an outcome naming what stands when a tenant has no
// pack.
func execute(ctx context.Context, cfg *config.Config, log *slog.Logger, e env, deps job.Deps) error {
	if err := checkOutput(ctx, cfg.Output, cfg.S3, log); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.Output, cfg.S3, log)
	if err != nil {
		return err
	}
	if cfg.SignKey != "" {
		b, err := os.ReadFile(cfg.SignKey)
		if err != nil {
			return usageError{fmt.Errorf("signing key: %w", err)}
		}
		priv, err := pack.ParsePrivateKey(b)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", cfg.SignKey, err)}
		}
		signer := pack.Ed25519Signer(priv)
		deps.Signer = &signer
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
	deps.Progress = runProgress(e)
	deps.Build = job.Build{Version: version, Commit: commit, Date: date}
	deps.CommandLine = job.RedactArgs(e.argv)
	start := time.Now()
	res, err := job.Run(ctx, cfg, deps)
	if e.screen != nil {
		e.screen.Close() // the lines stay; what follows prints below them
	}
	if errors.Is(err, source.ErrRefused) {
		return err // before any tenant was read: nothing to report but the refusal
	}
	if merr := publishMetrics(ctx, cfg, res, err, time.Since(start)); merr != nil {
		log.Warn("metrics not published", "err", merr)
	}
	var stand []string // "tenant: location" of every pack published
	published := map[string]bool{}
	failedUnits := 0
	for _, p := range res.Packs {
		dir := filepath.Join(cfg.Output, filepath.FromSlash(p.Prefix))
		if strings.HasPrefix(cfg.Output, "s3://") {
			dir = strings.TrimSuffix(cfg.Output, "/") + "/" + p.Prefix + "/"
		}
		stand = append(stand, p.Tenant+": "+dir)
		published[p.Tenant] = true
		printPack(e, p, dir)
		failedUnits += len(p.Manifest.Failures)
	}
	lakeErr := exportLake(ctx, cfg, store, res, e, log)
	if err != nil {
		// One tenant failing (or a signal) does not undo the others: say
		// which packs stand and which tenants have none.
		var missing []string
		for _, t := range cfg.Tenants {
			if !published[t.Name] {
				missing = append(missing, t.Name)
			}
		}
		return outcome{err: err, stand: stand, missing: missing}
	}
	if lakeErr != nil {
		return lakeErr
	}
	if failedUnits > 0 {
		return partialError{fmt.Sprintf("%d units failed; they are listed in their packs", failedUnits)}
	}
	return nil
}

// printPack tells where a published pack is, what failed in it and how to
// verify it, in lines that fit 80 columns for an output folder of usual
// length.
func printPack(e env, p job.PackResult, dir string) {
	fmt.Fprintf(e.stdout, "Pack for %s written to %s\n", p.Tenant, dir)
	fmt.Fprintf(e.stdout, "  %d files, %d queries, %d failed units\n", len(p.Manifest.Files), len(p.Manifest.Queries), len(p.Manifest.Failures))
	for _, fl := range p.Manifest.Failures {
		fmt.Fprintf(e.stdout, "  FAILED %s: %s\n", fl.Unit, fl.Error)
	}
	fmt.Fprintf(e.stdout, "  check it: evidence verify %s\n", dir)
	if !strings.HasPrefix(dir, "s3://") {
		fmt.Fprintln(e.stdout, "  (or, without evidence, in its folder: sha256sum -c SHA256SUMS)")
	}
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
