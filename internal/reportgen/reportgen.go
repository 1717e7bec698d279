// Package reportgen turns record streams into the files of an evidence pack.
//
// A Format starts a file on an io.Writer for one Table; the Sink it returns
// takes rows in batches and finishes the file on Close. Sinks never close the
// writer: the caller owns it (usually the write end of a pipe into a
// storage.Store, which hashes while it stores). Every format is fed the same
// rows, so XLSX and Parquet always hold the same records.
//
// Values in a Row follow the Table's column kinds:
//
//	String  string (or nil)
//	Int     int64  (or nil)
//	Float   float64 (or nil)
//	Bool    bool   (or nil)
//	Time    time.Time, UTC (zero or nil means no value)
//
// Writers must keep memory flat: nothing may hold all rows of a table.
package reportgen

import (
	"fmt"
	"io"
	"time"
)

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

// Format writes one kind of file.
type Format interface {
	// Begin starts a file for t on w.
	Begin(w io.Writer, t Table) (Sink, error)
	// Ext is the file extension, with its dot (".xlsx").
	Ext() string
	// MediaType is the file's IANA media type.
	MediaType() string
}

// Sink receives the rows of one table.
type Sink interface {
	// Write appends rows. The slice and rows may be reused after it returns.
	Write(rows []Row) error
	// Close finishes the file (footer, index). It never closes the writer.
	Close() error
}
