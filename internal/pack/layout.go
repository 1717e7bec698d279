package pack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/storage"
)

// The pack layout is built here and parsed here, and nowhere else: the job
// writes files under these paths, the lake export and the DuckDB views read
// them back, and a test checks that what is built parses back to the same
// values. Every builder makes each of its parts a key part
// (storage.SafePart); give it the folders Folders assigned, so that
// distinct names keep distinct paths.
//
//	<prefix>/<tenant>/<period>/<run-id>/                PackPrefix
//	<prefix>/<tenant>/<period>/latest.json              LatestPath
//	<prefix>/<tenant>/state.json                        StatePath
//	  index.html                                        IndexName (Publish writes it), Describe
//	  summary.pdf, pack.duckdb.sql                      SummaryPDF, DuckDBViews
//	  evaluations.xlsx, inventory.xlsx, audit-logs.xlsx TableWorkbook
//	  frameworks/<framework>/evidence.xlsx|.pdf         FrameworkWorkbook, FrameworkPDF
//	  frameworks/<framework>/vendor/<sub>_<acct>.<ext>  VendorReport
//	  parquet/<table>/account=<sub>/<name>.parquet      ParquetFile.Path, ParseParquet
//	<prefix>/_reports/<tenant>/<from>_<to>/<run-id>/    ReportPrefix: a period report (evidence report)
//	  report.pdf, report.xlsx                           ReportPDF, ReportWorkbook
//	  tables/<table>.parquet                            ReportTable, ParseReportTable

// Files at the root of a pack, next to manifest.json and SHA256SUMS.
const (
	SummaryPDF = "summary.pdf"
	// DuckDBViews defines a view per Parquet table of the pack, for DuckDB
	// run in the pack's folder.
	DuckDBViews = "pack.duckdb.sql"
)

// Folders of a pack.
const (
	frameworksDir = "frameworks"
	parquetDir    = "parquet"
	vendorDir     = "vendor"
	accountKey    = "account="
	parquetExt    = ".parquet"
)

// DefaultParquetName is the name of the Parquet file of a unit with neither
// partition nor cloud account (ParquetName).
const DefaultParquetName = "part-00000"

// ErrNotInLayout is returned (wrapped) by the parsers for a path that is
// not one the layout builds.
var ErrNotInLayout = errors.New("not in the pack layout")

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
	return strings.Join(append(periodParts(prefix, tenant, periodLabel), storage.SafePart(runID)), "/")
}

// LatestPath is "<prefix>/<tenant>/<period>/latest.json": the pointer to the
// newest pack of a period, beside the packs (never part of one).
func LatestPath(prefix, tenant, periodLabel string) string {
	return strings.Join(append(periodParts(prefix, tenant, periodLabel), "latest.json"), "/")
}

// StatePath is "<prefix>/<tenant>/state.json": the tenant's scheduling state,
// beside its packs.
func StatePath(prefix, tenant string) string {
	return strings.Join(append(prefixParts(prefix), TenantFolder(tenant), "state.json"), "/")
}

func prefixParts(prefix string) []string {
	var parts []string
	for p := range strings.SplitSeq(prefix, "/") {
		if p != "" {
			parts = append(parts, storage.SafePart(p))
		}
	}
	return parts
}

func periodParts(prefix, tenant, periodLabel string) []string {
	return append(prefixParts(prefix), TenantFolder(tenant), storage.SafePart(periodLabel))
}

// The period report (evidence report) is a pack of its own, kept beside
// the tenants' folders under reportsDir: no tenant's folder can be called
// that (SafePart trims a leading '_'), so a tenant's folder, which verify
// --chain reads as one chain, never holds a report.
const (
	reportsDir = "_reports"
	tablesDir  = "tables"
	// ReportPDF and ReportWorkbook are the report pack's PDF and workbook.
	ReportPDF      = "report.pdf"
	ReportWorkbook = "report.xlsx"
)

// ReportPrefix is the key of a period report:
// "<prefix>/_reports/<tenant>/<period>/<run-id>", each part through
// storage.SafePart.
func ReportPrefix(prefix, tenant, periodLabel, runID string) string {
	parts := append(prefixParts(prefix), reportsDir, TenantFolder(tenant), storage.SafePart(periodLabel), storage.SafePart(runID))
	return strings.Join(parts, "/")
}

// ReportTable is the Parquet file of a report table: "tables/<table>.parquet".
func ReportTable(table string) string {
	return tablesDir + "/" + storage.SafePart(table) + parquetExt
}

// ParseReportTable reads the table's name back from a ReportTable path;
// it fails, wrapping ErrNotInLayout, for any other path.
func ParseReportTable(p string) (string, error) {
	rest, ok := strings.CutPrefix(p, tablesDir+"/")
	name, ok2 := strings.CutSuffix(rest, parquetExt)
	if !ok || !ok2 || name == "" || strings.Contains(name, "/") || storage.SafePart(name) != name {
		return "", fmt.Errorf("%s: not a report table (want %s/<table>%s): %w", p, tablesDir, parquetExt, ErrNotInLayout)
	}
	return name, nil
}

// TableWorkbook is the workbook of a table that belongs to no framework
// (evaluations, inventory, audit logs): the table's name with '-' for '_',
// "audit-logs.xlsx".
func TableWorkbook(table string) string {
	return storage.SafePart(strings.ReplaceAll(table, "_", "-")) + ".xlsx"
}

