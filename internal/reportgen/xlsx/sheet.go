package xlsx

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/xuri/excelize/v2"
)

// sheetSink streams the rows of one table onto one or more sheets.
type sheetSink struct {
	wb      *Workbook
	t       dataset.Table
	base    string // table name the sheets are named after
	max     int    // data rows per sheet
	headers []string
	widths  []float64
	lastCol string

	part  int // 1-based number of the current sheet
	sheet string
	sw    *excelize.StreamWriter
	rows  int // data rows on the current sheet

	cells  []any // reused row of cell values
	failed error
	closed bool
}

// next finishes the current sheet, if any, and starts the following one.
func (s *sheetSink) next() error {
	if s.sw != nil {
		if err := s.finishSheet(); err != nil {
			return err
		}
	}
	s.part++
	name, sw, err := s.wb.startSheet(sheetName(s.base, s.part), s.headers, s.widths)
	if err != nil {
		return err
	}
	s.sheet, s.sw, s.rows = name, sw, 0
	return nil
}

// finishSheet puts the autofilter over the header and data of the current
// sheet and flushes it.
func (s *sheetSink) finishSheet() error {
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
	s.wb.breaks(fmt.Errorf("xlsx: sheet %q failed: %w", s.sheet, err))
	return err
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
		if s.rows >= s.max {
			if err := s.next(); err != nil {
				return s.fail(err)
			}
		}
		for i, v := range r {
			s.cells[i] = s.cell(s.t.Columns[i].Kind, v)
		}
		s.rows++
		if err := s.sw.SetRow(cellRef(s.rows+1), s.cells); err != nil {
			return s.fail(fmt.Errorf("xlsx: sheet %q row %d: %w", s.sheet, s.rows+1, err))
		}
		s.wb.stats.Rows++
	}
	clear(s.cells)
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
		return wb.stringCell(v.(string))
	case dataset.Int:
		return wb.intCell(v.(int64))
	case dataset.Float, dataset.Bool:
		return v
	case dataset.Time:
		return wb.timeCell(v.(time.Time))
	}
	return nil
}

// Close finishes the current sheet. It does not write the workbook: that is
// (*Workbook).Close.
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
	if err := s.finishSheet(); err != nil {
		return s.fail(err)
	}
	return nil
}
