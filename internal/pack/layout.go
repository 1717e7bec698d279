package pack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/storage"
)

// Files at the root of a pack, next to manifest.json and SHA256SUMS.
const (
	SummaryPDF    = "summary.pdf"
	InventoryXLSX = "inventory.xlsx"
	AuditLogsXLSX = "audit-logs.xlsx"
)

// RunID returns a run id: the UTC time to the second and 6 hex digits read
// from rnd, e.g. "20261121T030405Z-3f9a1c". It sorts by time and is a valid
// key part. A nil rnd, or one that fails, means crypto/rand.
func RunID(now time.Time, rnd io.Reader) string {
	var b [3]byte
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		_, _ = rand.Read(b[:]) // never fails (Go ≥ 1.24 crashes instead)
	}
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// PeriodLabel names the period [from, to) by its UTC days: "2026-11-21" when
// it lies within one day, else "2026-10-01_2026-10-31" (first and last day,
// inclusive: to is exclusive, so a period ending at midnight ends the day
// before). A period with to ≤ from is labelled by from's day.
func PeriodLabel(from, to time.Time) string {
	const day = "2006-01-02"
	first := from.UTC()
	last := to.UTC().Add(-time.Nanosecond)
	if last.Before(first) {
		last = first
	}
	a, b := first.Format(day), last.Format(day)
	if a == b {
		return a
	}
	return a + "_" + b
}

// PackPrefix is the key of a pack: "<prefix>/<tenant>/<period>/<run-id>",
// each part through storage.SafePart (prefix may have several
// slash-separated parts, or be empty).
func PackPrefix(prefix, tenant, periodLabel, runID string) string {
	var parts []string
	for p := range strings.SplitSeq(prefix, "/") {
		if p != "" {
			parts = append(parts, storage.SafePart(p))
		}
	}
	for _, p := range []string{tenant, periodLabel, runID} {
		parts = append(parts, storage.SafePart(p))
	}
	return strings.Join(parts, "/")
}

// FrameworkPath is "frameworks/<framework>/<name>", e.g. the framework's
// "evidence.xlsx" and "evidence.pdf".
func FrameworkPath(framework, name string) string {
	return "frameworks/" + storage.SafePart(framework) + "/" + storage.SafePart(name)
}

// VendorReportPath is "frameworks/<framework>/vendor/<account>.pdf": the
// platform's own report, stored verbatim.
func VendorReportPath(framework, account string) string {
	return "frameworks/" + storage.SafePart(framework) + "/vendor/" + storage.SafePart(account) + ".pdf"
}

// ParquetPath is "parquet/<dataset>/account=<account>/part-00000.parquet".
func ParquetPath(dataset, account string, part int) string {
	return fmt.Sprintf("parquet/%s/account=%s/part-%05d.parquet", storage.SafePart(dataset), storage.SafePart(account), part)
}
