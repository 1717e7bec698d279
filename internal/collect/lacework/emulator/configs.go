package emulator

import (
	"net/http"
	"strings"
	"time"
)

// handleUserProfile serves GET /api/v2/UserProfile: the organisation's
// accounts, primary first, account names upper-case.
func (s *Server) handleUserProfile(c *call) *response {
	type account struct {
		Admin       bool   `json:"admin"`
		AccountName string `json:"accountName"`
		CustGUID    string `json:"custGuid"`
		UserGUID    string `json:"userGuid"`
		UserEnabled int    `json:"userEnabled"`
	}
	type profile struct {
		Username   string    `json:"username"`
		OrgAccount bool      `json:"orgAccount"`
		URL        string    `json:"url"`
		OrgAdmin   bool      `json:"orgAdmin"`
		OrgUser    bool      `json:"orgUser"`
		Accounts   []account `json:"accounts"`
	}
	p := profile{Username: "auditor@example.com", OrgAccount: true, URL: s.cfg.Account + ".lacework.net", OrgAdmin: true}
	for _, sa := range s.tenant.SubAccounts {
		in := s.subs[sa.Name]
		p.Accounts = append(p.Accounts, account{Admin: true, AccountName: in.upper, CustGUID: in.custGuid, UserGUID: in.userGuid, UserEnabled: 1})
	}
	// A bare array, as the document's response sample is (seed 000, List
	// Sub-accounts); lacework/go-sdk (api/user_profile.go) reads a "data"
	// envelope, which the client accepts too.
	return s.jsonResp(http.StatusOK, []profile{p})
}

// Cloud account wire shapes (go-sdk v2CommonIntegrationData + data).
type integrationState struct {
	Ok                 bool           `json:"ok"`
	LastUpdatedTime    int64          `json:"lastUpdatedTime"`
	LastSuccessfulTime int64          `json:"lastSuccessfulTime"`
	Details            map[string]any `json:"details"`
}

type cloudAccount struct {
	IntgGuid             string           `json:"intgGuid"`
	Name                 string           `json:"name"`
	CreatedOrUpdatedTime string           `json:"createdOrUpdatedTime"`
	CreatedOrUpdatedBy   string           `json:"createdOrUpdatedBy"`
	Type                 string           `json:"type"`
	Enabled              int              `json:"enabled"`
	IsOrg                int              `json:"isOrg"`
	State                integrationState `json:"state"`
	Data                 any              `json:"data"`
}

type awsCfgData struct {
	CrossAccountCredentials struct {
		RoleArn    string `json:"roleArn"`
		ExternalID string `json:"externalId"`
	} `json:"crossAccountCredentials"`
	AwsAccountID string `json:"awsAccountId"`
}

// awsUsGovCfgData is AwsUsGovCfg's data (go-sdk
// api/cloud_accounts_aws_gov_cfg.go: AwsUsGovCfgData): access-key
// credentials that carry the account id; the secret is never returned.
type awsUsGovCfgData struct {
	AccessKeyCredentials struct {
		AccountID   string `json:"accountId"`
		AccessKeyID string `json:"accessKeyId"`
	} `json:"accessKeyCredentials"`
}

type azureCfgData struct {
	Credentials struct {
		ClientID string `json:"clientId"`
	} `json:"credentials"`
	TenantID string `json:"tenantId"`
}

type gcpCfgData struct {
	Credentials struct {
		ClientID    string `json:"clientId"`
		ClientEmail string `json:"clientEmail"`
	} `json:"credentials"`
	IDType string `json:"idType"`
	ID     string `json:"id"`
}

// cloudAccountTypes are the CloudAccounts {type} values (go-sdk
// CloudAccountTypes); the emulator only has AwsCfg, AzureCfg and GcpCfg
// integrations, the other types list as empty.
var cloudAccountTypes = []string{"AwsCfg", "AwsCtSqs", "AwsEksAudit", "AwsSidekick", "AwsSidekickOrg", "AwsUsGovCfg", "AwsUsGovCtSqs",
	"AzureAdAl", "AzureAlSeq", "AzureCfg", "GcpAtSes", "GcpCfg", "GcpGkeAudit", "GcpSidekick", "AzureSidekick", "GcpAlPubSub",
	"OciCfg", "AwsDspm", "AzureDspm"}

