package dataset

import (
	"fmt"
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
