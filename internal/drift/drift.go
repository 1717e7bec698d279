// Package drift compares two packs of a tenant: which controls started or
// stopped failing, which still fail (and since when, following the chain
// of packs back), and which resources the inventory gained or lost. It
// reads only the packs' Parquet tables and manifests, never an API.
//
// A control is identified by its sub-account, framework, cloud account and
// control id (the controls table's row_id is the same key); a resource by
// its sub-account, cloud, cloud account and resource id.
package drift

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
)

// Control is a control of one cloud account in a pack.
type Control struct {
	SubAccount string         `json:"sub_account"`
	Framework  string         `json:"framework"`
	AccountID  string         `json:"account_id"`
	ControlID  string         `json:"control_id"`
	Title      string         `json:"title"`
	Severity   string         `json:"severity"`
	Status     dataset.Status `json:"status"`
	Violating  int64          `json:"violating_resources"`
}

func (c Control) key() controlKey {
	return controlKey{c.SubAccount, c.Framework, c.AccountID, c.ControlID}
}

type controlKey struct{ sub, framework, account, control string }

// failing is a status that counts as failing: NonCompliant. Suppressed
// controls fail with every failure excepted, and are not counted here.
func failing(s dataset.Status) bool { return s == dataset.NonCompliant }

// Change is a control whose status is compared between the packs.
type Change struct {
	Control
	Was dataset.Status `json:"was,omitempty"` // its status in the first pack ("" when it was not there)
	// FailingSince is, for a control still failing, the start of the
	// earliest period of the unbroken run of packs, along the second
	// pack's chain, in which it failed; zero when the chain could not be
	// followed.
	FailingSince time.Time `json:"failing_since,omitzero"`
}

// Resource is an inventory resource.
type Resource struct {
	SubAccount string `json:"sub_account"`
	Cloud      string `json:"cloud"`
	AccountID  string `json:"account_id"`
	ResourceID string `json:"resource_id"`
	Type       string `json:"resource_type,omitempty"`
}

// Report is the drift from pack A to pack B.
type Report struct {
	A, B         Side     `json:"-"`
	NewlyFailing []Change `json:"newly_failing"`
	NewlyPassing []Change `json:"newly_passing"`
	StillFailing []Change `json:"still_failing"`
	OtherChanges []Change `json:"other_changes"` // any other status change, and controls in only one pack
	// The exception registers compared: exceptions in b only, in a only,
	// in both with another reason, description, author or expiry, and in
	// both that lapsed in b and had not in a.
	ExceptionsAdded   []Exception       `json:"exceptions_added"`
	ExceptionsRemoved []Exception       `json:"exceptions_removed"`
	ExceptionsChanged []ExceptionChange `json:"exceptions_changed"`
	ExceptionsExpired []Exception       `json:"exceptions_expired"`
	ResourcesAdded    []Resource        `json:"resources_added"`
	ResourcesGone     []Resource        `json:"resources_gone"`
	// Inventory is false when either pack has no inventory table: the
	// resource lists then say nothing.
	Inventory bool `json:"inventory_compared"`
}

// Side is one of the packs compared.
type Side struct {
	Location string        `json:"location"`
	Manifest pack.Manifest `json:"-"`
}

// Compare reads packs a and b (each a store rooted at its pack folder) and
// reports the drift from a to b. Every file of a published pack is read as
// its manifest lists it, and checked against it (pack.Listed): a changed
// file fails the comparison (pack.ErrChanged). root gives, for b's
// manifest, the store of the output that holds b's chain (Link paths are
// relative to it), so that a still failing control's first failing day
// can be found; nil, or a nil store, leaves FailingSince at b's own day.
func Compare(ctx context.Context, a, b Pack, root func(pack.Manifest) pack.Reader) (Report, error) {
	rep, a, b, err := open(ctx, a, b)
	if err != nil {
		return rep, err
	}
	if err := controls(ctx, &rep, a, b, root); err != nil {
		return rep, err
	}
	if err := compareExceptions(ctx, a, b, &rep); err != nil {
		return rep, err
	}
	rep.ResourcesAdded, rep.ResourcesGone, rep.Inventory, err = compareInventory(ctx, a, b)
	return rep, err
}

