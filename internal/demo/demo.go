// Package demo wires the platforms' emulators (internal/collect/*/emulator)
// to tenants that read them, for `evidence demo` and for tests. The
// emulators are test and demo infrastructure: this is the one place outside
// tests that reaches them, and only cmd/evidence and tests import it
// (TestEmulatorsStayOutOfProduction keeps it so), so the production
// packages, internal/source above all, never link an emulator in.
package demo

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	edgeemu "github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	ibmemu "github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
	lwemu "github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	sophosemu "github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
	"github.com/evidence-pack/evidence/internal/config"
)

// Options choose what the demo emulates.
type Options struct {
	// Only emulates the platform of this source name; "" emulates every one.
	Only string
	// Forbid makes the emulated Lacework sub-account of this name refuse
	// the key, which shows a partial pack (exit code 3).
	Forbid string
	// Scale divides the emulators' row counts: tests run a demo of the
	// same platforms, tenants and files with fewer rows. 0 is the demo as
	// shipped.
	Scale int
}

// rows is n rows of the demo at o's scale, at least one.
func (o Options) rows(n int) int { return max(1, n/max(1, o.Scale)) }

// Emulator is one platform's emulator, serving on a loopback port.
type Emulator struct {
	Platform string // the source name
	URL      string
	About    string // what it holds, in a few words: tenant, accounts, zones
}

// Demo is the running emulators of a demo and the configuration that
// reads them.
type Demo struct {
	Emulators []Emulator
	// Tenants read the emulators, except Lacework's: that one is the
	// configuration's default tenant, which the Lacework source reads from
	// the LW_* variables in Env, as it does for a user without a config
	// file (see Lacework).
	Tenants []config.Tenant
	// Env holds every tenant's credentials (and the LW_* variables).
	Env   map[string]string
	stops []func()
}

// Lacework reports whether the Lacework emulator runs, that is whether the
// configuration's default tenant, read from the LW_* variables, is one of
// the demo's.
func (d *Demo) Lacework() bool {
	_, ok := d.Env["LW_ACCOUNT"]
	return ok
}

// Getenv reads the demo's environment; the process's own is never read,
// so a user's real credentials cannot leak into a demo.
func (d *Demo) Getenv(key string) string { return d.Env[key] }

// Close stops the emulators.
func (d *Demo) Close() {
	for _, stop := range d.stops {
		stop()
	}
	d.stops = nil
}

// platform is one emulated platform: start builds its emulator and
// returns what it holds and the tenant (with its environment) that reads
// it at a URL.
type platform struct {
	name  string
	start func(o Options) (h http.Handler, about string, tenant func(url string) (config.Tenant, map[string]string))
}

// platforms lists every platform's emulator at the demo's scale. Lacework
// comes first: its tenant is configured from LW_* variables, as a user's is.
var platforms = []platform{
	{"lacework", func(o Options) (http.Handler, string, func(string) (config.Tenant, map[string]string)) {
		cfg := lwemu.Config{Seed: 1, EvaluationsPerDay: o.rows(3000), InventoryPerCSP: o.rows(2000), AuditLogsPerDay: o.rows(1500),
			Recommendations: 40, Faults: lwemu.Faults{Tricky: true}}
		if o.Forbid != "" {
			cfg.Forbidden = []string{o.Forbid}
		}
		emu := lwemu.New(cfg)
		var subs []string
		for _, s := range emu.Tenant().SubAccounts {
			subs = append(subs, s.Name)
		}
		return emu, fmt.Sprintf("tenant %s: %s", lwemu.DefaultAccount, strings.Join(subs, ", ")),
			func(url string) (config.Tenant, map[string]string) { return config.Tenant{}, LaceworkEnv(url) }
	}},
	{"sophos", func(o Options) (http.Handler, string, func(string) (config.Tenant, map[string]string)) {
		emu := sophosemu.New(sophosemu.Config{Seed: 1, HistoryDays: 3, AlertsPerEnvironment: o.rows(600)})
		return emu, fmt.Sprintf("%d environments", len(emu.Environments())),
			func(url string) (config.Tenant, map[string]string) { return SophosTenant("optix-demo", url) }
	}},
	{"ibm_scc", func(o Options) (http.Handler, string, func(string) (config.Tenant, map[string]string)) {
		// 2000 and 500 are the emulator's defaults, written out to scale.
		emu := ibmemu.New(ibmemu.Config{Seed: 1, Tricky: true, AuditEventsPerDay: o.rows(2000), InventoryResources: o.rows(500)})
		return emu, fmt.Sprintf("%d zones", len(emu.Zones())),
			func(url string) (config.Tenant, map[string]string) { return IBMSCCTenant("scc-demo", url) }
	}},
	{"lacework_edge", func(o Options) (http.Handler, string, func(string) (config.Tenant, map[string]string)) {
		// The access review looks every (app, user) pair up, a request
		// each: the users are scaled like the other platforms' rows.
		emu := edgeemu.New(edgeemu.Config{Seed: 1, PageSize: 100, Users: o.rows(edgeemu.DefaultUsers), Faults: edgeemu.Faults{Tricky: true}})
		return emu, fmt.Sprintf("account %s", edgeemu.DefaultAccount),
			func(url string) (config.Tenant, map[string]string) { return EdgeTenant("edge-demo", url) }
	}},
}

