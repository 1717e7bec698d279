package lacework

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// SubAccounts lists the enabled accounts the key's user can reach
// (GET /api/v2/UserProfile), lower-cased and sorted, as the Account-Name
// header expects them. A tenant without an organization yields its own
// account only.
func (c *Client) SubAccounts(ctx context.Context) ([]string, error) {
	var resp userProfiles
	if err := c.getJSON(ctx, httpx.Request{Path: pathUserProfile}, &resp); err != nil {
		return nil, fmt.Errorf("lacework %s: list sub-accounts: %w", c.creds.AccountName(), err)
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range resp {
		for _, a := range p.Accounts {
			name := strings.ToLower(strings.TrimSpace(a.AccountName))
			if name == "" || a.UserEnabled != 1 || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		out = []string{strings.ToLower(c.creds.AccountName())}
	}
	slices.Sort(out)
	return out, nil
}

// Cloud is a cloud service provider as the API names it in Inventory/search.
type Cloud string

// Clouds of the API.
const (
	AWS   Cloud = "AWS"
	Azure Cloud = "Azure"
	GCP   Cloud = "GCP"
)

// Dataset returns the ComplianceEvaluations dataset of the cloud.
func (c Cloud) Dataset() string { return string(c.normal()) + "Compliance" }

func (c Cloud) normal() Cloud {
	switch strings.ToLower(string(c)) {
	case "aws":
		return "Aws"
	case "azure":
		return "Azure"
	case "gcp":
		return "Gcp"
	}
	return c
}

// Target names one report target: an AWS account, an Azure
// subscription of a tenant, or a GCP project of an organization.
type Target struct {
	Cloud       Cloud
	Primary     string // primaryQueryId: AWS account, Azure tenant, GCP organization ("" for a project-level GCP integration)
	Secondary   string // secondaryQueryId: Azure subscription, GCP project
	Alias       string // human name when the API gives one
	Integration string // the CloudAccounts integration name
}

// ID is the target's own account id: the AWS account, Azure subscription or
// GCP project.
func (t Target) ID() string {
	if t.Secondary != "" {
		return t.Secondary
	}
	return t.Primary
}

func (t Target) String() string {
	s := string(t.Cloud) + ":" + t.Primary
	if t.Secondary != "" {
		s += "/" + t.Secondary
	}
	return s
}

// Targets discovers the report targets of this (sub-)account: enabled AwsCfg,
// AzureCfg and GcpCfg integrations, with Azure subscriptions and GCP projects
// expanded through the Configs endpoints. The result is sorted and
// de-duplicated.
func (c *Client) Targets(ctx context.Context) ([]Target, error) {
	t, _, err := c.TargetsAndExcluded(ctx)
	return t, err
}

// TargetsAndExcluded is Targets, plus the cloud integrations left out and
// why (disabled), for the pack's scope.
func (c *Client) TargetsAndExcluded(ctx context.Context) ([]Target, []string, error) {
	var resp page[CloudAccount]
	if err := c.getJSON(ctx, httpx.Request{Path: pathCloudAccounts}, &resp); err != nil {
		return nil, nil, fmt.Errorf("lacework %s: list cloud accounts: %w", c.Name(), err)
	}
	var out []Target
	seen := map[string]bool{}
	add := func(t Target) {
		if k := t.String(); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	var excluded []string
	for _, ca := range resp.Data {
		if ca.Enabled != 1 {
			excluded = append(excluded, fmt.Sprintf("%s integration %q: disabled in Lacework; no reports, evaluations or inventory", ca.Type, ca.Name))
			continue
		}
		var d cloudAccountData
		if len(ca.Data) > 0 {
			if err := json.Unmarshal(ca.Data, &d); err != nil {
				return nil, nil, fmt.Errorf("lacework %s: cloud account %q (%s): %w", c.Name(), ca.Name, ca.Type, err)
			}
		}
		switch ca.Type {
		case "AwsCfg", "AwsUsGovCfg":
			id := cmp.Or(d.AwsAccountID, d.AccessKeyCredentials.AccountID)
			if id == "" {
				c.log.Warn("cloud account integration without an account id; skipped", "integration", ca.Name, "type", ca.Type)
				continue
			}
			add(Target{Cloud: AWS, Primary: id, Integration: ca.Name})
		case "AzureCfg":
			if d.TenantID == "" {
				continue
			}
			subs, err := c.azureSubscriptions(ctx, d.TenantID)
			if err != nil {
				return nil, nil, err
			}
			for _, s := range subs {
				s.Integration = ca.Name
				add(s)
			}
		case "GcpCfg":
			if d.ID == "" {
				continue
			}
			if !strings.EqualFold(d.IDType, "ORGANIZATION") {
				add(Target{Cloud: GCP, Secondary: d.ID, Integration: ca.Name})
				continue
			}
			projects, err := c.gcpProjects(ctx, d.ID)
			if err != nil {
				return nil, nil, err
			}
			for _, p := range projects {
				p.Integration = ca.Name
				add(p)
			}
		}
	}
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.String(), b.String()) })
	return out, excluded, nil
}

