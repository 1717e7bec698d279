package pdf

import "unicode"

// A PDF draws glyphs left to right in the order given, so right-to-left
// text must be given in visual order. visual is a small subset of the
// Unicode bidirectional algorithm for a left-to-right paragraph (our
// reports are English with embedded names): runs of right-to-left letters,
// with the spaces and punctuation between them, are reversed; numbers
// inside them keep their order; combining marks stay after their base
// letter; brackets inside them are mirrored. Explicit embeddings and
// isolates are not interpreted, and Arabic letters are not joined.

// rtl reports strong right-to-left letters: Hebrew, Arabic, Syriac,
// Thaana, NKo and their presentation forms.
func rtl(r rune) bool {
	switch {
	case r < 0x0590:
		return false
	case r <= 0x08FF, r >= 0xFB1D && r <= 0xFDFF, r >= 0xFE70 && r <= 0xFEFE:
		return !digit(r) && !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Me, r) &&
			r != 0x060C && r != 0x066B && r != 0x066C // Arabic comma and number separators
	}
	return false
}

func digit(r rune) bool {
	return r >= '0' && r <= '9' || r >= 0x0660 && r <= 0x0669 || r >= 0x06F0 && r <= 0x06F9
}

func mark(r rune) bool {
	return r >= 0x0300 && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r))
}

// cluster is a base rune and the marks that follow it, rs[from:to], with
// its bidi class.
type cluster struct {
	from, to int
	cls      int
}

// bracketDir is the direction of a bracket pair enclosing inside, after
// before: left to right if inside has left-to-right text, right to left if
// it has right-to-left text and so does the last strong text before it,
// else neutral (left as it is).
func bracketDir(inside, before []cluster) int {
	hasR := false
	for _, c := range inside {
		switch c.cls {
		case clsL:
			return clsL
		case clsR, clsNum:
			hasR = true
		}
	}
	if !hasR {
		return clsN
	}
	for k := len(before) - 1; k >= 0; k-- {
		switch before[k].cls {
		case clsL:
			return clsL
		case clsR, clsNum:
			return clsR
		}
	}
	return clsL
}

// bidi classes of a cluster
const (
	clsN   = iota // neutral: space, punctuation, symbols
	clsL          // left to right
	clsR          // right to left
	clsNum        // digits after right-to-left text: drawn left to right inside it
)

// mirror is the glyph a bracket shows inside right-to-left text.
func mirror(r rune) rune {
	const pairs = "()[]{}<>«»"
	for i, p := range []rune(pairs) {
		if p == r {
			return []rune(pairs)[i^1]
		}
	}
	return r
}

// visual returns the runes of a line in the order they are drawn.
func visual(s string) []rune {
	rs := []rune(s)
	has := false
	for _, r := range rs {
		if rtl(r) {
			has = true
			break
		}
	}
	if !has {
		return rs
	}
	var cs []cluster
	for i, r := range rs {
		if mark(r) && len(cs) > 0 {
			cs[len(cs)-1].to = i + 1
			continue
		}
		cs = append(cs, cluster{from: i, to: i + 1})
	}
	last := clsL // the paragraph is left to right
	for i := range cs {
		r := rs[cs[i].from]
		switch {
		case rtl(r):
			cs[i].cls, last = clsR, clsR
		case digit(r):
			if last == clsR {
				cs[i].cls = clsNum
			} else {
				cs[i].cls = clsL
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cs[i].cls, last = clsL, clsL
		default:
			cs[i].cls = clsN
		}
	}
	// A separator between two digits of a number belongs to the number.
	for i := 1; i+1 < len(cs); i++ {
		if cs[i].cls == clsN && cs[i-1].cls == clsNum && cs[i+1].cls == clsNum && cs[i].to-cs[i].from == 1 &&
			(rs[cs[i].from] == '.' || rs[cs[i].from] == ',' || rs[cs[i].from] == ':' || rs[cs[i].from] == '/' || rs[cs[i].from] == 0x066B || rs[cs[i].from] == 0x066C) {
			cs[i].cls = clsNum
		}
	}
	// Paired brackets take the direction of what they enclose when it is
	// right to left and so is the text before them (rule N0, simplified).
	var open []int
	for i, c := range cs {
		if c.cls != clsN || c.to-c.from != 1 {
			continue
		}
		switch r := rs[c.from]; r {
		case '(', '[', '{':
			open = append(open, i)
		case ')', ']', '}':
			for k := len(open) - 1; k >= 0; k-- {
				if o := open[k]; mirror(rs[cs[o].from]) == r {
					if dir := bracketDir(cs[o+1:i], cs[:o]); dir != clsN {
						cs[o].cls, cs[i].cls = dir, dir
					}
					open = open[:k]
					break
				}
			}
		}
	}
	// Neutrals between right-to-left text (or its numbers) on both sides are
	// right to left; other neutrals follow the paragraph.
	for i := 0; i < len(cs); {
		if cs[i].cls != clsN {
			i++
			continue
		}
		j := i
		for j < len(cs) && cs[j].cls == clsN {
			j++
		}
		if i > 0 && j < len(cs) && cs[i-1].cls != clsL && cs[j].cls != clsL {
			for k := i; k < j; k++ {
				cs[k].cls = clsR
			}
		}
		i = j
	}
	// Reverse each maximal right-to-left sequence (numbers included) by
	// clusters; numbers come out reversed twice, in their own order.
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	reverse := func(a []int) {
		for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
			a[i], a[j] = a[j], a[i]
		}
	}
	for i := 0; i < len(cs); {
		if cs[i].cls == clsL || cs[i].cls == clsN {
			i++
			continue
		}
		j := i
		for j < len(cs) && (cs[j].cls == clsR || cs[j].cls == clsNum) {
			j++
		}
		seg := order[i:j]
		for k := 0; k < len(seg); {
			if cs[seg[k]].cls != clsNum {
				k++
				continue
			}
			m := k
			for m < len(seg) && cs[seg[m]].cls == clsNum {
				m++
			}
			reverse(seg[k:m])
			k = m
		}
		reverse(seg)
		i = j
	}
	out := make([]rune, 0, len(rs))
	for _, ci := range order {
		c := cs[ci]
		for k := c.from; k < c.to; k++ {
			r := rs[k]
			if k == c.from && c.cls == clsR {
				r = mirror(r)
			}
			out = append(out, r)
		}
	}
	return out
}