// Names lists the platforms the demo can emulate, Lacework first.
func Names() []string {
	var out []string
	for _, p := range platforms {
		out = append(out, p.name)
	}
	return out
}

// UnknownPlatformError is Options.Only naming no platform of Names.
type UnknownPlatformError struct{ Name string }

func (u UnknownPlatformError) Error() string {
	return fmt.Sprintf("%q: want one of %s", u.Name, strings.Join(Names(), ", "))
}

// Start serves the emulators o asks for on loopback ports until Close.
// Nothing leaves the machine.
func Start(ctx context.Context, o Options) (*Demo, error) {
	if o.Only != "" && !slices.Contains(Names(), o.Only) {
		return nil, UnknownPlatformError{o.Only}
	}
	d := &Demo{Env: map[string]string{}}
	for _, p := range platforms {
		if o.Only != "" && o.Only != p.name {
			continue
		}
		h, about, tenant := p.start(o)
		url, stop, err := serveLoopback(ctx, h)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("start the %s emulator: %w", p.name, err)
		}
		d.stops = append(d.stops, stop)
		d.Emulators = append(d.Emulators, Emulator{Platform: p.name, URL: url, About: about})
		t, env := tenant(url)
		maps.Copy(d.Env, env)
		if t.Source != "" {
			d.Tenants = append(d.Tenants, t)
		}
	}
	return d, nil
}

// serveLoopback serves h on a loopback port until stop is called.
func serveLoopback(ctx context.Context, h http.Handler) (url string, stop func(), err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// ServeSchedule is the schedule of the configuration ServeConfig writes:
// often enough to watch `evidence schedule` work.
const ServeSchedule = "@every 2m"

// ServeConfig returns a configuration file that reads every running
// emulator (Lacework's too, as a tenant of its own) and publishes to out,
// for `evidence demo --serve`: with the variables of Exports, every
// command can be tried against the emulators.
func (d *Demo) ServeConfig(out string) ([]byte, error) {
	type file struct {
		Output      string          `yaml:"output"`
		Schedule    string          `yaml:"schedule"`
		CatchUpDays int             `yaml:"catch_up_days"`
		Tenants     []config.Tenant `yaml:"tenants"`
	}
	f := file{Output: out, Schedule: ServeSchedule, CatchUpDays: 2}
	for _, e := range d.Emulators {
		if e.Platform == config.DefaultSource {
			f.Tenants = append(f.Tenants, LaceworkTenant(e.URL))
		}
	}
	f.Tenants = append(f.Tenants, d.Tenants...)
	b, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return append([]byte("# evidence demo --serve: the emulators' tenants; stops working when the demo stops.\n"), b...), nil
}

// Exports returns the demo's environment as sorted NAME=value pairs. The
// values are the emulators' own made-up credentials, never a user's.
func (d *Demo) Exports() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(d.Env)) {
		out = append(out, k+"="+d.Env[k])
	}
	return out
}
