package ibmscc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/ibmscc"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

// fetchReport returns the report of policy in zone z: its controls are
// read from the API as the pipeline iterates them, once (the pipeline
// spools them): the requirements, and the failing resources of each
// failing control. At most one page and one control are in memory.
func (s *Source) fetchReport(ctx context.Context, policy string, z zoneRef) (source.Report, error) {
	return &report{s: s, ctx: ctx, policy: policy, zone: z, at: z.policy.LastEvaluated()}, nil
}

// control maps one (requirement, control) pair, reading the control's
// failing and accepted resources when it has any.
//
// The counts the pack shows for it, and how they reconcile with the API's:
//   - Assessed (assessed_resources) = objectsCount + acceptedCount +
//     passingCount, the control's evaluated resources (they do not overlap:
//     see ibmscc.FailingResources).
//   - Violations (violating_resources, the rows of the violations table) =
//     the failing resources whose risk is not accepted; there must be
//     exactly objectsCount of them.
//   - Suppressions: the accepted resources, grouped by acceptance ("risk
//     accepted (reason) until date: N resources"); the Ns add up to exactly
//     acceptedCount.
//
// A listing that does not match its count fails the report (ErrInconsistent)
// rather than give figures that contradict each other.
func (s *Source) control(ctx context.Context, req ibmscc.Requirement, ctl ibmscc.Control) (source.Control, error) {
	id := string(req.RequirementID) + "/" + string(ctl.ID)
	sevText := string(ctl.Severity)
	if sevText == "" {
		sevText = string(req.Severity) // inferred: a control without a severity has its requirement's
	}
	sev, rank, err := Severity(sevText)
	if err != nil {
		return source.Control{}, fmt.Errorf("control %s: %w", id, err)
	}
	c := source.Control{
		ID:           id,
		Title:        ctl.Name,
		Category:     req.Name,
		Requirement:  RequirementNumber(req.Name),
		Service:      cmp.Or(ctl.ResourceKind, ctl.Target),
		Severity:     sev,
		SeverityRank: rank,
		Status:       Status(ctl),
		Assessed:     ctl.Assessed(),
	}
	if ctl.IsManual || ctl.ObjectsCount == 0 && ctl.AcceptedCount == 0 {
		return c, nil
	}
	if ctl.ObjectsCount > 0 {
		for res, err := range s.client.FailingResources(ctx, ctl, nil) {
			if errors.Is(err, ibmscc.ErrNoResourceEndpoint) {
				// The control's status and counts stand; its resources cannot
				// be listed. Not a reason to lose the rest of the report.
				s.log.Warn("failing control without a resource endpoint: its resources are not listed",
					"control", c.ID, "failing", int64(ctl.ObjectsCount), "accepted", int64(ctl.AcceptedCount))
				return c, nil
			}
			if err != nil {
				return c, err
			}
			c.Violations = append(c.Violations, violation(res))
		}
		if n := int64(len(c.Violations)); n != int64(ctl.ObjectsCount) {
			return c, fmt.Errorf("%w: control %s: %d failing resources without an accepted risk were listed, the control's objectsCount is %d",
				ibmscc.ErrInconsistent, c.ID, n, int64(ctl.ObjectsCount))
		}
	}
	if ctl.AcceptedCount > 0 {
		accepted := map[string]int64{}
		var n int64
		for res, err := range s.client.AcceptedResources(ctx, ctl, nil) {
			if errors.Is(err, ibmscc.ErrNoResourceEndpoint) {
				s.log.Warn("control with accepted risks but no resource endpoint: they are not listed",
					"control", c.ID, "accepted", int64(ctl.AcceptedCount))
				return c, nil
			}
			if err != nil {
				return c, err
			}
			accepted[acceptanceLabel(res.Acceptance)]++
			c.Exceptions = append(c.Exceptions, exception(res))
			n++
		}
		if n != int64(ctl.AcceptedCount) {
			return c, fmt.Errorf("%w: control %s: %d resources with an accepted risk were listed, the control's acceptedCount is %d",
				ibmscc.ErrInconsistent, c.ID, n, int64(ctl.AcceptedCount))
		}
		for _, label := range slices.Sorted(maps.Keys(accepted)) {
			c.Suppressions = append(c.Suppressions, fmt.Sprintf("%s: %d resources", label, accepted[label]))
		}
	}
	return c, nil
}

