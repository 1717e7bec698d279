// Package pdf lays out the pack's PDF reports with go-pdf/fpdf: a cover,
// headings with bookmarks, wrapped paragraphs, key/value blocks, tables whose
// header repeats after every page break (rows may carry a detail line
// across the table), and bar charts, with "page x of y" on every page.
// Pages are portrait, or landscape for wide tables (Landscape), on the
// paper of Options.Paper (A4 unless it says Letter).
//
// Text is set in embedded TrueType fonts (templates/fonts): DejaVu Sans, Sans
// Bold and Sans Mono for Latin, Greek, Cyrillic, Arabic and Hebrew, and Droid
// Sans Fallback for Chinese, Japanese and Korean. Every line is split into
// runs, each drawn in the first font of its style that has its glyphs
// (bold: DejaVu Bold, DejaVu, Droid; mono: DejaVu Mono, DejaVu, Droid), and
// widths are measured per run, so mixed-script text wraps within its box.
// Fonts are subset: only the glyphs used are embedded, and a face only in
// documents that use it (DejaVu Sans Mono where there is monospaced text,
// Droid Sans Fallback where there is CJK text). The text layer has the
// characters as given, so pdftotext and search find them.
//
// Limits, as they are:
//   - CJK has no bold face: bold CJK text is set in the regular weight.
//   - Right-to-left text (Hebrew, Arabic) is drawn in visual order by a
//     simplified bidi algorithm for a left-to-right paragraph: runs of
//     right-to-left words are reversed, numbers in them keep their order,
//     marks stay on their letter, enclosed brackets are mirrored. Explicit
//     bidi controls are not interpreted. Arabic letters are not shaped: they
//     appear in their isolated forms, unjoined (the text layer is exact).
//   - fpdf cannot set characters beyond the Basic Multilingual Plane (emoji,
//     rare CJK extensions): they are written as U+FFFD, as are invalid UTF-8
//     bytes. Tabs become spaces. A character no font has is drawn as the
//     font's missing-glyph box; the text layer keeps it.
//   - Lines break at spaces, between Chinese or Japanese characters (not
//     before closing punctuation), and inside a word only when it alone is
//     wider than the line. Table rows taller than a page continue on the
//     next page; column titles longer than 12 lines are cut.
//
// A Doc is built in memory (reports hold summaries, never datasets) and
// written once with WriteTo. The first error stops further drawing and is
// returned by WriteTo. The same input gives the same bytes.
package pdf

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/evidence-pack/evidence/internal/reportgen"
)

const (
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
	// Paper is the page size; the zero value is reportgen.DefaultPaper.
	Paper reportgen.Paper
}

// Doc is a PDF report being built.
type Doc struct {
	f      *fpdf.Fpdf
	opts   Options
	width  float64 // usable width of the current page
	height float64
	// landscape: the current page is landscape, and so are the pages that
	// follow it by page breaks.
	landscape bool

	chains     [monospace + 1][]*metrics // of each style's faces, shared read-only
	registered map[string]bool           // faces added to f, by face.key()
	st         style                     // current style and size (points)
	size       float64
	cur        face // the face and size fpdf has selected
	curSize    float64
}

