// Package parquet writes evidence tables as Apache Parquet files.
//
// New returns a reportgen.Format (Ext ".parquet", MediaType
// "application/vnd.apache.parquet"); Schema describes the file schema of a
// table for the documentation.
//
// # Schema
//
// One top-level optional field per column, in table order, named
// Column.Name (names must be unique and not empty):
//
//	String  BYTE_ARRAY, logical STRING (UTF-8)
//	Int     INT64 (annotated INT(64, signed))
//	Float   DOUBLE
//	Bool    BOOLEAN
//	Time    INT64, logical TIMESTAMP(MILLIS, isAdjustedToUTC=true)
//
// # Contract
//
//   - nil is null, and so is the zero time.Time; times are stored as UTC
//     milliseconds since the Unix epoch (sub-millisecond parts dropped).
//     Strings are stored as given, except that bytes which are not UTF-8 are
//     replaced by U+FFFD, as the STRING type requires. Nothing is truncated:
//     Parquet holds the full value the XLSX may have had to cut.
//
//   - Pages are zstd-compressed. A row group is written every
//     Options.RowGroupRows rows (default 50,000), so memory holds at most one
//     row group whatever the table's size; a file of n rows has
//     ceil(n/RowGroupRows) row groups (none when empty).
//
//   - The footer carries Options.Metadata as key/value metadata, in sorted
//     key order, and created_by is the constant CreatedBy, so the same rows
//     give the same bytes whatever binary wrote them.
//
//   - Close flushes the last row group and writes the footer; it never
//     closes the writer. A sink is not safe for concurrent use, and after an
//     error it only returns that error.
package parquet
