package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

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
		{[]string{"plan", "--timeout", "soon"}, exitUsage, "evidence: plan: invalid value \"soon\" for flag -timeout: parse error; run \"evidence plan -h\" for its flags\n"},
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
	code, _, stderr := cli(t, context.Background(), nil, "plan", "-h")
	if code != exitOK || !strings.HasPrefix(stderr, "Usage: evidence plan [flags]") || strings.Count(stderr, "-timeout") != 1 {
		t.Errorf("plan -h: exit %d\n%s", code, stderr)
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
