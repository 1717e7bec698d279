package xlsx

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/xuri/excelize/v2"
)

// sheetSink streams the rows of one table onto one or more sheets, its
// columns in the table's sheet order (dataset.Table.SheetOrder).
type sheetSink struct {
	wb      *Workbook
	t       dataset.Table
	base    string // table name the sheets are named after
	max     int    // data rows per sheet
	order   []int  // order[j] is the table column shown in sheet column j
	kinds   []dataset.Kind
	headers []string
	measure []colMeasure
	widths  []float64 // set when the sample is measured
	lead    int       // key columns (Table.Lead), the first in sheet order
	print   printLayout
	wrap    []bool
	percent []bool
	lastCol string

	// The first rows are held back until the widths are known (see
	// sampleRows); sampling is false once they are written.
	sampling    bool
	sample      []dataset.Row
	sampleBytes int

	part  int // 1-based number of the current sheet
	sheet string
	sw    *excelize.StreamWriter
	rows  int // data rows on the current sheet

	cells  []any // reused row of cell values
	failed error
	closed bool
}

func newSheetSink(wb *Workbook, t dataset.Table) (*sheetSink, error) {
	lastCol, err := excelize.ColumnNumberToName(len(t.Columns))
	if err != nil {
		return nil, err
	}
	s := &sheetSink{wb: wb, t: t, base: t.Name, max: wb.opts.maxRows(), order: t.SheetOrder(), lastCol: lastCol, sampling: true}
	n := len(t.Columns)
	s.kinds, s.headers, s.measure, s.wrap, s.percent = make([]dataset.Kind, n), make([]string, n), make([]colMeasure, n), make([]bool, n), make([]bool, n)
	for j, i := range s.order {
		c := t.Columns[i]
		s.kinds[j], s.headers[j], s.wrap[j], s.percent[j] = c.Kind, sheetHeader(c), c.Wrap, c.Percent && c.Kind == dataset.Float
		s.measure[j] = colMeasure{kind: c.Kind, wrap: c.Wrap, key: slices.Contains(t.Lead, c.Name)}
		if s.measure[j].key {
			s.lead++
		}
	}
	s.cells = make([]any, n)
	return s, nil
}

// endSample measures the sampled rows, starts the first sheet and writes
// them.
func (s *sheetSink) endSample() error {
	s.sampling = false
	s.widths = make([]float64, len(s.headers))
	for j := range s.widths {
		s.widths[j] = s.measure[j].width(s.headers[j])
	}
	s.print = newPrintLayout(s.headers, s.widths, s.lead)
	if err := s.next(); err != nil {
		return err
	}
	sample := s.sample
	s.sample = nil
	for _, r := range sample {
		if err := s.writeRow(r); err != nil {
			return err
		}
	}
	return nil
}

// next finishes the current sheet, if any, and starts the following one.
func (s *sheetSink) next() error {
	if s.sw != nil {
		if err := s.finishSheet(); err != nil {
			return err
		}
	}
	s.part++
	name, sw, err := s.wb.startSheet(sheetName(s.base, s.part), s.headers, s.widths, s.wrap, s.print)
	if err != nil {
		return err
	}
	s.sheet, s.sw, s.rows = name, sw, 0
	return nil
}

// finishSheet puts the autofilter over the header and data of the current
// sheet, limits its print area to the printed columns and flushes it.
func (s *sheetSink) finishSheet() error {
	if err := s.wb.printArea(s.sheet, s.print, s.rows+1); err != nil {
		return fmt.Errorf("xlsx: sheet %q: print area: %w", s.sheet, err)
	}
	ref := "A1:" + s.lastCol + strconv.Itoa(s.rows+1)
	// The stream writer has written the sheet up to its rows; the worksheet
	// it keeps still serialises autoFilter on Flush, so set it now.
	if err := s.wb.f.AutoFilter(s.sheet, ref, nil); err != nil {
		return fmt.Errorf("xlsx: sheet %q: autofilter: %w", s.sheet, err)
	}
	s.wb.relativeAutoFilter(s.sw, ref)
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: sheet %q: %w", s.sheet, err)
	}
	s.sw = nil
	return nil
}

