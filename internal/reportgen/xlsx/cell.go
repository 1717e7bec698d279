package xlsx

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxCellChars is the most characters (UTF-16 code units) a cell may hold.
const MaxCellChars = 32767

// TruncationMarker ends every text value that was cut to fit in a cell.
const TruncationMarker = "…[truncated, full value in Parquet]"

// Limits of the sheet names of a workbook.
const (
	maxSheetName  = 31
	badSheetRunes = `[]:*?/\`
)

// SanitiseCell makes s safe to store as the text of a cell, changing it only
// where it must:
//
//   - characters that XML 1.0 does not allow (control characters other than
//     tab, line feed and carriage return; U+FFFE, U+FFFF; bytes that are not
//     UTF-8) are removed, and sanitised reports that;
//   - text longer than MaxCellChars UTF-16 code units is cut at a character
//     boundary and ends with TruncationMarker, so the result holds at most
//     MaxCellChars units, and truncated reports that.
//
// Anything else, including a leading '=', '+', '-', '@', tab or carriage
// return, is kept as it is: the workbook writes text as string cells, so it
// is never read as a formula.
func SanitiseCell(s string) (out string, sanitised, truncated bool) {
	out = s
	if i := firstIllegal(s); i >= 0 {
		out = stripIllegal(s, i)
		sanitised = true
	}
	// A string of up to MaxCellChars bytes is always short enough: every
	// UTF-16 unit takes at least one byte of UTF-8.
	if len(out) > MaxCellChars && utf16Len(out) > MaxCellChars {
		out = truncateUTF16(out, MaxCellChars-utf16Len(TruncationMarker)) + TruncationMarker
		truncated = true
	}
	return out, sanitised, truncated
}

// legalXMLRune reports whether r may appear in an XML 1.0 document.
func legalXMLRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false // surrogates
	case r <= 0xFFFD:
		return true
	case r < 0x10000:
		return false // U+FFFE, U+FFFF
	default:
		return r <= utf8.MaxRune
	}
}

// firstIllegal returns the byte offset of the first character of s that XML
// 1.0 does not allow (or of the first byte that is not UTF-8), or -1.
func firstIllegal(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !legalXMLRune(r) {
			return i
		}
		i += n
	}
	return -1
}

func stripIllegal(s string, from int) string {
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:from])
	for i := from; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !(r == utf8.RuneError && n == 1) && legalXMLRune(r) {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// utf16Len counts the UTF-16 code units of s, as Excel counts characters.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUTF16 returns the longest prefix of s, ending on a character
// boundary, that has at most max UTF-16 code units.
func truncateUTF16(s string, max int) string {
	n := 0
	for i, r := range s {
		l := utf16.RuneLen(r)
		if n+l > max {
			return s[:i]
		}
		n += l
	}
	return s
}

// cleanSheetName turns s into a legal sheet name of at most max UTF-16 units:
// illegal XML characters are removed, []:*?/\ become '_', apostrophes at the
// ends and surrounding spaces are trimmed, and an empty name becomes "Sheet".
func cleanSheetName(s string, max int) string {
	s, _, _ = SanitiseCell(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune(badSheetRunes, r):
			return '_'
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		}
		return r
	}, s)
	s = strings.Trim(s, " '")
	s = truncateUTF16(s, max)
	s = strings.TrimRight(s, " '")
	if s == "" {
		s = "Sheet"
	}
	return s
}

// sheetName is the name of part n (1-based) of a table whose base sheet name
// is base: "Evaluations", "Evaluations (2)", ...; always at most 31 units.
func sheetName(base string, n int) string {
	if n <= 1 {
		return cleanSheetName(base, maxSheetName)
	}
	suffix := " (" + strconv.Itoa(n) + ")"
	return cleanSheetName(base, maxSheetName-len(suffix)) + suffix
}
