// Package pdf lays out the pack's PDF reports with go-pdf/fpdf: a cover,
// headings with bookmarks, wrapped paragraphs, key/value blocks, tables whose
// header repeats after every page break, and bar charts, with "page x of y"
// on every page. Text is set in the embedded DejaVu fonts (templates/), so
// accented, Cyrillic, Greek, Arabic and Hebrew text is kept; characters the
// font lacks (CJK) are written as the font's fallback glyph by fpdf, but the
// text layer keeps them, so pdftotext and search still find them.
//
// A Doc is built in memory (reports hold summaries, never datasets) and
// written once with WriteTo. The first error stops further drawing and is
// returned by WriteTo.
package pdf

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/evidence-pack/evidence/templates"
)

const (
	family     = "DejaVu"
	mono       = "DejaVuMono"
	lineH      = 5.0 // mm, body text
	bodySize   = 9.5
	smallSize  = 8.0
	marginMM   = 15.0
	footerRoom = 15.0
)

// Options are a document's fixed properties.
type Options struct {
	Title   string
	Subject string
	Author  string
	Created time.Time // fixed document dates for reproducible output
	Footer  string    // left footer text, e.g. the pack id
}

// Doc is a PDF report being built.
type Doc struct {
	f      *fpdf.Fpdf
	opts   Options
	width  float64 // usable width
	height float64
}

// New starts an A4 portrait document.
func New(opts Options) (*Doc, error) {
	f := fpdf.New("P", "mm", "A4", "")
	for _, font := range []struct{ family, style, file string }{
		{family, "", "DejaVuSans.ttf"},
		{family, "B", "DejaVuSans-Bold.ttf"},
		{mono, "", "DejaVuSansMono.ttf"},
	} {
		b, err := templates.Font(font.file)
		if err != nil {
			return nil, err
		}
		f.AddUTF8FontFromBytes(font.family, font.style, b)
	}
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("pdf: fonts: %w", err)
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f.SetCreationDate(created.UTC())
	f.SetModificationDate(created.UTC())
	f.SetTitle(opts.Title, true)
	f.SetSubject(opts.Subject, true)
	f.SetAuthor(opts.Author, true)
	f.SetCreator("evidence", true)
	f.SetProducer("evidence (go-pdf/fpdf)", true)
	f.SetMargins(marginMM, marginMM, marginMM)
	f.SetAutoPageBreak(true, footerRoom+5)
	f.AliasNbPages("{nb}")
	f.SetCatalogSort(true)
	d := &Doc{f: f, opts: opts}
	w, h := f.GetPageSize()
	d.width, d.height = w-2*marginMM, h
	f.SetFooterFunc(func() {
		f.SetY(-footerRoom)
		f.SetFont(family, "", smallSize)
		f.SetTextColor(110, 110, 110)
		f.CellFormat(d.width/2, 5, d.opts.Footer, "T", 0, "L", false, 0, "")
		f.CellFormat(d.width/2, 5, fmt.Sprintf("page %d of {nb}", f.PageNo()), "T", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	return d, nil
}

// Cover starts the document with a title page: the title, a subtitle and
// the fields (label, value) that identify the report.
func (d *Doc) Cover(title, subtitle string, fields [][2]string) {
	f := d.f
	f.AddPage()
	f.Bookmark(title, 0, -1)
	f.SetY(45)
	f.SetFont(family, "B", 22)
	f.MultiCell(d.width, 10, title, "", "L", false)
	if subtitle != "" {
		f.SetFont(family, "", 13)
		f.SetTextColor(70, 70, 70)
		f.MultiCell(d.width, 7, subtitle, "", "L", false)
		f.SetTextColor(0, 0, 0)
	}
	f.Ln(8)
	d.KeyValues(fields)
}

// Page starts a new page.
func (d *Doc) Page() { d.f.AddPage() }

// Heading writes a section title (level 1) or sub-title (level 2) and adds
// it to the bookmarks (the PDF outline, shown as a table of contents).
func (d *Doc) Heading(text string, level int) {
	f := d.f
	size := 14.0
	if level > 1 {
		size = 11.5
	}
	if f.GetY()+20 > d.height-footerRoom-5 {
		f.AddPage()
	}
	f.Ln(3)
	f.Bookmark(text, max(level, 1), -1)
	f.SetFont(family, "B", size)
	f.MultiCell(d.width, size*0.55, text, "", "L", false)
	f.Ln(1.5)
	f.SetFont(family, "", bodySize)
}

// Paragraph writes wrapped text; blank lines separate paragraphs.
func (d *Doc) Paragraph(text string) {
	d.f.SetFont(family, "", bodySize)
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		d.f.MultiCell(d.width, lineH, p, "", "L", false)
		d.f.Ln(1.5)
	}
}

// Notice writes text in a shaded box, for what a reader must not miss.
func (d *Doc) Notice(text string, alert bool) {
	f := d.f
	if alert {
		f.SetFillColor(253, 226, 226)
	} else {
		f.SetFillColor(226, 240, 226)
	}
	f.SetFont(family, "B", bodySize)
	f.MultiCell(d.width, lineH+0.5, text, "", "L", true)
	f.SetFont(family, "", bodySize)
	f.Ln(2)
}

// KeyValues writes label/value pairs in two columns; values wrap.
func (d *Doc) KeyValues(pairs [][2]string) {
	rows := make([][]string, len(pairs))
	for i, p := range pairs {
		rows[i] = []string{p[0], p[1]}
	}
	d.table([]Column{{Title: "", Width: 0.28}, {Title: "", Width: 0.72}}, rows, false)
	d.f.Ln(2)
}

// Column is a table column: Width is its share of the page width.
type Column struct {
	Title string
	Width float64
	Align string // "L" (default), "R", "C"
	Mono  bool   // fixed-width font, for hashes and ids
}

// Table writes rows under a header row that repeats on every page the table
// spans. Cells wrap; nothing is cut.
func (d *Doc) Table(cols []Column, rows [][]string) {
	d.table(cols, rows, true)
	d.f.Ln(2)
}

func (d *Doc) table(cols []Column, rows [][]string, header bool) {
	f := d.f
	total := 0.0
	for _, c := range cols {
		total += c.Width
	}
	widths := make([]float64, len(cols))
	for i, c := range cols {
		widths[i] = d.width * c.Width / total
	}
	const cellH = 4.6
	drawHeader := func() {
		if !header {
			return
		}
		f.SetFont(family, "B", smallSize+0.5)
		f.SetFillColor(31, 56, 100)
		f.SetTextColor(255, 255, 255)
		y := f.GetY()
		h := d.rowHeight(cols, widths, titles(cols), cellH, true)
		x := marginMM
		for i, c := range cols {
			f.Rect(x, y, widths[i], h, "F")
			f.SetXY(x+0.5, y+0.5)
			f.MultiCell(widths[i]-1, cellH, c.Title, "", align(c.Align), false)
			x += widths[i]
		}
		f.SetXY(marginMM, y+h)
		f.SetTextColor(0, 0, 0)
	}
	drawHeader()
	bottom := d.height - footerRoom - 5
	for n, row := range rows {
		h := d.rowHeight(cols, widths, row, cellH, false)
		if f.GetY()+h > bottom {
			f.AddPage()
			drawHeader()
		}
		y := f.GetY()
		if n%2 == 1 {
			f.SetFillColor(242, 242, 242)
			f.Rect(marginMM, y, d.width, h, "F")
		}
		x := marginMM
		for i, c := range cols {
			cell := ""
			if i < len(row) {
				cell = row[i]
			}
			d.cellFont(c, !header && i == 0)
			f.SetXY(x+0.5, y+0.5)
			f.MultiCell(widths[i]-1, cellH, cell, "", align(c.Align), false)
			x += widths[i]
		}
		f.SetDrawColor(200, 200, 200)
		f.Line(marginMM, y+h, marginMM+d.width, y+h)
		f.SetDrawColor(0, 0, 0)
		f.SetXY(marginMM, y+h)
	}
	f.SetFont(family, "", bodySize)
}

func (d *Doc) cellFont(c Column, label bool) {
	switch {
	case c.Mono:
		d.f.SetFont(mono, "", smallSize-0.5)
	case label:
		d.f.SetFont(family, "B", smallSize+0.5)
	default:
		d.f.SetFont(family, "", smallSize+0.5)
	}
}

// rowHeight is the height of the tallest wrapped cell of row. A single cell
// taller than a page would loop forever on page breaks, so very long values
// are already cut by the caller (the full value is in the data files).
func (d *Doc) rowHeight(cols []Column, widths []float64, row []string, cellH float64, header bool) float64 {
	lines := 1
	for i, c := range cols {
		if i >= len(row) {
			break
		}
		if header {
			d.f.SetFont(family, "B", smallSize+0.5)
		} else {
			d.cellFont(c, i == 0 && c.Title == "")
		}
		n := len(d.f.SplitText(row[i], widths[i]-1))
		lines = max(lines, n)
	}
	return float64(lines)*cellH + 1
}

func titles(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Title
	}
	return out
}

func align(a string) string {
	if a == "" {
		return "L"
	}
	return a
}

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value int64
	Color [3]int
}

