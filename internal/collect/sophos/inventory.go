package sophos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
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
//
// Seed 004 calls the endpoint paginated ("Note: This api is paginated.")
// but documents neither page parameters nor an envelope: its sample is one
// array, and that answer is complete. Inferred: a paged answer uses the
// envelope of the other inventory endpoints ({errorMessage, data,
// currentPage, hasNext, totalPages, size}); while it says hasNext, the next
// page is asked for with page=currentPage+1 and the size the server used,
// and the pages are checked as the other pagers' are (totalPages, empty
// pages, a page number that does not advance).
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
	var out []Account
	for n := 0; ; n++ {
		if n >= maxPages {
			return nil, fmt.Errorf("sophos tenant %s: environments: more than %d pages; stopping", c.tenant, maxPages)
		}
		scope := "environments"
		if n > 0 {
			scope = fmt.Sprintf("environments (page %s)", v.Get("page"))
		}
		var raw json.RawMessage
		if err := c.get(ctx, httpx.Request{Path: PathAccounts, Query: v}, scope, &raw); err != nil {
			return nil, err
		}
		pg, err := decodeAccounts(raw)
		if err != nil {
			return nil, fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err)
		}
		out = append(out, pg.accounts...)
		if !pg.paged {
			if n > 0 {
				return nil, fmt.Errorf("sophos tenant %s: %s: %w: a plain list answered a request for a further page", c.tenant, scope, ErrPaging)
			}
			return out, nil
		}
		size := int(pg.size)
		if size <= 0 {
			size = max(len(pg.accounts), 1)
		}
		if err := pageBounds(pageSpec{size: size}, n, len(pg.accounts), pg.hasNext, false, int(pg.totalPages)); err != nil {
			return nil, fmt.Errorf("sophos tenant %s: %s: %w", c.tenant, scope, err)
		}
		if !pg.hasNext {
			return out, nil
		}
		if len(pg.accounts) == 0 {
			return nil, fmt.Errorf("sophos tenant %s: %s: the API says more pages follow but sent an empty page; stopping to avoid a loop", c.tenant, scope)
		}
		next := int(pg.currentPage) + 1
		if prev := v.Get("page"); prev != "" && strconv.Itoa(next-1) != prev {
			return nil, fmt.Errorf("sophos tenant %s: %s: %w: asked for page %s, the API answered page %d", c.tenant, scope, ErrPaging, prev, pg.currentPage)
		}
		v.Set("page", strconv.Itoa(next))
		v.Set("size", strconv.Itoa(size))
	}
}

// accountPage is one decoded answer of GET api/v1/accounts.
type accountPage struct {
	accounts                      []Account
	paged                         bool // an envelope, not the documented plain array
	hasNext                       bool
	currentPage, totalPages, size Int
}

// decodeAccounts decodes an accounts response: the documented array, or
// an envelope with data (and, when set, errorMessage and the paging keys).
func decodeAccounts(raw json.RawMessage) (accountPage, error) {
	raw = bytes.TrimSpace(raw)
	var elems []json.RawMessage
	var out accountPage
	switch {
	case len(raw) > 0 && raw[0] == '[':
		if err := json.Unmarshal(raw, &elems); err != nil {
			return out, fmt.Errorf("decode response: %w", err)
		}
	case len(raw) > 0 && raw[0] == '{':
		var pg Page[json.RawMessage]
		if err := json.Unmarshal(raw, &pg); err != nil {
			return out, fmt.Errorf("decode response: %w", err)
		}
		if pg.ErrorMessage != "" {
			return out, fmt.Errorf("the API answered with an error: %s", truncate(pg.ErrorMessage, 300))
		}
		if pg.Data == nil {
			return out, errors.New(`response has no "data" (the documented envelope)`)
		}
		elems = pg.Data
		out.paged, out.hasNext = true, pg.HasNext
		out.currentPage, out.totalPages, out.size = pg.CurrentPage, pg.TotalPages, pg.Size
	case string(raw) == "null":
		return out, errors.New("response is null, not the documented list of environments")
	default:
		return out, errors.New("decode response: want a JSON array of environments")
	}
	out.accounts = make([]Account, 0, len(elems))
	for i, e := range elems {
		var a Account
		if err := json.Unmarshal(e, &a); err != nil {
			return out, fmt.Errorf("decode environment %d: %w", i, err)
		}
		a.normalize()
		a.Raw = e
		out.accounts = append(out.accounts, a)
	}
	return out, nil
}

// InventoryQuery selects one provider's resources of one inventory
// endpoint.
type InventoryQuery struct {
	Provider   string   // mandatory: AWS, Azure or GCP (serverless: AWS or Azure)
	AccountIDs []string // optional: only these environments
	PageSize   int      // 100..500; 0 means 500 (fewest requests)
	Stats      *httpx.QueryStats
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
//
// Seed 004 contradicts itself on its pages: "Page to be retrieved. Should
// start with 0. Default: 0", but its failures list 400 "Page number should
// be greater than 0". Both are handled: paging starts at 0, and when page 0
// is refused with that message it starts again at 1.
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
		return httpx.Fail[T](fmt.Errorf("%w: sophos tenant %s: %s: %w", ErrInvalidQuery, c.tenant, scope, errors.Join(errs...)))
	}
	v := url.Values{"provider": {q.Provider}}
	setList(v, "accountIds", q.AccountIDs)
	return pages[T](ctx, c, pageSpec{path: path, query: v, first: FirstInventoryPage, size: size, scope: scope, orFromOne: path == PathServerless}, q.Stats)
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
	Stats         *httpx.QueryStats
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
		return httpx.Fail[ContainerObject](fmt.Errorf("%w: sophos tenant %s: %s: %w", ErrInvalidQuery, c.tenant, scope, errors.Join(errs...)))
	}
	v := url.Values{"cloudProvider": {q.CloudProvider}, "containerType": {q.ContainerType}}
	setList(v, "accountIds", q.AccountIDs)
	return pages[ContainerObject](ctx, c, pageSpec{path: PathContainers, query: v, first: FirstInventoryPage, size: size, scope: scope}, q.Stats)
}
