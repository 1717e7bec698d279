package job

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
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

func (r *run) xlsxOptions(title string) xlsx.Options {
	return xlsx.Options{Created: r.generatedAt(), Title: title, Subject: r.tenant.Name + " " + r.periodLabel(), Creator: "evidence " + r.deps.Build.Version,
		PackID: r.id, Paper: r.cfg.Paper, MaxRowsPerSheet: r.deps.MaxSheetRows}
}

func (r *run) parquetFormat(table string) reportgen.Format {
	return parquet.New(parquet.Options{CreatedBy: "evidence version " + r.deps.Build.Version, Metadata: map[string]string{
		"evidence.pack_id": r.id, "evidence.tenant": r.tenant.Name, "evidence.table": table, "evidence.source": r.info.System,
		"evidence.period_from": r.period.From.Format(time.RFC3339), "evidence.period_to": r.period.To.Format(time.RFC3339),
	}})
}

// workbook is an XLSX file of the pack being written sheet by sheet.
type workbook struct {
	file *packFile
	wb   *xlsx.Workbook
}

func (r *run) newWorkbook(ctx context.Context, path, title string) (*workbook, error) {
	f := r.create(ctx, path, xlsx.MediaType, true)
	wb := xlsx.NewWorkbook(f, r.xlsxOptions(title))
	if err := wb.AddKeyValueSheet(xlsx.SummarySheet, r.aboutPairs(title)); err != nil {
		wb.Abort()
		f.Fail(err)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &workbook{file: f, wb: wb}, nil
}

func (w *workbook) finish(rows int64) (pack.File, error) {
	*w.file.rows = rows
	if err := w.wb.Close(); err != nil {
		w.file.Fail(err)
		return pack.File{}, fmt.Errorf("%s: %w", w.file.path, err)
	}
	return w.file.Finish()
}

func (w *workbook) abort(err error) {
	w.wb.Abort()
	w.file.Fail(err)
}

// aboutPairs is the first sheet of every workbook: what the file is.
func (r *run) aboutPairs(title string) [][2]any {
	return [][2]any{
		{"Evidence", title},
		{"Tenant", r.tenant.Name},
		{"Source", r.info.API + " (" + r.info.BaseURL + ")"},
		{"Period from (UTC)", r.period.From},
		{"Period to (UTC, exclusive)", r.period.To},
		{"Generated at (UTC)", r.generatedAt()},
		{"Pack id", r.id},
		{"Generator", "evidence " + r.deps.Build.Version},
		{"Integrity", "every file of the pack is listed with its SHA-256 in manifest.json and SHA256SUMS"},
		{"Printing", xlsx.PrintNote(r.cfg.Paper)},
	}
}

// writeDuckDBViews writes pack.duckdb.sql: a view per Parquet table of the
// pack, reading its files as they are (hive_partitioning off, so the
// account= folder adds no column and every value is the file's own).
func (r *run) writeDuckDBViews(ctx context.Context) error {
	var tables []string
	for _, f := range r.pw.Files() {
		if pf, err := pack.ParseParquet(f.Path); err == nil && !slices.Contains(tables, pf.Table) {
			tables = append(tables, pf.Table)
		}
	}
	if len(tables) == 0 {
		return nil
	}
	slices.Sort(tables)
	var b strings.Builder
	b.WriteString("-- Views over this evidence pack's Parquet tables, for DuckDB.\n")
	b.WriteString("-- Run DuckDB in the pack's folder:  duckdb -init pack.duckdb.sql\n")
	b.WriteString("-- (or .read pack.duckdb.sql). Every column comes from the files: the\n")
	b.WriteString("-- account=<sub-account> folders are not read as partitions.\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS SELECT * FROM read_parquet('%s', hive_partitioning = false);\n", t, pack.ParquetGlob(t))
	}
	_, err := r.pw.Put(ctx, pack.DuckDBViews, strings.NewReader(b.String()), "application/sql", nil)
	return err
}