// BarChart draws horizontal bars scaled to the largest value, with the value
// printed after each bar.
func (d *Doc) BarChart(title string, bars []Bar) {
	f := d.f
	const barH, gap = 6.0, 2.5
	need := float64(len(bars))*(barH+gap) + 12
	if f.GetY()+need > d.height-footerRoom-5 {
		f.AddPage()
	}
	if title != "" {
		f.SetFont(family, "B", bodySize)
		f.CellFormat(d.width, lineH+1, title, "", 1, "L", false, 0, "")
	}
	var top int64 = 1
	for _, b := range bars {
		top = max(top, b.Value)
	}
	labelW := d.width * 0.25
	barMax := d.width*0.75 - 22
	f.SetFont(family, "", smallSize+0.5)
	for _, b := range bars {
		y := f.GetY()
		f.SetXY(marginMM, y)
		f.CellFormat(labelW, barH, b.Label, "", 0, "R", false, 0, "")
		w := barMax * float64(b.Value) / float64(top)
		f.SetFillColor(b.Color[0], b.Color[1], b.Color[2])
		if w > 0 {
			f.Rect(marginMM+labelW+2, y+0.5, w, barH-1, "F")
		}
		f.SetXY(marginMM+labelW+4+w, y)
		f.CellFormat(20, barH, fmt.Sprint(b.Value), "", 0, "L", false, 0, "")
		f.SetXY(marginMM, y+barH+gap)
	}
	f.Ln(2)
}

// WriteTo renders the document.
func (d *Doc) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	if err := d.f.Output(cw); err != nil {
		return cw.n, fmt.Errorf("pdf %q: %w", d.opts.Title, err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
