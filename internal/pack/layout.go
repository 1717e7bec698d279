package pack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/storage"
)

// Files at the root of a pack, next to manifest.json and SHA256SUMS.
const (
	SummaryPDF    = "summary.pdf"
	InventoryXLSX = "inventory.xlsx"
	AuditLogsXLSX = "audit-logs.xlsx"
	// DuckDBViews defines a view per Parquet table of the pack, for DuckDB
	// run in the pack's folder.
	DuckDBViews = "pack.duckdb.sql"
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
	parts = append(parts, TenantFolder(tenant))
	for _, p := range []string{periodLabel, runID} {
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

// TenantFolder is the folder of a tenant's packs, latest.json and
// state.json: storage.SafePart(name). Two tenants with one folder would
// share their state: the configuration refuses them (config.Validate).
func TenantFolder(name string) string { return storage.SafePart(name) }

// Folders gives names (sub-accounts, cloud accounts, frameworks) distinct
// folders within one pack: a name's folder is storage.SafePart(name), and a
// name whose folder another name already has gets "_2", "_3", … So
// "acme prod" and "acme_prod", or two names in a script SafePart drops,
// never share a folder; the rows keep the exact names. Assign the names in
// a stable order (the plan's) before the folders are used concurrently.
// The zero value is ready; it is safe for concurrent use.
type Folders struct {
	mu     sync.Mutex
	byName map[string]string
	used   map[string]bool
}

// maxFolder is storage.SafePart's longest result.
const maxFolder = 100

// Folder returns name's folder, assigning one on first use.
func (f *Folders) Folder(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.byName[name]; ok {
		return d
	}
	return f.assign(name)
}

// New returns a folder for name that no other name or call has, even when
// name already has one (two frameworks of one name each get their own).
func (f *Folders) New(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.assign(name)
}

func (f *Folders) assign(name string) string {
	if f.byName == nil {
		f.byName, f.used = map[string]string{}, map[string]bool{}
	}
	base := storage.SafePart(name)
	d := base
	for n := 2; f.used[d]; n++ {
		suffix := fmt.Sprintf("_%d", n)
		// SafePart's folders are ASCII, at most maxFolder bytes.
		d = base[:min(len(base), maxFolder-len(suffix))] + suffix
	}
	if _, ok := f.byName[name]; !ok {
		f.byName[name] = d
	}
	f.used[d] = true
	return d
}
