package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/drift"
	"github.com/evidence-pack/evidence/internal/pack"
)

// cmdDiff compares two packs of a tenant: controls newly failing, newly
// passing and still failing (since when, along the second pack's chain),
// and the inventory's resources added and gone.
func cmdDiff(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("diff", e)
	asJSON := fs.Bool("json", false, "print the drift as JSON, every item listed")
	endpoint := fs.String("s3-endpoint", "", "S3-compatible server `URL` for s3:// locations (path-style)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("diff: want two pack locations, the earlier first")
	}
	var sides [2]drift.Pack
	for i, loc := range fs.Args() {
		s, err := openLocation(ctx, loc, *endpoint)
		if err != nil {
			return fmt.Errorf("diff %s: %w", loc, err)
		}
		sides[i] = drift.Pack{Location: loc, Store: s}
	}
	// The output holding the second pack's chain: its location without
	// the pack's own path in the layout.
	root := func(m pack.Manifest) pack.Reader {
		rel := pack.PackPrefix("", m.Tenant, m.Period.Label, m.PackID)
		loc := strings.TrimSuffix(sides[1].Location, "/")
		if !strings.HasPrefix(loc, "s3://") {
			abs, err := filepath.Abs(loc)
			if err != nil {
				return nil
			}
			loc = filepath.ToSlash(abs)
		}
		base, ok := strings.CutSuffix(loc, "/"+rel)
		if !ok {
			return nil // copied out of its output: no chain to follow
		}
		s, err := openLocation(ctx, filepath.FromSlash(base), *endpoint)
		if err != nil {
			return nil
		}
		return s
	}
	rep, err := drift.Compare(ctx, sides[0], sides[1], root)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			A, B string
			drift.Report
		}{sides[0].Location, sides[1].Location, rep})
	}
	printDrift(e.stdout, rep)
	return nil
}

// printDrift writes the drift for people: every control change, and the
// first resources added and gone.
func printDrift(w io.Writer, rep drift.Report) {
	side := func(s drift.Side) string {
		return fmt.Sprintf("%s (%s, %s)", s.Location, s.Manifest.Tenant, s.Manifest.Period.Label)
	}
	fmt.Fprintf(w, "Drift from %s\n        to %s\n", side(rep.A), side(rep.B))
	controls := func(title string, cs []drift.Change, detail func(drift.Change) string) {
		fmt.Fprintf(w, "\n%s: %d\n", title, len(cs))
		for _, c := range cs {
			fmt.Fprintf(w, "  %s · %s · %s  %s%s\n", c.Framework, c.AccountID, c.ControlID, c.Title, detail(c))
		}
	}
	was := func(c drift.Change) string { return fmt.Sprintf(" (was %s)", c.Was.Label()) }
	controls("Controls newly failing", rep.NewlyFailing, was)
	controls("Controls newly passing", rep.NewlyPassing, was)
	controls("Controls still failing", rep.StillFailing, func(c drift.Change) string {
		return " (failing since " + c.FailingSince.UTC().Format(time.DateOnly) + ")"
	})
	controls("Other status changes", rep.OtherChanges, func(c drift.Change) string {
		switch {
		case c.Status == "":
			return fmt.Sprintf(": not in the second pack (was %s)", c.Was.Label())
		case c.Was == "":
			return fmt.Sprintf(": %s, not in the first pack", c.Status.Label())
		}
		return fmt.Sprintf(": %s (was %s)", c.Status.Label(), c.Was.Label())
	})
	fmt.Fprintf(w, "\nExceptions: %d added, %d removed, %d changed, %d newly expired\n", len(rep.ExceptionsAdded), len(rep.ExceptionsRemoved),
		len(rep.ExceptionsChanged), len(rep.ExceptionsExpired))
	exc := func(mark string, e drift.Exception, detail string) {
		fmt.Fprintf(w, "  %s %s · %s · %s · %s (%s)%s\n", mark, e.Framework, e.AccountID, e.ControlID, e.Resource, e.Kind, detail)
	}
	for _, e := range rep.ExceptionsAdded {
		exc("+", e, reasonOf(e))
	}
	for _, e := range rep.ExceptionsRemoved {
		exc("-", e, reasonOf(e))
	}
	for _, c := range rep.ExceptionsChanged {
		exc("~", c.Exception, fmt.Sprintf(": was%s, now%s", termsOf(c.Was), termsOf(c.Exception)))
	}
	for _, e := range rep.ExceptionsExpired {
		exc("!", e, ": expired "+e.Expires.UTC().Format(time.DateOnly))
	}
	if !rep.Inventory {
		fmt.Fprintln(w, "\nInventory: not compared (a pack without the inventory table)")
		return
	}
	fmt.Fprintf(w, "\nInventory: %d resources added, %d gone\n", len(rep.ResourcesAdded), len(rep.ResourcesGone))
	const most = 50
	for _, l := range []struct {
		mark string
		rs   []drift.Resource
	}{{"+", rep.ResourcesAdded}, {"-", rep.ResourcesGone}} {
		for i, r := range l.rs {
			if i == most {
				fmt.Fprintf(w, "  %s … and %d more (--json lists every one)\n", l.mark, len(l.rs)-most)
				break
			}
			fmt.Fprintf(w, "  %s %s · %s · %s %s\n", l.mark, r.Cloud, r.AccountID, r.ResourceID, r.Type)
		}
	}
}

func reasonOf(e drift.Exception) string {
	if e.Reason == "" {
		return ""
	}
	return ": " + e.Reason
}

// termsOf is what an exception says: reason, description, author, expiry.
func termsOf(e drift.Exception) string {
	var parts []string
	for _, p := range []string{e.Reason, e.Description, e.By} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if !e.Expires.IsZero() {
		parts = append(parts, "until "+e.Expires.UTC().Format(time.DateOnly))
	}
	if len(parts) == 0 {
		return " (nothing recorded)"
	}
	return " " + strings.Join(parts, ", ")
}