// requirementControl stands in for a requirement that came without its
// controls: one control of the requirement's own, without resources. Its
// Assessed adds the requirement's failing counts per severity (inferred:
// like objectsCount, without the accepted ones), acceptedCount and
// passingCount.
func requirementControl(req ibmscc.Requirement) (source.Control, error) {
	sev, rank, err := Severity(string(req.Severity))
	if err != nil {
		return source.Control{}, fmt.Errorf("requirement %s: %w", req.RequirementID, err)
	}
	failing := int64(req.HighSeverityCount) + int64(req.MediumSeverityCount) + int64(req.LowSeverityCount)
	status := dataset.NonCompliant
	if req.Pass {
		status = dataset.Compliant
	}
	return source.Control{
		ID:           string(req.RequirementID),
		Title:        req.Name,
		Category:     req.Name,
		Requirement:  RequirementNumber(req.Name),
		Severity:     sev,
		SeverityRank: rank,
		Status:       status,
		Assessed:     failing + int64(req.AcceptedCount) + int64(req.PassingCount),
	}, nil
}

// RequirementNumber is the framework's own number of a requirement, which
// its name starts with: seed 002 ("Compliance Results") filters
// requirements by name with name in ("1.5 - Exposing HostPort"), and
// resources by requirement.failed in ("01.a Access Control Policy"): a
// requirement is named by its number in the framework, then its title.
// The requirementId field is the platform's own key (a number such as
// 16001), not the framework's. The first word counts as a number when it
// has a digit and is dotted ("1.5", "01.a", "CC6.1", "A.9.2.3") or all
// digits ("3"); otherwise ("2FA enforced", a name with no number) there is
// none, and "" is returned rather than a guess.
func RequirementNumber(name string) string {
	first, rest, ok := strings.Cut(strings.TrimSpace(name), " ")
	if !ok || strings.TrimSpace(rest) == "" {
		return ""
	}
	first = strings.TrimRight(first, ":")
	digits, dotted := 0, false
	for _, r := range first {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dotted = true
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '(', r == ')':
		default:
			return ""
		}
	}
	if digits == 0 || !dotted && digits != len(first) {
		return ""
	}
	return strings.TrimRight(first, ".")
}

// Status maps a control's result onto the pack's statuses.
func Status(ctl ibmscc.Control) dataset.Status {
	switch {
	case ctl.IsManual:
		return dataset.Manual
	case ctl.Pass:
		return dataset.Compliant
	case ctl.ObjectsCount == 0 && ctl.AcceptedCount > 0:
		return dataset.Suppressed
	}
	return dataset.NonCompliant
}

// ErrSeverity means a severity that is none of the document's three levels.
var ErrSeverity = errors.New("ibm_scc: severity is not one the API documents")

// Severity maps the API's severity onto the pack's names and ranks (1
// Critical … 5 Info). The document defines three levels, "1=low, 2=medium,
// 3=high" (seed 002, the severity filter of Compliance Results and
// Controls), and writes their names in the inventory's filter
// (control.severity in ("High")): exactly those, numbers or names in any
// case, are mapped. Anything else (0, 4, "Critical", "Info", empty) is
// refused with ErrSeverity rather than guessed.
func Severity(s string) (string, int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "high", "3":
		return "High", 2, nil
	case "medium", "2":
		return "Medium", 3, nil
	case "low", "1":
		return "Low", 4, nil
	}
	return "", 0, fmt.Errorf("%w: %q (want 1=low, 2=medium, 3=high)", ErrSeverity, truncate(s, 30))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// violation maps a failing resource: Resource is the most specific
