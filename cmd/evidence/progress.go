package main

import (
	"os"
	"time"

	"golang.org/x/term"

	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/progress"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// newScreen is the progress display on the terminal f: its width asked at
// every draw, so a resized window is followed.
func newScreen(f *os.File) *progress.Screen {
	width := func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
	return progress.New(f, width, time.Now)
}

// runProgress is what a run reports its progress to: the screen on a
// terminal, nothing elsewhere (the JSON log has a line per unit).
func runProgress(e env) job.Progress {
	if e.screen == nil {
		return nil // job's default: silent
	}
	return e.screen
}