// New starts a portrait document on opts.Paper.
func New(opts Options) (*Doc, error) {
	m, err := fontMetrics()
	if err != nil {
		return nil, fmt.Errorf("pdf: fonts: %w", err)
	}
	f := fpdf.New("P", "mm", opts.Paper.Title(), "")
	// Faces are registered with fpdf when text first needs them (useFace):
	// fpdf parses, subsets and embeds every face registered, used or not,
	// and most reports never set monospace (checksums) or CJK text.
	d := &Doc{f: f, opts: opts, chains: chainMetrics(m), registered: map[string]bool{}}
	created := opts.Created
	if created.IsZero() {
		created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f.SetCreationDate(created.UTC())
	f.SetModificationDate(created.UTC())
	f.SetTitle(clean(opts.Title), true)
	f.SetSubject(clean(opts.Subject), true)
	f.SetAuthor(clean(opts.Author), true)
	f.SetCreator("evidence", true)
	f.SetProducer("evidence (go-pdf/fpdf)", true)
	f.SetMargins(marginMM, marginMM, marginMM)
	f.SetAutoPageBreak(true, footerRoom+5)
	f.AliasNbPages("{nb}")
	f.SetCatalogSort(true)
	w, h := f.GetPageSize()
	d.width, d.height = w-2*marginMM, h
	f.SetFooterFunc(func() {
		// fpdf restores its font after the footer; so do we.
		st, size, cur, curSize := d.st, d.size, d.cur, d.curSize
		f.SetY(-footerRoom)
		d.setFont(regular, smallSize)
		f.SetTextColor(110, 110, 110)
		d.cell(d.width/2, 5, d.opts.Footer, "T", 0, "L")
		d.cell(d.width/2, 5, fmt.Sprintf("page %d of {nb}", f.PageNo()), "T", 0, "R")
		f.SetTextColor(0, 0, 0)
		d.st, d.size, d.cur, d.curSize = st, size, cur, curSize
	})
	return d, nil
}

// Cover starts the document with a title page: the title, a subtitle and
// the fields (label, value) that identify the report.
func (d *Doc) Cover(title, subtitle string, fields [][2]string) {
	f := d.f
	d.addPage("P")
	f.Bookmark(clean(title), 0, -1)
	f.SetY(45)
	d.setFont(bold, 22)
	d.text(d.width, 10, title, "L", false)
	if subtitle != "" {
		d.setFont(regular, 13)
		f.SetTextColor(70, 70, 70)
		d.text(d.width, 7, subtitle, "L", false)
		f.SetTextColor(0, 0, 0)
	}
	f.Ln(8)
	d.KeyValues(fields)
}

// Page starts a new page, in portrait.
func (d *Doc) Page() { d.addPage("P") }

// Landscape starts a new page in landscape, for wide tables; the pages
// that follow it by page breaks are landscape too, until Page or Cover.
// Every width (tables, paragraphs, the footer) follows the page's.
func (d *Doc) Landscape() { d.addPage("L") }

// addPage starts a page in orientation o ("P" or "L") and takes its size.
// The previous page's footer is drawn before the new page starts, at the
// previous page's width.
func (d *Doc) addPage(o string) {
	d.landscape = o == "L"
	d.f.AddPageFormat(o, d.f.GetPageSizeStr(d.opts.Paper.Title()))
	w, h := d.f.GetPageSize()
	d.width, d.height = w-2*marginMM, h
}

// nextPage starts a page in the orientation of the current one: a page
// break.
func (d *Doc) nextPage() {
	if d.landscape {
		d.addPage("L")
		return
	}
	d.addPage("P")
}

// started opens the first page for a document that did not start with
// Cover or Page: what is drawn before any page would be lost.
func (d *Doc) started() {
	if d.f.PageNo() == 0 {
		d.addPage("P")
	}
}

// Heading writes a section title (level 1) or sub-title (level 2) and adds
// it to the bookmarks (the PDF outline, shown as a table of contents).
func (d *Doc) Heading(text string, level int) {
	f := d.f
	d.started()
	size := 14.0
	if level > 1 {
		size = 11.5
	}
	if f.GetY()+20 > d.height-footerRoom-5 {
		d.nextPage()
	}
	f.Ln(3)
	f.Bookmark(clean(text), max(level, 1), -1)
	d.setFont(bold, size)
	d.text(d.width, size*0.55, text, "L", false)
	f.Ln(1.5)
	d.setFont(regular, bodySize)
}

// Paragraph writes wrapped text; blank lines separate paragraphs, and
// lines indented by two spaces are commands, set in the fixed-width font
// (wrapped, where they must be, at the width).
func (d *Doc) Paragraph(text string) {
	d.started()
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		var run []string // consecutive lines of one kind
		code := false
		flush := func() {
			if len(run) == 0 {
				return
			}
			if code {
				d.setFont(monospace, smallSize-0.5)
				d.text(d.width, lineH*0.85, strings.Join(run, "\n"), "L", false)
			} else {
				d.setFont(regular, bodySize)
				d.text(d.width, lineH, strings.Join(run, "\n"), "L", false)
			}
			run = nil
		}
		for _, line := range strings.Split(p, "\n") {
			if c := strings.HasPrefix(line, "  "); c != code {
				flush()
				code = c
			}
			run = append(run, line)
		}
		flush()
		d.f.Ln(1.5)
	}
	d.setFont(regular, bodySize)
}