// Exception is an exception of a pack's register (the exceptions table).
type Exception struct {
	SubAccount  string    `json:"sub_account"`
	Framework   string    `json:"framework"`
	AccountID   string    `json:"account_id"`
	ControlID   string    `json:"control_id"`
	Kind        string    `json:"kind"`
	Resource    string    `json:"resource"`
	Reason      string    `json:"reason,omitempty"`
	Description string    `json:"description,omitempty"`
	By          string    `json:"by,omitempty"`
	Expires     time.Time `json:"expires_at,omitzero"`
	Expired     bool      `json:"expired"`
}

// ExceptionChange is an exception in both packs whose terms differ.
type ExceptionChange struct {
	Exception
	Was Exception `json:"was"`
}

func (e Exception) key() string {
	return strings.Join([]string{e.SubAccount, e.Framework, e.AccountID, e.ControlID, e.Kind, e.Resource}, "\x00")
}

func (e Exception) terms() [4]string {
	return [4]string{e.Reason, e.Description, e.By, e.Expires.UTC().Format(time.RFC3339)}
}

type exceptionRow struct {
	SubAccount  *string    `parquet:"sub_account,optional"`
	Framework   *string    `parquet:"framework,optional"`
	AccountID   *string    `parquet:"account_id,optional"`
	ControlID   *string    `parquet:"control_id,optional"`
	Kind        *string    `parquet:"kind,optional"`
	Resource    *string    `parquet:"resource,optional"`
	Reason      *string    `parquet:"reason,optional"`
	Description *string    `parquet:"description,optional"`
	By          *string    `parquet:"created_by,optional"`
	Expires     *time.Time `parquet:"expires_at,optional,timestamp(millisecond)"`
	Expired     *bool      `parquet:"expired,optional"`
}

func readExceptions(ctx context.Context, s pack.Reader) (map[string]Exception, error) {
	out := map[string]Exception{}
	err := EachRow(ctx, s, "", dataset.Exceptions, func(r exceptionRow) {
		e := Exception{SubAccount: deref(r.SubAccount), Framework: deref(r.Framework), AccountID: deref(r.AccountID), ControlID: deref(r.ControlID),
			Kind: deref(r.Kind), Resource: deref(r.Resource), Reason: deref(r.Reason), Description: deref(r.Description), By: deref(r.By),
			Expires: deref(r.Expires), Expired: deref(r.Expired)}
		out[e.key()] = e
	})
	return out, err
}

// compareExceptions compares the packs' exception registers (packs made
// before the register have none: every exception of the other is then
// added or removed).
func compareExceptions(ctx context.Context, a, b Pack, rep *Report) error {
	ea, err := readExceptions(ctx, a.Store)
	if err != nil {
		return fmt.Errorf("drift: %s: %w", a.Location, err)
	}
	eb, err := readExceptions(ctx, b.Store)
	if err != nil {
		return fmt.Errorf("drift: %s: %w", b.Location, err)
	}
	for k, e := range eb {
		was, ok := ea[k]
		switch {
		case !ok:
			rep.ExceptionsAdded = append(rep.ExceptionsAdded, e)
		case was.terms() != e.terms():
			rep.ExceptionsChanged = append(rep.ExceptionsChanged, ExceptionChange{Exception: e, Was: was})
		}
		if ok && e.Expired && !was.Expired {
			rep.ExceptionsExpired = append(rep.ExceptionsExpired, e)
		}
	}
	for k, e := range ea {
		if _, ok := eb[k]; !ok {
			rep.ExceptionsRemoved = append(rep.ExceptionsRemoved, e)
		}
	}
	byKey := func(x, y Exception) int { return strings.Compare(x.key(), y.key()) }
	slices.SortFunc(rep.ExceptionsAdded, byKey)
	slices.SortFunc(rep.ExceptionsRemoved, byKey)
	slices.SortFunc(rep.ExceptionsExpired, byKey)
	slices.SortFunc(rep.ExceptionsChanged, func(x, y ExceptionChange) int { return byKey(x.Exception, y.Exception) })
	return nil
}

