package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"time"

	edgeemu "github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	ibmemu "github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	sophosemu "github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/source/edge"
	"github.com/evidence-pack/evidence/internal/source/ibmscc"
	"github.com/evidence-pack/evidence/internal/source/sophos"
)

// demoSource is a platform the demo emulates: its emulator and a tenant
// pointing at it, with the environment that holds the credentials.
type demoSource struct {
	name  string
	start func(now time.Time, forbid string, scale int) (http.Handler, func(url string) (config.Tenant, map[string]string), string)
}

// scaled is n rows of the demo divided by scale (env.demoScale: tests run a
// demo of the same shape with fewer rows), at least one.
func scaled(n, scale int) int { return max(1, n/max(1, scale)) }

// demoSources lists every platform's emulator; the Lacework one comes
// first (its tenant is configured from LW_* variables, as a user's is).
var demoSources = []demoSource{
	{"lacework", func(now time.Time, forbid string, scale int) (http.Handler, func(string) (config.Tenant, map[string]string), string) {
		cfg := emulator.Config{Seed: 1, EvaluationsPerDay: scaled(3000, scale), InventoryPerCSP: scaled(2000, scale),
			AuditLogsPerDay: scaled(1500, scale), Recommendations: 40,
			Faults: emulator.Faults{Tricky: true}}
		if forbid != "" {
			cfg.Forbidden = []string{forbid}
		}
		emu := emulator.New(cfg)
		var subs []string
		for _, s := range emu.Tenant().SubAccounts {
			subs = append(subs, s.Name)
		}
		// No tenant: config.Load makes it from the LW_* variables, as it
		// does for a user without a config file.
		return emu, func(url string) (config.Tenant, map[string]string) {
			return config.Tenant{}, map[string]string{
				"LW_ACCOUNT": emulator.DefaultAccount, "LW_API_KEY": emulator.DefaultKeyID,
				"LW_API_SECRET": emulator.DefaultSecret, "LW_API_URL": url}
		}, fmt.Sprintf("tenant %q, sub-accounts %s", emulator.DefaultAccount, strings.Join(subs, ", "))
	}},
	{"sophos", func(now time.Time, _ string, scale int) (http.Handler, func(string) (config.Tenant, map[string]string), string) {
		emu := sophosemu.New(sophosemu.Config{Seed: 1, HistoryDays: 3, AlertsPerEnvironment: scaled(600, scale)})
		return emu, func(url string) (config.Tenant, map[string]string) { return sophos.EmulatorTenant("optix-demo", url) },
			fmt.Sprintf("%d environments", len(emu.Environments()))
	}},
	{"ibm_scc", func(now time.Time, _ string, scale int) (http.Handler, func(string) (config.Tenant, map[string]string), string) {
		emu := ibmemu.New(ibmemu.Config{Seed: 1, Tricky: true, AuditEventsPerDay: scaled(2000, scale), InventoryResources: scaled(500, scale)})
		return emu, func(url string) (config.Tenant, map[string]string) { return ibmscc.EmulatorTenant("scc-demo", url) },
			fmt.Sprintf("zones %s", strings.Join(emu.Zones(), ", "))
	}},
	{"lacework_edge", func(now time.Time, _ string, _ int) (http.Handler, func(string) (config.Tenant, map[string]string), string) {
		emu := edgeemu.New(edgeemu.Config{Seed: 1, PageSize: 100, Faults: edgeemu.Faults{Tricky: true}})
		return emu, func(url string) (config.Tenant, map[string]string) { return edge.EmulatorTenant("edge-demo", url) },
			fmt.Sprintf("account %q", edgeemu.DefaultAccount)
	}},
}

// cmdDemo runs the whole pipeline against the built-in emulators of every
// platform: no credentials, no network beyond loopback listeners. Each
// platform's tenant gets its own pack.
func cmdDemo(ctx context.Context, args []string, e env) (int, error) {
	fs := newFlagSet("demo", e)
	out := fs.String("out", "./out", "output `directory`")
	logJSON := fs.Bool("log-json", false, "JSON log lines even on a terminal")
	forbid := fs.String("forbid", "", "make this emulated Lacework `sub-account` refuse the key (shows a partial pack, exit code 3)")
	only := fs.String("source", "", "emulate only this `platform` ("+strings.Join(demoNames(), ", ")+")")
	if err := parse(fs, args); err != nil {
		return exitUsage, err
	}
	now := time.Now().UTC()
	env := map[string]string{}
	var tenants []config.Tenant
	started := 0
	for _, d := range demoSources {
		if *only != "" && *only != d.name {
			continue
		}
		h, tenant, about := d.start(now, *forbid, e.demoScale)
		url, stop, err := serveLoopback(h)
		if err != nil {
			return exitFailed, fmt.Errorf("demo: start the %s emulator: %w", d.name, err)
		}
		defer stop()
		fmt.Fprintf(e.stdout, "%s emulator listening on %s (%s)\n", d.name, url, about)
		t, vars := tenant(url)
		maps.Copy(env, vars)
		if t.Source != "" {
			tenants = append(tenants, t)
		}
		started++
	}
	if started == 0 {
		return exitUsage, usagef("demo: --source %q: want one of %s", *only, strings.Join(demoNames(), ", "))
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(config.Flags{Out: *out}, now)
	if err != nil {
		return exitUsage, usageError{err}
	}
	if _, ok := env["LW_ACCOUNT"]; !ok {
		cfg.Tenants = nil // Lacework not emulated
	}
	cfg.Tenants = append(cfg.Tenants, tenants...)
	if err := cfg.Validate(); err != nil {
		return exitUsage, usageError{err}
	}
	f := runFlags{logLevel: "info", logJSON: *logJSON}
	code, err := execute(ctx, cfg, f.logger(e), e, job.Deps{Getenv: getenv})
	if err == nil {
		fmt.Fprintf(e.stdout, "Demo finished (exit code %d). Open the .xlsx and .pdf files, or run the verify commands above.\n", code)
	}
	return code, err
}

func demoNames() []string {
	var out []string
	for _, d := range demoSources {
		out = append(out, d.name)
	}
	return out
}

// serveLoopback serves h on a loopback port until stop is called.
func serveLoopback(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
