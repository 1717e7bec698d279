package sophos

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

// severity maps an alert's criticalLevel (else its rule result's severity)
// to the pack's scale.
func severity(a sophos.Alert) (string, int) {
	level := a.CriticalLevel
	if strings.TrimSpace(level) == "" {
		level = a.RuleResult.Severity
	}
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "critical":
		return "Critical", 1
	case "high":
		return "High", 2
	case "medium":
		return "Medium", 3
	case "low":
		return "Low", 4
	}
	return "Info", 5
}

// controlID is the rule an alert reports: its alertId, else the rule
// result's controlId, else its summary.
func controlID(a sophos.Alert) string {
	switch {
	case strings.TrimSpace(a.AlertID) != "":
		return a.AlertID
	case a.RuleResult.ControlID != "":
		return "control-" + string(a.RuleResult.ControlID)
	}
	return a.AlertSummary
}

// section is the framework section of an alert's rule.
func section(a sophos.Alert) string {
	if a.RuleResult.ControlIDDesc != "" {
		return a.RuleResult.ControlIDDesc
	}
	return a.PolicyLabel
}

func suppressed(state string) bool { return strings.EqualFold(strings.TrimSpace(state), "SUPPRESS") }

// datasetPrefix spells a cloud the way the pack's dataset names do
// (AwsCompliance, K8sCompliance).
func datasetPrefix(cloud string) string {
	switch cloud {
	case "AWS":
		return "Aws"
	case "GCP":
		return "Gcp"
	case "Kubernetes":
		return "K8s"
	case "":
		return "Other"
	}
	return cloud
}

// evaluations turns an alert into one row per affected resource.
func evaluations(a sophos.Alert, acct sophos.Account) []dataset.Evaluation {
	sev, _ := severity(a)
	cloud := sophos.NormalizeCloud(a.Provider)
	if cloud == "" {
		cloud = acct.Cloud()
	}
	alias := a.AccountName
	if alias == "" {
		alias = acct.Name
	}
	base := dataset.Evaluation{
		Dataset:        datasetPrefix(cloud) + "Alerts",
		AccountID:      string(a.AccountID),
		AccountAlias:   alias,
		ReportTime:     a.LastSeen.Time,
		ControlID:      controlID(a),
		Recommendation: a.AlertSummary,
		Section:        section(a),
		Severity:       sev,
		EvalType:       a.AlertType,
	}
	status := func(state string) string {
		if suppressed(a.State) || suppressed(state) {
			return string(dataset.Suppressed)
		}
		return string(dataset.NonCompliant)
	}
	res := a.RuleResult.AffectedResources
	if len(res) == 0 {
		e := base
		e.Status, e.Reason = status(""), a.AlertDetails
		e.Remediation = remediation(a, "", "")
		return []dataset.Evaluation{e}
	}
	out := make([]dataset.Evaluation, len(res))
	for i, r := range res {
		e := base
		e.Status = status(r.State)
		e.Resource = string(r.AffectedResource)
		e.Remediation = remediation(a, string(r.RemediateDate), r.Comment)
		e.Reason = r.FailureReason
		if e.Reason == "" {
			e.Reason = a.AlertDetails
		}
		out[i] = e
	}
	return out
}

// remediation is an alert's remediation trail as JSON, with what it
// records of one affected resource: evidence that a finding was acted on.
// The times are kept as sent (seed 004 types them "string" and "date"
// without a format). "" when the alert records none.
func remediation(a sophos.Alert, remediateDate, comment string) string {
	trail := map[string]string{}
	add := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			trail[k] = v
		}
	}
	add("last_action", a.LastAction)
	add("last_action_time", string(a.LastActionTime))
	add("jira_id", string(a.JiraID))
	add("remediate_date", remediateDate)
	add("comment", comment)
	if len(trail) == 0 {
		return ""
	}
	b, _ := json.Marshal(trail) // a map of strings always encodes
	return string(b)
}

