package job

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen"
)

// packFile streams one file into the pack while it is being generated: the
// generator writes into a pipe, the pack writer stores (and hashes) what
// comes out of it. Finish closes the pipe and waits for the store; Fail
// closes it with an error, so the store drops the partial file.
type packFile struct {
	path string
	pw   *io.PipeWriter
	bw   *bufio.Writer
	// rows is the file's row count for tabular files (nil otherwise); set
	// before the pipe closes, read by the pack writer after it drained it.
	rows *int64
	done chan error
	once sync.Once
	err  error
	file pack.File
}

func (r *run) create(ctx context.Context, path, mediaType string, tabular bool) *packFile {
	pr, pw := io.Pipe()
	f := &packFile{path: path, pw: pw, bw: bufio.NewWriterSize(pw, 256<<10), done: make(chan error, 1)}
	if tabular {
		f.rows = new(int64)
	}
	go func() {
		file, err := r.pw.Put(ctx, path, pr, mediaType, f.rows)
		f.file = file
		// Unblock the generator if the store gave up early.
		_ = pr.CloseWithError(fmt.Errorf("store %s: %w", path, errOr(err, io.ErrClosedPipe)))
		f.done <- err
	}()
	return f
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

func (f *packFile) Write(p []byte) (int, error) { return f.bw.Write(p) }

// wait returns the store's result; it may be called more than once.
func (f *packFile) wait() error {
	f.once.Do(func() { f.err = <-f.done })
	return f.err
}

// Finish completes the file and returns its pack entry.
func (f *packFile) Finish() (pack.File, error) {
	if err := f.bw.Flush(); err != nil {
		f.Fail(err)
		return pack.File{}, fmt.Errorf("write %s: %w", f.path, err)
	}
	f.pw.Close()
	if err := f.wait(); err != nil {
		return pack.File{}, fmt.Errorf("store %s: %w", f.path, err)
	}
	return f.file, nil
}

// Fail abandons the file; nothing is kept under its path. After Finish it
// does nothing (the file is stored).
func (f *packFile) Fail(cause error) {
	f.pw.CloseWithError(cause)
	_ = f.wait()
}

// tableFile is a single-table file (Parquet) fed in batches.
type tableFile struct {
	*packFile
	sink reportgen.Sink
}

func (r *run) createTable(ctx context.Context, path string, format reportgen.Format, t dataset.Table) (*tableFile, error) {
	pf := r.create(ctx, path, format.MediaType(), true)
	sink, err := format.Begin(pf, t)
	if err != nil {
		pf.Fail(err)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &tableFile{packFile: pf, sink: sink}, nil
}

func (t *tableFile) WriteRows(rows []dataset.Row) error {
	*t.rows += int64(len(rows))
	return t.sink.Write(rows)
}

func (t *tableFile) Finish() (pack.File, error) {
	if err := t.sink.Close(); err != nil {
		t.Fail(err)
		return pack.File{}, fmt.Errorf("finish %s: %w", t.path, err)
	}
	return t.packFile.Finish()
}