// FrameworkWorkbook is "frameworks/<framework>/evidence.xlsx".
func FrameworkWorkbook(framework string) string { return frameworkFile(framework, "evidence.xlsx") }

// FrameworkPDF is "frameworks/<framework>/evidence.pdf".
func FrameworkPDF(framework string) string { return frameworkFile(framework, "evidence.pdf") }

func frameworkFile(framework, name string) string {
	return frameworksDir + "/" + storage.SafePart(framework) + "/" + name
}

// VendorReport is "frameworks/<framework>/vendor/<sub-account>_<account>.<ext>":
// the platform's own report of one cloud account, stored verbatim.
func VendorReport(framework, subAccount, account, ext string) string {
	return frameworkFile(framework, vendorDir+"/"+storage.SafePart(subAccount)+"_"+storage.SafePart(account)+"."+storage.SafePart(ext))
}

// ParquetFile is the place of a Parquet file in a pack:
// "parquet/<table>/account=<sub-account>/<name>.parquet". The only folder
// key, account, is not a column of any table: a folder key that was
// (framework=, csp=, dataset=) made DuckDB, which reads Hive partitions by
// default, replace the column's real value with the folder's slug, and
// Athena refuses a partition key that repeats a column. The framework,
// dataset or cloud of a file is in its name instead (ParquetName).
type ParquetFile struct {
	Table      string // the dataset table, "controls"
	SubAccount string // the sub-account's folder
	Name       string // the file's name without ".parquet"
	// Folders are the "<key>=<value>" folders that packs written before
	// the names held the framework, dataset or cloud had between the table
	// and account=; ParseParquet reads them so that such packs can still be
	// exported. New packs have none.
	Folders []string
}

// ParquetName is the name of a unit's Parquet file: its partition
// ("framework=CIS 1.4", "dataset=AwsCompliance") as "framework-CIS_1.4",
// then its cloud account's folder, joined by '_'; "part-00000" for a unit
// with neither.
func ParquetName(partition, account string) string {
	var name []string
	if partition != "" {
		// No '=' in a file name: Hive readers could take it for a partition.
		name = append(name, strings.ReplaceAll(storage.SafePart(partition), "=", "-"))
	}
	if account != "" {
		name = append(name, storage.SafePart(account))
	}
	if len(name) == 0 {
		return DefaultParquetName
	}
	return strings.Join(name, "_")
}

// Path is the file's path in the pack.
func (f ParquetFile) Path() string {
	parts := append([]string{parquetDir, f.Table}, f.Folders...)
	return strings.Join(append(parts, accountKey+f.SubAccount, f.Name+parquetExt), "/")
}

// ParquetGlob matches the Parquet files of table, relative to the pack.
func ParquetGlob(table string) string {
	return parquetDir + "/" + table + "/*/*" + parquetExt
}

// InParquet reports whether p is in the pack's parquet/ folder, which
// holds the tables' data and nothing else: ParseParquet reads its paths.
func InParquet(p string) bool { return strings.HasPrefix(p, parquetDir+"/") }

// ParseParquet reads a Parquet file's path in a pack back into its parts.
// It fails, wrapping ErrNotInLayout, for a path not under "parquet/", not
// ending in ".parquet", with an empty part, or without exactly one
// account= folder, the last.
func ParseParquet(p string) (ParquetFile, error) {
	bad := func(why string) (ParquetFile, error) {
		return ParquetFile{}, fmt.Errorf("%s: %s (want %s/<table>/%s<sub-account>/<name>%s): %w", p, why, parquetDir, accountKey, parquetExt, ErrNotInLayout)
	}
	parts := strings.Split(p, "/")
	if len(parts) < 4 || parts[0] != parquetDir {
		return bad("not a Parquet file of a table")
	}
	name, ok := strings.CutSuffix(parts[len(parts)-1], parquetExt)
	if !ok || name == "" {
		return bad("not a .parquet file")
	}
	if slices.Contains(parts, "") {
		return bad("an empty folder name")
	}
	dirs := parts[2 : len(parts)-1]
	sub, ok := strings.CutPrefix(dirs[len(dirs)-1], accountKey)
	if !ok {
		return bad("no " + accountKey + "<sub-account> folder holds the file")
	}
	f := ParquetFile{Table: parts[1], SubAccount: sub, Name: name}
	for _, d := range dirs[:len(dirs)-1] {
		if strings.HasPrefix(d, accountKey) {
			return bad("two " + accountKey + " folders")
		}
		f.Folders = append(f.Folders, d)
	}
	return f, nil
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

// Packs lists the packs under prefix, a folder that holds packs (a
// period's, a tenant's, the output's root; "" is the store's root): the
// key prefixes of the folders holding a manifest.json, the newest run
// first (run ids sort by time).
func Packs(ctx context.Context, store Reader, prefix string) ([]string, error) {
	dir := ""
	if prefix != "" {
		dir = strings.TrimSuffix(prefix, "/") + "/"
	}
	var packs []string
	err := store.List(ctx, dir, func(o storage.Object) error {
		// The folder's own manifest.json (a pack, not a folder of packs) is
		// ManifestName at dir, without the "/" the suffix needs.
		if p, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, dir), "/"+ManifestName); ok {
			p = dir + p
			packs = append(packs, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pack: list the packs under %q: %w", prefix, err)
	}
	slices.SortStableFunc(packs, func(a, b string) int {
		return strings.Compare(path.Base(b), path.Base(a))
	})
	return packs, nil
}
