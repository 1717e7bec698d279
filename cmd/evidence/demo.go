package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/demo"
	"github.com/evidence-pack/evidence/internal/job"
)

// cmdDemo runs the whole pipeline against the built-in emulators of every
// platform (internal/demo wires them): no credentials, no network beyond
// loopback listeners. Each platform's tenant gets its own pack.
func cmdDemo(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("demo", e)
	out := fs.String("out", "./out", "output `directory`")
	logJSON := fs.Bool("log-json", false, "JSON log lines even on a terminal")
	forbid := fs.String("forbid", "", "make this emulated Lacework `sub-account` refuse the key (shows a partial pack, exit code 3)")
	only := fs.String("source", "", "emulate only this `platform` ("+strings.Join(demo.Names(), ", ")+")")
	serve := fs.Bool("serve", false, "keep the emulators running until Ctrl-C, and print the configuration and variables that read them, instead of running")
	if err := parse(fs, args); err != nil {
		return err
	}
	d, err := demo.Start(ctx, demo.Options{Only: *only, Forbid: *forbid, Scale: e.demoScale})
	if errors.As(err, new(demo.UnknownPlatformError)) {
		return usagef("demo: --source %w", err)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer d.Close()
	fmt.Fprintln(e.stdout, "Emulators, on loopback ports:")
	for _, emu := range d.Emulators {
		fmt.Fprintf(e.stdout, "  %-14s %-23s %s\n", emu.Platform, emu.URL, emu.About)
	}
	if *serve {
		return serveDemo(ctx, d, *out, e)
	}
	cfg, err := config.Load(config.Flags{Out: *out}, time.Now().UTC())
	if err != nil {
		return usageError{err}
	}
	if !d.Lacework() {
		cfg.Tenants = nil // the default Lacework tenant, read from LW_*, is not the demo's
	}
	cfg.Tenants = append(cfg.Tenants, d.Tenants...)
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	f := runFlags{logLevel: "info", logJSON: *logJSON}
	err = execute(ctx, cfg, f.logger(e), e, job.Deps{Getenv: d.Getenv})
	if err == nil || errors.As(err, new(partialError)) {
		fmt.Fprintf(e.stdout, "Demo finished (exit code %d): open the .xlsx and .pdf files in %s.\n", exitCode(err), *out)
	}
	return err
}

// serveDemo writes the configuration that reads the running emulators
// into out, prints what to export and what to try, and serves until ctx
// is done (Ctrl-C).
func serveDemo(ctx context.Context, d *demo.Demo, out string, e env) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	b, err := d.ServeConfig(abs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfgFile := filepath.Join(abs, "evidence-demo.yaml")
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	weekAgo := time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)
	keys := filepath.Join(abs, "keys")
	w := e.stdout
	fmt.Fprintf(w, "\nThe emulators run until Ctrl-C. Their configuration: %s\nIn another shell:\n\n", cfgFile)
	for _, kv := range d.Exports() {
		fmt.Fprintf(w, "  export %s\n", kv)
	}
	fmt.Fprintln(w)
	for _, c := range [][2]string{
		{"the frameworks and accounts of every platform", "evidence frameworks --config " + cfgFile},
		{"what a week would cost", "evidence plan --config " + cfgFile + " --from " + weekAgo + " --to " + yesterday},
		{"Lacework only, from the LW_* variables (no --config)", "evidence run --out " + abs + " --from " + weekAgo + " --to " + yesterday},
		{"signed packs of every platform", "mkdir -p " + keys + " && evidence keygen --out " + keys + " &&\n    evidence run --config " + cfgFile + " --sign-key " + filepath.Join(keys, "evidence-signing.key")},
		{"check one", "evidence verify --pub " + filepath.Join(keys, "evidence-signing.pub") + " " + filepath.Join(abs, "TENANT", yesterday, "RUN")},
		{"the scheduler (" + demo.ServeSchedule + "; Ctrl-C stops it)", "evidence schedule --config " + cfgFile},
		{"to S3: any S3-compatible server", "evidence run --config " + cfgFile + " --out s3://BUCKET/evidence --s3-endpoint URL"},
	} {
		fmt.Fprintf(w, "  # %s\n  %s\n", c[0], c[1])
	}
	fmt.Fprintln(w)
	<-ctx.Done()
	fmt.Fprintln(w, "Emulators stopped.")
	return nil
}
