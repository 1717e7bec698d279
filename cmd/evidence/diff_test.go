package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/dataset"
)

// diff of two daily packs, against what the packs' Parquet tables say when
// read directly: every control failing on both days is still failing, and
// since the first of three days along the chain; the resources added and
// gone are the set differences of the two inventories.
func TestDiffOfDailyPacks(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 20, InventoryPerCSP: 30, AuditLogsPerDay: 5, Recommendations: 8}))
	defer srv.Close()
	out := t.TempDir()
	var packs []string
	for i := range 3 {
		d := time.Now().UTC().AddDate(0, 0, i-4).Format(time.DateOnly)
		if code, stdout, stderr := cli(t, context.Background(), lwEnvOne(srv.URL), "run", "--out", out, "--dataset", "reports,inventory",
			"--framework", "AWS_CIS_14", "--framework", "AWS_PCI_DSS_3.2.1", "--from", d, "--to", d); code != exitOK {
			t.Fatalf("run %s: exit %d\n%s\n%s", d, code, stdout, stderr)
		}
		dirs, _ := filepath.Glob(filepath.Join(out, "acme", d, "*"))
		packs = append(packs, dirs[0])
	}
	code, stdout, stderr := cli(t, context.Background(), nil, "diff", "--json", packs[1], packs[2])
	if code != exitOK {
		t.Fatalf("diff: exit %d\n%s\n%s", code, stdout, stderr)
	}
	type change struct {
		Framework    string    `json:"framework"`
		AccountID    string    `json:"account_id"`
		ControlID    string    `json:"control_id"`
		FailingSince time.Time `json:"failing_since"`
	}
	var rep struct {
		NewlyFailing []change `json:"newly_failing"`
		StillFailing []change `json:"still_failing"`
		Added        []struct {
			ResourceID string `json:"resource_id"`
		} `json:"resources_added"`
		Gone []struct {
			ResourceID string `json:"resource_id"`
		} `json:"resources_gone"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	failingIn := func(p string) map[string]bool {
		out := map[string]bool{}
		for _, r := range readRows[struct {
			Framework *string `parquet:"framework,optional"`
			Account   *string `parquet:"account_id,optional"`
			Control   *string `parquet:"control_id,optional"`
			Status    *string `parquet:"status,optional"`
		}](t, p, dataset.Controls) {
			if *r.Status == string(dataset.NonCompliant) {
				out[*r.Framework+"|"+*r.Account+"|"+*r.Control] = true
			}
		}
		return out
	}
	f1, f2 := failingIn(packs[1]), failingIn(packs[2])
	both := 0
	for k := range f2 {
		if f1[k] {
			both++
		}
	}
	if len(rep.StillFailing) != both || len(rep.NewlyFailing)+len(rep.StillFailing) != len(f2) || both == 0 {
		t.Errorf("still failing %d, newly failing %d; the tables: %d failing on both days, %d on the second",
			len(rep.StillFailing), len(rep.NewlyFailing), both, len(f2))
	}
	// Since the first day when it failed then too, else the second.
	first := time.Now().UTC().AddDate(0, 0, -4).Truncate(24 * time.Hour)
	f0 := failingIn(packs[0])
	for _, c := range rep.StillFailing {
		want := first.AddDate(0, 0, 1)
		if f0[c.Framework+"|"+c.AccountID+"|"+c.ControlID] {
			want = first
		}
		if !c.FailingSince.Equal(want) {
			t.Errorf("%s: failing since %v, want %v", c.ControlID, c.FailingSince, want)
		}
	}
	ids := func(p string) []string {
		var out []string
		for _, r := range readRows[struct {
			ID *string `parquet:"resource_id,optional"`
		}](t, p, dataset.Inventory) {
			out = append(out, *r.ID)
		}
		return out
	}
	i1, i2 := ids(packs[1]), ids(packs[2])
	var added, gone, gotAdded, gotGone []string
	for _, r := range i2 {
		if !slices.Contains(i1, r) {
			added = append(added, r)
		}
	}
	for _, r := range i1 {
		if !slices.Contains(i2, r) {
			gone = append(gone, r)
		}
	}
	for _, r := range rep.Added {
		gotAdded = append(gotAdded, r.ResourceID)
	}
	for _, r := range rep.Gone {
		gotGone = append(gotGone, r.ResourceID)
	}
	slices.Sort(added)
	slices.Sort(gone)
	slices.Sort(gotAdded)
	slices.Sort(gotGone)
	if !slices.Equal(added, gotAdded) || !slices.Equal(gone, gotGone) {
		t.Errorf("added %d, gone %d; the inventories differ by %d added, %d gone", len(gotAdded), len(gotGone), len(added), len(gone))
	}
	// The pack's own drift table (against its predecessor, packs[1]) holds
	// the same controls with the same first failing day.
	driftRows := readRows[struct {
		Framework *string    `parquet:"framework,optional"`
		Account   *string    `parquet:"account_id,optional"`
		Control   *string    `parquet:"control_id,optional"`
		Change    *string    `parquet:"change,optional"`
		Since     *time.Time `parquet:"failing_since,optional,timestamp(millisecond)"`
	}](t, packs[2], dataset.Drift)
	stillInPack := map[string]time.Time{}
	for _, r := range driftRows {
		if *r.Change == "still_failing" {
			stillInPack[*r.Framework+"|"+*r.Account+"|"+*r.Control] = r.Since.UTC()
		}
	}
	for _, c := range rep.StillFailing {
		if since, ok := stillInPack[c.Framework+"|"+c.AccountID+"|"+c.ControlID]; !ok || !since.Equal(c.FailingSince) {
			t.Errorf("drift table: %s %s %s still failing since %v (%v), diff says %v", c.Framework, c.AccountID, c.ControlID, since, ok, c.FailingSince)
		}
	}
	if len(stillInPack) != len(rep.StillFailing) {
		t.Errorf("drift table: %d still failing, diff: %d", len(stillInPack), len(rep.StillFailing))
	}

	// The text for people says the same.
	code, stdout, _ = cli(t, context.Background(), nil, "diff", packs[1], packs[2])
	if code != exitOK || !strings.Contains(stdout, "Controls still failing: "+strconv.Itoa(both)) || !strings.Contains(stdout, "(failing since "+first.Format(time.DateOnly)+")") {
		t.Errorf("diff: exit %d\n%s", code, stdout)
	}
}

// readRows reads every row of a pack's table straight from its Parquet
// files.
func readRows[T any](t *testing.T, packDir, table string) []T {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(packDir, "parquet", table, "*", "*.parquet"))
	var out []T
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := pq.Read[T](fh, mustSize(t, fh))
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, rows...)
	}
	return out
}

func mustSize(t *testing.T, f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
