package dataset

import (
	"fmt"
	"slices"
	"time"
)

// The schema types live with the tables they describe: the writers
// (internal/reportgen/...) and the lake's DDL import them, so a table is
// defined once and every file and query engine reads the same columns.
//
// Values in a Row follow the Table's column kinds:
//
//	String  string (or nil)
//	Int     int64  (or nil)
//	Float   float64 (or nil)
//	Bool    bool   (or nil)
//	Time    time.Time, UTC (zero or nil means no value)

// Kind is a column's value type.
type Kind int

// Column kinds.
const (
	String Kind = iota
	Int
	Float
	Bool
	Time
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Int:
		return "int"
	case Float:
		return "float"
	case Bool:
		return "bool"
	case Time:
		return "time"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Column describes one column of a Table.
type Column struct {
	Name  string // stable machine name: Parquet field, XLSX header
	Title string // human header; Name when empty
	Kind  Kind
	Doc   string // what the column holds, for the schema documentation
	// Wrap marks free text that a sheet shows wrapped in a column of
	// bounded width (titles, reasons, descriptions, resource names), rather
	// than cut at the column's edge. Presentation only: Parquet ignores it.
	Wrap bool
	// Percent marks a Float holding a percentage from 0 to 100: a sheet
	// shows it with a % sign (87.5 as 87.50%), the value unchanged.
	Percent bool
}

// Header returns the column's human title.
func (c Column) Header() string {
	if c.Title != "" {
		return c.Title
	}
	return c.Name
}

// Table is a named, typed record stream: one dataset of a pack.
type Table struct {
	Name    string // e.g. "evaluations"; also the XLSX sheet name
	Title   string // human title
	Columns []Column
	// Lead names the key columns a sheet shows first, in this order (see
	// SheetOrder). Rows and Parquet files keep the order of Columns.
	Lead []string
}

// ScopeColumns are the names of the columns that say whose a row is
// (Scope): the first columns of every table, and the last of its sheets.
func ScopeColumns() []string { return []string{"source", "tenant", "sub_account"} }

// SheetOrder is the order in which a sheet shows the table's columns, as
// indexes into Columns: the Lead columns first, in their order, then the
// others in table order, and the scope columns (ScopeColumns), which hold
// one or a few values per workbook, last. It is a presentation of the rows
// only: rows, Parquet files and every query keep the order of Columns,
// which data-lake readers depend on. Lead names that are no column are
// ignored; every column appears exactly once.
func (t Table) SheetOrder() []int {
	order := make([]int, 0, len(t.Columns))
	used := make([]bool, len(t.Columns))
	add := func(i int) {
		if i >= 0 && !used[i] {
			used[i] = true
			order = append(order, i)
		}
	}
	index := func(name string) int {
		for i, c := range t.Columns {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	for _, name := range t.Lead {
		add(index(name))
	}
	scope := ScopeColumns()
	for i, c := range t.Columns {
		if !slices.Contains(scope, c.Name) {
			add(i)
		}
	}
	for i := range t.Columns {
		add(i)
	}
	return order
}

// Row is one record: a value per column, in column order.
type Row []any

// Check reports the first value whose Go type does not match its column.
func (t Table) Check(r Row) error {
	if len(r) != len(t.Columns) {
		return fmt.Errorf("table %s: row has %d values, want %d", t.Name, len(r), len(t.Columns))
	}
	for i, v := range r {
		if v == nil {
			continue
		}
		ok := false
		switch t.Columns[i].Kind {
		case String:
			_, ok = v.(string)
		case Int:
			_, ok = v.(int64)
		case Float:
			_, ok = v.(float64)
		case Bool:
			_, ok = v.(bool)
		case Time:
			_, ok = v.(time.Time)
		}
		if !ok {
			return fmt.Errorf("table %s: column %s (%s) holds %T", t.Name, t.Columns[i].Name, t.Columns[i].Kind, v)
		}
	}
	return nil
}