// Notice writes text in a shaded box, for what a reader must not miss.
func (d *Doc) Notice(text string, alert bool) {
	f := d.f
	d.started()
	if alert {
		f.SetFillColor(253, 226, 226)
	} else {
		f.SetFillColor(226, 240, 226)
	}
	d.setFont(bold, bodySize)
	d.text(d.width, lineH+0.5, text, "L", true)
	d.setFont(regular, bodySize)
	f.Ln(2)
}

// KeyValues writes label/value pairs in two columns; values wrap.
func (d *Doc) KeyValues(pairs [][2]string) {
	rows := make([][]string, len(pairs))
	for i, p := range pairs {
		rows[i] = []string{p[0], p[1]}
	}
	d.table([]Column{{Title: "", Width: 0.28}, {Title: "", Width: 0.72}}, cellRows(rows), false)
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
// spans. Cells wrap; nothing is cut: a row taller than what is left of a
// page goes on after the page break, under the repeated header.
func (d *Doc) Table(cols []Column, rows [][]string) {
	d.table(cols, cellRows(rows), true)
	d.f.Ln(2)
}

// Row is a table row: its cells, and a Detail (may be empty) set across the
// whole width of the table under them, in smaller type, for what belongs
// to the row but fits no column (a failing control's resources). A row
// stays on the page of the first two lines of its detail; a detail longer
// than what is left of the page goes on after the page break, under the
// repeated header and a line naming the row by its first cell: "<first
// cell> (continued)".
type Row struct {
	Cells  []string
	Detail string
}

// TableRows is Table with rows that may carry a detail line.
func (d *Doc) TableRows(cols []Column, rows []Row) {
	d.table(cols, rows, true)
	d.f.Ln(2)
}

func cellRows(rows [][]string) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = Row{Cells: r}
	}
	return out
}

const (
	cellH          = 4.6 // mm, a table line
	detailH        = 4.0 // mm, a line of a row's detail
	detailIndent   = 4.0 // mm, a detail's left indent
	keepDetail     = 2   // lines of a row's detail kept on the row's page
	maxHeaderLines = 12  // a longer column title is cut: titles are labels
)

// block is a part of a table row drawn as one: the row's cells, or its
// detail across the width.
type block struct {
	widths []float64
	lines  [][]string // per column
	fonts  []func()   // per column: selects its font
	aligns []string
	lineH  float64
	indent float64
}

func (b block) height() int {
	n := 1
	for _, l := range b.lines {
		n = max(n, len(l))
	}
	return n
}

