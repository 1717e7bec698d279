package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evidence-pack/evidence/internal/source"
)

// The exit code comes from the error's type alone, and each error is
// printed once: by report, unless the command already has.
func TestReportExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"complete", nil, exitOK, ""},
		{"-h", usageError{fmt.Errorf("parse: %w", flag.ErrHelp)}, exitOK, ""},
		{"usage", usagef("bad flag"), exitUsage, "evidence: bad flag\n"},
		{"refused", fmt.Errorf("tenant a: %w", source.ErrRefused), exitUsage, "evidence: tenant a: " + source.ErrRefused.Error() + "\n"},
		{"usage already shown", shown{usagef("no command")}, exitUsage, ""},
		{"partial", partialError{"2 units failed"}, exitPartial, ""},
		{"not verified", errNotVerified, exitFailed, ""},
		{"no pack", outcome{err: errors.New("auth refused")}, exitFailed, "evidence: auth refused; nothing was published\n"},
		{"interrupted", fmt.Errorf("run: %w", context.Canceled), exitFailed, "evidence: interrupted; nothing was published\n"},
		{"failed", errors.New("disk full"), exitFailed, "evidence: disk full\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := report(env{stderr: &stderr}, tc.err); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}

// A mistyped command or flag is refused in one line that names the likely
// one and points to -h (never the whole usage, never twice); --version is
// the version command.
func TestMistypedCommandsAndFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // the whole of stderr
	}{
		{[]string{"runn"}, exitUsage, "evidence: unknown command \"runn\" (did you mean \"run\"?); run \"evidence -h\" for the commands\n"},
		{[]string{"frobnicate"}, exitUsage, "evidence: unknown command \"frobnicate\"; run \"evidence -h\" for the commands\n"},
		{[]string{"run", "--frmo", "2026-11-01"}, exitUsage, "evidence: run: unknown flag --frmo (did you mean --from?); run \"evidence run -h\" for its flags\n"},
		{[]string{"verify", "--pubb", "k", "."}, exitUsage, "evidence: verify: unknown flag --pubb (did you mean --pub?); run \"evidence verify -h\" for its flags\n"},
		{[]string{"plan", "--timeout", "soon"}, exitUsage, "evidence: plan: invalid value \"soon\" for flag --timeout: parse error; run \"evidence plan -h\" for its flags\n"},
	} {
		code, stdout, stderr := cli(t, context.Background(), nil, tc.args...)
		if code != tc.code || stderr != tc.want || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, stderr %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
	code, stdout, _ := cli(t, context.Background(), nil, "--version")
	if code != exitOK || !strings.HasPrefix(stdout, "evidence ") {
		t.Errorf("--version: exit %d, %q", code, stdout)
	}
}

