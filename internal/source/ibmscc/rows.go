package ibmscc

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/ibmscc"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

type iterRecords = iter.Seq2[dataset.Record, error]

// inventoryRows streams the inventory of accounts (all when empty) as
// dataset.Resource rows.
func (s *Source) inventoryRows(accounts []string) func(context.Context, *httpx.QueryStats) iterRecords {
	return func(ctx context.Context, st *httpx.QueryStats) iterRecords {
		return s.inventory(ctx, accounts, st)
	}
}

func (s *Source) inventory(ctx context.Context, accounts []string, st *httpx.QueryStats) iterRecords {
	return source.Records(s.client.Inventory(ctx, ibmscc.InventoryQuery{Accounts: accounts, Stats: st}), Resource)
}

// auditRows streams the activity audit of w as dataset.AuditEvent rows.
func (s *Source) auditRows(ctx context.Context, w period.Window, st *httpx.QueryStats) iterRecords {
	return source.Records(s.client.AuditEvents(ctx, ibmscc.AuditQuery{From: w.From, To: w.To, Stats: st}), AuditEvent)
}

// Resource maps an inventory resource: CSP is the platform (AWS, GCP,
// Azure, Kubernetes, …); AccountID the account, project, subscription or
// cluster from the metadata; ResourceID the inventory id (else its hash);
// Service the category; URN the ARN / resource id when the metadata has
// one; CollectedFrom and CollectedTo both lastSeen; Tags the labels; Config
// the rest of the record (metadata, zones, configuration, posture
// summaries) as JSON.
func Resource(r ibmscc.InventoryResource) dataset.Resource {
	cfg := map[string]any{}
	put := func(k string, v json.RawMessage) {
		if len(v) > 0 && string(v) != "null" {
			cfg[k] = v
		}
	}
	if len(r.Metadata) > 0 {
		cfg["metadata"] = r.Metadata
	}
	if len(r.Zones) > 0 {
		cfg["zones"] = r.Zones
	}
	if r.Name != "" {
		cfg["name"] = r.Name
	}
	if r.ResourceOrigin != "" {
		cfg["resourceOrigin"] = r.ResourceOrigin
	}
	put("configuration", r.Configuration)
	put("keyValueConfigs", r.KeyValueConfigs)
	put("posturePolicySummary", r.PosturePolicySummary)
	put("postureControlSummary", r.PostureControlSummary)
	config := ""
	if len(cfg) > 0 {
		if b, err := json.Marshal(cfg); err == nil {
			config = string(b)
		}
	}
	tags := ""
	if l := strings.TrimSpace(string(r.Labels)); l != "" && l != "null" && l != "[]" && l != "{}" {
		tags = l
	}
	seen := r.LastSeen.Time
	return dataset.Resource{
		CSP:           r.Platform,
		AccountID:     r.Meta("account", "accountId", "project", "projectId", "subscription", "subscriptionId", "cluster", "clusterName"),
		ResourceID:    cmp.Or(string(r.ID), r.Hash),
		ResourceType:  r.Type,
		Service:       r.Category,
		Region:        r.Meta("region", "location", "zone"),
		URN:           cmp.Or(r.Meta("arn", "crn", "resourceId", "globalId"), r.Name),
		CollectedFrom: seen,
		CollectedTo:   seen,
		Tags:          tags,
		Config:        config,
	}
}

// AuditEvent maps an activity-audit event: AccountName is the cluster (the
// kubernetes.cluster.name label) or else the host; UserName the login user
// (commands) or the Kubernetes user; EventName the type (command,
// connection, fileaccess, kubernetes); UserAction what was done (the
// command line, the connection, the file and its permissions, the
// Kubernetes resource); Description the process and container context.
func AuditEvent(e ibmscc.AuditEvent) dataset.AuditEvent {
	var action string
	var ctx []string
	add := func(k, v string) {
		if v != "" {
			ctx = append(ctx, k+"="+v)
		}
	}
	switch e.Type {
	case "command":
		action = cmp.Or(e.Cmdline, e.Comm)
		add("cwd", e.Cwd)
		add("exe", e.ProcExepath)
		add("uid", string(e.UID))
	case "connection":
		action = strings.TrimSpace(fmt.Sprintf("%s %s %s:%s -> %s:%s", e.Direction, e.L4Protocol, e.ClientIPv4, e.ClientPort, e.ServerIPv4, e.ServerPort))
		add("processName", e.ProcessName)
		add("domains", strings.Join(e.DNSDomains, ","))
	case "fileaccess":
		action = strings.TrimSpace(e.Permissions + " " + joinPath(e.Directory, e.Filename))
	case "kubernetes":
		res := e.Resource
		if e.SubResource != "" {
			res += "/" + e.SubResource
		}
		action = strings.TrimSpace(res + " " + joinPath(e.Namespace, e.Name))
		add("userAgent", e.UserAgent)
		add("source", strings.Join(e.SourceAddresses, ","))
		add("groups", strings.Join(e.User.Groups, ","))
	}
	add("host", e.Hostname)
	add("container", e.ContainerID)
	add("process", e.Comm)
	add("pid", string(e.PID))
	add("id", e.ID)
	user := cmp.Or(e.User.Username, e.UserLoginName)
	return dataset.AuditEvent{
		Time:        e.Timestamp.Time,
		AccountName: cmp.Or(e.Labels["kubernetes.cluster.name"], e.Labels["host.hostName"], e.Hostname),
		UserName:    user,
		EventName:   e.Type,
		UserAction:  action,
		Description: strings.Join(ctx, "; "),
	}
}

func joinPath(dir, name string) string {
	switch {
	case dir == "":
		return name
	case name == "":
		return dir
	}
	// Not path.Join: the names are evidence, kept as the API gave them.
	return strings.TrimRight(dir, "/") + "/" + name
}
