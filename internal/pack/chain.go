package pack

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A tenant's packs form a chain: each manifest names the pack published
// before it (Manifest.Previous) and fixes that pack's content by the
// SHA-256 of its manifest.json, and a rerun names the pack of its period
// it replaces (Manifest.Replaces). VerifyChain checks every pack under a
// folder and every link between them.

// ChainProblem is one thing wrong with a chain, about one pack (its path
// under the folder checked) or, for missing days, none.
type ChainProblem struct {
	Pack   string
	Kind   string // one of the Chain* kinds
	Detail string
}

// Kinds of chain problems.
const (
	ChainPackInvalid = "pack"      // the pack's files do not verify
	ChainMissingDays = "gap"       // days of the range no verifying pack covers
	ChainBrokenLink  = "link"      // a linked pack is gone, or its manifest changed
	ChainFork        = "fork"      // two packs name one predecessor, or two name none
	ChainOrder       = "order"     // a pack's period or time runs backwards from its predecessor's
	ChainSignature   = "signature" // unsigned, not verifying, or by another key
)

func (p ChainProblem) String() string {
	if p.Pack == "" {
		return p.Kind + ": " + p.Detail
	}
	return p.Kind + ": " + p.Pack + ": " + p.Detail
}

// ChainReport is what VerifyChain found.
type ChainReport struct {
	Packs    int       // packs found
	From, To time.Time // the range their periods span
	Key      string    // the fingerprint of the key every signature was checked with; "" when none was
	Problems []ChainProblem
}

// OK reports whether every pack verifies, every link holds, the packs
// follow each other in time and no day of the range is missing.
func (r ChainReport) OK() bool { return len(r.Problems) == 0 && r.Packs > 0 }