// identifier the API gives, Region its location, Reasons what else
// identifies it.
func violation(r ibmscc.ControlResource) source.Violation {
	id := r.Name
	switch {
	case r.GlobalID != "":
		id = r.GlobalID
	case r.Account != "" && r.Name != "":
		id = string(r.Account) + "/" + r.Name
	case r.ClusterName != "" && r.ClusterName != "N/A" && r.Namespace != "":
		id = r.ClusterName + "/" + r.Namespace + "/" + r.Name
	case r.ClusterName != "" && r.ClusterName != "N/A":
		id = r.ClusterName + "/" + r.Name
	}
	if id == "" {
		id = r.Hash
	}
	var reasons []string
	add := func(k, v string) {
		if v != "" {
			reasons = append(reasons, k+": "+v)
		}
	}
	add("type", r.Type)
	add("account", string(r.Account))
	add("organization", string(r.Organization))
	add("os", strings.TrimSpace(r.OSName+" "+r.OSImage))
	add("hash", r.Hash)
	if !r.LastSeenDate.IsZero() {
		add("last seen", r.LastSeenDate.UTC().Format(time.RFC3339))
	}
	return source.Violation{Region: cmp.Or(r.Location, r.CloudRegion), Resource: id, Reasons: reasons}
}

// exception is an accepted risk of a resource as the register lists it:
// the acceptance's reason (its justification when it has no reason),
// description, username and expiresAt (seed 002 gives the acceptance's
// fields only in the filter "control.accepted"; the names are those of
// the emulator's reading, ibmscc.Acceptance).
func exception(r ibmscc.ControlResource) source.Exception {
	e := source.Exception{Kind: source.ExceptionRiskAccepted, Resource: violation(r).Resource}
	if a := r.Acceptance; a != nil {
		e.Reason, e.Description, e.By = cmp.Or(a.Reason, a.Justification), a.Description, a.Username
		if exp, err := ibmscc.ParseEpoch(string(a.ExpiresAt)); err == nil {
			e.Expires = exp.UTC()
		}
	}
	return e
}

// acceptanceLabel names a risk acceptance for the suppressions column.
func acceptanceLabel(a *ibmscc.Acceptance) string {
	label := "risk accepted"
	if r := cmp.Or(a.Reason, a.Justification); r != "" {
		label += " (" + r + ")"
	}
	if exp, err := ibmscc.ParseEpoch(string(a.ExpiresAt)); err == nil && !exp.IsZero() {
		label += " until " + exp.Format("2006-01-02")
	}
	return label
}

// report is a policy's report in a zone, read from the API by Controls.
type report struct {
	s      *Source
	ctx    context.Context
	policy string
	zone   zoneRef
	at     time.Time // the latest evaluation: the policy's, then its controls'
}

var _ source.Report = (*report)(nil)

func (r *report) AccountAlias() string { return "" }

// ReportTime is the latest evaluation time among the policy and the
// controls read so far (all of them once Controls has run), else now.
func (r *report) ReportTime() time.Time {
	if r.at.IsZero() && r.s.env.Now != nil {
		return r.s.env.Now().UTC()
	}
	return r.at
}

// Controls reads the report from the API, once.
func (r *report) Controls() iter.Seq2[source.Control, error] {
	return func(yield func(source.Control, error) bool) {
		fail := func(err error) {
			yield(source.Control{}, fmt.Errorf("%s report %q zone %q: %w", Name, r.policy, r.zone.name, err))
		}
		for req, err := range r.s.client.Requirements(r.ctx, ibmscc.RequirementQuery{Policy: r.policy, Zone: r.zone.name}) {
			if err != nil {
				yield(source.Control{}, err)
				return
			}
			if len(req.Controls) == 0 {
				rc, err := requirementControl(req)
				if err != nil {
					fail(err)
					return
				}
				if !yield(rc, nil) {
					return
				}
				continue
			}
			for _, ctl := range req.Controls {
				c, err := r.s.control(r.ctx, req, ctl)
				if err != nil {
					fail(fmt.Errorf("requirement %s control %s: %w", req.RequirementID, ctl.ID, err))
					return
				}
				if ctl.LastUpdate.After(r.at) {
					r.at = ctl.LastUpdate.Time
				}
				if !yield(c, nil) {
					return
				}
			}
		}
	}
}

// Vendor implements source.Report: the API has no rendering of its own to
// keep beside ours.
func (r *report) Vendor(context.Context) (io.ReadCloser, string, error) { return nil, "", nil }

// Close implements source.Report: nothing is held.
func (r *report) Close() error { return nil }
