package sophos

import (
	"context"
	"fmt"

	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

// Estimate predicts the requests of a plan, for `evidence plan`. Framework
// reports and evaluations are pages of at most 50 alerts: with probe, each
// unit's alerts are counted (GET api/v1/alerts/count, one request each);
// without, one page each. Inventory units are at least one request each
// (the inventory endpoints have no count), and so are the activity-log
// units (search).
func (s *src) Estimate(ctx context.Context, p *source.Plan, req source.Request, probe bool) ([]source.Bucket, error) {
	alerts := source.Bucket{Name: "alerts"}
	count := func(f sophos.AlertFilter) error {
		alerts.Units++
		if !probe {
			alerts.Requests++
			return nil
		}
		c, err := s.client.AlertCounts(ctx, f)
		if err != nil {
			return err
		}
		n := int64(c.Total)
		alerts.Rows += n
		alerts.Requests += max(1, int((n+sophos.MaxAlertPageSize-1)/sophos.MaxAlertPageSize))
		return nil
	}
	for _, fw := range p.Frameworks {
		for _, u := range fw.Units {
			f := alertFilter(u.Account, req.Period)
			f.PolicyTags = []string{fw.Name}
			if err := count(f); err != nil {
				return nil, fmt.Errorf("count the %s alerts of %s: %w", fw.Name, u.Account, err)
			}
		}
	}
	inventory := source.Bucket{Name: "inventory", Detail: "at least one request per unit, + 1 per further page"}
	search := source.Bucket{Name: "activity logs", Detail: fmt.Sprintf("at least one request per unit, + 1 per further %d events (the API has no count)", sophos.DefaultSearchPageSize)}
	for _, u := range p.Tables {
		switch u.Table {
		case dataset.AuditLogs:
			search.Units++
			search.Requests++
			continue
		case dataset.Inventory:
			inventory.Units++
			inventory.Requests++
			continue
		}
		if err := count(alertFilter(u.Account, req.Period)); err != nil {
			return nil, fmt.Errorf("count the alerts of %s: %w", u.Account, err)
		}
	}
	alerts.Detail = "one request per unit, + 1 per further 50 alerts"
	if probe {
		alerts.Detail = fmt.Sprintf("%d alerts in pages of %d (counted)", alerts.Rows, sophos.MaxAlertPageSize)
	}
	var out []source.Bucket
	for _, b := range []source.Bucket{alerts, inventory, search} {
		if b.Units > 0 {
			out = append(out, b)
		}
	}
	return out, nil
}
