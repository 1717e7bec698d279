package pdf

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/evidence-pack/evidence/templates"
)

// face is one embedded font file as registered with fpdf.
type face struct {
	family, style, file string
}

func (fc face) key() string { return fc.family + "/" + fc.style }

var (
	sans     = face{"DejaVu", "", "DejaVuSans.ttf"}
	sansBold = face{"DejaVu", "B", "DejaVuSans-Bold.ttf"}
	sansMono = face{"DejaVuMono", "", "DejaVuSansMono.ttf"}
	// cjk has Chinese, Japanese and Korean; it has no bold, so bold CJK
	// text is set in its regular weight.
	cjk = face{"DroidSansFallback", "", "DroidSansFallback.ttf"}
)

// style is what a piece of text is set in; each has a chain of faces, the
// first one that has a rune draws it.
type style int

const (
	regular style = iota
	bold
	monospace
)

func (s style) chain() []face {
	switch s {
	case bold:
		return []face{sansBold, sans, cjk}
	case monospace:
		return []face{sansMono, sans, cjk}
	default:
		return []face{sans, cjk}
	}
}

// fontMetrics parses the embedded fonts once per process; the result is
// only read afterwards.
var fontMetrics = sync.OnceValues(func() (map[string]*metrics, error) {
	out := map[string]*metrics{}
	for _, fc := range []face{sans, sansBold, sansMono, cjk} {
		b, err := templates.Font(fc.file)
		if err != nil {
			return nil, err
		}
		m, err := parseMetrics(b)
		if err != nil {
			return nil, fmt.Errorf("font %s: %w", fc.file, err)
		}
		out[fc.file] = m
	}
	return out, nil
})

// chainMetrics are the metrics of each style's chain of faces.
func chainMetrics(m map[string]*metrics) [monospace + 1][]*metrics {
	var out [monospace + 1][]*metrics
	for st := range out {
		for _, fc := range style(st).chain() {
			out[st] = append(out[st], m[fc.file])
		}
	}
	return out
}

// setFont selects style st at size points for what follows.
func (d *Doc) setFont(st style, size float64) {
	d.st, d.size = st, size
	d.useFace(st.chain()[0])
}

// useFace makes fc the current fpdf font at the current size, registering
// it with fpdf the first time: a face is parsed and embedded only by
// documents that use it.
func (d *Doc) useFace(fc face) {
	if d.cur == fc && d.curSize == d.size {
		return // fpdf would write the same font change again
	}
	if !d.registered[fc.key()] {
		b, err := templates.Font(fc.file)
		if err != nil {
			d.f.SetError(fmt.Errorf("pdf: %w", err))
			return
		}
		d.f.AddUTF8FontFromBytes(fc.family, fc.style, b)
		d.registered[fc.key()] = true
	}
	d.f.SetFont(fc.family, fc.style, d.size)
	d.cur, d.curSize = fc, d.size
}

// faceOf is the index, in the current style's chain, of the face that
// draws r: the first that has it, else the first (which then draws its
// "missing glyph" box; the text layer still has r).
func (d *Doc) faceOf(r rune) int {
	if r < utf8.RuneSelf {
		return 0
	}
	for i, m := range d.chains[d.st] {
		if m.has(r) {
			return i
		}
	}
	return 0
}

// runeWidth is r's advance, in 1/1000 of the font size, in the face that
// draws it.
func (d *Doc) runeWidth(r rune) int {
	return d.chains[d.st][d.faceOf(r)].width(r)
}

