package drift_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/drift"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// day is a pack of one day: control statuses by control id (all of one
// framework and account) and the inventory's resource ids.
type day struct {
	statuses   map[string]dataset.Status
	resources  []string
	exceptions []dataset.Exception
}

// publishChain publishes one pack per day into a store, each linked to the
// one before as the job links them, and returns the store and each pack's
// prefix.
func publishChain(t *testing.T, days []day) (storage.Store, []string) {
	t.Helper()
	s := memstore.New()
	var prev *pack.Link
	var prefixes []string
	scope := dataset.Scope{Source: "lacework", Tenant: "acme", SubAccount: "acme-prod"}
	for i, d := range days {
		from := time.Date(2026, 11, 1+i, 0, 0, 0, 0, time.UTC)
		id := fmt.Sprintf("2026110%dT030000Z-00000%d", 2+i, i)
		prefix := pack.PackPrefix("", "acme", pack.PeriodLabel(from, from.AddDate(0, 0, 1)), id)
		w, err := pack.NewWriter(t.Context(), s, prefix)
		if err != nil {
			t.Fatal(err)
		}
		var controls []dataset.Row
		for _, id := range slicesSorted(d.statuses) {
			controls = append(controls, dataset.Control{Framework: "CIS", AccountID: "123", ControlID: id, Title: "control " + id, Status: d.statuses[id]}.Row(scope))
		}
		put(t, w, pack.ParquetFile{Table: dataset.Controls, SubAccount: "acme-prod", Name: "framework-CIS"}.Path(), dataset.ControlsTable(), controls)
		if d.exceptions != nil {
			var rows []dataset.Row
			for _, e := range d.exceptions {
				e.Framework, e.AccountID, e.Kind = "CIS", "123", "risk accepted"
				e.Expired = !e.Expires.IsZero() && e.Expires.Before(from.AddDate(0, 0, 1))
				rows = append(rows, e.Row(scope))
			}
			put(t, w, pack.ParquetFile{Table: dataset.Exceptions, SubAccount: "acme-prod", Name: "framework-CIS"}.Path(), dataset.ExceptionsTable(), rows)
		}
		if d.resources != nil {
			var inv []dataset.Row
			for _, r := range d.resources {
				inv = append(inv, dataset.Resource{CSP: "AWS", AccountID: "123", ResourceID: r}.Row(scope))
			}
			put(t, w, pack.ParquetFile{Table: dataset.Inventory, SubAccount: "acme-prod", Name: "csp-AWS"}.Path(), dataset.InventoryTable(), inv)
		}
		m := pack.Manifest{PackID: id, Tenant: "acme", Source: pack.Source{System: "lacework"}, Previous: prev,
			Period:      pack.Period{From: from, To: from.AddDate(0, 0, 1), Label: pack.PeriodLabel(from, from.AddDate(0, 0, 1))},
			GeneratedAt: from.Add(27 * time.Hour), Generator: pack.Generator{Name: "evidence"}}
		if err := w.Publish(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		l := w.Link()
		prev = &l
		prefixes = append(prefixes, prefix)
	}
	return s, prefixes
}

func put(t *testing.T, w *pack.Writer, path string, table dataset.Table, rows []dataset.Row) {
	t.Helper()
	var b bytes.Buffer
	sink, err := parquet.New(parquet.Options{}).Begin(&b, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(t.Context(), path, &b, parquet.MediaType, nil); err != nil {
		t.Fatal(err)
	}
}

func slicesSorted(m map[string]dataset.Status) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

const (
	ok   = dataset.Compliant
	fail = dataset.NonCompliant
	supp = dataset.Suppressed
)

// The drift between two packs puts each control where its statuses put
// it; a still failing control's first failing day is found along the
// chain, past the first pack compared; the inventory's resources added
// and gone are listed.
func TestCompare(t *testing.T) {
	nov := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	exc := func(control, resource, reason string, expires time.Time) dataset.Exception {
		return dataset.Exception{ControlID: control, Resource: resource, Reason: reason, Expires: expires}
	}
	days := []day{
		{map[string]dataset.Status{"1.1": fail, "1.2": fail, "1.3": ok, "1.4": ok, "1.5": fail, "1.6": ok}, []string{"r1", "r2"}, nil},
		{map[string]dataset.Status{"1.1": fail, "1.2": ok, "1.3": ok, "1.4": fail, "1.5": fail, "1.6": ok}, []string{"r1", "r2", "r3"},
			[]dataset.Exception{exc("1.6", "r1", "owned", nov(30)), exc("1.6", "r2", "owned", nov(3)), exc("1.6", "r3", "owned", time.Time{}), exc("1.6", "r4", "owned", time.Time{})}},
		{map[string]dataset.Status{"1.1": fail, "1.2": ok, "1.3": fail, "1.4": fail, "1.5": ok, "1.6": supp, "1.7": fail}, []string{"r2", "r3", "r4"},
			[]dataset.Exception{exc("1.6", "r1", "owned", nov(30)), exc("1.6", "r2", "owned", nov(3)), exc("1.6", "r3", "transferred", time.Time{}), exc("1.6", "r5", "owned", time.Time{})}},
	}
	s, prefixes := publishChain(t, days)
	side := func(i int) drift.Pack { return drift.Pack{Location: prefixes[i], Store: pack.Sub(s, prefixes[i])} }
	rep, err := drift.Compare(t.Context(), side(1), side(2), func(pack.Manifest) pack.Reader { return s })
	if err != nil {
		t.Fatal(err)
	}
	ids := func(cs []drift.Change) (out []string) {
		for _, c := range cs {
			out = append(out, c.ControlID)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"newly failing", ids(rep.NewlyFailing), []string{"1.3"}},
		{"newly passing", ids(rep.NewlyPassing), []string{"1.5"}},
		{"still failing", ids(rep.StillFailing), []string{"1.1", "1.4"}},
		{"other changes", ids(rep.OtherChanges), []string{"1.6", "1.7"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	since := map[string]string{}
	for _, c := range rep.StillFailing {
		since[c.ControlID] = c.FailingSince.Format(time.DateOnly)
	}
	// 1.1 failed every day; 1.4 from the second.
	if want := map[string]string{"1.1": "2026-11-01", "1.4": "2026-11-02"}; fmt.Sprint(since) != fmt.Sprint(want) {
		t.Errorf("failing since %v, want %v", since, want)
	}
	resources := func(es []drift.Exception) (out []string) {
		for _, e := range es {
			out = append(out, e.Resource)
		}
		return out
	}
	var changed []string
	for _, c := range rep.ExceptionsChanged {
		changed = append(changed, c.Resource+": "+c.Was.Reason+" → "+c.Reason)
	}
	// r2 expires on the 3rd: within the third day's period, not the second's.
	if got := [][]string{resources(rep.ExceptionsAdded), resources(rep.ExceptionsRemoved), changed, resources(rep.ExceptionsExpired)}; fmt.Sprint(got) !=
		fmt.Sprint([][]string{{"r5"}, {"r4"}, {"r3: owned → transferred"}, {"r2"}}) {
		t.Errorf("exceptions added, removed, changed, expired: %q", got)
	}
	var added, gone []string
	for _, r := range rep.ResourcesAdded {
		added = append(added, r.ResourceID)
	}
	for _, r := range rep.ResourcesGone {
		gone = append(gone, r.ResourceID)
	}
	if !rep.Inventory || !slices.Equal(added, []string{"r4"}) || !slices.Equal(gone, []string{"r1"}) {
		t.Errorf("inventory compared %v: added %q, gone %q; want [r4], [r1]", rep.Inventory, added, gone)
	}
}

// A pack's files are read as its manifest lists them: a changed table
// fails the comparison instead of giving figures the pack never held.
func TestCompareRefusesAChangedFile(t *testing.T) {
	s, prefixes := publishChain(t, []day{
		{map[string]dataset.Status{"1.1": fail}, nil, nil},
		{map[string]dataset.Status{"1.1": ok}, nil, nil},
	})
	key := prefixes[0] + "/" + pack.ParquetFile{Table: dataset.Controls, SubAccount: "acme-prod", Name: "framework-CIS"}.Path()
	b := storetest.Get(t, s, key)
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, s, key, append(b[:len(b)-1:len(b)-1], b[len(b)-1]^1))
	side := func(i int) drift.Pack { return drift.Pack{Location: prefixes[i], Store: pack.Sub(s, prefixes[i])} }
	if _, err := drift.Compare(t.Context(), side(0), side(1), nil); !errors.Is(err, pack.ErrChanged) {
		t.Errorf("Compare with a changed file = %v, want pack.ErrChanged", err)
	}
}
