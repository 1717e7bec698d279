package parquet

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen"
)

// File facts.
const (
	Ext       = ".parquet"
	MediaType = "application/vnd.apache.parquet"

	// DefaultRowGroupRows is the default number of rows per row group.
	DefaultRowGroupRows = 50_000
	// DefaultRowGroupBytes bounds the data of a row group, which is
	// buffered in memory until it is flushed: wide rows (inventory
	// configurations) get smaller row groups, so memory stays flat.
	DefaultRowGroupBytes = 16 << 20

	// CreatedBy is the created_by of a file when Options.CreatedBy is
	// empty (tests, tools without a version).
	CreatedBy = "evidence-pack version 1.0.0 (build reportgen)"
)

// Options configures the Parquet format.
type Options struct {
	// RowGroupRows is the number of rows per row group (the last one may
	// hold fewer); a row group is buffered in memory until it is complete.
	// Zero or less means DefaultRowGroupRows.
	RowGroupRows int
	// RowGroupBytes flushes a row group early once its values hold this
	// many bytes (strings by length, other values 8). Zero or less means
	// DefaultRowGroupBytes.
	RowGroupBytes int
	// Metadata is key/value metadata for the file footer (tenant, dataset,
	// pack id, ...), written in sorted key order.
	Metadata map[string]string
	// CreatedBy is the footer's created_by ("evidence version 1.4.0"): the
	// program's one version string. Empty means the constant CreatedBy.
	CreatedBy string
}

func (o Options) rowGroupRows() int {
	if o.RowGroupRows <= 0 {
		return DefaultRowGroupRows
	}
	return o.RowGroupRows
}

func (o Options) rowGroupBytes() int {
	if o.RowGroupBytes <= 0 {
		return DefaultRowGroupBytes
	}
	return o.RowGroupBytes
}

type parquetFormat struct{ opts Options }

// New returns the Parquet reportgen.Format.
func New(opts Options) reportgen.Format {
	md := make(map[string]string, len(opts.Metadata))
	for k, v := range opts.Metadata {
		md[k] = v
	}
	opts.Metadata = md
	return parquetFormat{opts: opts}
}

func (parquetFormat) Ext() string       { return Ext }
func (parquetFormat) MediaType() string { return MediaType }

// Begin starts a Parquet file for t on w.
func (f parquetFormat) Begin(w io.Writer, t dataset.Table) (reportgen.Sink, error) {
	schema, err := newSchema(t)
	if err != nil {
		return nil, err
	}
	options := []pq.WriterOption{
		schema,
		pq.Compression(codec),
		pq.MaxRowsPerRowGroup(int64(f.opts.rowGroupRows())),
		&pq.WriterConfig{CreatedBy: cmp.Or(f.opts.CreatedBy, CreatedBy)},
	}
	for k, v := range f.opts.Metadata {
		options = append(options, pq.KeyValueMetadata(k, v))
	}
	s := &sink{
		t:    t,
		w:    pq.NewGenericWriter[any](w, options...),
		rgN:  f.opts.rowGroupRows(),
		rgB:  f.opts.rowGroupBytes(),
		vals: make([]pq.Value, 0, len(t.Columns)),
	}
	return s, nil
}

// sink writes the rows of one table.
type sink struct {
	t    dataset.Table
	w    *pq.GenericWriter[any]
	rgN  int        // rows per row group
	rgB  int        // bytes per row group, about
	inRG int        // rows in the current row group
	inB  int        // bytes in the current row group, about
	rows []pq.Row   // reused batch
	vals []pq.Value // reused backing store of the batch's values
	n    int64      // rows written
	fail error
	done bool
}

const batchRows = 256

// Write appends rows; a row group is flushed each RowGroupRows rows.
func (s *sink) Write(rows []dataset.Row) error {
	switch {
	case s.fail != nil:
		return s.fail
	case s.done:
		return errors.New("parquet: write to a closed sink")
	}
	for len(rows) > 0 {
		// Never let a batch cross a row group boundary.
		n := min(len(rows), batchRows, s.rgN-s.inRG)
		if err := s.writeBatch(rows[:n]); err != nil {
			s.fail = err
			return err
		}
		rows = rows[n:]
		s.inRG += n
		if s.inRG == s.rgN || s.inB >= s.rgB {
			if err := s.w.Flush(); err != nil {
				s.fail = fmt.Errorf("parquet: %s: flush row group: %w", s.t.Name, err)
				return s.fail
			}
			s.inRG, s.inB = 0, 0
		}
	}
	return nil
}

func (s *sink) writeBatch(rows []dataset.Row) error {
	cols := len(s.t.Columns)
	s.vals = s.vals[:0]
	s.rows = s.rows[:0]
	for _, r := range rows {
		if err := s.t.Check(r); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		start := len(s.vals)
		for i, v := range r {
			s.vals = append(s.vals, value(s.t.Columns[i].Kind, v).Level(0, defLevel(s.t.Columns[i].Kind, v), i))
			if str, ok := v.(string); ok {
				s.inB += len(str)
			} else {
				s.inB += 8
			}
		}
		s.rows = append(s.rows, pq.Row(s.vals[start:start+cols:start+cols]))
	}
	// s.vals may have been reallocated while appending: rebuild the rows.
	for i := range s.rows {
		s.rows[i] = pq.Row(s.vals[i*cols : (i+1)*cols : (i+1)*cols])
	}
	if _, err := s.w.WriteRows(s.rows); err != nil {
		return fmt.Errorf("parquet: %s: %w", s.t.Name, err)
	}
	s.n += int64(len(rows))
	clear(s.vals) // drop references to the caller's strings
	return nil
}

