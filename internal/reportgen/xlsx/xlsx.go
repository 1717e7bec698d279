package xlsx

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen"
)

// File facts.
const (
	Ext       = ".xlsx"
	MediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

	// MaxSheetRows is the most rows a worksheet can have, header included.
	MaxSheetRows = 1_048_576
	// DefaultMaxRowsPerSheet is the default number of data rows per sheet.
	DefaultMaxRowsPerSheet = MaxSheetRows - 1

	// DateTimeFormat is the number format of Time cells (always UTC).
	DateTimeFormat = "yyyy-mm-dd hh:mm:ss"
	// PercentFormat is the number format of Percent values (fractions).
	PercentFormat = "0.00%"
	// PercentPointsFormat is the number format of Column.Percent values,
	// percentages from 0 to 100 kept as they are in Parquet.
	PercentPointsFormat = `0.00"%"`

	// SummarySheet is the name of the overview sheet every workbook of a
	// pack opens with (AddKeyValueSheet), so that a reader finds the same
	// sheet in each.
	SummarySheet = "Summary"

	// maxExactInt is the largest integer a spreadsheet number (an IEEE 754
	// double) holds exactly.
	maxExactInt = 1 << 53
)

// defaultCreated is the document timestamp when Options.Created is zero.
var defaultCreated = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configures a workbook.
type Options struct {
	// Created is the fixed document timestamp written as both the created
	// and the modified time of the document properties; the zero value means
	// 2000-01-01T00:00:00Z. Nothing else in the file depends on the clock.
	Created time.Time
	// Title, Subject and Creator are document properties.
	Title, Subject, Creator string
	// MaxRowsPerSheet is the most data rows on one sheet; more continue on
	// "Name (2)", "Name (3)", ... Zero or out of range means
	// DefaultMaxRowsPerSheet (1,048,575: a sheet's rows less the header).
	MaxRowsPerSheet int
	// TempDir is where spill files go while a workbook is written (sheets
	// over 16 MiB, compressed parts over 4 MiB); "" means os.TempDir().
	TempDir string
	// PackID is printed in the footer of every page, with the page number,
	// so that a printed page names the pack it came from.
	PackID string
	// Paper is the paper every sheet is set up to print on; the zero
	// value is reportgen.DefaultPaper.
	Paper reportgen.Paper
}

func (o Options) maxRows() int {
	if o.MaxRowsPerSheet <= 0 || o.MaxRowsPerSheet > DefaultMaxRowsPerSheet {
		return DefaultMaxRowsPerSheet
	}
	return o.MaxRowsPerSheet
}

// Stats counts what a workbook wrote and what it had to change.
type Stats struct {
	Rows      int64 // data rows written by sinks (headers and key/value sheets excluded)
	Sheets    int   // worksheets in the workbook
	Truncated int64 // text values cut to MaxCellChars, ending in TruncationMarker
	Sanitised int64 // text values that lost characters XML 1.0 does not allow
	BigInts   int64 // Int values beyond ±2^53 written as text, so no digit is lost
}

// Workbook writes an XLSX workbook of several sheets, one at a time, through
// excelize's StreamWriter. Its methods must not be called concurrently.
type Workbook struct {
	w    io.Writer
	opts Options
	f    *excelize.File

	headerStyle  int
	dateStyle    int
	plainStyle   int // data cells: top-aligned
	wrapStyle    int // data cells of Wrap columns: top-aligned, wrapped
	percentStyle int
	pointsStyle  int // Column.Percent cells

	names   map[string]bool // sheet names in use, lower-cased
	sheets  []string        // sheet names, in order
	open    *sheetSink      // the data sheet being written, if any
	stats   Stats
	done    bool
	initErr error
	broken  error // a sink failed: the workbook cannot be completed
}

// NewWorkbook starts a workbook that Close writes to w. Errors in setting it
// up are reported by the first call that needs it.
func NewWorkbook(w io.Writer, opts Options) *Workbook {
	wb := &Workbook{w: w, opts: opts, names: map[string]bool{}}
	wb.initErr = wb.init()
	return wb
}

