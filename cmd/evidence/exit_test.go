package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
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