// cloudAccounts renders the integrations of a sub-account.
func (s *Server) cloudAccounts(sa *subAccount, now time.Time) []cloudAccount {
	r := sa.key.Str("cloudaccounts").Rng()
	// Integrations were last polled at the latest hourly mark before now.
	polled := floorDiv(msCeil(now), int64(time.Hour/time.Millisecond)) * int64(time.Hour/time.Millisecond)
	mk := func(guid, name, typ string, enabled bool, data any) cloudAccount {
		ca := cloudAccount{
			IntgGuid: guid, Name: name, Type: typ, Enabled: 0,
			CreatedOrUpdatedTime: fmtMs(sa.intgTime),
			CreatedOrUpdatedBy:   "alice@example.com",
			State:                integrationState{Ok: true, LastUpdatedTime: polled, LastSuccessfulTime: polled, Details: map[string]any{}},
			Data:                 data,
		}
		if enabled {
			ca.Enabled = 1
		}
		return ca
	}
	var out []cloudAccount
	for _, a := range sa.pub.AWS {
		if a.GovCloud {
			var d awsUsGovCfgData
			d.AccessKeyCredentials.AccountID = a.AccountID
			d.AccessKeyCredentials.AccessKeyID = "AKIA" + strings.ToUpper(r.Hex(8))
			out = append(out, mk(a.IntgGuid, a.Name, "AwsUsGovCfg", a.Enabled, d))
			continue
		}
		var d awsCfgData
		d.CrossAccountCredentials.RoleArn = "arn:aws:iam::" + a.AccountID + ":role/lw"
		d.CrossAccountCredentials.ExternalID = "lweid:aws:v2:" + sa.pub.Name + ":" + a.AccountID + ":" + r.Hex(8)
		d.AwsAccountID = a.AccountID
		out = append(out, mk(a.IntgGuid, a.Name, "AwsCfg", a.Enabled, d))
	}
	for _, t := range sa.pub.Azure {
		var d azureCfgData
		d.Credentials.ClientID = r.UUID()
		d.TenantID = t.TenantID
		out = append(out, mk(t.IntgGuid, t.Name, "AzureCfg", true, d))
	}
	for _, o := range sa.pub.GCP {
		var d gcpCfgData
		d.Credentials.ClientID = r.Digits(21)
		d.Credentials.ClientEmail = "lacework@" + o.Projects[0].ID + ".iam.gserviceaccount.com"
		d.IDType, d.ID = "ORGANIZATION", o.OrgID
		if o.OrgID == "" {
			d.IDType, d.ID = "PROJECT", o.Projects[0].ID
		}
		out = append(out, mk(o.IntgGuid, o.Name, "GcpCfg", true, d))
	}
	return out
}

// handleCloudAccounts serves GET /api/v2/CloudAccounts and
// /api/v2/CloudAccounts/{type|intgGuid}.
func (s *Server) handleCloudAccounts(c *call) *response {
	all := s.cloudAccounts(c.sub, c.now)
	if c.tail == "" {
		return s.jsonResp(http.StatusOK, struct {
			Data []cloudAccount `json:"data"`
		}{all})
	}
	for _, t := range cloudAccountTypes {
		if c.tail == t {
			list := []cloudAccount{}
			for _, ca := range all {
				if ca.Type == t {
					list = append(list, ca)
				}
			}
			return s.jsonResp(http.StatusOK, struct {
				Data []cloudAccount `json:"data"`
			}{list})
		}
	}
	for _, ca := range all {
		if ca.IntgGuid == c.tail {
			return s.jsonResp(http.StatusOK, struct {
				Data cloudAccount `json:"data"`
			}{ca})
		}
	}
	return s.failResp(errorf(http.StatusNotFound, "no cloud account type or integration %q", c.tail))
}

