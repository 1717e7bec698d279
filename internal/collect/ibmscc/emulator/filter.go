package emulator

import (
	"fmt"
	"slices"
	"strings"
)

// cond is one term of a filter: field op values.
type cond struct {
	field  string
	op     string // "=", "!=", "in"
	values []string
}

// parseFilter parses the subset of the CSPM query language the emulator
// serves: terms joined by "and", each `field = value`, `field != value` or
// `field in (v1, v2)`. Values are double-quoted strings (with \" and \\
// escapes, as the document asks) or bare tokens (numbers, booleans, ids).
// "or", "not", "contains", "startsWith" and "exists" are refused, never
// ignored. allowed lists the fields the endpoint knows.
func parseFilter(s string, allowed ...string) ([]cond, error) {
	p := &filterParser{s: s}
	var out []cond
	for {
		p.space()
		if p.eof() {
			if len(out) == 0 {
				return nil, nil
			}
			return nil, fmt.Errorf("filter: expected a term after %q", "and")
		}
		c, err := p.term()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(allowed, c.field) {
			return nil, fmt.Errorf("filter: unsupported field %q (want one of %s)", c.field, strings.Join(allowed, ", "))
		}
		out = append(out, c)
		p.space()
		if p.eof() {
			return out, nil
		}
		w := p.word()
		if !strings.EqualFold(w, "and") {
			return nil, fmt.Errorf("filter: unsupported operator %q at offset %d (the emulator serves terms joined by \"and\")", w, p.i)
		}
	}
}

type filterParser struct {
	s string
	i int
}

func (p *filterParser) eof() bool { return p.i >= len(p.s) }

func (p *filterParser) space() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == ':' || c == '/'
}

// word reads a bare token.
func (p *filterParser) word() string {
	start := p.i
	for !p.eof() && isWordByte(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *filterParser) term() (cond, error) {
	field := p.word()
	if field == "" {
		return cond{}, fmt.Errorf("filter: expected a field name at offset %d", p.i)
	}
	p.space()
	var c cond
	c.field = field
	switch {
	case strings.HasPrefix(p.s[p.i:], "!="):
		c.op, p.i = "!=", p.i+2
	case strings.HasPrefix(p.s[p.i:], "="):
		c.op, p.i = "=", p.i+1
	default:
		w := p.word()
		if !strings.EqualFold(w, "in") {
			return cond{}, fmt.Errorf("filter: unsupported operator %q after %s (the emulator serves =, != and in)", w, field)
		}
		c.op = "in"
	}
	p.space()
	if c.op != "in" {
		v, err := p.value()
		if err != nil {
			return cond{}, err
		}
		c.values = []string{v}
		return c, nil
	}
	if p.eof() || p.s[p.i] != '(' {
		return cond{}, fmt.Errorf("filter: expected ( after %s in", field)
	}
	p.i++
	for {
		p.space()
		v, err := p.value()
		if err != nil {
			return cond{}, err
		}
		c.values = append(c.values, v)
		p.space()
		if p.eof() {
			return cond{}, fmt.Errorf("filter: unterminated list after %s in", field)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ')':
			p.i++
			return c, nil
		default:
			return cond{}, fmt.Errorf("filter: unexpected %q in the list of %s", p.s[p.i], field)
		}
	}
}

func (p *filterParser) value() (string, error) {
	if p.eof() {
		return "", fmt.Errorf("filter: expected a value at the end")
	}
	if p.s[p.i] != '"' {
		w := p.word()
		if w == "" {
			return "", fmt.Errorf("filter: expected a value at offset %d", p.i)
		}
		return w, nil
	}
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return "", fmt.Errorf("filter: dangling escape")
			}
			n := p.s[p.i+1]
			if n != '"' && n != '\\' {
				return "", fmt.Errorf("filter: unknown escape \\%c (only \\\" and \\\\)", n)
			}
			b.WriteByte(n)
			p.i += 2
		case '"':
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", fmt.Errorf("filter: unterminated string")
}

// match reports whether v satisfies c (string comparison).
func (c cond) match(v string) bool {
	switch c.op {
	case "=":
		return v == c.values[0]
	case "!=":
		return v != c.values[0]
	}
	return slices.Contains(c.values, v)
}

// single returns the value of a `field = value` term, or an error naming the
// field when the term has another shape.
func (c cond) single() (string, error) {
	if c.op != "=" {
		return "", fmt.Errorf("filter: %s: want %s=<value>", c.field, c.field)
	}
	return c.values[0], nil
}
