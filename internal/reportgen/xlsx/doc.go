// Package xlsx writes evidence tables as Excel workbooks (.xlsx) through
// excelize's StreamWriter.
//
// # API
//
// A Workbook holds several sheets written one after another:
//
//	wb := xlsx.NewWorkbook(w, xlsx.Options{Created: packTime, Title: "…"})
//	wb.AddKeyValueSheet("Summary", [][2]any{{"Tenant", "acme"}, {"Rows", n}})
//	s, _ := wb.Begin(table) // a data sheet; only one open at a time
//	s.Write(rows)           // any number of batches
//	s.Close()               // finishes the sheet
//	wb.Close()              // writes the workbook to w; never closes w
//
// New returns the same thing as a reportgen.Format whose files each hold one
// table: Begin on a writer starts a one-table workbook, and the sink's Close
// writes it.
//
// # Contract
//
//   - Memory stays flat: rows go through excelize's StreamWriter (which
//     spills a sheet to a temporary file past 16 MiB), and the archive is
//     deflated part by part into spools (memory, then temporary files past
//     4 MiB) and streamed to w on Close; no sheet and no archive is held
//     whole in memory. Close (or Abort) removes every temporary file. The
//     one thing held back is a bounded sample: a data sheet keeps its first
//     500 rows (or first MiB of text) until it has measured them, because
//     column widths precede the rows in the file.
//   - A data sheet shows the table's columns in t.SheetOrder(): key columns
//     first, scope columns (source, tenant, sub-account) last; rows and
//     Parquet keep the table's order. Headers of Time columns say "(UTC)".
//   - Every sheet has a bold, filled, wrapping header row, frozen (panes at
//     A2), and an autofilter over the header and the data. Column widths
//     come from the headers and the sampled values, capped (layout.go);
//     Column.Wrap columns wrap, and a row of wrapped text is given the
//     height its lines need. Data cells align at the top.
//   - Every sheet prints landscape on Options.Paper (A4 unless Letter),
//     fitted to one page wide and any number of pages tall, with the header
//     row repeated on each page (_xlnm.Print_Titles), the sheet's name and
//     Options.Title in the page header and "Pack <Options.PackID>" and
//     "Page N of M" in the footer. A data sheet prints its key columns
//     (Table.Lead), as many as fit in printWidth characters
//     (_xlnm.Print_Area), so that its text prints at 70 % or more; the
//     footer's middle then names the columns printed. PrintNote is the
//     text a Summary sheet gives for it.
//   - The overview sheet of every pack workbook is named SummarySheet; a
//     Percent value of a key/value sheet is a number in PercentFormat.
//   - Cells are typed: Int and Float are numbers, Bool is a boolean, Time is
//     a date number in UTC, to the millisecond, with the number format
//     "yyyy-mm-dd hh:mm:ss", and String is an inline string. nil, "" and the
//     zero time are empty cells. Int values beyond ±2^53, which a
//     spreadsheet number (a double) cannot hold exactly, are written as text
//     with every digit (Stats.BigInts); NaN and ±Inf floats become the text
//     "NaN", "+Inf", "-Inf"; times before 1900-03-01 become RFC 3339 text.
//     Float values are written with excelize's 15 significant digits, the
//     precision Excel shows (Parquet keeps the full value).
//   - Strings are data, never formulas: a value beginning with '=', '+',
//     '-', '@', tab or carriage return is stored as a string cell exactly as
//     given. The only changes are those SanitiseCell makes, each counted in
//     Stats: characters XML 1.0 forbids are removed (Sanitised), and text
//     longer than 32,767 UTF-16 units is cut and ends with TruncationMarker
//     (Truncated).
//   - A table longer than Options.MaxRowsPerSheet (default 1,048,575, the
//     most a sheet holds under its header) continues on "Name (2)",
//     "Name (3)", ..., each with its own header, pane and autofilter. Sheet
//     names come from Table.Name, are at most 31 characters, have []:*?/\
//     replaced by '_', and are made unique within the workbook. The first
//     sheet takes the place of excelize's default "Sheet1".
//   - Output is deterministic: the same calls with the same rows give the
//     same bytes. The document's created and modified times are
//     Options.Created (default 2000-01-01T00:00:00Z), ZIP entries carry no
//     timestamps, and parts are stored in a fixed order.
//
// A Workbook is not safe for concurrent use. After any error the workbook
// cannot be completed: Close reports the error and writes nothing (Close or
// Abort still release its temporary files).
package xlsx
