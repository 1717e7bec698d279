package job_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// The pack's "distinct violating resources" of each account equals the
// figure Lacework's own report gives (summary VIOLATED_RESOURCE_COUNT),
// and differs from the violations (resource × control pairs) it is shown
// beside wherever a resource fails several controls.
func TestDistinctViolatingResourcesReconcile(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{EvaluationsPerDay: 10, InventoryPerCSP: 60, AuditLogsPerDay: 5, Recommendations: 30})
	cfg := testConfig(t, srv.URL, nil)
	cfg.Datasets = []string{dataset.Reports}
	mem := memstore.New()
	res, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: mem, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := lacework.New(lacework.Credentials{Account: "acme", KeyID: emulator.DefaultKeyID, Secret: emulator.DefaultSecret, BaseURL: srv.URL},
		lacework.Options{Options: httpx.Options{Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	// The exception register's rows per framework and account, read
	// straight from its Parquet files.
	registered := map[string]int{}
	for _, f := range res.Packs[0].Manifest.Files {
		if !strings.HasPrefix(f.Path, "parquet/exceptions/") {
			continue
		}
		rc, err := mem.Get(ctx, res.Packs[0].Prefix+"/"+f.Path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		rows, err := parquet.Read[struct {
			Framework  string `parquet:"framework,optional"`
			SubAccount string `parquet:"sub_account,optional"`
			Account    string `parquet:"account_id,optional"`
			Kind       string `parquet:"kind,optional"`
		}](bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Kind != source.ExceptionSuppression {
				t.Errorf("%s: exception of kind %q", f.Path, r.Kind)
			}
			registered[r.Framework+"|"+r.SubAccount+"/"+r.Account]++
		}
	}
	suppressions := 0
	checked, differ := 0, 0
	for _, f := range res.Packs[0].Manifest.Files {
		if !strings.HasSuffix(f.Path, "/evidence.xlsx") {
			continue
		}
		x := openWorkbook(t, mem, res.Packs[0].Prefix+"/"+f.Path)
		rows, err := x.GetRows("Summary")
		if err != nil {
			t.Fatal(err)
		}
		pairs := map[string]string{}
		for _, r := range rows {
			if len(r) >= 2 {
				pairs[r[0]] = r[1]
			}
		}
		fw := pairs["Framework"]
		for k, v := range pairs {
			acct, ok := strings.CutPrefix(k, "Distinct violating resources: ")
			if !ok {
				continue
			}
			sub, id, _ := strings.Cut(acct, "/")
			sc, err := client.SubAccount(sub)
			if err != nil {
				t.Fatal(err)
			}
			targets, err := sc.Targets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range targets {
				if tg.ID() != id {
					continue
				}
				rep, err := sc.Report(ctx, lacework.ReportQuery{Target: tg, Framework: fw})
				if err != nil {
					t.Fatal(err)
				}
				vendor := rep.Header.Summary[0].ViolatedResourceCount
				n := 0 // the report's suppressed resources
				for rec, err := range rep.Recommendations() {
					if err != nil {
						t.Fatal(err)
					}
					n += len(rec.Suppressions)
				}
				rep.Close()
				if registered[fw+"|"+acct] != n {
					t.Errorf("%s %s: %d exceptions in the register, the vendor's report suppresses %d resources", fw, acct, registered[fw+"|"+acct], n)
				}
				suppressions += n
				if got, _ := strconv.Atoi(v); got != vendor {
					t.Errorf("%s %s: %d distinct violating resources in the pack, the vendor's report says %d", fw, acct, got, vendor)
				}
				checked++
			}
		}
		total, _ := strconv.Atoi(pairs["Distinct violating resources (all accounts)"])
		pairsTotal, _ := strconv.Atoi(pairs["Violations (distinct resource × control pairs, all accounts)"])
		if total != pairsTotal {
			differ++
		}
	}
	if checked < 5 || differ == 0 || suppressions == 0 {
		t.Fatalf("%d accounts checked, %d frameworks where pairs and distinct differ: the test checks too little", checked, differ)
	}
}

// Every row of every table carries a row_id that names it: unique in its
// table, and the same in another run for the same finding.
func TestRowIDsAreStableAndUnique(t *testing.T) {
	t.Parallel()
	// Two runs of the same data: the golden configuration's.
	runs := golden.get(t)
	ids := func(r goldenRun) map[string][]string {
		res, mem := r.res, r.store
		out := map[string][]string{}
		for _, f := range res.Packs[0].Manifest.Files {
			rest, ok := strings.CutPrefix(f.Path, "parquet/")
			if !ok {
				continue
			}
			table, _, _ := strings.Cut(rest, "/")
			rc, err := mem.Get(context.Background(), res.Packs[0].Prefix+"/"+f.Path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			rows, err := parquet.Read[struct {
				RowID string `parquet:"row_id"`
			}](bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				out[table] = append(out[table], r.RowID)
			}
		}
		return out
	}
	a, b := ids(runs[0]), ids(runs[1])
	if len(a) != 6 { // every table of a daily pack but drift: the golden runs have no predecessor
		t.Fatalf("tables %v", slices.Collect(maps.Keys(a)))
	}
	for table, list := range a {
		sorted := slices.Sorted(slices.Values(list))
		if len(slices.Compact(slices.Clone(sorted))) != len(sorted) || slices.Contains(sorted, "") {
			t.Errorf("%s: row ids not unique (or empty) among %d rows", table, len(sorted))
		}
		if !slices.Equal(sorted, slices.Sorted(slices.Values(b[table]))) {
			t.Errorf("%s: row ids differ between two runs of the same data", table)
		}
	}
}

// A resource listed under two accounts (IBM SCC zones overlap: Entire
// Infrastructure holds Production) counts once in the framework's totals:
// once among the distinct resources, once per control among the
// violations; each account still shows its own.
func TestOverlappingAccountsCountAResourceOnce(t *testing.T) {
	t.Parallel()
	fetch := func(context.Context) (source.Report, error) { return malformedReport{}, nil } // violates with resource r1
	plan := &source.Plan{SubAccounts: []string{"s"}, Frameworks: []source.Framework{{Name: "CIS", Units: []source.ReportUnit{
		{SubAccount: "s", Account: "Entire Infrastructure", Fetch: fetch},
		{SubAccount: "s", Account: "Production", Fetch: fetch},
	}}}}
	res, mem, err := runFake(t, plan, dataset.Reports)
	if err != nil {
		t.Fatal(err)
	}
	x := openWorkbook(t, mem, res.Packs[0].Prefix+"/frameworks/CIS/evidence.xlsx")
	rows, _ := x.GetRows("Summary")
	got := map[string]string{}
	for _, r := range rows {
		if len(r) >= 2 {
			got[r[0]] = r[1]
		}
	}
	if got["Distinct violating resources (all accounts)"] != "1" || got["Distinct violating resources: s/Production"] != "1" ||
		got["Violations (distinct resource × control pairs, all accounts)"] != "1" {
		t.Errorf("summary %v", got)
	}
}

// A cloud integration discovery found disabled is listed in the scope as
// excluded, with the reason, rather than silently missing.
func TestDisabledIntegrationsAreListedAsExcluded(t *testing.T) {
	t.Parallel()
	res := golden.get(t)[0].res // the emulator's tenant has one disabled integration
	want := `acme-prod: AwsCfg integration "aws-config-acme-prod-legacy": disabled in Lacework`
	if ex := res.Packs[0].Manifest.Scope.Excluded; !slices.ContainsFunc(ex, func(e string) bool { return strings.HasPrefix(e, want) }) {
		t.Errorf("scope.excluded %v lacks %q", ex, want)
	}
}
