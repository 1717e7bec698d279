package xlsx

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/xuri/excelize/v2"
)

// Column widths come from the content of a bounded sample: a sheet's widths
// must be written before its first row (they precede the rows in the file),
// and a streamed sheet never holds its rows. A data sheet therefore holds
// back its first rows, up to sampleRows rows or sampleBytes of text,
// whichever comes first, measures them with the headers, and then writes
// them and streams the rest; a value longer than any in the sample, later
// on, is wrapped or cut at the column's edge like any other long value.
// Continuation sheets ("Name (2)") keep the first sheet's widths.
const (
	sampleRows  = 500
	sampleBytes = 1 << 20

	// Widths are in Excel's units: characters of the default font's digit.
	// Text is capped, tighter outside the key columns (Table.Lead), so that
	// a sheet fitted to the width of a page stays legible (see printWidth:
	// key columns print, as many as fit); wrapped text
	// (Column.Wrap: titles, reasons, resources) continues on more lines,
	// other text (ids, JSON) is cut at the column's edge on screen and on
	// paper, and is whole in the cell.
	minWidth        = 5.0
	maxKeyWrapWidth = 30.0
	maxKeyTextWidth = 24.0
	maxWrapWidth    = 20.0
	maxTextWidth    = 16.0
	maxWidth        = 60.0 // anything: numbers and dates are never cut
	cellPadding     = 1.5  // room either side of the text
	filterButton    = 2.5  // the autofilter's drop-down on every header cell
	timeChars       = 19   // "yyyy-mm-dd hh:mm:ss"
	boolChars       = 5    // "FALSE"
	percentChars    = 8    // "100.00%"
	maxHeaderLine   = 2    // a header takes at most this many lines ...
	// headerLineHeight is the height in points of one line of the header
	// row (the default font, 11 pt, needs 15).
	headerLineHeight = 15.0
)

// colMeasure accumulates what a column's sampled values need.
type colMeasure struct {
	kind  dataset.Kind
	wrap  bool
	key   bool    // a key column (Table.Lead)
	chars float64 // widest value seen, in characters
}

func (m *colMeasure) add(v any) {
	m.chars = max(m.chars, valueChars(m.kind, v))
}

// width is the column's width for header h: wide enough for the widest
// value, within the cap of its kind, and for the header on at most
// maxHeaderLine lines beside its filter button.
func (m *colMeasure) width(h string) float64 {
	limit := maxWidth
	switch {
	case m.kind != dataset.String:
	case m.wrap && m.key:
		limit = maxKeyWrapWidth
	case m.key:
		limit = maxKeyTextWidth
	case m.wrap:
		limit = maxWrapWidth
	default:
		limit = maxTextWidth
	}
	w := min(m.chars+cellPadding, limit)
	w = max(w, headerChars(h)+filterButton, minWidth)
	return math.Min(math.Ceil(w*2)/2, maxWidth)
}

// headerChars is the width a header needs on at most maxHeaderLine lines:
// its longest word, or its length shared over the lines.
func headerChars(h string) float64 {
	longest := 0
	for _, w := range strings.Fields(h) {
		longest = max(longest, utf16Len(w))
	}
	return float64(max(longest, (utf16Len(h)+maxHeaderLine-1)/maxHeaderLine))
}

// headerLines estimates how many lines header h takes in a column of width
// w, beside the filter button.
func headerLines(h string, w float64) int { return textLines(h, w-filterButton) }

// maxRowHeight is the tallest a row may be, in points (Excel's limit).
const maxRowHeight = 409.0

// textLines estimates how many lines s takes wrapped in a column of width
// w: words go on a line while they fit, a word longer than a line breaks
// anywhere. Every character counts as wide as a digit (the unit of column
// widths), which most characters of a proportional font are not: the
// estimate errs towards a line too many rather than too few.
func textLines(s string, w float64) int {
	room := max(int(w), 1)
	if len(s) <= room && !strings.Contains(s, "\n") {
		return 1 // the common case: one short line
	}
	lines := 0
	for para := range strings.SplitSeq(s, "\n") {
		lines++
		line := 0
		for word := range strings.FieldsSeq(para) {
			n := textChars(word, math.MaxInt)
			switch {
			case line == 0:
				line = n
			case line+1+n <= room:
				line += 1 + n
			default:
				lines++
				line = n
			}
			for line > room {
				lines++
				line -= room
			}
		}
		if float64(lines)*headerLineHeight >= maxRowHeight {
			break
		}
	}
	return lines
}

// rowHeight is the row option of a row of wrapped text taking lines lines:
// none for one line (the default height).
func rowHeight(lines int) []excelize.RowOpts {
	if lines <= 1 {
		return nil
	}
	return []excelize.RowOpts{{Height: min(float64(lines)*headerLineHeight, maxRowHeight)}}
}

// valueChars is how many characters v takes as a cell of kind k: for text,
// its longest line, wide (East Asian) characters counted twice.
func valueChars(k dataset.Kind, v any) float64 {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		longest := 0
		for line := range strings.SplitSeq(v, "\n") {
			longest = max(longest, textChars(line, maxWidth))
			if longest >= maxWidth {
				break
			}
		}
		return float64(longest)
	case int64:
		return float64(len(strconv.FormatInt(v, 10)))
	case float64:
		return float64(len(strconv.FormatFloat(v, 'g', 15, 64)))
	case bool:
		return boolChars
	case time.Time:
		return timeChars
	case Percent:
		return percentChars
	}
	return 0
}

// textChars counts the display width of s in characters, stopping early
// past limit.
func textChars(s string, limit int) int {
	n := 0
	for _, r := range s {
		// Below U+1100 (the first Hangul) no rune is wide: most text skips
		// the table lookups.
		if r >= 0x1100 && (unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) || (r >= 0xFF00 && r <= 0xFF60)) {
			n += 2
		} else {
			n++
		}
		if n > limit {
			break
		}
	}
	return n
}

// sheetHeader is the header a sheet shows for c: its title, and for a
// time, the zone every time of the workbook is in.
func sheetHeader(c dataset.Column) string {
	h := c.Header()
	if c.Kind == dataset.Time && !strings.Contains(h, "UTC") {
		h += " (UTC)"
	}
	return h
}