func (d *Doc) table(cols []Column, rows []Row, header bool) {
	f := d.f
	d.started()
	if len(cols) == 0 {
		return
	}
	widths := d.columnWidths(cols)
	bottom := d.height - footerRoom - 5
	// The header's lines, the same on every page.
	var hdr [][]string
	hdrH := 0.0
	if header {
		d.setFont(bold, smallSize+0.5)
		hdr = make([][]string, len(cols))
		n := 1
		for i, c := range cols {
			hdr[i] = d.wrap(clean(c.Title), widths[i]-1)
			if len(hdr[i]) > maxHeaderLines { // keep room for rows on every page
				hdr[i] = append(hdr[i][:maxHeaderLines-1], "…")
			}
			n = max(n, len(hdr[i]))
		}
		hdrH = float64(n)*cellH + 1
	}
	// drawHeader draws the header where under keeps room for a first
	// row of height under: a header is never alone at a page's foot, nor
	// with a sliver of its first row.
	drawHeader := func(under float64) {
		if !header {
			return
		}
		d.setFont(bold, smallSize+0.5)
		h := hdrH
		if f.GetY()+h+under > bottom && f.GetY() > marginMM+0.5 {
			d.nextPage()
		}
		f.SetFillColor(31, 56, 100)
		f.SetTextColor(255, 255, 255)
		y := f.GetY()
		x := marginMM
		for i, c := range cols {
			f.Rect(x, y, widths[i], h, "F")
			f.SetXY(x+0.5, y+0.5)
			for _, l := range hdr[i] {
				d.line(widths[i]-1, cellH, l, "", 2, align(c.Align), false)
			}
			x += widths[i]
		}
		f.SetXY(marginMM, y+h)
		f.SetTextColor(0, 0, 0)
	}
	cellFonts := make([]func(), len(cols))
	aligns := make([]string, len(cols))
	for i, c := range cols {
		cellFonts[i] = func() { d.cellFont(c, !header && i == 0) }
		aligns[i] = align(c.Align)
	}
	detailFont := []func(){func() { d.setFont(regular, smallSize) }}
	// rowBlocks wraps each cell of a row in its own font, and its detail.
	rowBlocks := func(row Row) []block {
		cells := block{widths: widths, lines: make([][]string, len(cols)), fonts: cellFonts, aligns: aligns, lineH: cellH}
		for i := range cols {
			cell := ""
			if i < len(row.Cells) {
				cell = row.Cells[i]
			}
			cellFonts[i]()
			cells.lines[i] = d.wrap(clean(cell), widths[i]-1)
		}
		blocks := []block{cells}
		if row.Detail != "" {
			w := d.width - detailIndent
			detailFont[0]()
			blocks = append(blocks, block{widths: []float64{w}, lines: [][]string{d.wrap(clean(row.Detail), w-1)},
				fonts: detailFont, aligns: []string{"L"}, lineH: detailH, indent: detailIndent})
		}
		return blocks
	}
	// firstRoom is the height a table's first row needs under the header:
	// the whole row, with the first lines of its detail, when that fits on
	// a page; one line otherwise.
	firstRoom := cellH + 1
	var first []block
	if len(rows) > 0 {
		first = rowBlocks(rows[0])
		need := float64(first[0].height())*cellH + 1
		if len(first) > 1 {
			need += float64(min(keepDetail, first[1].height()))*detailH + 1
		}
		if need <= bottom-marginMM-hdrH {
			firstRoom = need
		}
	}
	drawHeader(firstRoom)
	// top is where rows start on the current page. A block that does not
	// fit where it would start begins on the next page, unless it is at the
	// top already (right under a header counts: a header is never left
	// alone at a page's foot) or is taller than a page: then it is split,
	// and goes on on the next pages under the repeated header.
	top := -1.0
	if header {
		top = f.GetY()
	}
	for n, row := range rows {
		blocks := first
		if n > 0 {
			blocks = rowBlocks(row)
		}
		// A row is kept with the first lines of its detail (keepDetail): a
		// row at a page's foot whose detail would start on the next page
		// goes to the next page itself, unless row and lines fill more
		// than a page. A detail that does not fit is then split, never
		// moved away from its row whole. A block that goes on after a
		// page break (a split detail, or a row taller than a page) starts
		// its part on the new page with "<first cell> (continued)", under
		// the repeated header.
		keep := 0
		if len(blocks) > 1 {
			keep = min(keepDetail, blocks[1].height())
		}
		label := ""
		if len(row.Cells) > 0 {
			label = row.Cells[0]
		}
		started, cont := false, false
		for bi, b := range blocks {
			rest := b.height()
			pageFit := int((bottom - marginMM - hdrH - 1) / b.lineH) // lines of a block that fit on a page of their own
			for from := 0; from < rest; {
				fit := int((bottom - f.GetY() - 1) / b.lineH)
				atTop := f.GetY() == top
				withNext := float64(rest)*b.lineH + 1 + float64(keep)*detailH + 1
				switch {
				case bi == 0 && from == 0 && keep > 0 && !atTop && f.GetY()+withNext > bottom && withNext <= bottom-marginMM-hdrH:
				case fit < rest-from && !atTop && (fit < 2 || (bi == 0 && from == 0 && rest <= pageFit)):
				default:
					if cont {
						d.continued(label, n%2 == 1)
						cont = false
						continue // the fit again, below the line
					}
					fit = max(1, min(fit, rest-from))
					if left := rest - from - fit; left == 1 && fit > keepDetail {
						fit-- // no line alone on the next page
					}
					h := float64(fit)*b.lineH + 1
					y := f.GetY()
					if n%2 == 1 {
						f.SetFillColor(242, 242, 242)
						f.Rect(marginMM, y, d.width, h, "F")
					}
					x := marginMM + b.indent
					for i := range b.widths {
						b.fonts[i]()
						f.SetXY(x+0.5, y+0.5)
						for k := from; k < from+fit && k < len(b.lines[i]); k++ {
							d.line(b.widths[i]-1, b.lineH, b.lines[i][k], "", 2, b.aligns[i], false)
						}
						x += b.widths[i]
					}
					f.SetXY(marginMM, y+h)
					from += fit
					started = true
					continue
				}
				d.nextPage()
				drawHeader(0)
				top = f.GetY()
				cont = started
			}
		}
		y := f.GetY()
		f.SetDrawColor(200, 200, 200)
		f.Line(marginMM, y, marginMM+d.width, y)
		f.SetDrawColor(0, 0, 0)
	}
	d.setFont(regular, bodySize)
}

