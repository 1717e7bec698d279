package parquet

import (
	"fmt"
	"strings"

	"github.com/evidence-pack/evidence/internal/dataset"
)

// physicalLogical names the Parquet types a column kind is stored as.
func physicalLogical(k dataset.Kind) (physical, logical string) {
	switch k {
	case dataset.String:
		return "BYTE_ARRAY", "STRING (UTF-8)"
	case dataset.Int:
		return "INT64", "INT(64, signed)"
	case dataset.Float:
		return "DOUBLE", "none (IEEE 754 double)"
	case dataset.Bool:
		return "BOOLEAN", "none"
	case dataset.Time:
		return "INT64", "TIMESTAMP(MILLIS, isAdjustedToUTC=true)"
	}
	return "?", "?"
}

// Schema describes the Parquet schema of t for documentation: a Markdown
// table with each column's name, physical and logical type, nullability and
// doc, in file order.
func Schema(t dataset.Table) string {
	var b strings.Builder
	title := t.Title
	if title == "" {
		title = t.Name
	}
	fmt.Fprintf(&b, "Parquet schema of `%s` (%s): %d columns, zstd-compressed, every column optional (null when absent).\n\n",
		t.Name, mdCell(title), len(t.Columns))
	b.WriteString("| # | Column | Physical type | Logical type | Nullable | Description |\n")
	b.WriteString("|---|--------|---------------|--------------|----------|-------------|\n")
	for i, c := range t.Columns {
		phys, logical := physicalLogical(c.Kind)
		doc := c.Doc
		if c.Title != "" && c.Title != c.Name {
			if doc == "" {
				doc = c.Title
			} else {
				doc = c.Title + ": " + doc
			}
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | yes | %s |\n", i+1, c.Name, phys, logical, mdCell(doc))
	}
	return b.String()
}

// mdCell makes s fit in one Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	s = strings.NewReplacer("\n", " ", "\r", " ", "|", `\|`).Replace(s)
	return strings.TrimSpace(s)
}
