package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/lake"
	"github.com/evidence-pack/evidence/internal/storage"
)

// exportLake copies the Parquet datasets of the packs a run published
// (res, in packStore) into the data lake cfg.Lake and writes the lake's
// DDL; see internal/lake. Without a lake it does nothing. The packs stand
// whatever happens here: every pack is tried, failures are logged and
// printed, and the result is nil, or a partialError if an export failed
// (exit 3). Exporting again later completes it, since the export is
// idempotent.
func exportLake(ctx context.Context, cfg *config.Config, packStore storage.Store, res job.Result, e env, log *slog.Logger) error {
	if cfg.Lake == "" || len(res.Packs) == 0 {
		return nil
	}
	fail := func(err error) error {
		log.Error("data lake export failed; the packs are published", "lake", cfg.Lake, "err", err)
		fmt.Fprintf(e.stderr, "evidence: data lake: %v\n", err)
		return partialError{"data lake export failed; the packs are published"}
	}
	loc := strings.TrimSuffix(cfg.Lake, "/")
	if !strings.HasPrefix(loc, "s3://") {
		abs, err := filepath.Abs(loc)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", cfg.Lake, err))
		}
		loc = abs
	}
	store, err := openStore(ctx, loc, cfg.S3, log)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", cfg.Lake, err))
	}
	target := lake.Lake{Store: store, Location: loc}
	var failed error
	var ddl []string
	for _, p := range res.Packs {
		r, err := lake.Export(ctx, packStore, p.Prefix, target)
		if err != nil {
			failed = fail(fmt.Errorf("pack %s (%d files copied before the error): %w", p.Prefix, r.Copied(), err))
			continue
		}
		log.Info("pack exported to the data lake", "pack", p.Prefix, "lake", loc, "files", len(r.Objects), "copied", r.Copied())
		fmt.Fprintf(e.stdout, "Data lake: %d Parquet files of %s in %s (%d were already there)\n",
			len(r.Objects), p.Tenant, loc, len(r.Objects)-r.Copied())
		ddl = r.DDLKeys
	}
	if len(ddl) == 2 {
		fmt.Fprintf(e.stdout, "  Athena DDL: %s/%s\n  DuckDB views: duckdb -init %s/%s\n", loc, ddl[0], loc, ddl[1])
	}
	return failed
}

// exportSecurityLake writes the compliance results of the packs a run
// published as OCSF Compliance Findings into the Amazon Security Lake
// custom source cfg.SecurityLake (lake.ExportSecurityLake). Like
// exportLake, the packs stand whatever happens: a failure is logged and
// printed and gives a partialError (exit 3); exporting again completes it.
func exportSecurityLake(ctx context.Context, cfg *config.Config, packStore storage.Store, res job.Result, e env, log *slog.Logger) error {
	sl := cfg.SecurityLake
	if sl.Location == "" || len(res.Packs) == 0 {
		return nil
	}
	fail := func(err error) error {
		log.Error("Security Lake export failed; the packs are published", "security_lake", sl.Location, "err", err)
		fmt.Fprintf(e.stderr, "evidence: security lake: %v\n", err)
		return partialError{"Security Lake export failed; the packs are published"}
	}
	loc := strings.TrimSuffix(sl.Location, "/")
	if !strings.HasPrefix(loc, "s3://") {
		abs, err := filepath.Abs(loc)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", sl.Location, err))
		}
		loc = abs
	}
	store, err := openStore(ctx, loc, cfg.S3, log)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", sl.Location, err))
	}
	target := lake.SecurityLake{Store: store, Region: sl.Region, AccountID: sl.AccountID}
	var failed error
	for _, p := range res.Packs {
		r, err := lake.ExportSecurityLake(ctx, packStore, p.Prefix, target)
		if err != nil {
			failed = fail(fmt.Errorf("pack %s (%d files written before the error): %w", p.Prefix, r.Written(), err))
			continue
		}
		log.Info("pack exported to the Security Lake", "pack", p.Prefix, "security_lake", loc, "files", len(r.Objects), "written", r.Written(), "events", r.Events())
		fmt.Fprintf(e.stdout, "Security Lake: %d OCSF events of %s in %d files under %s (%d were already there)\n",
			r.Events(), p.Tenant, len(r.Objects), loc, len(r.Objects)-r.Written())
	}
	return failed
}