func (wb *Workbook) init() error {
	f := excelize.NewFile(excelize.Options{TmpDir: wb.opts.TempDir})
	wb.f = f
	created := wb.opts.Created
	if created.IsZero() {
		created = defaultCreated
	}
	ts := created.UTC().Format("2006-01-02T15:04:05Z")
	clean := func(s string) string { s, _, _ = SanitiseCell(s); return s }
	if err := f.SetDocProps(&excelize.DocProperties{
		Created:        ts,
		Modified:       ts,
		Title:          clean(wb.opts.Title),
		Subject:        clean(wb.opts.Subject),
		Creator:        clean(wb.opts.Creator),
		LastModifiedBy: clean(wb.opts.Creator),
	}); err != nil {
		return fmt.Errorf("xlsx: document properties: %w", err)
	}
	var err error
	// Headers wrap: a column is as wide as its values need, and a long
	// header takes two lines rather than widening the printed page.
	wb.headerStyle, err = f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
	})
	if err != nil {
		return fmt.Errorf("xlsx: header style: %w", err)
	}
	// Data cells align at the top: a row made tall by a wrapped title
	// still reads across.
	top := &excelize.Alignment{Vertical: "top"}
	dateFmt, pctFmt, pointsFmt := DateTimeFormat, PercentFormat, PercentPointsFormat
	for _, st := range []struct {
		id    *int
		name  string
		style excelize.Style
	}{
		{&wb.dateStyle, "date", excelize.Style{CustomNumFmt: &dateFmt, Alignment: top}},
		{&wb.plainStyle, "data", excelize.Style{Alignment: top}},
		{&wb.wrapStyle, "wrapped text", excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&wb.percentStyle, "percent", excelize.Style{CustomNumFmt: &pctFmt, Alignment: top}},
		{&wb.pointsStyle, "percentage", excelize.Style{CustomNumFmt: &pointsFmt, Alignment: top}},
	} {
		if *st.id, err = f.NewStyle(&st.style); err != nil {
			return fmt.Errorf("xlsx: %s style: %w", st.name, err)
		}
	}
	return nil
}

func (wb *Workbook) usable() error {
	switch {
	case wb.initErr != nil:
		return wb.initErr
	case wb.broken != nil:
		return wb.broken
	case wb.done:
		return errors.New("xlsx: workbook is closed")
	case wb.open != nil:
		return fmt.Errorf("xlsx: sheet %q is still open; close its sink first", wb.open.sheet)
	}
	return nil
}

// Stats reports what the workbook has written so far.
func (wb *Workbook) Stats() Stats {
	s := wb.stats
	s.Sheets = len(wb.sheets)
	return s
}

// Sheets returns the names of the workbook's sheets, in order.
func (wb *Workbook) Sheets() []string {
	return append([]string(nil), wb.sheets...)
}

// newSheet adds a worksheet named like want (made unique) and returns a
// stream writer for it. The first sheet reuses the default "Sheet1".
func (wb *Workbook) newSheet(want string, pl printLayout) (string, *excelize.StreamWriter, error) {
	name := want
	for k := 2; wb.names[strings.ToLower(name)]; k++ {
		name = sheetName(want, k)
	}
	if len(wb.sheets) == 0 {
		if err := wb.f.SetSheetName("Sheet1", name); err != nil {
			return "", nil, fmt.Errorf("xlsx: sheet %q: %w", name, err)
		}
	} else if _, err := wb.f.NewSheet(name); err != nil {
		return "", nil, fmt.Errorf("xlsx: sheet %q: %w", name, err)
	}
	wb.names[strings.ToLower(name)] = true
	wb.sheets = append(wb.sheets, name)
	// excelize would keep the template's <dimension ref="A1"/>, and a
	// streamed sheet cannot update it; read-only readers trust it. Drop it.
	if err := wb.f.SetSheetDimension(name, ""); err != nil {
		return "", nil, fmt.Errorf("xlsx: sheet %q: %w", name, err)
	}
	if err := wb.pageSetup(name, pl); err != nil {
		return "", nil, fmt.Errorf("xlsx: sheet %q: page setup: %w", name, err)
	}
	sw, err := wb.f.NewStreamWriter(name)
	if err != nil {
		return "", nil, fmt.Errorf("xlsx: sheet %q: %w", name, err)
	}
	return name, sw, nil
}

// startSheet sets up a new sheet: column widths and styles (wrap[i] for
// wrapped text), frozen header row, the header itself, and the page setup
// of pl (newPrintLayout).
func (wb *Workbook) startSheet(want string, headers []string, widths []float64, wrap []bool, pl printLayout) (string, *excelize.StreamWriter, error) {
	name, sw, err := wb.newSheet(want, pl)
	if err != nil {
		return "", nil, err
	}
	// excelize prepends each <col> it is given; set the last column first so
	// that the <cols> come out in ascending order, as the schema requires.
	// The column style reaches the cells that carry none of their own.
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
			return "", nil, fmt.Errorf("xlsx: sheet %q: column width: %w", name, err)
		}
		style := wb.plainStyle
		if wrap[i] {
			style = wb.wrapStyle
		}
		if err := sw.SetColStyle(i+1, i+1, style); err != nil {
			return "", nil, fmt.Errorf("xlsx: sheet %q: column style: %w", name, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze:      true,
		YSplit:      1,
		TopLeftCell: "A2",
		ActivePane:  "bottomLeft",
		Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return "", nil, fmt.Errorf("xlsx: sheet %q: panes: %w", name, err)
	}
	cells := make([]any, len(headers))
	lines := 1
	for i, h := range headers {
		cells[i] = excelize.Cell{StyleID: wb.headerStyle, Value: wb.text(h)}
		lines = max(lines, headerLines(h, widths[i]))
	}
	// The height is set rather than left to the reader, which may not
	// measure wrapped text when it opens the file.
	if err := sw.SetRow("A1", cells, excelize.RowOpts{Height: headerLineHeight * float64(lines)}); err != nil {
		return "", nil, fmt.Errorf("xlsx: sheet %q: header: %w", name, err)
	}
	return name, sw, nil
}