// clean makes s safe for fpdf, which panics on invalid UTF-8 and cannot set
// runes beyond the Basic Multilingual Plane: invalid bytes and such runes
// (emoji, rare CJK extensions) become U+FFFD, tabs become spaces and
// carriage returns go.
func clean(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '\t' || c == '\r' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\r':
		case r == '\t':
			b.WriteByte(' ')
		case r > 0xFFFF || (r >= 0xD800 && r < 0xE000):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wrap breaks s (already clean) into lines that fit a cell w wide in the
// current style, the way fpdf's MultiCell does for text of one font: at
// spaces (which are dropped), at newlines, and inside a word only when it
// alone is wider than the line. Unlike MultiCell it measures each rune in
// the face that draws it, and breaks between CJK characters without
// dropping one.
func (d *Doc) wrap(s string, w float64) []string {
	_, unit := d.f.GetFontSize()
	if unit <= 0 {
		return []string{s}
	}
	wmax := int(math.Ceil((w - 2*d.f.GetCellMargin()) * 1000 / unit))
	rs := []rune(s)
	nb := len(rs)
	for nb > 0 && rs[nb-1] == '\n' {
		nb--
	}
	var lines []string
	// brk is where the current line may end and next where the line after
	// it would then start; -1 while the line has no break opportunity.
	i, j, l, brk, next := 0, 0, 0, -1, 0
	for i < nb {
		c := rs[i]
		if c == '\n' {
			lines = append(lines, string(rs[j:i]))
			i++
			j, l, brk = i, 0, -1
			continue
		}
		if c == ' ' {
			brk, next = i, i+1
		} else if i > j && (wide(c) || wide(rs[i-1])) && !noBreakBefore(c) {
			brk, next = i, i
		}
		l += d.runeWidth(c)
		if l <= wmax {
			i++
			continue
		}
		if brk < 0 {
			if i == j {
				i++
			}
			lines = append(lines, string(rs[j:i]))
		} else {
			lines = append(lines, string(rs[j:brk]))
			i = next
		}
		j, l, brk = i, 0, -1
	}
	if i > j || len(lines) == 0 { // not an empty line after a break at the end
		lines = append(lines, string(rs[j:i]))
	}
	return lines
}

// wide reports runes of scripts written without spaces between words
// (Chinese, Japanese), where a line may break between any two characters.
// Korean separates words with spaces and breaks there.
func wide(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFF60))
}

// noBreakBefore are the closing marks a CJK line must not start with.
func noBreakBefore(r rune) bool {
	return strings.ContainsRune("、。，．：；？！）」』】〉》〕］｝ー・", r)
}

// text writes s wrapped in a box w wide with lines h high, like fpdf's
// MultiCell with no border: each line is a cell below the previous one.
func (d *Doc) text(w, h float64, s, align string, fill bool) {
	for _, line := range d.wrap(clean(s), w) {
		d.line(w, h, line, "", 2, align, fill)
	}
	left, _, _, _ := d.f.GetMargins()
	d.f.SetX(left)
}

// cell writes s on one line in a cell w wide, like fpdf's CellFormat
// (border and ln as there; ln 0 puts the position right of the cell, 1 at
// the start of the next line, 2 below it).
func (d *Doc) cell(w, h float64, s, border string, ln int, align string) {
	d.line(w, h, strings.ReplaceAll(clean(s), "\n", " "), border, ln, align, false)
}

// line draws one line of clean text. Text that the style's first face draws
// whole and that has no right-to-left letters is one fpdf cell; other text
// is put in visual order and drawn as runs, each in the face that has its
// glyphs, after a cell that paints the background (and breaks the page
// where fpdf would).
func (d *Doc) line(w, h float64, s, border string, ln int, align string, fill bool) {
	f := d.f
	if d.plain(s) {
		f.CellFormat(w, h, s, border, ln, align, fill, 0, "")
		return
	}
	type run struct {
		face  int
		text  string
		width int
	}
	var runs []run
	total := 0
	for _, r := range visual(s) {
		fi, cw := d.faceOf(r), d.runeWidth(r)
		total += cw
		if n := len(runs); n > 0 && runs[n-1].face == fi {
			runs[n-1].text += string(r)
			runs[n-1].width += cw
			continue
		}
		runs = append(runs, run{fi, string(r), cw})
	}
	x := f.GetX()
	f.CellFormat(w, h, "", border, 0, "L", fill, 0, "")
	y := f.GetY()
	_, unit := f.GetFontSize()
	margin := f.GetCellMargin()
	tw := float64(total) * unit / 1000
	var pos float64
	switch align {
	case "R":
		pos = x + w - margin - tw
	case "C":
		pos = x + (w-tw)/2
	default:
		pos = x + margin
	}
	chain := d.st.chain()
	for _, r := range runs {
		d.useFace(chain[r.face])
		rw := float64(r.width) * unit / 1000
		f.SetXY(pos-margin, y)
		f.CellFormat(rw+2*margin, h, r.text, "", 0, "L", false, 0, "")
		pos += rw
	}
	d.useFace(chain[0])
	switch ln {
	case 1:
		left, _, _, _ := f.GetMargins()
		f.SetXY(left, y+h)
	case 2:
		f.SetXY(x, y+h)
	default:
		f.SetXY(x+w, y)
	}
}

// plain reports whether s is drawn as it is in the style's first face:
// ASCII always is; other text when that face has every rune and none is
// written right to left.
func (d *Doc) plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			m := d.chains[d.st][0]
			for _, r := range s[i:] {
				if rtl(r) || (r >= utf8.RuneSelf && !m.has(r)) {
					return false
				}
			}
			return true
		}
	}
	return true
}
