package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Tenant describes everything the emulator serves: the organisation's
// accounts, the cloud integrations of each, and the report frameworks. It is
// a deep copy; callers may modify it.
type Tenant struct {
	// Account is the primary (organisation) account name, lower-case.
	Account string
	// SubAccounts lists the primary account first (it holds data like a
	// sub-account of its own name), then Config.SubAccounts in order.
	SubAccounts []SubAccount
	// Frameworks lists the report definitions: the built-in frameworks, then
	// one disabled custom definition.
	Frameworks []Framework
}

// SubAccount is one account of the organisation and its cloud integrations.
type SubAccount struct {
	Name        string // lower-case; the Account-Name header value
	Primary     bool   // the organisation's primary account
	Forbidden   bool   // requests for it get 403 (Config.Forbidden)
	AWS         []AWSAccount
	Azure       []AzureTenant
	GCP         []GCPOrganization
	K8sClusters []string // the "accounts" of the K8sCompliance dataset
}

// AWSAccount is one AwsCfg integration. A disabled integration is listed by
// CloudAccounts but has no evaluations, inventory or reports.
type AWSAccount struct {
	IntgGuid  string
	Name      string // integration name
	AccountID string // 12 digits
	Alias     string
	Enabled   bool
	GovCloud  bool // an AwsUsGovCfg integration (access-key credentials)
}

// AzureTenant is one AzureCfg integration and its subscriptions.
type AzureTenant struct {
	IntgGuid      string
	Name          string
	TenantID      string
	TenantName    string
	Subscriptions []IDName
}

// GCPOrganization is one organisation-level GcpCfg integration and its
// projects; with an empty OrgID, a project-level integration of its one
// project.
type GCPOrganization struct {
	IntgGuid string
	Name     string
	OrgID    string
	OrgName  string
	Projects []IDName
}

// IDName is an identifier and its display name; the Configs endpoints render
// it as "<ID> (<Name>)".
type IDName struct{ ID, Name string }

// Framework is one report definition.
type Framework struct {
	Guid       string // reportDefinitionGuid
	ReportName string // reportName (also the report's reportTitle)
	ReportType string // API reportType accepted by /Reports; "" for the custom definition
	Cloud      string // subReportType: "AWS", "Azure" or "GCP"
	Enabled    bool
	CreatedBy  string // "SYSTEM" for built-in frameworks
	Sections   []FrameworkSection
}

// FrameworkSection is one section of a report definition.
type FrameworkSection struct {
	Category string
	Title    string
	Policies []string // policy ids, e.g. "lacework-global-12"
}

func (t Tenant) clone() Tenant {
	c := t
	c.SubAccounts = make([]SubAccount, len(t.SubAccounts))
	for i, s := range t.SubAccounts {
		s.AWS = slices.Clone(s.AWS)
		s.Azure = slices.Clone(s.Azure)
		for j := range s.Azure {
			s.Azure[j].Subscriptions = slices.Clone(s.Azure[j].Subscriptions)
		}
		s.GCP = slices.Clone(s.GCP)
		for j := range s.GCP {
			s.GCP[j].Projects = slices.Clone(s.GCP[j].Projects)
		}
		s.K8sClusters = slices.Clone(s.K8sClusters)
		c.SubAccounts[i] = s
	}
	c.Frameworks = make([]Framework, len(t.Frameworks))
	for i, f := range t.Frameworks {
		f.Sections = slices.Clone(f.Sections)
		for j := range f.Sections {
			f.Sections[j].Policies = slices.Clone(f.Sections[j].Policies)
		}
		c.Frameworks[i] = f
	}
	return c
}

// acctRef is one account a row can belong to: an AWS account, an Azure
// subscription (parent = tenant), a GCP project (parent = organisation) or a
// Kubernetes cluster.
type acctRef struct {
	id, alias            string
	parentID, parentName string
}

// subAccount is the immutable internal view of a SubAccount.
type subAccount struct {
	pub      SubAccount
	upper    string
	key      emulatorkit.Key
	refs     [numClouds][]acctRef // enabled accounts per cloud, row order
	custGuid string
	userGuid string
	intgTime int64 // createdOrUpdatedTime of its integrations (ms)
}

// policy is one control of a cloud's catalogue.
type policy struct {
	id, title, section, service, reason, infoLink string
	severity                                      int
}