// handleAzureSubscriptions serves GET /api/v2/Configs/AzureSubscriptions[?tenantId=].
func (s *Server) handleAzureSubscriptions(c *call) *response {
	type item struct {
		Tenant        string   `json:"tenant"`
		Subscriptions []string `json:"subscriptions"`
	}
	want := c.r.URL.Query().Get("tenantId")
	out := []item{}
	for _, t := range c.sub.pub.Azure {
		if want != "" && !strings.EqualFold(want, t.TenantID) {
			continue
		}
		it := item{Tenant: t.TenantID + " (" + t.TenantName + ")", Subscriptions: []string{}}
		for _, sub := range t.Subscriptions {
			it.Subscriptions = append(it.Subscriptions, sub.ID+" ("+sub.Name+")")
		}
		out = append(out, it)
	}
	return s.jsonResp(http.StatusOK, struct {
		Data []item `json:"data"`
	}{out})
}

// handleGcpProjects serves GET /api/v2/Configs/GcpProjects[?orgId=].
func (s *Server) handleGcpProjects(c *call) *response {
	type item struct {
		Organization string   `json:"organization"`
		Projects     []string `json:"projects"`
	}
	want := c.r.URL.Query().Get("orgId")
	out := []item{}
	for _, o := range c.sub.pub.GCP {
		// Inferred: a project-level integration belongs to no organization
		// and is not listed here (the document describes organizations and
		// their projects).
		if o.OrgID == "" || want != "" && want != o.OrgID {
			continue
		}
		it := item{Organization: o.OrgID + " (" + o.OrgName + ")", Projects: []string{}}
		for _, p := range o.Projects {
			it.Projects = append(it.Projects, p.ID+" ("+p.Name+")")
		}
		out = append(out, it)
	}
	return s.jsonResp(http.StatusOK, struct {
		Data []item `json:"data"`
	}{out})
}

// reportDefinition is the wire shape of a ReportDefinitions item.
type reportDefinition struct {
	ReportDefinitionGuid string `json:"reportDefinitionGuid"`
	ReportName           string `json:"reportName"`
	DisplayName          string `json:"displayName"`
	ReportType           string `json:"reportType"`
	SubReportType        string `json:"subReportType"`
	ReportDefinition     struct {
		Sections []reportDefinitionSection `json:"sections"`
	} `json:"reportDefinition"`
	CreatedBy   string `json:"createdBy"`
	CreatedTime string `json:"createdTime"`
	Enabled     int    `json:"enabled"`
	Version     int    `json:"version"`
}

type reportDefinitionSection struct {
	Category string   `json:"category"`
	Title    string   `json:"title"`
	Policies []string `json:"policies"`
}

func toReportDefinition(f *framework) reportDefinition {
	d := reportDefinition{
		ReportDefinitionGuid: f.pub.Guid,
		ReportName:           f.pub.ReportName,
		DisplayName:          f.pub.ReportName,
		ReportType:           "COMPLIANCE",
		SubReportType:        f.pub.Cloud,
		CreatedBy:            f.pub.CreatedBy,
		CreatedTime:          "2024-01-15T00:00:00.000Z",
		Version:              1,
	}
	if f.pub.Enabled {
		d.Enabled = 1
	}
	for _, sec := range f.pub.Sections {
		d.ReportDefinition.Sections = append(d.ReportDefinition.Sections, reportDefinitionSection(sec))
	}
	return d
}

// handleReportDefinitions serves GET /api/v2/ReportDefinitions[/{guid}].
func (s *Server) handleReportDefinitions(c *call) *response {
	if c.tail == "" {
		list := []reportDefinition{}
		for _, f := range s.cat.frameworks {
			list = append(list, toReportDefinition(f))
		}
		return s.jsonResp(http.StatusOK, struct {
			Data []reportDefinition `json:"data"`
		}{list})
	}
	for _, f := range s.cat.frameworks {
		if f.pub.Guid == c.tail {
			return s.jsonResp(http.StatusOK, struct {
				Data reportDefinition `json:"data"`
			}{toReportDefinition(f)})
		}
	}
	return s.failResp(errorf(http.StatusNotFound, "no report definition %q", c.tail))
}