// AddKeyValueSheet adds a finished two-column sheet ("Field", "Value"), such
// as a pack's Summary. Values may be nil, string, bool, int, int64, float64,
// time.Time or fmt.Stringer; keys are usually strings.
func (wb *Workbook) AddKeyValueSheet(name string, pairs [][2]any) error {
	if err := wb.usable(); err != nil {
		return err
	}
	// Check every value first: a sheet once started cannot be taken back.
	for i, p := range pairs {
		for _, v := range p {
			if !kvSupported(v) {
				return fmt.Errorf("xlsx: key/value sheet %q: pair %d: unsupported value type %T", name, i, v)
			}
		}
	}
	// Keys and values are measured whole (the pairs are in memory) and wrap
	// past their caps.
	key, val := colMeasure{kind: dataset.String, wrap: true, key: true}, colMeasure{kind: dataset.String, wrap: true}
	for _, p := range pairs {
		key.add(kvMeasured(p[0]))
		val.add(kvMeasured(p[1]))
	}
	widths := []float64{key.width("Field"), min(max(val.chars+cellPadding, 12), kvValueWidth)}
	headers := []string{"Field", "Value"}
	sheet, sw, err := wb.startSheet(sheetName(name, 1), headers, widths, []bool{true, true}, newPrintLayout(headers, widths, 0))
	if err != nil {
		return wb.breaks(err)
	}
	row := make([]any, 2)
	for i, p := range pairs {
		lines := 1
		for j, v := range p {
			row[j] = wb.anyCell(v)
			if s, ok := kvMeasured(v).(string); ok {
				lines = max(lines, textLines(s, widths[j]))
			}
		}
		if err := sw.SetRow(cellRef(i+2), row, rowHeight(lines)...); err != nil {
			return wb.breaks(fmt.Errorf("xlsx: sheet %q: %w", sheet, err))
		}
	}
	if err := sw.Flush(); err != nil {
		return wb.breaks(fmt.Errorf("xlsx: sheet %q: %w", sheet, err))
	}
	return nil
}

// breaks records an error that leaves a sheet half-written: the workbook
// can no longer be completed.
func (wb *Workbook) breaks(err error) error {
	if wb.broken == nil {
		wb.broken = err
	}
	return err
}

// Begin starts a data sheet for t, named after t.Name, its columns in
// t.SheetOrder(). Only one data sheet can be open at a time: the returned
// sink's Close finishes it.
func (wb *Workbook) Begin(t dataset.Table) (reportgen.Sink, error) {
	if err := wb.usable(); err != nil {
		return nil, err
	}
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("xlsx: table %s has no columns", t.Name)
	}
	if len(t.Columns) > excelize.MaxColumns {
		return nil, fmt.Errorf("xlsx: table %s has %d columns, more than a sheet holds (%d)", t.Name, len(t.Columns), excelize.MaxColumns)
	}
	// The sheet starts when its first rows have been measured (sampleRows).
	s, err := newSheetSink(wb, t)
	if err != nil {
		return nil, fmt.Errorf("xlsx: table %s: %w", t.Name, err)
	}
	wb.open = s
	return s, nil
}

// Close writes the workbook to w. It never closes w, and it always releases
// the workbook's temporary files. A sheet still open is an error: nothing is
// written then.
func (wb *Workbook) Close() error {
	if wb.done {
		return errors.New("xlsx: workbook is closed")
	}
	wb.done = true
	// After WriteTo: spoolZip reads the streamed sheets from excelize's
	// temporary files at its own Close, within WriteTo, and f.Close removes
	// them.
	defer wb.f.Close()
	if wb.initErr != nil {
		return wb.initErr
	}
	if wb.broken != nil {
		return fmt.Errorf("%w; nothing written", wb.broken)
	}
	if wb.open != nil {
		return fmt.Errorf("xlsx: sheet %q is still open; nothing written", wb.open.sheet)
	}
	zw := newSpoolZip(wb.w, wb.opts.TempDir)
	wb.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	// spoolZip writes straight to wb.w, so excelize's own buffer stays empty.
	if _, err := wb.f.WriteTo(io.Discard); err != nil {
		zw.release()
		return fmt.Errorf("xlsx: write workbook: %w", err)
	}
	return nil
}

