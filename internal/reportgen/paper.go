package reportgen

import "fmt"

// Paper is the paper the pack's printable files are laid out for: the
// pages of its PDFs and the page setup of its workbooks' sheets. One value
// (the configuration's paper:, --paper) sets both, so that a pack prints
// on one size of paper.
//
// The zero value is DefaultPaper.
type Paper string

const (
	// A4 is ISO 216 A4, 210 × 297 mm: the standard size nearly everywhere
	// outside North America.
	A4 Paper = "a4"
	// Letter is US Letter, 8.5 × 11 in (215.9 × 279.4 mm): the United
	// States and Canada.
	Letter Paper = "letter"
	// DefaultPaper is A4: the ISO size, the one most readers outside North
	// America print on, and the size the pack's PDFs have always had. On
	// Letter paper an A4 PDF prints at 94 % ("fit to page"); a workbook's
	// sheets are fitted to the page width of whatever paper they go to.
	DefaultPaper = A4
)

// ParsePaper reads a paper name: "a4" or "letter"; "" is DefaultPaper.
func ParsePaper(s string) (Paper, error) {
	p := Paper(s)
	if !p.Valid() {
		return "", fmt.Errorf("paper %q: want a4 or letter", s)
	}
	return p.OrDefault(), nil
}

// Valid reports whether p is a paper this package knows, or empty (the
// default).
func (p Paper) Valid() bool { return p == "" || p == A4 || p == Letter }

// OrDefault is p, or DefaultPaper when p is empty or unknown.
func (p Paper) OrDefault() Paper {
	if p == Letter {
		return Letter
	}
	return DefaultPaper
}

// Title is the paper's usual name: "A4", "Letter".
func (p Paper) Title() string {
	if p.OrDefault() == Letter {
		return "Letter"
	}
	return "A4"
}