// Each command's -h shows its own flags (with two dashes, as the README
// writes them), a description, examples and the variables it reads, fitted
// to 80 columns; the top-level help lists every command.
func TestHelpOfEachCommand(t *testing.T) {
	// flags a command must, or must not, have.
	has := map[string][]string{
		"run":        {"--out", "--sign-key", "--lake", "--from", "--shard"},
		"plan":       {"--probe", "--from", "--framework"},
		"frameworks": {"--config", "--source"},
		"verify":     {"--pub", "--s3-endpoint"},
		"schedule":   {"--grace", "--out", "--config"},
		"demo":       {"--serve", "--source", "--out"},
		"keygen":     {"--out"},
	}
	hasNot := map[string][]string{
		"plan":       {"--out", "--lake", "--sign-key", "--pushgateway"},
		"frameworks": {"--out", "--framework", "--account", "--probe"},
		"verify":     {"--config", "--out"},
	}
	_, top, _ := cli(t, context.Background(), nil, "-h")
	var names []string
	for _, h := range helps() {
		names = append(names, h.name)
		if !strings.Contains(top, "\n  "+h.name+" ") {
			t.Errorf("evidence -h does not list %s:\n%s", h.name, top)
		}
		if h.name == "version" {
			continue
		}
		code, stdout, stderr := cli(t, context.Background(), nil, h.name, "-h")
		if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "Usage: evidence "+h.name+" ") {
			t.Errorf("%s -h: exit %d, stderr %q\n%s", h.name, code, stderr, stdout)
			continue
		}
		for _, want := range append([]string{"\nFlags:\n", "\nExamples:\n", "\n  evidence " + h.name + " "}, has[h.name]...) {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s -h lacks %q:\n%s", h.name, want, stdout)
			}
		}
		for _, flag := range hasNot[h.name] {
			if strings.Contains(stdout, "  "+flag+" ") || strings.Contains(stdout, "  "+flag+"\n") {
				t.Errorf("%s -h shows %s, a flag of another command:\n%s", h.name, flag, stdout)
			}
		}
		if h.vars != nil && !strings.Contains(stdout, "\nEnvironment:\n") {
			t.Errorf("%s -h names no variables:\n%s", h.name, stdout)
		}
		for _, line := range strings.Split(top+stdout, "\n") {
			if utf8.RuneCountInString(line) > 80 {
				t.Errorf("%s -h: a line of %d columns: %q", h.name, utf8.RuneCountInString(line), line)
			}
			if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") {
				t.Errorf("%s -h: a flag with one dash: %q", h.name, line)
			}
		}
	}
	if cmds := slices.Sorted(maps.Keys(commands())); !slices.Equal(cmds, slices.Sorted(slices.Values(names))) {
		t.Errorf("commands %v, help for %v", cmds, names)
	}
}

// A first run with nothing configured says what is missing and how to
// start, without naming a "tenant 1" nobody configured.
func TestNothingConfigured(t *testing.T) {
	code, _, stderr := cli(t, context.Background(), map[string]string{}, "run")
	if code != exitUsage || !strings.Contains(stderr, "LW_ACCOUNT") || !strings.Contains(stderr, "evidence demo") ||
		!strings.Contains(stderr, "~/.lacework.toml") || strings.Contains(stderr, "tenant 1") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// The README tells how to get the binary (go install with the module's
// path, make build), and every evidence command line it shows uses a
// command and flags that exist: its examples stay runnable as commands
// gain and lose flags.
func TestREADMECommandLines(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	module := strings.Fields(strings.SplitN(string(mod), "\n", 2)[0])[1]
	for _, want := range []string{"go install " + module + "/cmd/evidence@latest", "make build"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README does not say %q", want)
		}
	}
	flags := map[string]map[string]bool{} // command → its flags
	for _, h := range helps() {
		_, stdout, _ := cli(t, context.Background(), nil, h.name, "-h")
		flags[h.name] = map[string]bool{}
		for _, line := range strings.Split(stdout, "\n") {
			if name, ok := strings.CutPrefix(line, "  --"); ok {
				flags[h.name][strings.Fields(name)[0]] = true
			}
		}
	}
	lines := 0
	for _, line := range strings.Split(string(readme), "\n") {
		_, cmdline, ok := strings.Cut(line, "evidence ")
		if !ok || !strings.HasPrefix(strings.TrimSpace(line), "evidence ") {
			continue
		}
		fields := strings.Fields(cmdline)
		if len(fields) == 0 {
			continue
		}
		known, ok := flags[fields[0]]
		if !ok {
			if !strings.HasPrefix(fields[0], "-") {
				t.Errorf("README: unknown command in %q", line)
			}
			continue
		}
		lines++
		for _, f := range fields[1:] {
			if f == "#" || strings.HasPrefix(f, "#") {
				break // a comment follows
			}
			if name, ok := strings.CutPrefix(f, "--"); ok {
				name, _, _ = strings.Cut(name, "=")
				if !known[name] {
					t.Errorf("README: %s has no flag --%s: %q", fields[0], name, line)
				}
			}
		}
	}
	if lines < 10 {
		t.Errorf("only %d evidence command lines found in the README", lines)
	}
}
