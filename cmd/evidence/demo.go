package main

import (
	"context"
	"errors"
	"fmt"
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
	for _, emu := range d.Emulators {
		fmt.Fprintf(e.stdout, "%s emulator listening on %s (%s)\n", emu.Platform, emu.URL, emu.About)
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
		fmt.Fprintf(e.stdout, "Demo finished (exit code %d). Open the .xlsx and .pdf files, or run the verify commands above.\n", exitCode(err))
	}
	return err
}
