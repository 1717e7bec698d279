// Command evidence turns cloud-security platforms' compliance data into
// verifiable audit evidence packs. See README.md.
//
// Exit codes: 0 complete; 1 failed (no pack); 2 usage or configuration
// error; 3 pack published with some units failed. Each command is a file of
// its own and returns an error; the code comes from the error's type
// (exit.go), and only main exits.
package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"

	"github.com/evidence-pack/evidence/internal/progress"
	"github.com/evidence-pack/evidence/internal/suggest"
)

// Exit codes (README, "Exit codes"; deploy/k8s-cronjob's
// podFailurePolicy and its test read them here); exitCode picks one.
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
	// screen, on a terminal, shows the runs' progress and the log's
	// warnings; nil elsewhere.
	screen *progress.Screen
	home   string
	argv   []string // the command line, program name first (for the manifest)
	// demoScale divides the demo emulators' row counts: tests run the demo
	// with fewer rows of the same shape. 0 is the demo as shipped.
	demoScale int
}

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
	home, _ := os.UserHomeDir()
	e := env{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, isTTY: isTerminal(os.Stderr), home: home,
		argv: append([]string{"evidence"}, os.Args[1:]...)}
	if e.isTTY {
		e.screen = newScreen(os.Stderr)
	}
	code := run(ctx, os.Args[1:], e)
	stop() // os.Exit skips deferred calls
	os.Exit(code)
}

// command is one of evidence's commands: args are the arguments after its
// name. The error it returns decides the exit code (exitCode).
type command func(ctx context.Context, args []string, e env) error

// commands maps each command's name to its function, each in its own file.
func commands() map[string]command {
	return map[string]command{
		"run":        cmdRun,
		"plan":       cmdPlan,
		"verify":     cmdVerify,
		"diff":       cmdDiff,
		"report":     cmdReport,
		"demo":       cmdDemo,
		"frameworks": cmdFrameworks,
		"keygen":     cmdKeygen,
		"schedule":   cmdSchedule,
		"version":    cmdVersion,
	}
}

// run runs the command args name and returns the process's exit code.
func run(ctx context.Context, args []string, e env) int {
	return report(e, dispatch(ctx, args, e))
}

func dispatch(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage())
		return shown{usagef("no command")}
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(e.stdout, usage())
		return nil
	case "--version", "-version", "-v":
		name = "version"
	}
	cmd, ok := commands()[name]
	if !ok {
		msg := fmt.Sprintf("unknown command %q", name)
		if n := suggest.Nearest(name, slices.Collect(maps.Keys(commands()))); n != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", n)
		}
		return usagef("%s; run \"evidence -h\" for the commands", msg)
	}
	return cmd(ctx, args[1:], e)
}
