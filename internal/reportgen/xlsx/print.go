package xlsx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/evidence-pack/evidence/internal/reportgen"
)

// Printing. Every sheet prints landscape and is fitted to one page wide,
// so the wider its printed columns, the smaller its text: a framework's
// Controls sheet, 21 columns and some 380 characters wide, printed at
// under 30 % in LibreOffice, unreadable. A sheet therefore prints its key
// columns (dataset.Table.Lead, which come first), as many of them, in
// order, as fit in printWidth characters, and nothing else; the columns
// left out are still on screen, and the footer of every printed page
// says which columns the page holds (printLayout.note).
//
// printWidth is in Excel's width units (characters of the default font's
// digit), the units of the column widths. LibreOffice without Calibri or
// Carlito sets the default font in DejaVu Sans, whose digit is 7 pt wide
// at 11 pt: 160 characters are then about 1,130 pt, which prints at 70 %
// on the 798 pt between the margins of landscape A4 and at 66 % on
// landscape Letter (749 pt). With Calibri (Excel) or Carlito, a character
// is about 5.3 pt: 95 % on A4, 89 % on Letter.
const printWidth = 160.0

// Page setup of every sheet (see pageSetup).
const (
	marginSide   = 0.3 // inches
	marginTop    = 0.6
	marginBottom = 0.6
	marginHF     = 0.25 // from the edge to the header and footer
	// maxHFChars is the most characters of a header or footer section
	// holding a given text (excelize.MaxFieldLength, 255, is the whole
	// field's limit); maxNoteChars that of the footer's printLayout.note.
	maxHFChars   = 80
	maxNoteChars = 120
)

// PrintNote says how the sheets of a workbook on paper print, for its
// Summary sheet.
func PrintNote(paper reportgen.Paper) string {
	return "Every sheet prints landscape on " + paper.Title() + " paper, fitted to one page wide, with its header row on every page and the pack id and page number in the footer. " +
		"A sheet too wide to print legibly prints its first key columns only, as many as fit: the footer of each printed page names them. " +
		"Every column is on screen and in the cells, whatever is printed."
}

// paperSize is the OOXML paperSize code of p (ECMA-376 Part 1,
// 18.3.1.63: 1 is Letter, 9 is A4).
func paperSize(p reportgen.Paper) int {
	if p.OrDefault() == reportgen.Letter {
		return 1
	}
	return 9
}

// printLayout is what a sheet prints: its first cols columns of all.
type printLayout struct {
	cols, all   int
	first, last string // headers of the first and last printed columns
}

// newPrintLayout chooses the printed columns of a sheet whose columns are
// headed headers and as wide as widths: the longest run of its first lead
// columns (all of them when lead is 0) that fits in printWidth, and at
// least the first column.
func newPrintLayout(headers []string, widths []float64, lead int) printLayout {
	n := len(widths)
	if lead > 0 && lead < n {
		n = lead
	}
	cols, total := 0, 0.0
	for cols < n && total+widths[cols] <= printWidth {
		total += widths[cols]
		cols++
	}
	cols = max(cols, 1)
	return printLayout{cols: cols, all: len(widths), first: headers[0], last: headers[cols-1]}
}

// partial reports whether some columns are not printed.
func (p printLayout) partial() bool { return p.cols < p.all }

// note is the footer's text on what a page shows: empty when it shows
// every column.
func (p printLayout) note() string {
	if !p.partial() {
		return ""
	}
	cols := fmt.Sprintf("column %s", p.first)
	if p.cols > 1 {
		cols = fmt.Sprintf("columns %s to %s", p.first, p.last)
	}
	return fmt.Sprintf("Printed: %s (%d of %d); every column is in the workbook", cols, p.cols, p.all)
}

// pageSetup makes a sheet print landscape on Options.Paper, fitted to one page wide and as
// many pages tall as it needs, with the header row repeated on every page
// and a footer naming the pack, the columns printed (pl) and the page. A
// streamed sheet writes its <sheetPr> when its stream writer is made and
// the rest of the page setup when it is flushed: it is all set here,
// before the stream writer exists. The print area, which needs the
// sheet's last row, is set by printArea.
func (wb *Workbook) pageSetup(sheet string, pl printLayout) error {
	f := wb.f
	fit, landscape, wide, tall, size := true, "landscape", 1, 0, paperSize(wb.opts.Paper) // fitToHeight 0: as many pages as needed
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &size, Orientation: &landscape, FitToWidth: &wide, FitToHeight: &tall}); err != nil {
		return err
	}
	side, top, bottom, hf := marginSide, marginTop, marginBottom, marginHF
	if err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{Left: &side, Right: &side, Top: &top, Bottom: &bottom, Header: &hf, Footer: &hf}); err != nil {
		return err
	}
	footer := ""
	if id := hfText(wb.opts.PackID, maxHFChars); id != "" {
		footer = "&LPack " + id
	}
	if note := pl.note(); note != "" {
		footer += "&C" + hfText(note, maxNoteChars)
	}
	footer += "&RPage &P of &N"
	header := "&L&A" // the sheet's name
	if title := hfText(wb.opts.Title, maxHFChars); title != "" {
		header += "&R" + title
	}
	if err := f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddHeader: header, OddFooter: footer}); err != nil {
		return err
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: quoteSheet(sheet) + "!$1:$1", Scope: sheet})
}

// printArea limits what a sheet of rows rows (header included) prints to
// its printed columns, when they are not all of them.
func (wb *Workbook) printArea(sheet string, pl printLayout, rows int) error {
	if !pl.partial() {
		return nil
	}
	last, err := excelize.ColumnNumberToName(pl.cols)
	if err != nil {
		return err
	}
	return wb.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Area", RefersTo: quoteSheet(sheet) + "!$A$1:$" + last + "$" + strconv.Itoa(max(rows, 1)), Scope: sheet})
}

// hfText makes s literal text of a header or footer section: '&' starts a
// code there, so it is doubled, and the text is cut to limit characters.
func hfText(s string, limit int) string {
	s, _, _ = SanitiseCell(s)
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	if utf16Len(s) > limit {
		s = truncateUTF16(s, limit-1) + "…"
	}
	return strings.ReplaceAll(s, "&", "&&")
}

// quoteSheet quotes a sheet name for a reference ('It”s'!A1).
func quoteSheet(name string) string {
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}
