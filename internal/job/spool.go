package job

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/evidence-pack/evidence/internal/source"
)

// spooledReport is a report whose controls the pipeline has read once from
// its source into a temporary file, one gob value per control: the
// pipeline reads them several times (the Parquet tables, then the
// workbook's sheets), from the file. So a source yields each control once
// and writes no spool code; memory holds one control at a time, however
// large the report.
type spooledReport struct {
	src    source.Report
	path   string
	n      int64 // controls spooled
	size   int64 // bytes spooled
	err    error // the source's error after the controls spooled before it
	alias  string
	at     time.Time
	closed bool
}

// fetchReport fetches the unit's report and spools its controls. A
// report whose source fails before its first control was not collected:
// the error is returned, as from Fetch.
func fetchReport(ctx context.Context, u source.ReportUnit, dir string) (source.Report, error) {
	rep, err := u.Fetch(ctx)
	if err != nil {
		return rep, err
	}
	s, err := spoolReport(rep, dir)
	switch {
	case err != nil:
		return nil, err // rep is closed
	case s.n == 0 && s.err != nil:
		_ = s.Close()
		return nil, s.err
	}
	return s, nil
}

// spoolReport reads rep's controls into a file in dir. An error of the
// source ends the spool and is kept: the controls before it are read
// again, then the error, as the source gave them. An error of the file is
// returned (and rep closed).
func spoolReport(rep source.Report, dir string) (_ *spooledReport, err error) {
	f, err := os.CreateTemp(dir, "evidence-report-*.gob")
	if err != nil {
		_ = rep.Close()
		return nil, fmt.Errorf("spool report: %w", err)
	}
	s := &spooledReport{src: rep, path: f.Name()}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("spool report: %w", cerr)
		}
		if err != nil {
			_ = s.Close()
		}
	}()
	bw := bufio.NewWriterSize(f, spoolWriteBuffer)
	enc := gob.NewEncoder(bw)
	for c, cerr := range rep.Controls() {
		if cerr != nil {
			s.err = cerr
			break
		}
		if err := enc.Encode(&c); err != nil {
			return nil, fmt.Errorf("spool report: %w", err)
		}
		s.n++
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("spool report: %w", err)
	}
	if s.size, err = f.Seek(0, io.SeekCurrent); err != nil {
		return nil, fmt.Errorf("spool report: %w", err)
	}
	// Read after the controls: a source may learn them as it goes (the
	// latest assessment time among the controls).
	s.alias, s.at = rep.AccountAlias(), rep.ReportTime()
	return s, nil
}

// spoolWriteBuffer is the buffer of a spool being written: gob writes a
// value at a time, so a larger one only saves a few calls on a large
// report, and costs its size on each of a run's thousands of small ones.
const spoolWriteBuffer = 8 << 10

func (s *spooledReport) AccountAlias() string  { return s.alias }
func (s *spooledReport) ReportTime() time.Time { return s.at }

// Controls reads the spooled controls again, then the source's error if
// it gave one.
func (s *spooledReport) Controls() iter.Seq2[source.Control, error] {
	return func(yield func(source.Control, error) bool) {
		f, err := os.Open(s.path)
		if err != nil {
			yield(source.Control{}, fmt.Errorf("read spooled report: %w", err))
			return
		}
		defer f.Close()
		// A buffer no larger than the file: a run reads thousands of small
		// reports several times each, and a 64 KiB buffer apiece was most
		// of what it allocated.
		dec := gob.NewDecoder(bufio.NewReaderSize(f, int(min(max(s.size, 4<<10), 64<<10))))
		for i := int64(0); i < s.n; i++ {
			var c source.Control
			if err := dec.Decode(&c); err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				yield(source.Control{}, fmt.Errorf("read spooled report: control %d of %d: %w", i+1, s.n, err))
				return
			}
			if !yield(c, nil) {
				return
			}
		}
		if s.err != nil {
			yield(source.Control{}, s.err)
		}
	}
}

func (s *spooledReport) Vendor(ctx context.Context) (io.ReadCloser, string, error) {
	return s.src.Vendor(ctx)
}

// Caveats are the source's, read after its controls.
func (s *spooledReport) Caveats() []string {
	if c, ok := s.src.(source.Caveats); ok {
		return c.Caveats()
	}
	return nil
}

// Close closes the source's report and removes the file; it is safe to
// call more than once.
func (s *spooledReport) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.src.Close()
	if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
