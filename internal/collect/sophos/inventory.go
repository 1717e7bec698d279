package sophos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/source"
)

// Limits of the paginated inventory endpoints vms, users, serverless and
// containers (seed 004, "Inventory"): page "Should start with 0"; size is
// mandatory and "Should not be more than 500 and less than 100".
const (
	FirstInventoryPage   = 0
	MinInventoryPageSize = 100
	MaxInventoryPageSize = 500
)

// Documented provider values per endpoint (case-sensitive).
var (
	accountProviders    = []string{"AWS", "Azure", "GCP", "Kubernetes", "Docker"}
	hostProviders       = []string{"AWS", "Azure", "GCP"}
	userProviders       = []string{"AWS", "Azure", "GCP"}
	serverlessProviders = []string{"AWS", "Azure"}
)

// HostProviders, UserProviders and ServerlessProviders return the provider
// values GET api/v1/vms, users and serverless accept.
func HostProviders() []string       { return slices.Clone(hostProviders) }
func UserProviders() []string       { return slices.Clone(userProviders) }
func ServerlessProviders() []string { return slices.Clone(serverlessProviders) }

// ContainerProviders returns the cloudProvider values of GET
// api/v1/containers, and ContainerTypes its containerType values.
func ContainerProviders() []string { return []string{"eks", "aks", "gke", "native"} }
func ContainerTypes() []string     { return []string{"clusters", "nodes", "pods", "containers"} }

// ContainerCloud is the environment type a container cloudProvider runs in:
// eks AWS, aks Azure, gke GCP, native Kubernetes.
func ContainerCloud(cloudProvider string) string {
	switch cloudProvider {
	case "eks":
		return "AWS"
	case "aks":
		return "Azure"
	case "gke":
		return "GCP"
	case "native":
		return "Kubernetes"
	}
	return ""
}

// AccountQuery selects environments; zero fields select all.
type AccountQuery struct {
	Provider   string // AWS, Azure, GCP, Kubernetes or Docker
	AccountIDs []string
}

// Accounts returns the environments of the customer (GET api/v1/accounts).
// The document says "This api is paginated" but documents neither page
// parameters nor an envelope: its response is one array. Both answers are
// read: an array is the whole list; an envelope ({"data": [...]}) with
// hasNext is followed as the inventory endpoints page (page from 0, with
// the size the server reported), held to its totalPages (inferred from
// the inventory endpoints' paging).
func (c *Client) Accounts(ctx context.Context, q AccountQuery) ([]Account, error) {
	var errs []error
	add := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if q.Provider != "" {
		checkValues(add, "provider", []string{q.Provider}, accountProviders)
	}
	checkList(add, "account id", q.AccountIDs)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: sophos tenant %s: environments: %w", ErrInvalidQuery, c.tenant, errors.Join(errs...))
	}
	v := url.Values{}
	if q.Provider != "" {
		v.Set("provider", q.Provider)
	}
	setList(v, "accountIds", q.AccountIDs)
	var all []Account
	for page := 0; page < maxPages; page++ {
		scope := "environments"
		if page > 0 {
			scope = fmt.Sprintf("environments (page %d)", page)
		}
		var raw json.RawMessage
		if err := c.get(ctx, httpx.Request{Path: PathAccounts, Query: v}, scope, &raw); err != nil {
			return nil, err
		}
		accts, pg, err := decodeAccounts(raw)
		if err != nil {
			return nil, fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err)
		}
		all = append(all, accts...)
		switch {
		case pg == nil || !pg.HasNext:
			if pg != nil && pg.TotalPages > 0 && int(pg.TotalPages) != page+1 {
				return nil, fmt.Errorf("sophos tenant %s: %s: %w: the API announced %d pages (totalPages), %d came", c.tenant, scope, ErrPaging, pg.TotalPages, page+1)
			}
			return all, nil
		case len(accts) == 0:
			return nil, fmt.Errorf("sophos tenant %s: %s: the API says more pages follow but sent an empty page; stopping to avoid a loop", c.tenant, scope)
		case pg.TotalPages > 0 && page+1 >= int(pg.TotalPages):
			return nil, fmt.Errorf("sophos tenant %s: %s: %w: hasNext past the %d pages announced (totalPages)", c.tenant, scope, ErrPaging, pg.TotalPages)
		}
		v = maps.Clone(v)
		v.Set("page", strconv.Itoa(page+1))
		v.Set("size", strconv.Itoa(max(int(pg.Size), len(accts))))
	}
	return nil, fmt.Errorf("sophos tenant %s: environments: more than %d pages; stopping", c.tenant, maxPages)
}