// framework is the internal view of a Framework.
type framework struct {
	pub      Framework
	cloud    int
	policies []int // indices into catalog.policies[cloud]
	sections []int // per policy: index of its section in pub.Sections
}

// catalog holds the controls and frameworks; immutable after New.
type catalog struct {
	policies   [numClouds][]policy
	frameworks []*framework
}

func buildCatalog(root emulatorkit.Key, perReport int, moreAWS bool) *catalog {
	c := &catalog{}
	fwSeeds := slices.Clone(frameworkSeeds)
	if moreAWS {
		fwSeeds = slices.Insert(fwSeeds, 3, moreAWSFrameworks...) // with the other AWS ones
	}
	size := [numClouds]int{}
	for cl := range numClouds {
		size[cl] = max(len(policySeeds[cl]), perReport)
	}
	for _, f := range append(slices.Clone(fwSeeds), customFramework) {
		size[f.cloud] = max(size[f.cloud], f.offset+perReport)
	}
	next := 1
	for _, cl := range []int{cloudAWS, cloudGCP, cloudAzure, cloudK8s} {
		seeds := policySeeds[cl]
		for j := range size[cl] {
			ps := seeds[j%len(seeds)]
			title := ps.title
			if cycle := j / len(seeds); cycle > 0 {
				title = fmt.Sprintf("%s (control set %d)", ps.title, cycle+1)
			}
			id := "lacework-global-" + strconv.Itoa(next)
			c.policies[cl] = append(c.policies[cl], policy{
				id: id, title: title, section: ps.section, service: ps.service,
				reason: ps.reason, severity: ps.severity,
				infoLink: "https://docs.lacework.net/policies/" + id,
			})
			next++
		}
	}
	add := func(fs frameworkSeed, enabled bool, createdBy string) {
		r := root.Str("framework").Str(fs.reportName).Rng()
		f := &framework{cloud: fs.cloud, pub: Framework{
			Guid:       strings.ToUpper(r.Hex(32)),
			ReportName: fs.reportName,
			ReportType: fs.reportType,
			Cloud:      cloudNames[fs.cloud],
			Enabled:    enabled,
			CreatedBy:  createdBy,
		}}
		secIdx := map[string]int{}
		for j := fs.offset; j < fs.offset+perReport; j++ {
			p := c.policies[fs.cloud][j]
			k, ok := secIdx[p.section]
			if !ok {
				k = len(f.pub.Sections)
				secIdx[p.section] = k
				f.pub.Sections = append(f.pub.Sections, FrameworkSection{Category: strconv.Itoa(k + 1), Title: p.section})
			}
			f.pub.Sections[k].Policies = append(f.pub.Sections[k].Policies, p.id)
			f.policies = append(f.policies, j)
			f.sections = append(f.sections, k)
		}
		c.frameworks = append(c.frameworks, f)
	}
	for _, fs := range fwSeeds {
		add(fs, true, "SYSTEM")
	}
	add(customFramework, false, "alice@example.com")
	return c
}