func (c *Client) azureSubscriptions(ctx context.Context, tenant string) ([]Target, error) {
	var resp page[AzureConfig]
	q := url.Values{"tenantId": {tenant}}
	if err := c.getJSON(ctx, httpx.Request{Path: pathAzureSubscriptions, Query: q}, &resp); err != nil {
		return nil, fmt.Errorf("lacework %s: list Azure subscriptions of tenant %s: %w", c.Name(), tenant, err)
	}
	var out []Target
	for _, d := range resp.Data {
		tid, _ := SplitIDAlias(d.Tenant)
		if tid == "" {
			tid = tenant
		}
		for _, s := range d.Subscriptions {
			id, alias := SplitIDAlias(s)
			if id != "" {
				out = append(out, Target{Cloud: Azure, Primary: tid, Secondary: id, Alias: alias})
			}
		}
	}
	return out, nil
}

func (c *Client) gcpProjects(ctx context.Context, org string) ([]Target, error) {
	var resp page[GcpConfig]
	q := url.Values{"orgId": {org}}
	if err := c.getJSON(ctx, httpx.Request{Path: pathGcpProjects, Query: q}, &resp); err != nil {
		return nil, fmt.Errorf("lacework %s: list GCP projects of organization %s: %w", c.Name(), org, err)
	}
	var out []Target
	for _, d := range resp.Data {
		oid, _ := SplitIDAlias(d.Organization)
		if oid == "" {
			oid = org
		}
		for _, p := range d.Projects {
			id, alias := SplitIDAlias(p)
			if id != "" {
				out = append(out, Target{Cloud: GCP, Primary: oid, Secondary: id, Alias: alias})
			}
		}
	}
	return out, nil
}

// Framework is a compliance report definition: the reportName the Reports
// endpoint takes, and the cloud it applies to.
type Framework struct {
	Name        string // reportName
	DisplayName string
	Cloud       Cloud
	Custom      bool   // not created by Lacework (createdBy != SYSTEM)
	ReportType  string // set when the framework is named by its API report type (AWS_CIS_14)
}

// Frameworks lists the enabled compliance report definitions
// (GET /api/v2/ReportDefinitions, reportType COMPLIANCE), sorted by cloud
// and name.
func (c *Client) Frameworks(ctx context.Context) ([]Framework, error) {
	var resp page[ReportDefinition]
	if err := c.getJSON(ctx, httpx.Request{Path: pathReportDefinitions}, &resp); err != nil {
		return nil, fmt.Errorf("lacework %s: list report definitions: %w", c.Name(), err)
	}
	var out []Framework
	seen := map[string]bool{}
	for _, d := range resp.Data {
		if !strings.EqualFold(d.ReportType, "COMPLIANCE") || !d.IsEnabled() || d.ReportName == "" {
			continue
		}
		var cloud Cloud
		switch strings.ToLower(d.SubReportType) {
		case "aws":
			cloud = AWS
		case "azure":
			cloud = Azure
		case "gcp":
			cloud = GCP
		default:
			continue
		}
		k := string(cloud) + "\x00" + d.ReportName
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, Framework{Name: d.ReportName, DisplayName: d.DisplayName, Cloud: cloud, Custom: d.CreatedBy != "SYSTEM"})
	}
	slices.SortFunc(out, func(a, b Framework) int {
		if x := strings.Compare(string(a.Cloud), string(b.Cloud)); x != 0 {
			return x
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