// inventoryUnits plans one unit per inventory kind and provider that has
// selected environments, and one for the environments themselves.
func (s *src) inventoryUnits(req source.Request, all, selected []sophos.Account, accts map[string]sophos.Account) []source.TableUnit {
	var out []source.TableUnit
	add := func(key, sheet, partition string, call source.Call, rows func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error]) {
		if req.Has("inventory|" + s.tenant + "|" + key) {
			out = append(out, source.TableUnit{Table: dataset.Inventory, Sheet: sheet, Partition: "dataset=" + partition,
				SubAccount: s.tenant, Window: req.Period, Call: call, Rows: rows})
		}
	}
	call := func(path string, kv ...string) source.Call {
		p := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				p[kv[i]] = kv[i+1]
			}
		}
		return source.Call{Method: http.MethodGet, Path: path, Params: p}
	}
	// The environments unit lists what discovery saw, disabled ones too.
	envs := s.environments(req)
	var listed []sophos.Account
	for _, a := range all {
		if len(envs) == 0 || slices.Contains(envs, string(a.AccountID)) {
			listed = append(listed, a)
		}
	}
	add("environments", "Environments", "Environments", call(sophos.PathAccounts, "accountIds", strings.Join(envs, ",")), func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
		return func(yield func(dataset.Record, error) bool) {
			for _, a := range listed {
				if !yield(environmentResource(a), nil) {
					return
				}
			}
		}
	})
	// ids limits a query to the selected environments of cloud when the
	// config or --account names environments; otherwise the API's own list
	// applies.
	ids := func(cloud string) ([]string, bool) {
		var out []string
		for _, a := range selected {
			if a.Cloud() == cloud {
				out = append(out, string(a.AccountID))
			}
		}
		if len(envs) == 0 {
			return nil, len(out) > 0
		}
		return out, len(out) > 0
	}
	for _, p := range sophos.HostProviders() {
		if acctIDs, ok := ids(p); ok {
			add("hosts|"+p, "Hosts", datasetPrefix(p)+"Hosts", call(sophos.PathVMs, "provider", p, "accountIds", strings.Join(acctIDs, ",")), func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
				return source.Records(s.client.Hosts(ctx, sophos.InventoryQuery{Provider: p, AccountIDs: acctIDs, Stats: st}),
					func(h sophos.Host) dataset.Resource { return hostResource(h, accts) })
			})
		}
	}
	for _, p := range sophos.UserProviders() {
		if acctIDs, ok := ids(p); ok {
			add("users|"+p, "Users", datasetPrefix(p)+"Users", call(sophos.PathUsers, "provider", p, "accountIds", strings.Join(acctIDs, ",")), func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
				return source.Records(s.client.Users(ctx, sophos.InventoryQuery{Provider: p, AccountIDs: acctIDs, Stats: st}),
					func(u sophos.User) dataset.Resource { return userResource(u, accts) })
			})
		}
	}
	for _, p := range sophos.ServerlessProviders() {
		if acctIDs, ok := ids(p); ok {
			add("serverless|"+p, "Serverless", datasetPrefix(p)+"Serverless", call(sophos.PathServerless, "provider", p, "accountIds", strings.Join(acctIDs, ",")), func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
				return source.Records(s.client.Serverless(ctx, sophos.InventoryQuery{Provider: p, AccountIDs: acctIDs, Stats: st}),
					func(f sophos.Function) dataset.Resource { return functionResource(f, accts) })
			})
		}
	}
	for _, cp := range sophos.ContainerProviders() {
		acctIDs, ok := ids(sophos.ContainerCloud(cp))
		if !ok {
			continue
		}
		for _, ct := range sophos.ContainerTypes() {
			partition := strings.ToUpper(cp[:1]) + cp[1:] + strings.ToUpper(ct[:1]) + ct[1:] // EksPods
			add("containers|"+cp+"|"+ct, "Containers", partition,
				call(sophos.PathContainers, "cloudProvider", cp, "containerType", ct, "accountIds", strings.Join(acctIDs, ",")), func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
					q := sophos.ContainerQuery{CloudProvider: cp, ContainerType: ct, AccountIDs: acctIDs, Stats: st}
					return func(yield func(dataset.Record, error) bool) {
						for c, err := range s.client.Containers(ctx, q) {
							if errors.Is(err, sophos.ErrNotSupported) {
								// The API has no objects of this kind for this
								// provider: an empty part, not a failure.
								s.log.Info("container kind not offered by the API", "cloud_provider", cp, "container_type", ct)
								return
							}
							if err != nil {
								yield(nil, err)
								return
							}
							if !yield(containerResource(c, cp, ct, accts), nil) {
								return
							}
						}
					}
				})
		}
	}
	return out
}

