package job

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
)

// lwSource plans and collects the units of one Lacework tenant.
type lwSource struct {
	r      *run
	cfg    *config.LaceworkTenant
	client *lacework.Client
	subs   []*lwSub
	fws    []lwFramework
}

// lwSub is one reachable sub-account with what discovery found in it.
type lwSub struct {
	name       string
	client     *lacework.Client
	targets    []lacework.Target
	frameworks []lacework.Framework
}

// lwFramework is one framework with the (sub-account, target) pairs it
// applies to: the report units.
type lwFramework struct {
	fw    lacework.Framework
	slug  string
	units []reportUnit
}

type reportUnit struct {
	sub    *lwSub
	target lacework.Target
	query  lacework.ReportQuery
}

// reportTypeRE recognises an API report type (AWS_CIS_14) given where a
// framework name is expected.
var reportTypeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_.:\-]+$`)

func newLaceworkClient(r *run, lw *config.LaceworkTenant) (*lacework.Client, error) {
	return lacework.New(lw.Credentials, lacework.Options{
		HTTPClient: r.deps.HTTPClient,
		Retry:      r.deps.Retry,
		Limits:     r.deps.Limits,
		Logger:     r.log,
		UserAgent:  "evidence/" + r.deps.Build.Version,
		Now:        r.deps.Now,
		SpoolDir:   r.deps.SpoolDir,
	})
}

// newLaceworkSource authenticates and discovers: sub-accounts, then each
// one's cloud accounts and frameworks. Refused credentials are fatal; a
// sub-account that fails discovery (403) becomes a failed unit.
func newLaceworkSource(ctx context.Context, r *run) (*lwSource, error) {
	lw := r.tenant.Lacework
	client, err := newLaceworkClient(r, lw)
	if err != nil {
		return nil, err
	}
	s := &lwSource{r: r, cfg: lw, client: client}
	var names []string
	if sub := lw.Credentials.SubAccount; sub != "" {
		names = []string{strings.ToLower(sub)}
	} else if names, err = client.SubAccounts(ctx); err != nil {
		return nil, err
	}
	if len(lw.SubAccounts) > 0 {
		names = slices.DeleteFunc(names, func(n string) bool { return !containsFold(lw.SubAccounts, n) })
		if len(names) == 0 {
			return nil, fmt.Errorf("none of the configured sub-accounts %v is reachable with this key", lw.SubAccounts)
		}
	}
	for _, name := range names {
		sc, err := client.SubAccount(name)
		if err != nil {
			return nil, err
		}
		sub := &lwSub{name: name, client: sc}
		if err := s.discover(ctx, sub); err != nil {
			if errors.Is(err, lacework.ErrAuth) || ctx.Err() != nil {
				return nil, err
			}
			r.fail(pack.Failure{Unit: "discover " + name, SubAccount: name, Error: err.Error()})
			continue
		}
		s.subs = append(s.subs, sub)
	}
	s.planReports()
	return s, nil
}

func (s *lwSource) discover(ctx context.Context, sub *lwSub) error {
	targets, err := sub.client.Targets(ctx)
	if err != nil {
		return err
	}
	if len(s.cfg.Accounts) > 0 {
		targets = slices.DeleteFunc(targets, func(t lacework.Target) bool {
			return !containsFold(s.cfg.Accounts, t.ID()) && !containsFold(s.cfg.Accounts, t.Primary)
		})
	}
	sub.targets = targets
	if !s.r.wants(config.DatasetReports) {
		return nil
	}
	fws, err := sub.client.Frameworks(ctx)
	if err != nil {
		return err
	}
	if len(s.cfg.Frameworks) > 0 {
		fws = s.selectFrameworks(fws)
	}
	sub.frameworks = fws
	return nil
}

// selectFrameworks keeps the configured frameworks: report names (or display
// names), compared case-insensitively, or API report types (AWS_CIS_14).
func (s *lwSource) selectFrameworks(all []lacework.Framework) []lacework.Framework {
	var out []lacework.Framework
	for _, want := range s.cfg.Frameworks {
		i := slices.IndexFunc(all, func(f lacework.Framework) bool {
			return strings.EqualFold(f.Name, want) || strings.EqualFold(f.DisplayName, want)
		})
		switch {
		case i >= 0:
			out = append(out, all[i])
		case reportTypeRE.MatchString(want):
			out = append(out, lacework.Framework{Name: want, ReportType: want, Cloud: cloudOfReportType(want)})
		default:
			s.r.warn("framework %q is not among the report definitions of this sub-account; run `evidence frameworks` to list them", want)
		}
	}
	return out
}

func cloudOfReportType(t string) lacework.Cloud {
	switch {
	case strings.HasPrefix(t, "AZURE"):
		return lacework.Azure
	case strings.HasPrefix(t, "GCP"):
		return lacework.GCP
	}
	return lacework.AWS
}

// planReports groups report units by framework: every target of the
// framework's cloud in every sub-account that has the framework.
func (s *lwSource) planReports() {
	byName := map[string]*lwFramework{}
	var order []string
	for _, sub := range s.subs {
		for _, fw := range sub.frameworks {
			key := string(fw.Cloud) + "\x00" + fw.Name
			f, ok := byName[key]
			if !ok {
				f = &lwFramework{fw: fw, slug: storage.SafePart(fw.Name)}
				byName[key] = f
				order = append(order, key)
			}
			for _, t := range sub.targets {
				if t.Cloud == fw.Cloud && s.r.inShard("report|"+fw.Name+"|"+sub.name+"|"+t.String()) {
					f.units = append(f.units, reportUnit{sub: sub, target: t,
						query: lacework.ReportQuery{Target: t, Framework: fw.Name, ReportType: fw.ReportType}})
				}
			}
		}
	}
	slices.Sort(order)
	// Two frameworks whose names sanitise alike must not share a folder.
	used := map[string]int{}
	for _, k := range order {
		f := byName[k]
		if len(f.units) == 0 {
			continue
		}
		if n := used[f.slug]; n > 0 {
			f.slug = fmt.Sprintf("%s_%d", f.slug, n+1)
		}
		used[f.slug]++
		s.fws = append(s.fws, *f)
	}
}

// hasCloud reports whether sub has a target in cloud.
func (sub *lwSub) hasCloud(c lacework.Cloud) bool {
	return slices.ContainsFunc(sub.targets, func(t lacework.Target) bool { return t.Cloud == c })
}

func (sub *lwSub) accountsOf(c lacework.Cloud) []string {
	var out []string
	for _, t := range sub.targets {
		if t.Cloud == c {
			out = append(out, t.ID())
		}
	}
	return out
}

// evaluationUnits: every dataset × sub-account that has accounts of the
// dataset's cloud (Kubernetes is always asked: clusters are not listed by
// CloudAccounts).
func (s *lwSource) evaluationUnits() [][2]string {
	var out [][2]string
	for _, ds := range lacework.EvaluationDatasets() {
		for _, sub := range s.subs {
			if c, ok := datasetCloud(ds); (!ok || sub.hasCloud(c)) && s.r.inShard("evaluations|"+ds+"|"+sub.name) {
				out = append(out, [2]string{ds, sub.name})
			}
		}
	}
	return out
}

func datasetCloud(ds string) (lacework.Cloud, bool) {
	switch ds {
	case "AwsCompliance":
		return lacework.AWS, true
	case "AzureCompliance":
		return lacework.Azure, true
	case "GcpCompliance":
		return lacework.GCP, true
	}
	return "", false
}

func (s *lwSource) inventoryUnits() [][2]string {
	var out [][2]string
	for _, csp := range lacework.InventoryCSPs() {
		for _, sub := range s.subs {
			if sub.hasCloud(lacework.Cloud(csp)) && s.r.inShard("inventory|"+csp+"|"+sub.name) {
				out = append(out, [2]string{csp, sub.name})
			}
		}
	}
	return out
}

// auditUnits are the sub-accounts whose audit log this shard collects.
func (s *lwSource) auditUnits() []*lwSub {
	var out []*lwSub
	for _, sub := range s.subs {
		if s.r.inShard("audit_logs|" + sub.name) {
			out = append(out, sub)
		}
	}
	return out
}

// inShard reports whether the unit named key belongs to this run's shard:
// a stable hash of the unit, so every shard of an Indexed Job agrees on the
// split without talking to the others.
func (r *run) inShard(key string) bool {
	sh := r.cfg.Shard
	if sh.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32()%uint32(sh.Count)) == sh.Index
}

func (s *lwSource) sub(name string) *lwSub {
	for _, sub := range s.subs {
		if sub.name == name {
			return sub
		}
	}
	return nil
}

func (s *lwSource) unitCount() int {
	n := 0
	if s.r.wants(config.DatasetReports) {
		for _, f := range s.fws {
			n += len(f.units)
		}
	}
	if s.r.wants(config.DatasetEvaluations) {
		n += len(s.evaluationUnits())
	}
	if s.r.wants(config.DatasetInventory) {
		n += len(s.inventoryUnits())
	}
	if s.r.wants(config.DatasetAuditLogs) {
		n += len(s.auditUnits())
	}
	return n
}

func (r *run) wants(ds string) bool { return slices.Contains(r.cfg.Datasets, ds) }

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// collectors returns the run's collectors: one per API functionality (rate
// limit bucket), so they can run side by side without sharing a budget.
func (s *lwSource) collectors() []func(context.Context) error {
	var out []func(context.Context) error
	if s.r.wants(config.DatasetReports) && len(s.fws) > 0 {
		out = append(out, s.collectReports)
	}
	if s.r.wants(config.DatasetEvaluations) {
		out = append(out, s.collectEvaluations)
	}
	if s.r.wants(config.DatasetInventory) {
		out = append(out, s.collectInventory)
	}
	if s.r.wants(config.DatasetAuditLogs) {
		out = append(out, s.collectAuditLogs)
	}
	return out
}