func (s *sheetSink) fail(err error) error {
	if s.failed == nil {
		s.failed = err
	}
	s.wb.breaks(fmt.Errorf("xlsx: sheet %q failed: %w", cmpOr(s.sheet, s.base), err))
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Write appends rows, starting a new sheet whenever one is full.
func (s *sheetSink) Write(rows []dataset.Row) error {
	switch {
	case s.failed != nil:
		return s.failed
	case s.closed:
		return errors.New("xlsx: write to a closed sink")
	}
	for _, r := range rows {
		if err := s.t.Check(r); err != nil {
			return s.fail(fmt.Errorf("xlsx: %w", err))
		}
		if s.sampling {
			s.hold(r)
			if len(s.sample) < sampleRows && s.sampleBytes < sampleBytes {
				continue
			}
			if err := s.endSample(); err != nil {
				return s.fail(err)
			}
			continue
		}
		if err := s.writeRow(r); err != nil {
			return s.fail(err)
		}
	}
	clear(s.cells)
	return nil
}

// hold keeps a copy of r (the caller may reuse it) for the sample and
// measures it.
func (s *sheetSink) hold(r dataset.Row) {
	s.sample = append(s.sample, append(dataset.Row(nil), r...))
	for j, i := range s.order {
		v := r[i]
		if str, ok := v.(string); ok {
			s.sampleBytes += len(str)
		}
		s.measure[j].add(v)
	}
}

// writeRow writes one checked row on the current sheet, or on a new one
// when it is full.
func (s *sheetSink) writeRow(r dataset.Row) error {
	if s.rows >= s.max {
		if err := s.next(); err != nil {
			return err
		}
	}
	lines := 1
	for j, i := range s.order {
		s.cells[j] = s.cell(s.kinds[j], r[i])
		if s.percent[j] && r[i] != nil {
			s.cells[j] = excelize.Cell{StyleID: s.wb.pointsStyle, Value: s.cells[j]}
		}
		if str, ok := r[i].(string); ok && s.wrap[j] {
			lines = max(lines, textLines(str, s.widths[j]))
		}
	}
	s.rows++
	// A row of wrapped text gets the height its lines need: readers keep
	// the height a file gives (LibreOffice does not measure rows when it
	// opens a workbook), and a row left at one line would hide the rest.
	if err := s.sw.SetRow(cellRef(s.rows+1), s.cells, rowHeight(lines)...); err != nil {
		return fmt.Errorf("xlsx: sheet %q row %d: %w", s.sheet, s.rows+1, err)
	}
	s.wb.stats.Rows++
	return nil
}

// cell converts a value already checked against its column kind.
func (s *sheetSink) cell(k dataset.Kind, v any) any {
	if v == nil {
		return nil
	}
	wb := s.wb
	switch k {
	case dataset.String:
		// v itself when sanitising keeps the text as it is (nearly always):
		// the string put in an interface again would be an allocation per
		// cell.
		str := v.(string)
		if str == "" {
			return nil
		}
		if out := wb.text(str); out != str {
			return out
		}
		return v
	case dataset.Int:
		return wb.intCell(v.(int64))
	case dataset.Float, dataset.Bool:
		return v
	case dataset.Time:
		return wb.timeCell(v.(time.Time))
	}
	return nil
}

// Close writes the rows still held back and finishes the current sheet. It
// does not write the workbook: that is (*Workbook).Close.
func (s *sheetSink) Close() error {
	if s.closed {
		return errors.New("xlsx: sink closed twice")
	}
	s.closed = true
	if s.wb.open == s {
		s.wb.open = nil
	}
	if s.failed != nil {
		return s.failed
	}
	if s.sampling {
		if err := s.endSample(); err != nil {
			return s.fail(err)
		}
	}
	if err := s.finishSheet(); err != nil {
		return s.fail(err)
	}
	return nil
}
