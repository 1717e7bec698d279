package ibmscc

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/source"
)

// ErrNoResourceEndpoint means a failing control carries no
// resourceApiEndpoint, so its failing resources cannot be listed.
var ErrNoResourceEndpoint = errors.New("ibm_scc: control has no resourceApiEndpoint")

// Views returns the compliance views: every zone with the policies applied
// to it (GET /api/cspm/v1/compliance/views, not paged).
func (c *Client) Views(ctx context.Context) ([]View, error) {
	var resp viewsResponse
	if err := c.getJSON(ctx, httpx.Request{Path: pathViews, Bucket: bucketCompliance}, &resp); err != nil {
		return nil, fmt.Errorf("ibm_scc %s: compliance views: %w", c.InstanceID(), err)
	}
	return resp.Data, nil
}

// RequirementQuery selects the requirements of one policy in one zone.
type RequirementQuery struct {
	Policy string // policy name, as in View.Policies
	Zone   string // zone name
	Stats  *source.QueryStats
}

// Requirements streams the requirements of q with their controls
// (GET /api/cspm/v1/compliance/requirements, filter policy.name and
// zone.name, paged).
func (c *Client) Requirements(ctx context.Context, q RequirementQuery) iter.Seq2[Requirement, error] {
	if q.Policy == "" || q.Zone == "" {
		return fail[Requirement](errors.New("ibm_scc: requirements: policy and zone are required"))
	}
	query := url.Values{
		// The document lists filter, pageNumber and pageSize only; the
		// controls come with each requirement without any other parameter
		// (public clients, e.g. Sysdig's, send none).
		"filter": {And(In("policy.name", q.Policy), In("zone.name", q.Zone))},
	}
	return pages[Requirement](ctx, c, pageSpec{
		what:     fmt.Sprintf("requirements of %q in zone %q", q.Policy, q.Zone),
		path:     pathRequirements,
		query:    query,
		bucket:   bucketCompliance,
		pageSize: c.limits.PageSize,
	}, q.Stats)
}

// resourcePaths are the endpoints a control's resourceApiEndpoint may name.
var resourcePaths = []string{pathCloudResources, pathKubeResources, pathClusterResources}

// FailingResources streams the resources that fail ctl, accepted risks
// included (their Acceptance is set): the control's resourceApiEndpoint
// (GET /api/cspm/v1/{cloud,kube,clusteranalysis}/resources with its
// controlId, kind and "policyId=… and zones.id=…" filter) narrowed by
// "pass=false", paged. The endpoint must be one of those three paths on the
// API host; anything else is refused.
func (c *Client) FailingResources(ctx context.Context, ctl Control, st *source.QueryStats) iter.Seq2[ControlResource, error] {
	ep := strings.TrimSpace(ctl.ResourceAPIEndpoint)
	if ep == "" {
		return fail[ControlResource](fmt.Errorf("%w (control %s)", ErrNoResourceEndpoint, ctl.ID))
	}
	u, err := c.http.Resolve(ep)
	if err != nil {
		return fail[ControlResource](fmt.Errorf("ibm_scc: control %s: resourceApiEndpoint: %w", ctl.ID, err))
	}
	path := strings.TrimPrefix(u.Path, strings.TrimRight(c.http.Base().Path, "/"))
	if !slices.Contains(resourcePaths, path) {
		return fail[ControlResource](fmt.Errorf("ibm_scc: control %s: resourceApiEndpoint path %q is not a CSPM resources endpoint", ctl.ID, truncate(u.Path, 80)))
	}
	query := u.Query()
	query.Del("pageNumber")
	query.Del("pageSize")
	query.Set("filter", And(query.Get("filter"), "pass=false"))
	return pages[ControlResource](ctx, c, pageSpec{
		what:     fmt.Sprintf("failing resources of control %s", ctl.ID),
		path:     path,
		query:    query,
		bucket:   bucketResources,
		pageSize: c.limits.PageSize,
	}, st)
}
