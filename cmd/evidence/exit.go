package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/evidence-pack/evidence/internal/source"
)

// usageError marks errors of the command line or configuration (exit 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// partialError is a run whose packs are published, but not whole: some
// units failed (each is listed in its pack's manifest, and was printed
// with the pack), or the data-lake export failed (printed as it happened).
// Exit 3. It wraps no cause: each was reported as it happened, and a
// cause's own type (a usage error of --lake) must not change the code.
type partialError struct{ reason string }

func (p partialError) Error() string { return p.reason }

// shown is an error the command has already reported in full (verify's
// report, the usage text): only the exit code of the error it wraps is
// left to give.
type shown struct{ error }

func (s shown) Unwrap() error { return s.error }

// exitCode maps a command's error to the process's exit code, by the
// error's type alone.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h: the flag package printed the usage
		return exitOK
	case errors.As(err, new(usageError)), errors.Is(err, source.ErrRefused):
		// A request no tenant can meet is refused before any data is read.
		return exitUsage
	case errors.As(err, new(outcome)):
		return exitFailed
	case errors.As(err, new(partialError)):
		return exitPartial
	default:
		return exitFailed
	}
}

// report prints err, unless the command has already, and returns its exit
// code: the one place that turns errors into output and exit codes.
func report(e env, err error) int {
	var oc outcome
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(shown)), errors.As(err, new(partialError)):
	case errors.As(err, new(usageError)):
		fmt.Fprintf(e.stderr, "evidence: %v\n", err)
	case errors.As(err, &oc):
		fmt.Fprintf(e.stderr, "evidence: %v\n", oc)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "evidence: interrupted; nothing was published")
	default:
		fmt.Fprintf(e.stderr, "evidence: %v\n", err)
	}
	return exitCode(err)
}
