package sophos

import (
	"context"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

// auditUnits plans one audit-log unit per provider with an activity-log
// search key (AWS, Azure, GCP) that has selected environments: its cloud
// activity logs over the request's audit window. When the config or
// --account names environments, only their events are kept.
func (s *src) auditUnits(req source.Request, selected []sophos.Account, accts map[string]sophos.Account) []source.TableUnit {
	narrowed := len(s.environments(req)) > 0
	var out []source.TableUnit
	for _, p := range sophos.ActivityLogProviders() {
		var ids []string
		for _, a := range selected {
			if a.Cloud() == p {
				ids = append(ids, string(a.AccountID))
			}
		}
		if len(ids) == 0 || !req.Has("audit_logs|"+s.tenant+"|"+p) {
			continue
		}
		if !narrowed {
			ids = nil // every event the API returns
		}
		w := req.Audit
		out = append(out, source.TableUnit{
			Table: dataset.AuditLogs, Sheet: "ActivityLogs", Partition: "dataset=" + datasetPrefix(p) + "ActivityLogs",
			SubAccount: s.tenant, Window: w,
			Call: source.Call{Method: http.MethodGet, Path: sophos.PathSearch + sophos.ActivityLogKey(p), Params: map[string]string{
				"page": "from 1", "window": w.From.UTC().Format(time.RFC3339) + "/" + w.To.UTC().Format(time.RFC3339) + " (kept client-side: the document names no time filter)"}},
			Rows: func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
				q := sophos.ActivityLogQuery{Provider: p, AccountIDs: ids, From: w.From, To: w.To, Stats: st}
				return source.Records(s.client.ActivityLogs(ctx, q), func(l sophos.ActivityLog) dataset.AuditEvent { return auditEvent(l, accts) })
			},
		})
	}
	return out
}

// auditEvent maps a cloud activity-log event: the account is the
// environment's name and id, the action the service and event
// ("iam.amazonaws.com CreateUser"), and the description the event as
// received, so nothing of it is lost.
func auditEvent(l sophos.ActivityLog, accts map[string]sophos.Account) dataset.AuditEvent {
	id := string(l.AccountID)
	account := id
	if a, ok := accts[id]; ok && a.Name != "" && a.Name != id {
		account = a.Name + " (" + id + ")"
	}
	return dataset.AuditEvent{
		Time:        l.Time.Time,
		AccountName: account,
		UserName:    l.User,
		EventName:   l.Event,
		UserAction:  strings.TrimSpace(l.Service + " " + l.Event),
		Description: string(l.Raw),
	}
}
