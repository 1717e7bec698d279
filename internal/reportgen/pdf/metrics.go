package pdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// metrics is what the layout needs of a TrueType font: which runes it has
// and how wide they are. It is read the way fpdf reads the font (the first
// Unicode cmap subtable of format 4, advance widths from hmtx, in 1/1000 em
// rounded half up), so widths measured here are the widths fpdf draws with.
// fpdf itself keeps these figures unexported.
type metrics struct {
	// cw holds the width of each BMP rune in 1/1000 em, with fpdf's markers:
	// 0 for a rune the font lacks, zeroWidth for a rune it has whose advance
	// is zero (a combining mark).
	cw      []uint16
	missing int // width fpdf uses for a rune the font lacks (glyph 0)
}

const zeroWidth = 0xFFFF

// has reports whether the font maps r to a glyph of its own.
func (m *metrics) has(r rune) bool {
	return r >= 0 && r < rune(len(m.cw)) && m.cw[r] != 0
}

// width is r's advance in 1/1000 em, as fpdf's MultiCell counts it.
func (m *metrics) width(r rune) int {
	if r < 0 || r >= rune(len(m.cw)) {
		return m.missing
	}
	switch w := m.cw[r]; w {
	case 0:
		return m.missing
	case zeroWidth:
		return 0
	default:
		return int(w)
	}
}

var errFont = errors.New("not a TrueType font fpdf can use")

// parseMetrics reads the cmap, head, hhea, maxp and hmtx tables of a
// TrueType font. Every offset is checked: a damaged file gives an error.
func parseMetrics(b []byte) (*metrics, error) {
	be := binary.BigEndian
	u16 := func(off int) (int, bool) {
		if off < 0 || off+2 > len(b) {
			return 0, false
		}
		return int(be.Uint16(b[off:])), true
	}
	if len(b) < 12 {
		return nil, fmt.Errorf("%w: short header", errFont)
	}
	numTables, _ := u16(4)
	tables := map[string][2]int{} // tag -> offset, length
	for i := range numTables {
		rec := 12 + 16*i
		if rec+16 > len(b) {
			return nil, fmt.Errorf("%w: table directory cut", errFont)
		}
		off, n := int(be.Uint32(b[rec+8:])), int(be.Uint32(b[rec+12:]))
		if off < 0 || n < 0 || off > len(b) || n > len(b)-off {
			return nil, fmt.Errorf("%w: table %q out of the file", errFont, b[rec:rec+4])
		}
		tables[string(b[rec:rec+4])] = [2]int{off, n}
	}
	for _, tag := range []string{"head", "hhea", "maxp", "hmtx", "cmap"} {
		if _, ok := tables[tag]; !ok {
			return nil, fmt.Errorf("%w: no %s table", errFont, tag)
		}
	}
	if _, ok := tables["glyf"]; !ok {
		return nil, fmt.Errorf("%w: no glyf table (CFF outlines are not supported)", errFont)
	}
	unitsPerEm, ok := u16(tables["head"][0] + 18)
	if !ok || unitsPerEm == 0 {
		return nil, fmt.Errorf("%w: bad head table", errFont)
	}
	nHMetrics, ok := u16(tables["hhea"][0] + 34)
	if !ok || nHMetrics == 0 {
		return nil, fmt.Errorf("%w: bad hhea table", errFont)
	}
	numGlyphs, ok := u16(tables["maxp"][0] + 4)
	if !ok {
		return nil, fmt.Errorf("%w: bad maxp table", errFont)
	}
	hmtx := tables["hmtx"][0]
	if nHMetrics*4 > tables["hmtx"][1] {
		return nil, fmt.Errorf("%w: hmtx table too short", errFont)
	}
	scale := 1000 / float64(unitsPerEm)
	advance := func(glyph int) int {
		a, _ := u16(hmtx + 4*min(glyph, nHMetrics-1))
		if a >= 1<<15 {
			a = 0
		}
		return int(math.Floor(scale*float64(a) + 0.5))
	}

	// The subtable fpdf uses: the first (3,1) or (0,*) one of format 4.
	cmap := tables["cmap"][0]
	nSub, ok := u16(cmap + 2)
	if !ok {
		return nil, fmt.Errorf("%w: bad cmap table", errFont)
	}
	sub := -1
	for i := range nSub {
		platform, ok1 := u16(cmap + 4 + 8*i)
		encoding, ok2 := u16(cmap + 4 + 8*i + 2)
		if !ok1 || !ok2 || cmap+4+8*i+8 > len(b) {
			return nil, fmt.Errorf("%w: cmap directory cut", errFont)
		}
		if (platform == 3 && encoding == 1) || platform == 0 {
			off := cmap + int(be.Uint32(b[cmap+4+8*i+4:]))
			if f, ok := u16(off); ok && f == 4 {
				sub = off
				break
			}
		}
	}
	if sub < 0 {
		return nil, fmt.Errorf("%w: no Unicode cmap of format 4", errFont)
	}
	subLen, _ := u16(sub + 2)
	segX2, ok := u16(sub + 6)
	if !ok || segX2%2 != 0 {
		return nil, fmt.Errorf("%w: bad cmap format 4", errFont)
	}
	segs := segX2 / 2
	ends, starts, deltas, rangeOffs := sub+14, sub+16+segX2, sub+16+2*segX2, sub+16+3*segX2
	if rangeOffs+segX2 > len(b) {
		return nil, fmt.Errorf("%w: cmap format 4 cut", errFont)
	}
	m := &metrics{cw: make([]uint16, 1<<16), missing: advance(0)}
	for s := range segs {
		end, _ := u16(ends + 2*s)
		start, _ := u16(starts + 2*s)
		delta, _ := u16(deltas + 2*s)
		ro, _ := u16(rangeOffs + 2*s)
		for c := start; c <= end; c++ {
			glyph := 0
			if ro == 0 {
				glyph = (c + delta) & 0xFFFF
			} else if pos := rangeOffs + 2*s + ro + 2*(c-start); pos < sub+subLen {
				if g, ok := u16(pos); ok && g != 0 {
					glyph = (g + delta) & 0xFFFF
				}
			}
			if c == 0 || c == 0xFFFF || glyph == 0 || glyph >= numGlyphs {
				continue
			}
			w := advance(glyph)
			if w == 0 || w >= zeroWidth {
				w = zeroWidth
			}
			m.cw[c] = uint16(w)
		}
	}
	return m, nil
}