// resource fills the columns every inventory kind shares.
func resource(accountType string, accountID sophos.Text, raw any, more sophos.MoreInfo, accts map[string]sophos.Account) dataset.Resource {
	id := string(accountID)
	a := accts[id]
	cloud := sophos.NormalizeCloud(accountType)
	if cloud == "" {
		cloud = a.Cloud()
	}
	cfg, _ := json.Marshal(raw) // re-encoding decoded JSON cannot fail
	region := more.Region
	if region == "" {
		region = more.Zone
	}
	return dataset.Resource{
		CSP:          cloud,
		AccountID:    id,
		AccountAlias: a.Name,
		Region:       region,
		CollectedTo:  a.SyncTime(),
		Tags:         more.TagsJSON(),
		Config:       string(cfg),
	}
}

func environmentResource(a sophos.Account) dataset.Resource {
	tags := ""
	if len(a.Tags) > 0 {
		b, _ := json.Marshal(a.Tags)
		tags = string(b)
	}
	status := a.Status
	if !a.Enabled() && !strings.Contains(strings.ToLower(status), "disabled") {
		status = strings.TrimSpace(status + " (disabled)")
	}
	return dataset.Resource{
		CSP:          a.Cloud(),
		AccountID:    string(a.AccountID),
		AccountAlias: a.Name,
		ResourceID:   string(a.AccountID),
		ResourceType: "environment",
		Service:      "Cloud Optix",
		CollectedTo:  a.SyncTime(),
		Status:       status,
		Tags:         tags,
		Config:       string(a.Raw),
	}
}

func hostResource(h sophos.Host, accts map[string]sophos.Account) dataset.Resource {
	more := sophos.ParseMoreInfo(h.MoreInfo)
	r := resource(h.AccountType, h.AccountID, h, more, accts)
	r.ResourceID, r.ResourceType = string(h.InstanceID), "host"
	r.Service = map[string]string{"AWS": "EC2", "Azure": "Virtual Machines", "GCP": "Compute Engine"}[r.CSP]
	if strings.HasPrefix(r.ResourceID, "/subscriptions/") {
		r.URN = r.ResourceID
	}
	return r
}

func userResource(u sophos.User, accts map[string]sophos.Account) dataset.Resource {
	more := sophos.ParseMoreInfo(u.MoreInfo)
	r := resource(u.AccountType, u.AccountID, u, more, accts)
	r.ResourceID, r.ResourceType, r.URN = u.Name, "user", more.ARN
	r.Service = map[string]string{"AWS": "IAM", "Azure": "Entra ID", "GCP": "Cloud Identity"}[r.CSP]
	return r
}

func functionResource(f sophos.Function, accts map[string]sophos.Account) dataset.Resource {
	more := sophos.ParseMoreInfo(f.MoreInfo)
	if more.Region == "" {
		more.Region = f.Region
	}
	r := resource(f.AccountType, f.AccountID, f, more, accts)
	r.ResourceID, r.ResourceType, r.URN = f.FunctionName, "function", more.FunctionARN
	r.Service = map[string]string{"AWS": "Lambda", "Azure": "Functions"}[r.CSP]
	return r
}

func containerResource(c sophos.ContainerObject, cloudProvider, containerType string, accts map[string]sophos.Account) dataset.Resource {
	more := sophos.ParseMoreInfo(c.MoreInfo)
	r := resource(c.AccountType, c.AccountID, c, more, accts)
	r.ResourceID = string(c.ObjectID)
	if r.ResourceID == "" {
		r.ResourceID = c.Name
	}
	r.ResourceType = strings.TrimSuffix(containerType, "s")
	r.Service = map[string]string{"eks": "EKS", "aks": "AKS", "gke": "GKE", "native": "Kubernetes"}[cloudProvider]
	return r
}