// Controls is Compare without the inventory: its memory is the two packs'
// controls, whatever the size of their inventories.
func Controls(ctx context.Context, a, b Pack, root func(pack.Manifest) pack.Reader) (Report, error) {
	rep, a, b, err := open(ctx, a, b)
	if err != nil {
		return rep, err
	}
	return rep, controls(ctx, &rep, a, b, root)
}

// open reads the packs' manifests into a report, and returns the packs
// as their manifests list them (pack.Listed; a pack given its manifest,
// being written, is read as it is).
func open(ctx context.Context, a, b Pack) (Report, Pack, Pack, error) {
	var rep Report
	var err error
	if rep.A, a, err = a.open(ctx); err != nil {
		return rep, a, b, err
	}
	if rep.B, b, err = b.open(ctx); err != nil {
		return rep, a, b, err
	}
	if rep.A.Manifest.Tenant != rep.B.Manifest.Tenant {
		return rep, a, b, fmt.Errorf("drift: %s is tenant %q's pack, %s tenant %q's", a.Location, rep.A.Manifest.Tenant, b.Location, rep.B.Manifest.Tenant)
	}
	return rep, a, b, nil
}

// controls compares the packs' controls into rep.
func controls(ctx context.Context, rep *Report, a, b Pack, root func(pack.Manifest) pack.Reader) error {
	ca, err := readControls(ctx, a.Store, "")
	if err != nil {
		return fmt.Errorf("drift: %s: %w", a.Location, err)
	}
	cb, err := readControls(ctx, b.Store, "")
	if err != nil {
		return fmt.Errorf("drift: %s: %w", b.Location, err)
	}
	for k, nb := range cb {
		oa, had := ca[k]
		ch := Change{Control: nb, Was: oa.Status}
		switch {
		case had && !failing(oa.Status) && failing(nb.Status):
			rep.NewlyFailing = append(rep.NewlyFailing, ch)
		case had && failing(oa.Status) && !failing(nb.Status):
			rep.NewlyPassing = append(rep.NewlyPassing, ch)
		case had && failing(oa.Status) && failing(nb.Status):
			rep.StillFailing = append(rep.StillFailing, ch)
		case !had || oa.Status != nb.Status:
			rep.OtherChanges = append(rep.OtherChanges, ch)
		}
	}
	for k, oa := range ca {
		if _, ok := cb[k]; !ok {
			rep.OtherChanges = append(rep.OtherChanges, Change{Control: Control{SubAccount: oa.SubAccount, Framework: oa.Framework,
				AccountID: oa.AccountID, ControlID: oa.ControlID, Title: oa.Title, Severity: oa.Severity}, Was: oa.Status})
		}
	}
	for _, l := range []*[]Change{&rep.NewlyFailing, &rep.NewlyPassing, &rep.StillFailing, &rep.OtherChanges} {
		slices.SortFunc(*l, func(x, y Change) int { return compareKeys(x.key(), y.key()) })
	}
	var chain pack.Reader
	if root != nil {
		chain = root(rep.B.Manifest)
	}
	if chain != nil {
		if err := failingSince(ctx, chain, rep.B.Manifest, rep.StillFailing); err != nil {
			return fmt.Errorf("drift: follow %s's chain: %w", b.Location, err)
		}
	}
	return nil
}

// Pack is a pack to compare: a store rooted at its folder.
type Pack struct {
	Location string // as the user named it
	Store    pack.Reader
	// Manifest, when set, is the pack's manifest: a pack being written
	// has no manifest.json yet.
	Manifest *pack.Manifest
}

