package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// inventoryDefaultFields are the document's default fields.
var inventoryDefaultFields = []string{"id", "name", "platform", "type", "configuration", "keyvalueconfigs", "labels", "lastseen", "metadata", "zones", "posturepolicysummary"}

// inventoryFields are the fields the emulator knows.
var inventoryFields = append(slices.Clone(inventoryDefaultFields), "hash", "category", "posturecontrolsummary", "resourceorigin")

// accountSet returns, sorted, the indices of the accounts that satisfy
// conds (fields account and platform).
func (s *Server) accountSet(conds []cond) []int {
	var out []int
	for i, a := range accounts {
		if matchAll(conds, map[string]string{"account": a.ID, "platform": a.Platform}) {
			out = append(out, i)
		}
	}
	return out
}

// inventoryTotal counts the resources of the accounts in set: resource i
// belongs to account i mod len(accounts).
func (s *Server) inventoryTotal(set []int) int64 {
	n, na := int64(s.cfg.InventoryResources), int64(len(accounts))
	var total int64
	for _, a := range set {
		total += n / na
		if int64(a) < n%na {
			total++
		}
	}
	return total
}

// inventoryIndex maps the p-th resource of the filtered list to its index:
// every run of len(accounts) indices holds one resource of each account.
func inventoryIndex(p int64, set []int) int64 {
	k := int64(len(set))
	return p/k*int64(len(accounts)) + int64(set[p%k])
}

// handleInventory serves GET /api/cspm/v1/inventory/resources. Filter
// fields: account and platform; fields selects what is returned.
func (s *Server) handleInventory(c *call) *response {
	if err := c.checkQuery("filter", "pageNumber", "pageSize", "fields"); err != nil {
		return s.fail(err)
	}
	page, size, aerr := s.paging(c, 20)
	if aerr != nil {
		return s.fail(aerr)
	}
	fields := inventoryDefaultFields
	if f := c.q.Get("fields"); f != "" {
		fields = nil
		for name := range strings.SplitSeq(f, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if !slices.Contains(inventoryFields, name) {
				return s.fail(errorf(http.StatusBadRequest, "fields: unknown field %q", name))
			}
			fields = append(fields, name)
		}
	}
	conds, err := parseFilter(c.q.Get("filter"), "account", "platform")
	if err != nil {
		return s.fail(errorf(http.StatusBadRequest, "%v", err))
	}
	set := s.accountSet(conds)
	total := s.inventoryTotal(set)
	lo, hi := window(page, size, total)
	data := make([]inventoryJSON, 0, hi-lo)
	for p := lo; p < hi; p++ {
		data = append(data, s.inventoryResource(c.now, inventoryIndex(p, set), fields))
	}
	return s.jsonResp(http.StatusOK, struct {
		Data       []inventoryJSON `json:"data"`
		TotalCount int64           `json:"totalCount"`
	}{data, total})
}

type inventoryJSON struct {
	ID                    string          `json:"id,omitempty"`
	Hash                  string          `json:"hash,omitempty"`
	Name                  string          `json:"name,omitempty"`
	Platform              string          `json:"platform,omitempty"`
	Type                  string          `json:"type,omitempty"`
	Category              string          `json:"category,omitempty"`
	Configuration         string          `json:"configuration,omitempty"`
	KeyValueConfigs       json.RawMessage `json:"keyValueConfigs,omitempty"`
	Labels                []string        `json:"labels,omitempty"`
	LastSeen              string          `json:"lastSeen,omitempty"`
	Metadata              map[string]any  `json:"metadata,omitempty"`
	Zones                 []zoneJSON      `json:"zones,omitempty"`
	PosturePolicySummary  json.RawMessage `json:"posturePolicySummary,omitempty"`
	PostureControlSummary json.RawMessage `json:"postureControlSummary,omitempty"`
	ResourceOrigin        string          `json:"resourceOrigin,omitempty"`
}

var inventoryTypes = map[string][][2]string{ // platform → (type, category)
	"AWS":        {{"S3 Bucket", "Storage"}, {"EC2 Instance", "Compute"}, {"IAM Policy", "Identity"}, {"Security Group", "Network"}},
	"GCP":        {{"Storage Bucket", "Storage"}, {"Compute Instance", "Compute"}, {"Firewall Rule", "Network"}},
	"Azure":      {{"Storage Account", "Storage"}, {"Virtual Machine", "Compute"}, {"Key Vault", "Security"}},
	"Kubernetes": {{"Deployment", "Workload"}, {"DaemonSet", "Workload"}, {"Namespace", "Cluster"}},
}

