// Command evidence turns cloud-security platforms' compliance data into
// verifiable audit evidence packs. See README.md.
//
// Exit codes: 0 complete; 1 failed (no pack); 2 usage or configuration
// error; 3 pack published with some units failed.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…"
// (make build, make image). Without them (go install, go run) they come
// from the build information Go records: see init.
var (
	version = ""
	commit  = ""
	date    = ""
)

// init fills what ldflags did not set from the binary's build information:
// the module version of `go install …@v1.2.3`, else "devel" and the VCS
// revision (with "+dirty" for uncommitted changes) and commit time of a
// build from a checkout. The one string reaches the manifest, the PDFs,
// the workbooks, Parquet's created_by and the User-Agent alike.
func init() {
	bi, ok := debug.ReadBuildInfo()
	version, commit, date = buildVersion(version, commit, date, bi, ok)
}

// buildVersion completes the ldflags values v, c, d from bi.
func buildVersion(v, c, d string, bi *debug.BuildInfo, ok bool) (string, string, string) {
	if !ok {
		return cmp.Or(v, "devel"), c, d
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty && rev != "" {
		rev += "+dirty"
	}
	if v == "" {
		v = "devel"
		if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
			v = mv
		} else if rev != "" {
			v = "devel-" + rev
		}
	}
	return v, cmp.Or(c, rev), cmp.Or(d, at)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitPartial = 3
)

// env is what a command may read of its process: passed in, so tests run
// commands in-process with their own environment and streams.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	isTTY  bool
	home   string
	argv   []string // the command line, program name first (for the manifest)
	// demoScale divides the demo emulators' row counts: tests run the demo
	// with fewer rows of the same shape. 0 is the demo as shipped.
	demoScale int
}

// usageError marks errors of the command line or configuration (exit 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set. The pipeline's live heap is bounded (pages, batches, row
// groups and sheet buffers, not rows: about 160 MiB at any scale), so the
// limit costs a little GC time and keeps the process's RSS near 220 MiB
// instead of letting the heap double between collections. The Kubernetes
// CronJob sets GOMEMLIMIT from the container's limit instead.
const defaultMemoryLimit = 200 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	home, _ := os.UserHomeDir()
	e := env{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, isTTY: isTerminal(os.Stderr), home: home,
		argv: append([]string{"evidence"}, os.Args[1:]...)}
	os.Exit(run(ctx, os.Args[1:], e))
}

const usage = `evidence — audit evidence packs from cloud-security platforms

Usage:
  evidence run [flags]          collect and publish a pack (default: the previous UTC day)
  evidence plan [flags]         show units, requests and duration (counts rows with one small request per result set; --probe=false: none)
  evidence verify [--pub KEY] PATH   check a pack's files against its manifest (and its signature)
  evidence keygen [--out DIR]   make an ed25519 key pair for signing packs (run --sign-key)
  evidence schedule --config F  run on the config's cron schedule until SIGTERM (no overlapping runs)
  evidence demo [--out DIR]     a full run against the built-in Lacework emulator
  evidence frameworks [flags]   list the frameworks and cloud accounts the key can see
  evidence version              print version, commit and build date

Run "evidence COMMAND -h" for a command's flags.
Credentials: LW_ACCOUNT, LW_API_KEY, LW_API_SECRET (and LW_SUBACCOUNT, LW_API_URL),
or a lacework CLI profile (~/.lacework.toml), or --config FILE.
`

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	cmds := map[string]func(context.Context, []string, env) (int, error){
		"run":        cmdRun,
		"plan":       cmdPlan,
		"verify":     cmdVerify,
		"demo":       cmdDemo,
		"frameworks": cmdFrameworks,
		"keygen":     cmdKeygen,
		"schedule":   cmdSchedule,
		"version":    cmdVersion,
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(e.stderr, "evidence: unknown command %q\n\n%s", name, usage)
		return exitUsage
	}
	code, err := cmd(ctx, args[1:], e)
	if err != nil {
		return report(e, err)
	}
	return code
}

// report prints err and maps it to an exit code, in one place.
func report(e env, err error) int {
	var ue usageError
	var oc outcome
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the flag package printed the usage
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "evidence: %v\n", err)
		return exitUsage
	case errors.As(err, &oc):
		fmt.Fprintf(e.stderr, "evidence: %v\n", oc)
		return exitFailed
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "evidence: interrupted; nothing was published")
		return exitFailed
	default:
		fmt.Fprintf(e.stderr, "evidence: %v\n", err)
		return exitFailed
	}
}

func cmdVersion(_ context.Context, _ []string, e env) (int, error) {
	fmt.Fprintf(e.stdout, "evidence %s (commit %s, built %s)\n", version, orDash(commit), orDash(date))
	return exitOK, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
