package pack_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

func TestLayoutPaths(t *testing.T) {
	tests := []struct{ got, want string }{
		{pack.PackPrefix("evidence/prod", "acme", "2026-11-21", "20261121T030405Z-3f9a1c"), "evidence/prod/acme/2026-11-21/20261121T030405Z-3f9a1c"},
		{pack.PackPrefix("", "Acme Corp/../x", "2026-10-01_2026-10-31", "r"), "Acme_Corp_.._x/2026-10-01_2026-10-31/r"},
		{pack.PackPrefix("/a//b/", "..", ".", ""), "a/b/_/_/_"},
		{pack.LatestPath("", "Acme Corp", "2026-11-21"), "Acme_Corp/2026-11-21/latest.json"},
		{pack.LatestPath("evidence/prod", "acme", "2026-10-01_2026-10-31"), "evidence/prod/acme/2026-10-01_2026-10-31/latest.json"},
		{pack.StatePath("", "Acme Corp"), "Acme_Corp/state.json"},
		{pack.StatePath("/evidence/", "acme"), "evidence/acme/state.json"},
		{pack.TableWorkbook("evaluations"), "evaluations.xlsx"},
		{pack.TableWorkbook("audit_logs"), "audit-logs.xlsx"},
		{pack.FrameworkWorkbook("CIS AWS 1.4.0"), "frameworks/CIS_AWS_1.4.0/evidence.xlsx"},
		{pack.FrameworkPDF("SOC_2_2"), "frameworks/SOC_2_2/evidence.pdf"},
		{pack.VendorReport("SOC 2", "acme prod", "1234/5678", "pdf"), "frameworks/SOC_2/vendor/acme_prod_1234_5678.pdf"},
		{pack.ParquetName("framework=CIS 1.4", ""), "framework-CIS_1.4"},
		{pack.ParquetName("dataset=a=b", "123"), "dataset-a-b_123"},
		{pack.ParquetName("", "123"), "123"},
		{pack.ParquetName("", ""), "part-00000"},
		{pack.ParquetFile{Table: "controls", SubAccount: "acme-prod", Name: "framework-CIS_1.4"}.Path(), "parquet/controls/account=acme-prod/framework-CIS_1.4.parquet"},
		{pack.ParquetGlob("inventory"), "parquet/inventory/*/*.parquet"},
		{pack.ReportPrefix("", "Acme Corp", "2026-10-01_2026-10-31", "20261101T030405Z-3f9a1c"), "_reports/Acme_Corp/2026-10-01_2026-10-31/20261101T030405Z-3f9a1c"},
		{pack.ReportPrefix("evidence/prod", "_acme", "2026-10-01", "r"), "evidence/prod/_reports/acme/2026-10-01/r"},
		{pack.ReportTable("report_daily"), "tables/report_daily.parquet"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// The paths the job builds parse back to the values they were built
// from, however awkward the names: Folders first turns the names into
// distinct folders, as the job does.
func TestParquetPathRoundTrip(t *testing.T) {
	long := strings.Repeat("x", 120)
	subNames := []string{"acme", "acme prod", "acme_prod", "acme=prod", "東京", "大阪", "", "../x", "a/b", long, long + "y", "account=x"}
	partitions := []string{"", "framework=CIS 1.4 / AWS", "framework=" + long, "dataset=AwsCompliance", "csp=GCP", "framework=a=b", "framework=données"}
	accountNames := []string{"", "123456789012", "e9003553-84f6-4706-bc13-3491a56834b4", "proj_a", "acct=1", "東京"}
	tables := []string{"controls", "violations", "evaluations", "inventory", "audit_logs"}
	var subs, accts pack.Folders
	paths := map[string]pack.ParquetFile{}
	for _, table := range tables {
		for _, sub := range subNames {
			for _, part := range partitions {
				for _, acct := range accountNames {
					var acctFolder string
					if acct != "" {
						acctFolder = accts.Folder(acct)
					}
					f := pack.ParquetFile{Table: table, SubAccount: subs.Folder(sub), Name: pack.ParquetName(part, acctFolder)}
					p := f.Path()
					if err := storage.CleanKey(p); err != nil {
						t.Errorf("%+v: %v", f, err)
					}
					got, err := pack.ParseParquet(p)
					if err != nil {
						t.Fatalf("ParseParquet(%q): %v", p, err)
					}
					if got.Table != f.Table || got.SubAccount != f.SubAccount || got.Name != f.Name || len(got.Folders) != 0 {
						t.Errorf("ParseParquet(%q) = %+v, want %+v", p, got, f)
					}
					paths[p] = f
				}
			}
		}
	}
	if want := len(tables) * len(subNames) * len(partitions) * len(accountNames); len(paths) != want {
		t.Errorf("%d distinct paths for %d units", len(paths), want)
	}
}

func TestParseParquet(t *testing.T) {
	tests := []struct {
		path string
		want pack.ParquetFile // zero: ErrNotInLayout
	}{
		{"parquet/audit_logs/account=acme/part-00000.parquet", pack.ParquetFile{Table: "audit_logs", SubAccount: "acme", Name: "part-00000"}},
		{"parquet/controls/account=a=b/framework-X.parquet", pack.ParquetFile{Table: "controls", SubAccount: "a=b", Name: "framework-X"}},
		{"parquet/controls/account=/x.parquet.parquet", pack.ParquetFile{Table: "controls", SubAccount: "", Name: "x.parquet"}},
		// Packs written before the file names held the framework.
		{"parquet/controls/framework=CIS_1.4/account=acme-prod/part-00000.parquet",
			pack.ParquetFile{Table: "controls", SubAccount: "acme-prod", Name: "part-00000", Folders: []string{"framework=CIS_1.4"}}},
		{"parquet/inventory/csp=AWS/x/account=acme/part-00003.parquet",
			pack.ParquetFile{Table: "inventory", SubAccount: "acme", Name: "part-00003", Folders: []string{"csp=AWS", "x"}}},
		{"parquet/x.parquet", pack.ParquetFile{}},
		{"parquet/controls/x.parquet", pack.ParquetFile{}},
		{"parquet/controls/framework=X/part-00000.parquet", pack.ParquetFile{}},
		{"parquet/controls/account=a/account=b/part-00000.parquet", pack.ParquetFile{}},
		{"parquet/controls/account=a/extra/part-00000.parquet", pack.ParquetFile{}},
		{"parquet/controls/account=a/part-00000.csv", pack.ParquetFile{}},
		{"parquet/controls/account=a/.parquet", pack.ParquetFile{}},
		{"parquet//account=a/part-00000.parquet", pack.ParquetFile{}},
		{"frameworks/CIS/account=a/part-00000.parquet", pack.ParquetFile{}},
		{"summary.pdf", pack.ParquetFile{}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if in := pack.InParquet(tc.path); in != strings.HasPrefix(tc.path, "parquet/") {
				t.Errorf("InParquet = %v", in)
			}
			got, err := pack.ParseParquet(tc.path)
			if tc.want.Table == "" {
				if !errors.Is(err, pack.ErrNotInLayout) {
					t.Fatalf("ParseParquet = %+v, %v; want ErrNotInLayout", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || !slices.Equal(got.Folders, tc.want.Folders) {
				t.Fatalf("ParseParquet = %+v, want %+v", got, tc.want)
			}
			if p := got.Path(); p != tc.path {
				t.Errorf("Path() = %q, want %q", p, tc.path)
			}
		})
	}
}

// Packs finds the packs under a folder of packs, newest run first, and
// nothing that only resembles one.
func TestPacksUnderAFolder(t *testing.T) {
	s := memstore.New()
	for _, key := range []string{
		"acme/2026-11-21/20261122T021500Z-aaaaaa/manifest.json",
		"acme/2026-11-21/20261123T021500Z-bbbbbb/manifest.json",
		"acme/2026-11-21/20261123T021500Z-bbbbbb/summary.pdf",
		"acme/2026-11-21/latest.json",
		"acme/2026-11-20/20261121T021500Z-cccccc/manifest.json",
		"acme/2026-11-20/20261121T021500Z-dddddd/summary.pdf", // unfinished: no manifest
		"acme/state.json",
		"other/2026-11-21/20261124T021500Z-eeeeee/manifest.json",
	} {
		if _, err := s.Put(t.Context(), key, strings.NewReader("{}"), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"acme/2026-11-21", []string{"acme/2026-11-21/20261123T021500Z-bbbbbb", "acme/2026-11-21/20261122T021500Z-aaaaaa"}},
		{"acme/", []string{"acme/2026-11-21/20261123T021500Z-bbbbbb", "acme/2026-11-21/20261122T021500Z-aaaaaa", "acme/2026-11-20/20261121T021500Z-cccccc"}},
		{"", []string{"other/2026-11-21/20261124T021500Z-eeeeee", "acme/2026-11-21/20261123T021500Z-bbbbbb", "acme/2026-11-21/20261122T021500Z-aaaaaa", "acme/2026-11-20/20261121T021500Z-cccccc"}},
		{"acme/2026-11-21/20261123T021500Z-bbbbbb", nil}, // a pack itself holds no pack
		{"nothing", nil},
	} {
		got, err := pack.Packs(t.Context(), s, tc.prefix)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Packs(%q) = %q, %v; want %q", tc.prefix, got, err, tc.want)
		}
	}
}

// A report table's path parses back to its table, a report pack's prefix
// is never a tenant's folder, and paths the builder does not make are not
// report tables.
func TestReportLayoutRoundTrip(t *testing.T) {
	for _, table := range []string{"report_daily", "report_controls", "report_days", "x.y", "a=b"} {
		p := pack.ReportTable(table)
		if err := storage.CleanKey(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		got, err := pack.ParseReportTable(p)
		if err != nil || got != table {
			t.Errorf("ParseReportTable(%q) = %q, %v; want %q", p, got, err, table)
		}
		if d := pack.Describe(p); !strings.Contains(d, table) {
			t.Errorf("Describe(%q) = %q", p, d)
		}
	}
	for _, p := range []string{"tables/.parquet", "tables/a/b.parquet", "tables/x.csv", "report_daily.parquet", "tables/a b.parquet", "parquet/report_daily.parquet"} {
		if got, err := pack.ParseReportTable(p); !errors.Is(err, pack.ErrNotInLayout) {
			t.Errorf("ParseReportTable(%q) = %q, %v; want ErrNotInLayout", p, got, err)
		}
	}
	// No tenant's folder is the reports' folder, whatever its name.
	for _, tenant := range []string{"_reports", "__reports", "._reports", "reports"} {
		if pack.TenantFolder(tenant) == "_reports" {
			t.Errorf("tenant %q has the reports' folder", tenant)
		}
		prefix := pack.ReportPrefix("", tenant, "2026-10-01_2026-10-31", "r")
		if !strings.HasPrefix(prefix, "_reports/") || strings.HasPrefix(pack.PackPrefix("", tenant, "2026-10-01", "r"), "_reports/") {
			t.Errorf("tenant %q: report %s, pack %s", tenant, prefix, pack.PackPrefix("", tenant, "2026-10-01", "r"))
		}
	}
}
