// Package reportgen turns record streams into the files of an evidence pack.
//
// A Format starts a file on an io.Writer for one dataset.Table; the Sink it
// returns takes rows in batches and finishes the file on Close. Sinks never
// close the writer: the caller owns it (usually the write end of a pipe into
// a storage.Store, which hashes while it stores). Every format is fed the
// same rows, so XLSX and Parquet always hold the same records. The tables,
// their columns and the values a row may hold are internal/dataset's.
//
// Writers must keep memory flat: nothing may hold all rows of a table.
package reportgen

import (
	"io"

	"github.com/evidence-pack/evidence/internal/dataset"
)

// Format writes one kind of file.
type Format interface {
	// Begin starts a file for t on w.
	Begin(w io.Writer, t dataset.Table) (Sink, error)
	// Ext is the file extension, with its dot (".xlsx").
	Ext() string
	// MediaType is the file's IANA media type.
	MediaType() string
}

// Sink receives the rows of one table.
type Sink interface {
	// Write appends rows. The slice and rows may be reused after it returns.
	Write(rows []dataset.Row) error
	// Close finishes the file (footer, index). It never closes the writer.
	Close() error
}
