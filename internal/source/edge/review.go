package edge

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/edge"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

// FrameworkName is the access-review framework's name.
const FrameworkName = "Access review"

// The access review: every access object ("access policy": "any user
// selected has access to any app selected") is one control.
//
//	control_id   the access policy's uuid
//	title        its description, else "Access policy <uuid>"
//	section      "Active access policies" or "Inactive access policies"
//	             (status other than ACTIVE: it grants nothing, so it is
//	             not checked and is Compliant)
//	service      the apps it grants, by name (uuid when not listed)
//	severity     High for every policy: each one grants application access
//	assessed     its user and group assignments: user_list entries
//	             "user:<uuid>", "group:<uuid>" or a bare uuid; other
//	             selectors (tags, filters) cannot be resolved against the
//	             directory and are not counted
//	status       CouldNotAssess when an ACTIVE policy selects principals
//	             only by such selectors; NonCompliant when an ACTIVE
//	             policy has a violation:
//	  - an assigned user or group is SUSPENDED or DELETED ("disabled
//	    principal still assigned");
//	  - an assigned user or group is not in the directory (deleted, or a
//	    stale uuid): the directory is read with every status the API lets
//	    a filter name (INIT, ACTIVE, SUSPENDED);
//	  - end_time has passed but the policy is still ACTIVE (the violating
//	    resource is the policy itself, access_policy:<uuid>);
//	  - it allows guest access (allow_guest_access): anyone with the link,
//	    not only the users selected (resource access_policy:<uuid>).
//	A principal in revoked_user_list (by selector or bare uuid) has had
//	its access revoked: it is not "still assigned", whatever its status.
//	An account where the lookups find no access object gets one
//	CouldNotAssess control saying so, and the report's Caveats say it
//	too (a warning in the manifest and the summary): an empty review is
//	not evidence that access is right.
//
// Where the access objects come from: Query access objects requires appid
// and userid (a lookup, not a listing), so the client lists the apps and
// users and looks every pair up (edge.Client.Accesses). An access object
// that applies to no listed pair is not reachable that way.
//
// Policies (Query policies, looked up per (app, user) like the access
// objects) follow the access objects, one control each: see policyControl.
//
// Deliberately not checked, because the API does not support them: MFA
// (mfa_status and idp_mfa_status are integers whose values the document
// does not define), stale accounts (no last-login field), group membership
// (groups carry only user_count). Those fields are in the inventory.
//
// Memory: accesses are spooled to a file while the users, groups and apps
// they name (and only those) are looked up in one pass over each list;
// Controls then reads the file once, turning each access into a control,
// and the policies after them (the pipeline spools the controls). The
// report holds the principals the accesses name, never the directory. (The review reads the lists itself rather
// than sharing the inventory units' reads: units run independently, and
// may be in different shards.)

const (
	sectionActive           = "Active access policies"
	sectionInactive         = "Inactive access policies"
	sectionPolicies         = "Active policies"
	sectionPoliciesInactive = "Inactive policies"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// parseSelector reads a user_list entry: "user:<uuid>", "group:<uuid>" or
// a bare uuid (kind "", either). ok is false for anything else (tags,
// filters, ids that are not uuids): the directory lists objects by uuid
// only, so such entries cannot be resolved and are not assessed, rather
// than reported as unknown.
func parseSelector(s string) (kind, id string, ok bool) {
	s = strings.TrimSpace(s)
	for _, k := range []string{"user", "group"} {
		if rest, found := strings.CutPrefix(s, k+":"); found {
			if rest = strings.TrimSpace(rest); uuidRE.MatchString(rest) {
				return k, strings.ToLower(rest), true
			}
			return "", "", false
		}
	}
	if uuidRE.MatchString(s) {
		return "", strings.ToLower(s), true
	}
	return "", "", false
}

// principal is what the directory says about one assigned id.
type principal struct {
	kind   string // "user" or "group" once found
	name   string
	status string
}

// lookup holds the principals and apps the accesses name.
type lookup struct {
	principals map[string]*principal // keyed by id (lower-case)
	apps       map[string]string     // app uuid (lower-case) -> name; "" until found
}

func (l *lookup) find(kind, id string) (*principal, bool) {
	p := l.principals[id]
	if p == nil || p.kind == "" || (kind != "" && p.kind != kind) {
		return nil, false
	}
	return p, true
}

// review fetches the access review: the accesses, spooled, and the
// principals and apps they name; Controls does the rest.
func (s *Source) review(ctx context.Context) (_ source.Report, err error) {
	at := s.now().UTC()
	accesses, err := os.CreateTemp(s.spoolDir, "evidence-edge-accesses-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("access review: %w", err)
	}
	defer func() {
		if cerr := accesses.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("access review: spool accesses: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(accesses.Name())
		}
	}()
	l := &lookup{principals: map[string]*principal{}, apps: map[string]string{}}
	w := bufio.NewWriter(accesses)
	enc := json.NewEncoder(w)
	n := 0
	for a, err := range s.client.Accesses(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("access review: %w", err)
		}
		for _, sel := range a.UserList {
			if _, id, ok := parseSelector(sel); ok && l.principals[id] == nil {
				l.principals[id] = &principal{}
			}
		}
		for _, app := range a.AppList {
			l.apps[strings.ToLower(strings.TrimSpace(app))] = ""
		}
		if err := enc.Encode(a); err != nil {
			return nil, fmt.Errorf("access review: spool access %s: %w", a.UUID, err)
		}
		n++
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("access review: spool accesses: %w", err)
	}
	if err := s.resolve(ctx, l); err != nil {
		return nil, fmt.Errorf("access review: %w", err)
	}
	s.log.Info("access review", "access_objects", n, "principals", len(l.principals))
	return newReport(accesses.Name(), n, s.client.Policies(ctx, nil), l, at, s.client.Account()), nil
}

