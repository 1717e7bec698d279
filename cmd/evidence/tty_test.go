package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"

	"github.com/evidence-pack/evidence/internal/testtool"
)

// asCLI makes the test binary the CLI on its standard streams (TestMain):
// the terminal test runs it under tmux, whose pane is a real pseudo-
// terminal.
const asCLI = "EVIDENCE_TEST_AS_CLI"

// terminalCLI runs the command line the test binary was given after "--",
// as main does, with the demo's rows scaled down as in the other tests.
func terminalCLI() int {
	args := os.Args[1:]
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	e := env{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, isTTY: isTerminal(os.Stderr),
		argv: append([]string{"evidence"}, args...), demoScale: 10}
	if e.isTTY {
		e.screen = newScreen(os.Stderr)
	}
	return run(context.Background(), args, e)
}

// demoOnATerminal runs the demo into out on a real terminal (a tmux pane
// of cols columns; internal/progress compares its screens at 80 and 160
// on an emulated terminal) and checks the screen: one progress line per
// tenant, each within the width and finished at 100 %, no wrapped or
// left-over progress line, warnings as sentences, never key=value log
// lines. Without tmux it fails in CI and is skipped, loudly, elsewhere.
func demoOnATerminal(t *testing.T, cols int, out string, more ...string) (screen string) {
	tmux := testtool.Program(t, "tmux", "apt-get install tmux", "-V")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tm := func(ctx context.Context, args ...string) string {
		out, err := exec.CommandContext(ctx, tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// The pane signals the channel "demo-done" when the demo has exited
	// (tmux wait-for): the test waits for that, not on a clock. The pane
	// then stays open, for its screen to be read.
	var extra string
	for _, a := range more {
		extra += fmt.Sprintf(" %q", a)
	}
	cmd := fmt.Sprintf("env %s=1 TERM=xterm-256color %q -test.run=^$ -- demo --out %q%s; echo EXITED $?; %q -S %q wait-for -S demo-done; sleep 600",
		asCLI, self, out, extra, tmux, sock)
	bg := context.Background()
	tm(bg, "new-session", "-d", "-x", fmt.Sprint(cols), "-y", "60", cmd)
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	// A guard, not a wait: a demo that never ends fails the test instead
	// of holding it until the package timeout.
	ctx, cancel := context.WithTimeout(bg, 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, tmux, "-S", sock, "wait-for", "demo-done").CombinedOutput(); err != nil {
		t.Errorf("the demo did not finish within five minutes: %v %s", err, out)
	}
	screen = tm(bg, "capture-pane", "-p", "-J", "-S", "-")
	if !strings.Contains(screen, "EXITED 0") {
		t.Fatalf("the demo did not finish with exit 0:\n%s", screen)
	}
	// -J joins lines the terminal wrapped: a progress line longer
	// than the pane would show as one line wider than it.
	var progress []string
	for _, l := range strings.Split(screen, "\n") {
		switch {
		case strings.Contains(l, "%  ") && strings.Contains(l, "["):
			progress = append(progress, l)
			if w := uniseg.StringWidth(l); w > cols-1 {
				t.Errorf("progress line %d columns wide at %d: %q", w, cols, l)
			}
		case strings.Contains(l, "level=") || strings.Contains(l, `"level"`) || strings.Contains(l, "time="):
			t.Errorf("a log line for machines on the terminal: %q", l)
		case strings.HasPrefix(l, "warning: "):
			// "warning: optix-demo: …" names the tenant once.
			if tenant, _, _ := strings.Cut(strings.TrimPrefix(l, "warning: "), ":"); strings.Count(l, tenant) > 1 {
				t.Errorf("the tenant is named twice: %q", l)
			}
		}
	}
	if len(progress) != 4 {
		t.Errorf("%d progress lines, want one per tenant (4):\n%s", len(progress), screen)
	}
	for _, l := range progress {
		if !strings.Contains(l, "100%") || !strings.HasSuffix(strings.TrimSpace(l), "done") {
			t.Errorf("progress line not finished: %q", l)
		}
	}
	if !strings.Contains(screen, "\nwarning: ") {
		t.Errorf("no warning sentence (the demo has disabled environments):\n%s", screen)
	}
	t.Logf("screen at %d columns:\n%s", cols, screen)
	return screen
}