// Abort releases the workbook's temporary files and writes nothing. It is a
// no-op after Close.
func (wb *Workbook) Abort() {
	if wb.done {
		return
	}
	wb.done = true
	if wb.open != nil {
		wb.open.failed = errors.New("xlsx: workbook aborted")
	}
	_ = wb.f.Close()
}

// text sanitises a string for a cell and counts what changed.
func (wb *Workbook) text(s string) string {
	out, sanitised, truncated := SanitiseCell(s)
	if sanitised {
		wb.stats.Sanitised++
	}
	if truncated {
		wb.stats.Truncated++
	}
	return out
}

// kvValueWidth caps the value column of a key/value sheet: values wrap
// past it.
const kvValueWidth = 80

// Percent is a key/value sheet value shown as a percentage: the fraction
// 0.875 shows as 87.50% (PercentFormat) and stays the number 0.875.
type Percent float64

// kvSupported reports whether anyCell takes v.
func kvSupported(v any) bool {
	switch v.(type) {
	case nil, string, bool, int, int64, float64, Percent, time.Time, fmt.Stringer:
		return true
	}
	return false
}

// kvMeasured is v as valueChars measures it.
func kvMeasured(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case fmt.Stringer:
		if _, ok := v.(time.Time); !ok {
			return v.String()
		}
	}
	return v
}

// anyCell converts a key/value sheet value (see kvSupported) to a cell value.
func (wb *Workbook) anyCell(v any) any {
	switch v := v.(type) {
	case string:
		return wb.stringCell(v)
	case bool, float64:
		return v
	case Percent:
		return excelize.Cell{StyleID: wb.percentStyle, Value: float64(v)}
	case int:
		return wb.intCell(int64(v))
	case int64:
		return wb.intCell(v)
	case time.Time:
		return wb.timeCell(v)
	case fmt.Stringer:
		return wb.stringCell(v.String())
	}
	return nil
}

func (wb *Workbook) stringCell(s string) any {
	if s == "" {
		return nil
	}
	return wb.text(s)
}

func (wb *Workbook) intCell(v int64) any {
	if v > maxExactInt || v < -maxExactInt {
		wb.stats.BigInts++
		return fmt.Sprint(v)
	}
	return v
}

func (wb *Workbook) timeCell(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	// Millisecond precision in UTC, the same instant Parquet stores.
	return excelize.Cell{StyleID: wb.dateStyle, Value: t.UTC().Truncate(time.Millisecond)}
}

// cellRef is the reference of column A of a row.
func cellRef(row int) string {
	return "A" + strconv.Itoa(row)
}

// format is the one-table reportgen.Format.
type format struct{ opts Options }

// New returns the XLSX reportgen.Format: each file is a workbook holding one
// data sheet (continued on numbered sheets past Options.MaxRowsPerSheet).
func New(opts Options) reportgen.Format { return format{opts: opts} }

func (format) Ext() string       { return Ext }
func (format) MediaType() string { return MediaType }

func (f format) Begin(w io.Writer, t dataset.Table) (reportgen.Sink, error) {
	wb := NewWorkbook(w, f.opts)
	s, err := wb.Begin(t)
	if err != nil {
		wb.Abort()
		return nil, err
	}
	return &bookSink{wb: wb, s: s}, nil
}

// bookSink is the sink of a one-table workbook.
type bookSink struct {
	wb *Workbook
	s  reportgen.Sink
}

func (b *bookSink) Write(rows []dataset.Row) error { return b.s.Write(rows) }

func (b *bookSink) Close() error {
	if err := b.s.Close(); err != nil {
		b.wb.Abort()
		return err
	}
	return b.wb.Close()
}

// relativeAutoFilter rewrites the worksheet's <autoFilter ref>, which
// excelize's AutoFilter sets in absolute form ("$A$1:$E$9"), to the plain
// range Excel itself writes ("A1:E9"); the hidden _xlnm._FilterDatabase name
// keeps the absolute form, as in Excel's files. The worksheet type is
// unexported, so this goes through reflection on its exported fields; if
// excelize ever changes shape, the absolute form is kept, which readers
// accept too.
func (wb *Workbook) relativeAutoFilter(sw *excelize.StreamWriter, ref string) {
	// Sheets made by NewFile and NewSheet live at sheet<sheetId>.xml.
	v, ok := wb.f.Sheet.Load("xl/worksheets/sheet" + strconv.Itoa(sw.SheetID) + ".xml")
	if !ok {
		return
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return
	}
	af := rv.Elem().FieldByName("AutoFilter")
	if !af.IsValid() || af.Kind() != reflect.Pointer || af.IsNil() || af.Elem().Kind() != reflect.Struct {
		return
	}
	if r := af.Elem().FieldByName("Ref"); r.IsValid() && r.Kind() == reflect.String && r.CanSet() {
		r.SetString(ref)
	}
}
