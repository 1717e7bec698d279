package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
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