// resolve reads users, groups and apps once each, keeping only those the
// accesses name.
func (s *Source) resolve(ctx context.Context, l *lookup) error {
	set := func(kind, id, name string, status edge.Enum) {
		if p := l.principals[strings.ToLower(id)]; p != nil && p.kind == "" {
			*p = principal{kind: kind, name: name, status: edge.StatusName(status)}
		}
	}
	for u, err := range s.client.Users(ctx, nil) {
		if err != nil {
			return err
		}
		set("user", u.UUID, u.DisplayName, u.Status)
	}
	for g, err := range s.client.Groups(ctx, nil) {
		if err != nil {
			return err
		}
		set("group", g.UUID, g.Name, g.Status)
	}
	if len(l.apps) == 0 {
		return nil
	}
	for a, err := range s.client.Apps(ctx, nil) {
		if err != nil {
			return err
		}
		if id := strings.ToLower(a.UUID); l.apps[id] == "" {
			if _, named := l.apps[id]; named {
				l.apps[id] = cmp.Or(a.Name, a.UUID)
			}
		}
	}
	return nil
}

// control checks one access policy.
func control(a edge.Access, l *lookup, at time.Time) source.Control {
	c := source.Control{
		ID:           a.UUID,
		Title:        cmp.Or(strings.TrimSpace(a.Description), "Access policy "+a.UUID),
		Category:     sectionInactive,
		Severity:     "High",
		SeverityRank: 2,
		Status:       dataset.Compliant,
	}
	var apps []string
	for _, id := range a.AppList {
		apps = append(apps, cmp.Or(l.apps[strings.ToLower(strings.TrimSpace(id))], id))
	}
	c.Service = strings.Join(apps, ", ")
	active := edge.StatusName(a.Status) == edge.StatusActive
	if active {
		c.Category = sectionActive
	}
	revoked := map[string]bool{}
	for _, sel := range a.RevokedUserList {
		if _, id, ok := parseSelector(sel); ok {
			revoked[id] = true
		}
	}
	unresolved := 0
	for _, sel := range a.UserList {
		kind, id, ok := parseSelector(sel)
		if !ok {
			if strings.TrimSpace(sel) != "" {
				unresolved++
			}
			continue
		}
		c.Assessed++
		if !active || revoked[id] {
			continue
		}
		p, found := l.find(kind, id)
		switch {
		case !found:
			what := cmp.Or(kind, "user or group")
			c.Violations = append(c.Violations, source.Violation{Resource: cmp.Or(kind, "principal") + ":" + id,
				Reasons: []string{fmt.Sprintf("assigned %s is not in the directory (deleted or unknown)", what)}})
		case p.status == edge.StatusSuspended || p.status == edge.StatusDeleted:
			c.Violations = append(c.Violations, source.Violation{Resource: p.kind + ":" + id,
				Reasons: []string{fmt.Sprintf("%s %q is %s but still assigned", p.kind, p.name, p.status)}})
		}
	}
	if active && !a.EndTime.IsZero() && !a.EndTime.After(at) {
		c.Violations = append(c.Violations, source.Violation{Resource: "access_policy:" + a.UUID,
			Reasons: []string{fmt.Sprintf("access ended %s but the policy is still ACTIVE", a.EndTime.UTC().Format(time.RFC3339))}})
	}
	if active && a.AllowGuestAccess {
		c.Violations = append(c.Violations, source.Violation{Resource: "access_policy:" + a.UUID,
			Reasons: []string{"guest access is allowed (allow_guest_access): not only the selected users can reach the apps"}})
	}
	switch {
	case len(c.Violations) > 0:
		c.Status = dataset.NonCompliant
	case active && c.Assessed == 0 && unresolved > 0:
		c.Status = dataset.CouldNotAssess // it selects principals only by tags or filters
	}
	return c
}

