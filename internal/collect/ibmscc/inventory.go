package ibmscc

import (
	"cmp"
	"context"
	"iter"
	"net/url"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// InventoryQuery selects inventory resources.
type InventoryQuery struct {
	// Accounts, when set, keeps the resources of these cloud accounts
	// (filter `account in (…)`).
	Accounts []string
	// PageSize, when set, replaces the client's page size: 1 to learn
	// whether anything matches with the smallest answer.
	PageSize int
	Stats    *httpx.QueryStats
}

// Inventory streams the inventory (GET /api/cspm/v1/inventory/resources,
// paged), asking for every field the pack keeps. The inventory is the
// current state: the API has no time parameter.
func (c *Client) Inventory(ctx context.Context, q InventoryQuery) iter.Seq2[InventoryResource, error] {
	query := url.Values{"fields": {inventoryFields}}
	if len(q.Accounts) > 0 {
		query.Set("filter", In("account", q.Accounts...))
	}
	return pages[InventoryResource](ctx, c, pageSpec{
		what:     "inventory resources",
		path:     pathInventory,
		query:    query,
		bucket:   bucketInventory,
		pageSize: cmp.Or(q.PageSize, c.limits.PageSize),
	}, q.Stats)
}
