package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// progress shows a bar on a terminal; elsewhere it is silent (the JSON log
// has a line per unit).
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	rows  atomic.Int64
	units atomic.Int64
	tty   bool
	e     env
	done  bool
}

func newProgress(e env) *progress { return &progress{tty: e.isTTY, e: e} }

func (p *progress) Start(tenant string, units int) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions(units,
		progressbar.OptionSetWriter(p.e.stderr),
		progressbar.OptionSetDescription(tenant),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *progress) UnitDone(unit string, ok bool) {
	n := p.units.Add(1)
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%d units, %d rows · %s", n, p.rows.Load(), unit))
		_ = p.bar.Add(1)
	}
}

func (p *progress) Rows(n int64) { p.rows.Add(n) }

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && !p.done {
		_ = p.bar.Finish()
		p.done = true
	}
}