// isNull reports whether v is stored as null.
func isNull(k dataset.Kind, v any) bool {
	if v == nil {
		return true
	}
	if k == dataset.Time {
		return v.(time.Time).IsZero()
	}
	return false
}

func defLevel(k dataset.Kind, v any) int {
	if isNull(k, v) {
		return 0
	}
	return 1
}

// value converts a value already checked against its column kind.
func value(k dataset.Kind, v any) pq.Value {
	if isNull(k, v) {
		return pq.NullValue()
	}
	switch k {
	case dataset.String:
		s := v.(string)
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		// The string's own bytes, not a copy: parquet-go copies a value's
		// bytes into its column buffer when the row is written, and never
		// writes to them. pq.ValueOf(s) gave the same value through an
		// interface (an allocation) and reflection, for every cell.
		return pq.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
	case dataset.Int:
		return pq.Int64Value(v.(int64))
	case dataset.Float:
		return pq.DoubleValue(v.(float64))
	case dataset.Bool:
		return pq.BooleanValue(v.(bool))
	case dataset.Time:
		return pq.Int64Value(v.(time.Time).UnixMilli())
	}
	return pq.NullValue()
}

// Close flushes the last row group and writes the footer. It never closes
// the writer.
func (s *sink) Close() error {
	if s.done {
		return errors.New("parquet: sink closed twice")
	}
	s.done = true
	if s.fail != nil {
		return s.fail
	}
	if err := s.w.Close(); err != nil {
		return fmt.Errorf("parquet: %s: close: %w", s.t.Name, err)
	}
	return nil
}

// leaf returns the Parquet node of a column kind.
func leaf(k dataset.Kind) (pq.Node, error) {
	switch k {
	case dataset.String:
		return pq.String(), nil
	case dataset.Int:
		return pq.Leaf(pq.Int64Type), nil
	case dataset.Float:
		return pq.Leaf(pq.DoubleType), nil
	case dataset.Bool:
		return pq.Leaf(pq.BooleanType), nil
	case dataset.Time:
		return pq.Timestamp(pq.Millisecond), nil
	}
	return nil, fmt.Errorf("unsupported column kind %v", k)
}

// newSchema builds the file schema of t: one optional leaf per column, in
// table order, named by Column.Name.
func newSchema(t dataset.Table) (*pq.Schema, error) {
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("parquet: table %s has no columns", t.Name)
	}
	seen := make(map[string]bool, len(t.Columns))
	g := orderedGroup{fields: make([]pq.Field, len(t.Columns))}
	for i, c := range t.Columns {
		if c.Name == "" {
			return nil, fmt.Errorf("parquet: table %s: column %d has no name", t.Name, i)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("parquet: table %s: duplicate column %q", t.Name, c.Name)
		}
		seen[c.Name] = true
		n, err := leaf(c.Kind)
		if err != nil {
			return nil, fmt.Errorf("parquet: table %s: column %s: %w", t.Name, c.Name, err)
		}
		g.fields[i] = field{Node: pq.Optional(n), name: c.Name}
	}
	name := t.Name
	if name == "" {
		name = "table"
	}
	return pq.NewSchema(name, g), nil
}

// orderedGroup is a group node whose fields keep the order they were given
// in. parquet.Group is a map and sorts its fields by name, which would
// reorder the columns of a table.
type orderedGroup struct{ fields []pq.Field }

func (g orderedGroup) ID() int { return 0 }
func (g orderedGroup) String() string {
	var b strings.Builder
	_ = pq.PrintSchema(&b, "", g)
	return b.String()
}
func (g orderedGroup) Type() pq.Type               { return pq.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []pq.Field          { return g.fields }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type {
	// A struct type with one field per column; field order does not matter.
	m := make(pq.Group, len(g.fields))
	for _, f := range g.fields {
		m[f.Name()] = f
	}
	return m.GoType()
}

// field names a node inside an orderedGroup.
type field struct {
	pq.Node
	name string
}

func (f field) Name() string { return f.name }

// Value looks the field up in a map[string]T or a struct; the sink writes
// parquet.Rows, so this only serves generic readers.
func (f field) Value(base reflect.Value) reflect.Value {
	for base.Kind() == reflect.Interface || base.Kind() == reflect.Pointer {
		if base.IsNil() {
			return reflect.Value{}
		}
		base = base.Elem()
	}
	switch base.Kind() {
	case reflect.Map:
		return base.MapIndex(reflect.ValueOf(f.name))
	case reflect.Struct:
		return base.FieldByName(f.name)
	}
	return reflect.Value{}
}
