package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/periodreport"
	"github.com/evidence-pack/evidence/internal/reportgen"
)

// cmdReport makes the period report of a tenant's daily packs: a report
// pack beside the packs (or in --out).
func cmdReport(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("report", e)
	packsLoc := fs.String("packs", "", "the output that holds the tenants' packs: a `folder` or s3://bucket/prefix")
	var asked periodreport.Asked
	fs.StringVar(&asked.Tenant, "tenant", "", "the tenant `name`, as configured (its folder under --packs)")
	fs.StringVar(&asked.From, "from", "", "the first day, a `date` (2026-11-01)")
	fs.StringVar(&asked.To, "to", "", "the last day, a `date` (inclusive)")
	fs.IntVar(&asked.Sample, "sample", 0, "draw this `number` of days with a pack, reproducibly (needs --seed)")
	fs.Uint64Var(&asked.Seed, "seed", 0, "the sample's `seed`, printed in the report with the method")
	out := fs.String("out", "", "where to write the report pack: a `folder` or s3://bucket/prefix (default --packs); it goes under _reports/<tenant>/")
	signKey := fs.String("sign-key", "", "ed25519 private key `file` (from evidence keygen): sign the report's manifest.json")
	endpoint := fs.String("s3-endpoint", "", "S3-compatible server `URL` for s3:// locations (path-style)")
	paperName := fs.String("paper", "", "`paper` the report's PDF and workbook are laid out for: a4 or letter (default a4)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { asked.SeedSet = asked.SeedSet || f.Name == "seed" })
	if fs.NArg() > 0 {
		return usagef("report: unexpected arguments %q: every value is a flag's", fs.Args())
	}
	// Every impossible request is refused before a pack is read.
	req, err := periodreport.Check(asked, time.Now())
	var problems []error
	if err != nil {
		problems = append(problems, err)
	}
	if *out == "" {
		*out = *packsLoc
	}
	paper, err := reportgen.ParsePaper(*paperName)
	if err != nil {
		problems = append(problems, fmt.Errorf("--paper: %w", err))
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var signer *pack.Signer
	if *signKey != "" {
		b, err := os.ReadFile(*signKey)
		if err == nil {
			var priv ed25519.PrivateKey
			if priv, err = pack.ParsePrivateKey(b); err == nil {
				s := pack.Ed25519Signer(priv)
				signer = &s
			}
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("--sign-key %s: %w", *signKey, err))
		}
	}
	var packs pack.Reader
	if *packsLoc == "" {
		problems = append(problems, errors.New("--packs: the folder or s3://bucket/prefix that holds the tenants' packs"))
	} else if s, err := openLocation(ctx, *packsLoc, *endpoint); err != nil {
		problems = append(problems, fmt.Errorf("--packs %s: %w", *packsLoc, err))
	} else {
		packs = s
		if asked.Tenant != "" {
			if err := periodreport.TenantFolder(ctx, s, asked.Tenant); err != nil {
				problems = append(problems, fmt.Errorf("--packs %s: %w", *packsLoc, err))
			}
		}
	}
	s3cfg := config.S3{Endpoint: *endpoint, PathStyle: *endpoint != ""}
	if *out != "" {
		if err := checkOutput(ctx, *out, s3cfg, log); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return usageError{fmt.Errorf("report: %w", errors.Join(problems...))}
	}

	rep, err := periodreport.Read(ctx, packs, *packsLoc, req, log)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, strings.TrimSuffix(*out, "/"), s3cfg, log)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	prefix, err := periodreport.Write(ctx, store, rep, periodreport.Options{Now: now, Version: version, Commit: commit,
		CommandLine: job.RedactArgs(e.argv), Signer: signer, Location: *out, Paper: paper})
	if err != nil {
		return err
	}
	loc := strings.TrimRight(*out, "/") + "/" + prefix
	gaps := len(rep.Days) - rep.PackDays()
	fmt.Fprintf(e.stdout, "report %s: %s to %s, %d days: %d with a pack, %d gap%s; %d frameworks; %d controls failed at some time, %d every day\n",
		loc, req.From.Format(time.DateOnly), req.To.Add(-24*time.Hour).Format(time.DateOnly), len(rep.Days), rep.PackDays(),
		gaps, map[bool]string{true: "s"}[gaps != 1], len(rep.Frameworks), len(rep.Controls), wholePeriod(rep))
	for _, w := range rep.Warnings() {
		fmt.Fprintf(e.stdout, "  warning: %s\n", w)
	}
	if len(rep.SampleDrawn) > 0 {
		var days []string
		for _, i := range rep.SampleDrawn {
			days = append(days, rep.Days[i].Day.Format(time.DateOnly))
		}
		fmt.Fprintf(e.stdout, "  sample (seed %d, in draw order): %s\n", req.Seed, strings.Join(days, " "))
	}
	fmt.Fprintf(e.stdout, "  verify: evidence verify %s\n", loc)
	return nil
}

func wholePeriod(rep *periodreport.Report) int {
	n := 0
	for _, c := range rep.Controls {
		if c.WholePeriod {
			n++
		}
	}
	return n
}
