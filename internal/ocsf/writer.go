package ocsf

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// DefaultRowGroupRows is the number of events buffered per row group.
const DefaultRowGroupRows = 10_000

// WriterOptions configures a Writer.
type WriterOptions struct {
	RowGroupRows int               // zero: DefaultRowGroupRows
	CreatedBy    string            // the footer's created_by, e.g. "evidence version 1.4.0"
	Metadata     map[string]string // footer key/value metadata (pack id, tenant, ...)
}

// Writer streams events into one Parquet file: the OCSF schema as nested
// groups, zstd-compressed, a row group every RowGroupRows events, so
// memory stays bounded whatever the number of events.
type Writer struct {
	w     *pq.GenericWriter[Event]
	n     int64
	batch []Event
	max   int
	err   error
}

// NewWriter starts a Parquet file on w.
func NewWriter(w io.Writer, o WriterOptions) *Writer {
	opts := []pq.WriterOption{
		pq.Compression(&zstd.Codec{}),
		pq.MaxRowsPerRowGroup(int64(cmp.Or(o.RowGroupRows, DefaultRowGroupRows))),
		pq.KeyValueMetadata("ocsf.version", Version),
		pq.KeyValueMetadata("ocsf.class_uid", fmt.Sprint(ClassUID)),
	}
	if o.CreatedBy != "" {
		opts = append(opts, pq.CreatedBy(o.CreatedBy, "", ""))
	}
	// In key order: the same events give the same bytes.
	for _, k := range slices.Sorted(maps.Keys(o.Metadata)) {
		opts = append(opts, pq.KeyValueMetadata(k, o.Metadata[k]))
	}
	return &Writer{w: pq.NewGenericWriter[Event](w, opts...), max: 256}
}

// Write adds an event. Events of another class are refused: Security Lake
// takes one class per file.
func (w *Writer) Write(e Event) error {
	if w.err != nil {
		return w.err
	}
	if e.ClassUID != ClassUID {
		return fmt.Errorf("ocsf: event of class %d in a file of class %d", e.ClassUID, ClassUID)
	}
	w.batch = append(w.batch, e)
	w.n++
	if len(w.batch) >= w.max {
		return w.flush()
	}
	return nil
}

func (w *Writer) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	if _, err := w.w.Write(w.batch); err != nil {
		w.err = err
		return err
	}
	clear(w.batch)
	w.batch = w.batch[:0]
	return nil
}

// Events is the number of events written.
func (w *Writer) Events() int64 { return w.n }

// Close writes the rest and the footer; it does not close the io.Writer.
func (w *Writer) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.w.Close()
}

var (
	regionRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	fileRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\.parquet$`)
)

// SecurityLakeKey is the object key of a file under an Amazon Security
// Lake custom source's location (s3://bucket/ext/<source>/):
// region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<file>. Region
// and account are the AWS Region and account of the data (Security Lake
// partitions by AWS account: other clouds' events go under the account
// that owns the lake); day is the event day in UTC.
func SecurityLakeKey(region, accountID string, day time.Time, file string) (string, error) {
	var errs []error
	if !regionRe.MatchString(region) {
		errs = append(errs, fmt.Errorf("region %q is not an AWS Region name", region))
	}
	if !accountRe.MatchString(accountID) {
		errs = append(errs, fmt.Errorf("account %q is not a 12-digit AWS account id", accountID))
	}
	if day.IsZero() {
		errs = append(errs, errors.New("no event day"))
	}
	if !fileRe.MatchString(file) || strings.Contains(file, "..") {
		errs = append(errs, fmt.Errorf("file %q is not a plain .parquet name", file))
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("ocsf: Security Lake key: %w", errors.Join(errs...))
	}
	return fmt.Sprintf("region=%s/accountId=%s/eventDay=%s/%s", region, accountID, day.UTC().Format("20060102"), file), nil
}