// inventoryResource renders resource i with the requested fields.
func (s *Server) inventoryResource(now time.Time, i int64, fields []string) inventoryJSON {
	acct := accounts[i%int64(len(accounts))]
	rg := s.root.Str("inventory").Num(i).Rng()
	tc := emulatorkit.Pick(&rg, inventoryTypes[acct.Platform])
	name := strings.ToLower(strings.ReplaceAll(tc[0], " ", "-")) + "-" + rg.Hex(8)
	if s.cfg.Tricky && i%13 == 7 {
		name = "-" + name + " \u202eevil\u202c ملف"
	}
	id, hash := rg.Hex(24), rg.Hex(16)
	meta := map[string]any{}
	switch acct.Platform {
	case "AWS":
		// The API's metadata keys vary in case between platforms.
		meta["Account"], meta["Region"], meta["arn"] = acct.ID, acct.Region, "arn:aws:"+strings.ToLower(strings.Fields(tc[0])[0])+":"+acct.Region+":"+acct.ID+":"+name
		meta["Organization"] = "o-" + rg.Hex(10)
	case "GCP":
		meta["project"], meta["location"], meta["resourceId"] = acct.ID, acct.Region, "//"+strings.ToLower(tc[1])+".googleapis.com/projects/"+acct.ID+"/"+name
	case "Azure":
		meta["subscription"], meta["location"], meta["resourceId"] = acct.ID, acct.Region, "/subscriptions/"+acct.ID+"/resourceGroups/rg-prod/providers/"+name
	case "Kubernetes":
		meta["cluster"], meta["namespace"], meta["distribution"] = acct.ID, emulatorkit.Pick(&rg, []string{"default", "payments"}), "iks"
		meta["region"] = acct.Region
	}
	pass := rg.Intn(3) != 0
	pol := s.policies[rg.Intn(len(s.policies))]
	summary, _ := json.Marshal(map[string]any{"passPercentage": map[bool]int{true: 100, false: 50}[pass],
		"policies": []map[string]any{{"id": pol.id, "name": pol.name, "pass": pass}}})
	controls, _ := json.Marshal([]map[string]any{{"policyId": pol.id, "name": pol.name, "failedControls": map[bool]int{true: 0, false: 2}[pass], "acceptedControls": 0}})
	full := inventoryJSON{
		ID: id, Hash: hash, Name: name, Platform: acct.Platform, Type: tc[0], Category: tc[1],
		Configuration:         "metadata:\n  name: " + name + "\n",
		KeyValueConfigs:       json.RawMessage(`[]`),
		Labels:                []string{"env:prod", "owner:team-" + rg.Hex(4)},
		LastSeen:              strconv.FormatInt(now.Add(-time.Duration(rg.Intn(86400))*time.Second).Unix(), 10),
		Metadata:              meta,
		Zones:                 []zoneJSON{{s.zones[0].id, s.zones[0].name}},
		PosturePolicySummary:  summary,
		PostureControlSummary: controls,
		ResourceOrigin:        "Deployed",
	}
	if s.cfg.Tricky && i%29 == 11 {
		full.Configuration = s.long
	}
	var out inventoryJSON
	for _, f := range fields {
		switch f {
		case "id":
			out.ID = full.ID
		case "hash":
			out.Hash = full.Hash
		case "name":
			out.Name = full.Name
		case "platform":
			out.Platform = full.Platform
		case "type":
			out.Type = full.Type
		case "category":
			out.Category = full.Category
		case "configuration":
			out.Configuration = full.Configuration
		case "keyvalueconfigs":
			out.KeyValueConfigs = full.KeyValueConfigs
		case "labels":
			out.Labels = full.Labels
		case "lastseen":
			out.LastSeen = full.LastSeen
		case "metadata":
			out.Metadata = full.Metadata
		case "zones":
			out.Zones = full.Zones
		case "posturepolicysummary":
			out.PosturePolicySummary = full.PosturePolicySummary
		case "posturecontrolsummary":
			out.PostureControlSummary = full.PostureControlSummary
		case "resourceorigin":
			out.ResourceOrigin = full.ResourceOrigin
		}
	}
	return out
}