// policyControl is one policy (Query policies, the product's access
// policies) as a control of section "Active policies" or "Inactive
// policies":
//
//	control_id  the policy's uuid; title its name (else description)
//	service     "action <n>" (the document lists the action numbers, not
//	            their meaning)
//	status      an inactive policy is Compliant (it applies to nothing);
//	            an active one is NonCompliant when it allows guest access
//	            (violation policy:<uuid>), else RequiresManualAssessment:
//	            its action and filters are kept as the API sent them
//	            (Policies inventory), and the document gives no meaning
//	            for the numbers or the filters' inside to check them by.
func policyControl(p edge.Policy) source.Control {
	c := source.Control{
		ID:           p.UUID,
		Title:        cmp.Or(strings.TrimSpace(p.Name), strings.TrimSpace(p.Description), "Policy "+p.UUID),
		Category:     sectionPoliciesInactive,
		Service:      "action " + cmp.Or(string(p.Action), "0"),
		Severity:     "High",
		SeverityRank: 2,
		Status:       dataset.Compliant,
	}
	if edge.StatusName(p.Status) != edge.StatusActive {
		return c
	}
	c.Category, c.Status, c.Assessed = sectionPolicies, dataset.Manual, 1
	if p.AllowGuestAccess {
		c.Status = dataset.NonCompliant
		c.Violations = []source.Violation{{Resource: "policy:" + p.UUID,
			Reasons: []string{"guest access is allowed (allow_guest_access)"}}}
	}
	return c
}

// emptyReviewCaveat is the control title and the warning of a review that
// found nothing.
const emptyReviewCaveat = "No access object found: the per-app, per-user lookups returned none, so nothing was reviewed (not a pass)"

// report is an access review: its accesses in a file, the principals
// and apps they name, and the policies to read after them.
type report struct {
	accesses string // the spooled accesses, JSON lines
	n        int    // how many
	policies iter.Seq2[edge.Policy, error]
	lookup   *lookup
	account  string
	at       time.Time
	caveats  []string

	once     sync.Once
	closeErr error
}

// newReport is the review of the n accesses spooled at path, then of
// policies when not nil (policyControl).
func newReport(path string, n int, policies iter.Seq2[edge.Policy, error], l *lookup, at time.Time, account string) *report {
	r := &report{accesses: path, n: n, policies: policies, lookup: l, at: at, account: account}
	if n == 0 {
		r.caveats = []string{emptyReviewCaveat}
	}
	return r
}

func (r *report) AccountAlias() string { return r.account }

// Caveats implements source.Caveats.
func (r *report) Caveats() []string     { return r.caveats }
func (r *report) ReportTime() time.Time { return r.at }

// Vendor: Edge renders no report of its own.
func (r *report) Vendor(context.Context) (io.ReadCloser, string, error) { return nil, "", nil }

// Controls turns each spooled access into a control (one saying nothing
// was reviewed when there is none), then reads the policies, once.
func (r *report) Controls() iter.Seq2[source.Control, error] {
	return func(yield func(source.Control, error) bool) {
		if r.n == 0 && !yield(source.Control{ID: "no-access-policies", Title: emptyReviewCaveat,
			Category: sectionActive, Severity: "High", SeverityRank: 2, Status: dataset.CouldNotAssess}, nil) {
			return
		}
		f, err := os.Open(r.accesses)
		if err != nil {
			yield(source.Control{}, fmt.Errorf("access review: %w", err))
			return
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReader(f))
		for {
			var a edge.Access
			if err := dec.Decode(&a); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				yield(source.Control{}, fmt.Errorf("access review: read spooled accesses: %w", err))
				return
			}
			if !yield(control(a, r.lookup, r.at), nil) {
				return
			}
		}
		if r.policies == nil {
			return
		}
		for p, err := range r.policies {
			if err != nil {
				yield(source.Control{}, fmt.Errorf("access review: %w", err))
				return
			}
			if !yield(policyControl(p), nil) {
				return
			}
		}
	}
}

// Close removes the spooled accesses; it is safe to call more than once.
func (r *report) Close() error {
	r.once.Do(func() {
		if err := os.Remove(r.accesses); err != nil && !errors.Is(err, os.ErrNotExist) {
			r.closeErr = err
		}
	})
	return r.closeErr
}