// decodeAccounts decodes an accounts response: an array, or an envelope
// with data (and, when set, errorMessage).
func decodeAccounts(raw json.RawMessage) ([]Account, *Page[json.RawMessage], error) {
	raw = bytes.TrimSpace(raw)
	var elems []json.RawMessage
	var env *Page[json.RawMessage]
	switch {
	case len(raw) > 0 && raw[0] == '[':
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, nil, fmt.Errorf("decode response: %w", err)
		}
	case len(raw) > 0 && raw[0] == '{':
		var pg Page[json.RawMessage]
		if err := json.Unmarshal(raw, &pg); err != nil {
			return nil, nil, fmt.Errorf("decode response: %w", err)
		}
		if pg.ErrorMessage != "" {
			return nil, nil, fmt.Errorf("the API answered with an error: %s", truncate(pg.ErrorMessage, 300))
		}
		if pg.Data == nil {
			return nil, nil, errors.New(`response has no "data" (the documented envelope)`)
		}
		elems, env = pg.Data, &pg
	case string(raw) == "null":
		return nil, nil, errors.New("response is null, not the documented list of environments")
	default:
		return nil, nil, errors.New("decode response: want a JSON array of environments")
	}
	out := make([]Account, 0, len(elems))
	for i, e := range elems {
		var a Account
		if err := json.Unmarshal(e, &a); err != nil {
			return nil, nil, fmt.Errorf("decode environment %d: %w", i, err)
		}
		a.AccountID = Text(AccountIDOf(a.AccountType, a.AccountID))
		a.Raw = e
		out = append(out, a)
	}
	return out, env, nil
}

// InventoryQuery selects one provider's resources of one inventory
// endpoint.
type InventoryQuery struct {
	Provider   string   // mandatory: AWS, Azure or GCP (serverless: AWS or Azure)
	AccountIDs []string // optional: only these environments
	PageSize   int      // 100..500; 0 means 500 (fewest requests)
	Stats      *source.QueryStats
}

// Hosts streams the instances and virtual machines of q (GET api/v1/vms).
func (c *Client) Hosts(ctx context.Context, q InventoryQuery) iter.Seq2[Host, error] {
	return inventory[Host](ctx, c, PathVMs, "hosts", hostProviders, q)
}

// Users streams the cloud users of q (GET api/v1/users).
func (c *Client) Users(ctx context.Context, q InventoryQuery) iter.Seq2[User, error] {
	return inventory[User](ctx, c, PathUsers, "users", userProviders, q)
}

// Serverless streams the Lambda functions (AWS) or Functions (Azure) of q
// (GET api/v1/serverless).
func (c *Client) Serverless(ctx context.Context, q InventoryQuery) iter.Seq2[Function, error] {
	return inventory[Function](ctx, c, PathServerless, "serverless functions", serverlessProviders, q)
}

func inventory[T any](ctx context.Context, c *Client, path, what string, providers []string, q InventoryQuery) iter.Seq2[T, error] {
	var errs []error
	add := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if q.Provider == "" {
		add("provider is mandatory (one of %s)", strings.Join(providers, ", "))
	} else {
		checkValues(add, "provider", []string{q.Provider}, providers)
	}
	size := inventorySize(add, q.PageSize)
	checkList(add, "account id", q.AccountIDs)
	scope := inventoryScope(what+" "+q.Provider, q.AccountIDs)
	if len(errs) > 0 {
		return fail[T](fmt.Errorf("%w: sophos tenant %s: %s: %w", ErrInvalidQuery, c.tenant, scope, errors.Join(errs...)))
	}
	v := url.Values{"provider": {q.Provider}}
	setList(v, "accountIds", q.AccountIDs)
	return pages[T](ctx, c, pageSpec{path: path, query: v, first: FirstInventoryPage, size: size, scope: scope}, q.Stats)
}

func inventorySize(add func(string, ...any), size int) int {
	if size == 0 {
		return MaxInventoryPageSize
	}
	if size < MinInventoryPageSize || size > MaxInventoryPageSize {
		add("page size %d: the API accepts %d to %d", size, MinInventoryPageSize, MaxInventoryPageSize)
	}
	return size
}

func inventoryScope(what string, ids []string) string {
	if len(ids) > 0 {
		return what + " of environment " + strings.Join(ids, ", ")
	}
	return what
}

// ContainerQuery selects container objects of one kind.
type ContainerQuery struct {
	CloudProvider string // mandatory: eks, aks, gke or native
	ContainerType string // mandatory: clusters, nodes, pods or containers
	AccountIDs    []string
	PageSize      int // 100..500; 0 means 500
	Stats         *source.QueryStats
}

// Containers streams the clusters, nodes, pods or containers of q
// (GET api/v1/containers).
func (c *Client) Containers(ctx context.Context, q ContainerQuery) iter.Seq2[ContainerObject, error] {
	var errs []error
	add := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	checkValues(add, "cloud provider", []string{q.CloudProvider}, ContainerProviders())
	checkValues(add, "container type", []string{q.ContainerType}, ContainerTypes())
	size := inventorySize(add, q.PageSize)
	checkList(add, "account id", q.AccountIDs)
	scope := inventoryScope("containers "+q.CloudProvider+"/"+q.ContainerType, q.AccountIDs)
	if len(errs) > 0 {
		return fail[ContainerObject](fmt.Errorf("%w: sophos tenant %s: %s: %w", ErrInvalidQuery, c.tenant, scope, errors.Join(errs...)))
	}
	v := url.Values{"cloudProvider": {q.CloudProvider}, "containerType": {q.ContainerType}}
	setList(v, "accountIds", q.AccountIDs)
	return pages[ContainerObject](ctx, c, pageSpec{path: PathContainers, query: v, first: FirstInventoryPage, size: size, scope: scope}, q.Stats)
}
