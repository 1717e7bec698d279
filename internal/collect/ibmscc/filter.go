package ibmscc

import "strings"

// The CSPM filters are a query language ("policy.name in ("CIS Docker
// Benchmark") and pass=false"). The document: "When “ or \ are the special
// characters, they need to be escaped with \ and then encoded" — the
// escaping is Quote's, the encoding url.Values'.

// Quote returns s as a query-language string literal.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ { // bytes: the escaped characters are ASCII
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// In returns `field in ("v1", "v2")`.
func In(field string, values ...string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = Quote(v)
	}
	return field + " in (" + strings.Join(q, ", ") + ")"
}

// And joins the non-empty terms with "and".
func And(terms ...string) string {
	var out []string
	for _, t := range terms {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, " and ")
}