// continued writes the line that starts the part of a row that goes on
// after a page break: the row's first cell and "(continued)", across the
// table, shaded like the row.
func (d *Doc) continued(label string, shade bool) {
	f := d.f
	y := f.GetY()
	if shade {
		f.SetFillColor(242, 242, 242)
		f.Rect(marginMM, y, d.width, detailH, "F")
	}
	d.setFont(bold, smallSize)
	f.SetXY(marginMM+0.5, y)
	text := "(continued)"
	if label = strings.TrimSpace(strings.SplitN(clean(label), "\n", 2)[0]); label != "" {
		text = label + " " + text
	}
	d.line(d.width-1, detailH, text, "", 2, "L", false)
	f.SetXY(marginMM, y+detailH)
}

// columnWidths shares the page width among cols by their Width.
func (d *Doc) columnWidths(cols []Column) []float64 {
	total := 0.0
	for _, c := range cols {
		total += max(c.Width, 0)
	}
	widths := make([]float64, len(cols))
	for i, c := range cols {
		if total > 0 {
			widths[i] = d.width * max(c.Width, 0) / total
		} else {
			widths[i] = d.width / float64(len(cols))
		}
	}
	return widths
}

func (d *Doc) cellFont(c Column, label bool) {
	switch {
	case c.Mono:
		d.setFont(monospace, smallSize-0.5)
	case label:
		d.setFont(bold, smallSize+0.5)
	default:
		d.setFont(regular, smallSize+0.5)
	}
}

func align(a string) string {
	switch a {
	case "R", "C":
		return a
	}
	return "L"
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
	d.started()
	const barH, gap = 6.0, 2.5
	need := float64(len(bars))*(barH+gap) + 12
	if f.GetY()+need > d.height-footerRoom-5 {
		d.nextPage()
	}
	if title != "" {
		d.setFont(bold, bodySize)
		d.cell(d.width, lineH+1, title, "", 1, "L")
	}
	var top int64 = 1
	for _, b := range bars {
		top = max(top, b.Value)
	}
	labelW := d.width * 0.25
	barMax := d.width*0.75 - 22
	d.setFont(regular, smallSize+0.5)
	for _, b := range bars {
		y := f.GetY()
		f.SetXY(marginMM, y)
		d.cell(labelW, barH, b.Label, "", 0, "R")
		w := barMax * float64(max(b.Value, 0)) / float64(top)
		f.SetFillColor(b.Color[0], b.Color[1], b.Color[2])
		if w > 0 {
			f.Rect(marginMM+labelW+2, y+0.5, w, barH-1, "F")
		}
		f.SetXY(marginMM+labelW+4+w, y)
		d.cell(20, barH, fmt.Sprint(b.Value), "", 0, "L")
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