// String is a verdict line, then one line per problem.
func (r ChainReport) String() string {
	var b strings.Builder
	verdict := "OK"
	if !r.OK() {
		verdict = fmt.Sprintf("FAILED (%d problems)", len(r.Problems))
	}
	fmt.Fprintf(&b, "chain: %s: %d packs", verdict, r.Packs)
	if r.Packs > 0 {
		fmt.Fprintf(&b, ", %s to %s", day(r.From), day(r.To.Add(-time.Nanosecond)))
	}
	if r.Key != "" {
		fmt.Fprintf(&b, ", signatures checked with key %s", r.Key)
	}
	b.WriteString("\n")
	for _, p := range r.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// chainPack is one pack of the folder, as VerifyChain saw it.
type chainPack struct {
	path string
	rep  Report
	ok   bool // its files verify
}

// VerifyChain checks the packs under prefix (a tenant's folder; "" is the
// store's root) as a chain: each pack's files (Verify), each link's target
// and its manifest's SHA-256, that no two packs name one predecessor (or
// no predecessor), that periods and publication times do not run
// backwards along the links, and which days of the range no verifying
// pack covers. With pub, every pack must be signed by that key. The error
// is for a chain that could not be read at all.
func VerifyChain(ctx context.Context, store Reader, prefix string, pub ed25519.PublicKey) (ChainReport, error) {
	var rep ChainReport
	paths, err := Packs(ctx, store, prefix)
	if err != nil {
		return rep, err
	}
	if pub != nil {
		rep.Key = KeyFingerprint(pub)
	}
	add := func(pack, kind, format string, a ...any) {
		rep.Problems = append(rep.Problems, ChainProblem{Pack: pack, Kind: kind, Detail: fmt.Sprintf(format, a...)})
	}
	packs := map[string]*chainPack{} // by pack id
	var all []*chainPack
	for _, p := range paths {
		r, err := Verify(ctx, store, p)
		if err != nil {
			add(p, ChainPackInvalid, "%v", err)
			continue
		}
		cp := &chainPack{path: p, rep: r, ok: r.OK()}
		if !cp.ok {
			add(p, ChainPackInvalid, "%d files do not verify (evidence verify lists them); first: %s", len(r.Problems), r.Problems[0])
		}
		if pub != nil {
			checkChainSignature(ctx, store, cp, pub, add)
		}
		if other, dup := packs[r.Manifest.PackID]; dup {
			add(p, ChainFork, "pack id %s is also %s's", r.Manifest.PackID, other.path)
			continue
		}
		packs[r.Manifest.PackID] = cp
		all = append(all, cp)
	}
	rep.Packs = len(all)
	// Oldest first: by publication.
	slices.SortFunc(all, func(a, b *chainPack) int {
		return cmp.Or(a.rep.Manifest.GeneratedAt.Compare(b.rep.Manifest.GeneratedAt), strings.Compare(a.path, b.path))
	})
	followers := map[string][]string{} // pack id → the packs naming it as Previous
	var firsts []string
	for _, cp := range all {
		m := cp.rep.Manifest
		if m.Previous == nil {
			firsts = append(firsts, cp.path)
		} else {
			followers[m.Previous.PackID] = append(followers[m.Previous.PackID], cp.path)
			if prev := checkLink(cp, "its predecessor", *m.Previous, packs, add); prev != nil {
				pm := prev.rep.Manifest
				if m.Period.From.Before(pm.Period.From) && m.Replaces == nil {
					add(cp.path, ChainOrder, "its period (%s) starts before its predecessor %s's (%s): published out of order", m.Period.Label, prev.path, pm.Period.Label)
				}
				if pm.GeneratedAt.After(m.GeneratedAt) {
					add(cp.path, ChainOrder, "generated at %s, before its predecessor %s (%s)", m.GeneratedAt.Format(time.RFC3339), prev.path, pm.GeneratedAt.Format(time.RFC3339))
				}
			}
		}
		if m.Replaces != nil {
			checkLink(cp, "the pack it replaces", *m.Replaces, packs, add)
		}
	}
	for _, cp := range all {
		if f := followers[cp.rep.Manifest.PackID]; len(f) > 1 {
			add(cp.path, ChainFork, "%d packs name it as their predecessor: %s", len(f), strings.Join(f, ", "))
		}
	}
	if len(firsts) > 1 {
		for _, p := range firsts[1:] {
			add(p, ChainFork, "names no predecessor, but %s was published before it: the chain starts again here (state.json lost, or another output)", firsts[0])
		}
	}
	rep.From, rep.To = missingDays(all, add)
	return rep, nil
}

// checkLink checks that the pack l names is in the folder with the
// manifest it was linked with, and returns it (nil when it is not).
func checkLink(cp *chainPack, what string, l Link, packs map[string]*chainPack, add func(pack, kind, format string, a ...any)) *chainPack {
	target, ok := packs[l.PackID]
	switch {
	case !ok:
		add(cp.path, ChainBrokenLink, "%s, %s (%s, period %s), is not here: deleted or moved", what, l.PackID, l.Path, l.Period.Label)
		return nil
	case target.rep.ManifestSHA256 != l.ManifestSHA256:
		add(cp.path, ChainBrokenLink, "%s, %s, has another manifest.json than it was linked with (SHA-256 %s, linked %s): replaced or changed",
			what, target.path, target.rep.ManifestSHA256, l.ManifestSHA256)
	}
	return target
}

// checkChainSignature checks that cp is signed by pub.
func checkChainSignature(ctx context.Context, store Reader, cp *chainPack, pub ed25519.PublicKey, add func(pack, kind, format string, a ...any)) {
	want := KeyFingerprint(pub)
	switch s := cp.rep.Manifest.Signature; {
	case !cp.rep.Signed:
		add(cp.path, ChainSignature, "not signed")
	case s != nil && s.KeyFingerprint != want:
		add(cp.path, ChainSignature, "signed by key %s, not %s", s.KeyFingerprint, want)
	default:
		if err := CheckSignature(ctx, store, cp.path, pub); errors.Is(err, ErrBadSignature) {
			add(cp.path, ChainSignature, "manifest.sig does not verify with key %s: the manifest or its signature changed", want)
		} else if err != nil {
			add(cp.path, ChainSignature, "%v", err)
		}
	}
}

// missingDays reports the UTC days between the earliest period start and
// the latest period end that no verifying pack's period covers whole, and
// returns that range.
func missingDays(all []*chainPack, add func(pack, kind, format string, a ...any)) (from, to time.Time) {
	const d = 24 * time.Hour
	var spans [][2]time.Time
	for _, cp := range all {
		p := cp.rep.Manifest.Period
		if from.IsZero() || p.From.Before(from) {
			from = p.From
		}
		if p.To.After(to) {
			to = p.To
		}
		if cp.ok {
			spans = append(spans, [2]time.Time{p.From, p.To})
		}
	}
	if from.IsZero() {
		return from, to
	}
	var gapFrom time.Time
	var gap int
	flush := func() {
		if gap > 0 {
			last := gapFrom.Add(time.Duration(gap-1) * d)
			if gap == 1 {
				add("", ChainMissingDays, "%s: no verifying pack covers it", day(gapFrom))
			} else {
				add("", ChainMissingDays, "%s to %s (%d days): no verifying pack covers them", day(gapFrom), day(last), gap)
			}
		}
		gap = 0
	}
	for t := from.UTC().Truncate(d); t.Before(to); t = t.Add(d) {
		covered := slices.ContainsFunc(spans, func(s [2]time.Time) bool { return !s[0].After(t) && !s[1].Before(t.Add(d)) })
		if covered {
			flush()
			continue
		}
		if gap == 0 {
			gapFrom = t
		}
		gap++
	}
	flush()
	return from, to
}