// buildTenant derives the organisation from the normalised config.
func buildTenant(cfg *Config, root emulatorkit.Key, cat *catalog) (Tenant, map[string]*subAccount) {
	t := Tenant{Account: cfg.Account}
	subs := map[string]*subAccount{}
	forbidden := map[string]bool{}
	for _, f := range cfg.Forbidden {
		forbidden[f] = true
	}
	usedAWS := map[string]bool{}
	names := append([]string{cfg.Account}, cfg.SubAccounts...)
	for _, name := range names {
		k := root.Str("sub").Str(name)
		r := k.Rng()
		upper := strings.ToUpper(name)
		guidPrefix := strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_"
		sa := &subAccount{
			upper:    upper,
			key:      k,
			custGuid: guidPrefix + strings.ToUpper(r.Hex(32)),
			userGuid: guidPrefix + strings.ToUpper(r.Hex(32)),
			// A fixed day in 2024 so integration metadata does not depend on Now.
			intgTime: 1704067200000 + r.Int63n(300)*msPerDay + r.Int63n(msPerDay),
		}
		pub := SubAccount{Name: name, Primary: name == cfg.Account, Forbidden: forbidden[name]}
		title := titleCase(name)
		short := strings.TrimPrefix(name, cfg.Account+"-")

		for i, suffix := range []string{"security", "workloads", "legacy"} {
			id := r.Digits(12)
			for usedAWS[id] {
				id = r.Digits(12)
			}
			usedAWS[id] = true
			alias := name + "-" + suffix
			pub.AWS = append(pub.AWS, AWSAccount{
				IntgGuid:  guidPrefix + strings.ToUpper(r.Hex(32)),
				Name:      "aws-config-" + alias,
				AccountID: id,
				Alias:     alias,
				Enabled:   i < 2, // the "legacy" integration is disabled
			})
		}
		pub.Azure = []AzureTenant{{
			IntgGuid:   guidPrefix + strings.ToUpper(r.Hex(32)),
			Name:       "azure-config-" + name,
			TenantID:   r.UUID(),
			TenantName: title + " Tenant",
			Subscriptions: []IDName{
				{ID: r.UUID(), Name: title + " Production"},
				{ID: r.UUID(), Name: title + " Shared Services"},
			},
		}}
		pub.GCP = []GCPOrganization{{
			IntgGuid: guidPrefix + strings.ToUpper(r.Hex(32)),
			Name:     "gcp-config-" + name,
			OrgID:    r.Digits(12),
			OrgName:  name + "-org",
			Projects: []IDName{
				{ID: name + "-proj-a", Name: "Project A"},
				{ID: name + "-proj-b", Name: "Project B"},
			},
		}}
		if cfg.GovCloud {
			id := r.Digits(12)
			for usedAWS[id] {
				id = r.Digits(12)
			}
			usedAWS[id] = true
			pub.AWS = append(pub.AWS, AWSAccount{IntgGuid: guidPrefix + strings.ToUpper(r.Hex(32)), Name: "aws-govcloud-" + name,
				AccountID: id, Alias: name + "-govcloud", Enabled: true, GovCloud: true})
		}
		for i := range cfg.MoreAWSAccounts {
			id := r.Digits(12)
			for usedAWS[id] {
				id = r.Digits(12)
			}
			usedAWS[id] = true
			alias := fmt.Sprintf("%s-aws-%04d", name, i)
			pub.AWS = append(pub.AWS, AWSAccount{IntgGuid: guidPrefix + strings.ToUpper(r.Hex(32)), Name: "aws-config-" + alias,
				AccountID: id, Alias: alias, Enabled: true})
		}
		if cfg.GCPProjectLevel {
			pub.GCP = append(pub.GCP, GCPOrganization{IntgGuid: guidPrefix + strings.ToUpper(r.Hex(32)), Name: "gcp-project-" + name,
				Projects: []IDName{{ID: name + "-standalone", Name: "Standalone Project"}}})
		}
		pub.K8sClusters = []string{"eks-" + short + "-1", "gke-" + short + "-1"}

		for _, a := range pub.AWS {
			if a.Enabled {
				sa.refs[cloudAWS] = append(sa.refs[cloudAWS], acctRef{id: a.AccountID, alias: a.Alias})
			}
		}
		for _, tn := range pub.Azure {
			for _, s := range tn.Subscriptions {
				sa.refs[cloudAzure] = append(sa.refs[cloudAzure], acctRef{id: s.ID, alias: s.Name, parentID: tn.TenantID, parentName: tn.TenantName})
			}
		}
		for _, o := range pub.GCP {
			for _, p := range o.Projects {
				sa.refs[cloudGCP] = append(sa.refs[cloudGCP], acctRef{id: p.ID, alias: p.Name, parentID: o.OrgID, parentName: o.OrgName})
			}
		}
		for _, c := range pub.K8sClusters {
			sa.refs[cloudK8s] = append(sa.refs[cloudK8s], acctRef{id: c, alias: c})
		}
		sa.pub = pub
		subs[name] = sa
		t.SubAccounts = append(t.SubAccounts, pub)
	}
	for _, f := range cat.frameworks {
		t.Frameworks = append(t.Frameworks, f.pub)
	}
	return t.clone(), subs
}

// titleCase turns "acme-prod" into "Acme Prod".
func titleCase(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, p := range parts {
		r := []rune(p)
		parts[i] = strings.ToUpper(string(r[:1])) + string(r[1:])
	}
	return strings.Join(parts, " ")
}

// refIndex returns the index of the account id in refs, or -1.
func refIndex(refs []acctRef, id string) int {
	for i, r := range refs {
		if r.id == id {
			return i
		}
	}
	return -1
}