// open reads p's manifest and returns p as the manifest lists it.
func (p Pack) open(ctx context.Context) (Side, Pack, error) {
	if p.Manifest != nil {
		return Side{Location: p.Location, Manifest: *p.Manifest}, p, nil
	}
	m, err := ReadManifest(ctx, p.Store, "")
	if err != nil {
		return Side{}, p, fmt.Errorf("drift: %s: %w", p.Location, err)
	}
	p.Store = pack.Listed(p.Store, "", m)
	return Side{Location: p.Location, Manifest: m}, p, nil
}

func compareKeys(a, b controlKey) int {
	return cmp.Or(strings.Compare(a.sub, b.sub), strings.Compare(a.framework, b.framework),
		strings.Compare(a.account, b.account), strings.Compare(a.control, b.control))
}

// failingSince walks the chain back from b through root (the output's
// store: Link paths are relative to it), as long as some of the still
// failing controls failed in each predecessor, and sets their
// FailingSince.
func failingSince(ctx context.Context, root pack.Reader, b pack.Manifest, still []Change) error {
	open := map[controlKey]*Change{}
	for i := range still {
		still[i].FailingSince = b.Period.From
		open[still[i].key()] = &still[i]
	}
	for link := b.Previous; link != nil && len(open) > 0; {
		m, err := ReadManifest(ctx, root, link.Path)
		if errors.Is(err, storage.ErrNotExist) || errors.Is(err, pack.ErrNoManifest) {
			break // the chain is broken here: verify --chain says so
		}
		if err != nil {
			return err
		}
		controls, err := readControls(ctx, pack.Listed(root, link.Path, m), "")
		if errors.Is(err, pack.ErrChanged) {
			break // a pack changed since it was published: verify --chain says so
		}
		if err != nil {
			return err
		}
		for k, ch := range open {
			c, ok := controls[k]
			if !ok || !failing(c.Status) {
				delete(open, k) // the run of failing packs ends here
				continue
			}
			if m.Period.From.Before(ch.FailingSince) {
				ch.FailingSince = m.Period.From
			}
		}
		link = m.Previous
	}
	return nil
}

// ReadManifest reads and decodes the manifest.json of the pack under
// prefix ("" for s's root). Its errors wrap storage.ErrNotExist when there
// is none, and pack.ErrBadManifest.
func ReadManifest(ctx context.Context, s pack.Reader, prefix string) (pack.Manifest, error) {
	rc, err := s.Get(ctx, join(prefix, pack.ManifestName))
	if err != nil {
		return pack.Manifest{}, err
	}
	defer rc.Close()
	return pack.DecodeManifest(io.LimitReader(rc, pack.MaxManifestSize))
}

func join(prefix, p string) string {
	if prefix == "" {
		return p
	}
	return path.Join(prefix, p)
}

// ControlRow is what is read back of a controls table row (drift, the
// period report); the Parquet columns are optional (dataset,
// reportgen/parquet). Control gives its values.
type ControlRow struct {
	Source     *string    `parquet:"source,optional"`
	SubAccount *string    `parquet:"sub_account,optional"`
	Framework  *string    `parquet:"framework,optional"`
	Cloud      *string    `parquet:"cloud,optional"`
	AccountID  *string    `parquet:"account_id,optional"`
	ReportTime *time.Time `parquet:"report_time,optional,timestamp(millisecond)"`
	ControlID  *string    `parquet:"control_id,optional"`
	Title      *string    `parquet:"title,optional"`
	Severity   *string    `parquet:"severity,optional"`
	Status     *string    `parquet:"status,optional"`
	Violating  *int64     `parquet:"violating_resources,optional"`
}

// FrameworkKey is the framework the row belongs to (dataset.FrameworkOf).
func (r ControlRow) FrameworkKey() dataset.FrameworkKey {
	return dataset.FrameworkOf(deref(r.Source), deref(r.Framework), deref(r.Cloud))
}

// AssessedAt is when the platform assessed the row's account (its
// report_time); zero when the row has none.
func (r ControlRow) AssessedAt() time.Time { return deref(r.ReportTime) }

// Control is the row's values, "" and 0 for nulls.
func (r ControlRow) Control() Control {
	return Control{SubAccount: deref(r.SubAccount), Framework: deref(r.Framework), AccountID: deref(r.AccountID),
		ControlID: deref(r.ControlID), Title: deref(r.Title), Severity: deref(r.Severity),
		Status: dataset.Status(deref(r.Status)), Violating: deref(r.Violating)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// readControls reads the controls tables of the pack under prefix.
func readControls(ctx context.Context, s pack.Reader, prefix string) (map[controlKey]Control, error) {
	out := map[controlKey]Control{}
	err := EachRow(ctx, s, prefix, dataset.Controls, func(r ControlRow) {
		c := r.Control()
		out[c.key()] = c
	})
	return out, err
}

type resourceRow struct {
	SubAccount *string `parquet:"sub_account,optional"`
	Cloud      *string `parquet:"csp,optional"`
	AccountID  *string `parquet:"account_id,optional"`
	ResourceID *string `parquet:"resource_id,optional"`
	Type       *string `parquet:"resource_type,optional"`
}

// compareInventory lists the resources of b's inventory not in a's, and
// a's not in b's. It holds a digest of each resource key of a (32 bytes
// each) and one pass over b, then one more over a: memory grows with one
// inventory's size, not with its rows' content.
func compareInventory(ctx context.Context, a, b Pack) (added, gone []Resource, compared bool, err error) {
	digest := func(r Resource) [32]byte {
		return sha256.Sum256([]byte(r.SubAccount + "\x00" + r.Cloud + "\x00" + r.AccountID + "\x00" + r.ResourceID))
	}
	read := func(p Pack, fn func(Resource)) (bool, error) {
		n := 0
		err := EachRow(ctx, p.Store, "", dataset.Inventory, func(r resourceRow) {
			n++
			fn(Resource{SubAccount: deref(r.SubAccount), Cloud: deref(r.Cloud), AccountID: deref(r.AccountID),
				ResourceID: deref(r.ResourceID), Type: deref(r.Type)})
		})
		return n > 0, err
	}
	inA := map[[32]byte]bool{}
	hasA, err := read(a, func(r Resource) { inA[digest(r)] = true })
	if err != nil {
		return nil, nil, false, fmt.Errorf("drift: %s: %w", a.Location, err)
	}
	inB := map[[32]byte]bool{}
	hasB, err := read(b, func(r Resource) {
		d := digest(r)
		inB[d] = true
		if !inA[d] {
			added = append(added, r)
		}
	})
	if err != nil {
		return nil, nil, false, fmt.Errorf("drift: %s: %w", b.Location, err)
	}
	if _, err := read(a, func(r Resource) {
		if !inB[digest(r)] {
			gone = append(gone, r)
		}
	}); err != nil {
		return nil, nil, false, fmt.Errorf("drift: %s: %w", a.Location, err)
	}
	return added, gone, hasA && hasB, nil
}

// EachRow calls fn for every row of table's Parquet files in the pack under
// prefix, read as T (a struct whose parquet tags name the columns it wants,
// each optional: the tables' columns are). Each file is spooled to a
// temporary file (Parquet is read from its end): memory holds a row group,
// not the file. The files are those s lists under parquet/<table>/.
func EachRow[T any](ctx context.Context, s pack.Reader, prefix, table string, fn func(T)) error {
	dir := join(prefix, "parquet/"+table) + "/"
	var keys []string
	if err := s.List(ctx, dir, func(o storage.Object) error {
		if strings.HasSuffix(o.Key, ".parquet") {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := readFile(ctx, s, k, fn); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func readFile[T any](ctx context.Context, s pack.Reader, key string, fn func(T)) error {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp("", "evidence-drift-*.parquet")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, rc)
	if err != nil {
		return err
	}
	f, err := pq.OpenFile(tmp, size)
	if err != nil {
		return err
	}
	r := pq.NewGenericReader[T](f)
	defer r.Close()
	buf := make([]T, 256)
	for {
		n, err := r.Read(buf)
		for _, row := range buf[:n] {
			fn(row)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
