package emulator

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// invCloudDetails is an inventory row's "cloudDetails". AWS rows carry
// accountAlias/accountID (capital "ID", as on the wire); Azure rows add
// tenantId/subscriptionId and GCP rows organizationId/projectId (go-sdk does
// not document these clouds; accountID is the subscription / project id).
type invCloudDetails struct {
	AccountAlias   string `json:"accountAlias"`
	AccountID      string `json:"accountID"`
	OrganizationID string `json:"organizationId,omitempty"`
	ProjectID      string `json:"projectId,omitempty"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
	TenantID       string `json:"tenantId,omitempty"`
}

type invStatus struct {
	FormatVersion int      `json:"formatVersion"`
	Props         struct{} `json:"props"`
	Status        string   `json:"status"`
}

// invRow is one Inventory row (alphabetical keys, like the API).
type invRow struct {
	APIKey         string            `json:"apiKey"`
	CloudDetails   invCloudDetails   `json:"cloudDetails"`
	Csp            string            `json:"csp"`
	EndTime        string            `json:"endTime"`
	ResourceConfig map[string]any    `json:"resourceConfig"`
	ResourceID     string            `json:"resourceId"`
	ResourceRegion string            `json:"resourceRegion"`
	ResourceTags   map[string]string `json:"resourceTags"`
	ResourceType   string            `json:"resourceType"`
	Service        string            `json:"service"`
	StartTime      string            `json:"startTime"`
	Status         invStatus         `json:"status"`
	Urn            string            `json:"urn"`
}

var invFields = fieldSet{
	filter: []string{"apiKey", "csp", "resourceId", "resourceRegion", "resourceType", "service", "urn",
		"cloudDetails.accountID", "cloudDetails.accountAlias", "cloudDetails.tenantId", "cloudDetails.subscriptionId",
		"cloudDetails.organizationId", "cloudDetails.projectId"},
	topLevel: []string{"apiKey", "cloudDetails", "csp", "endTime", "resourceConfig", "resourceId", "resourceRegion", "resourceTags", "resourceType", "service", "startTime", "status", "urn"},
}

// invSource generates the resources of one (sub-account, csp) and the rows
// of one daily collection. Resource i belongs to account refs[i % len(refs)]
// and is the same resource in every collection.
type invSource struct {
	sub    *subAccount
	cloud  int
	csp    string
	k      emulatorkit.Key
	refs   []acctRef
	n      int64
	col    int64 // collection start (ms)
	tricky bool
}

func (s *Server) newInvSource(sa *subAccount, csp string, col int64) (*invSource, bool) {
	cl, ok := inventoryCSPs[csp]
	if !ok {
		return nil, false
	}
	return &invSource{
		sub: sa, cloud: cl, csp: csp,
		k:      sa.key.Str("inventory").Str(csp),
		refs:   sa.refs[cl],
		n:      int64(s.cfg.InventoryPerCSP),
		col:    col,
		tricky: s.cfg.Faults.Tricky,
	}, true
}

// invResource is the identity of one resource.
type invResource struct {
	typ                   *inventoryType
	ref                   acctRef
	id, name, region, urn string
}

// resourcesOf is the number of resources of account index ai.
func (v *invSource) resourcesOf(ai int) int64 {
	k := int64(len(v.refs))
	if int64(ai) >= v.n {
		return 0
	}
	return (v.n - int64(ai) + k - 1) / k
}

// resourceOf picks, with r, one resource of account index ai (or an empty
// resource when the account has none).
func (v *invSource) resourceOf(ai int, r *emulatorkit.Rng) invResource {
	ru := v.resourcesOf(ai)
	if ru == 0 {
		return invResource{}
	}
	return v.resource(r.Int63n(ru)*int64(len(v.refs)) + int64(ai))
}

// resource builds resource i.
func (v *invSource) resource(i int64) invResource {
	r := v.k.Num(i).Rng()
	res := invResource{ref: v.refs[int(i%int64(len(v.refs)))]}
	types := inventoryTypes[v.cloud]
	res.typ = &types[r.Intn(len(types))]
	regs := regions[v.cloud]
	res.region = regs[r.Intn(len(regs))]
	n := strconv.FormatInt(i, 10)
	acct := res.ref.id
	switch v.cloud {
	case cloudAWS:
		switch res.typ.kind {
		case "instance":
			res.id = "i-0" + r.Hex(16)
			res.name = "web-" + n
			res.urn = "arn:aws:ec2:" + res.region + ":" + acct + ":instance/" + res.id
		case "bucket":
			res.id = res.ref.alias + "-data-" + n
			res.name = res.id
			res.urn = "arn:aws:s3:::" + res.id
		case "user", "role":
			res.name = "svc-" + res.typ.kind + "-" + n
			res.id = "AID" + strings.ToUpper(r.Hex(17))
			res.region = "global"
			res.urn = "arn:aws:iam::" + acct + ":" + res.typ.kind + "/" + res.name
		case "security-group":
			res.id = "sg-0" + r.Hex(16)
			res.name = "sg-" + n
			res.urn = "arn:aws:ec2:" + res.region + ":" + acct + ":security-group/" + res.id
		case "db":
			res.name = "db-" + n
			res.id = res.name
			res.urn = "arn:aws:rds:" + res.region + ":" + acct + ":db:" + res.name
		case "function":
			res.name = "fn-" + n
			res.id = res.name
			res.urn = "arn:aws:lambda:" + res.region + ":" + acct + ":function:" + res.name
		case "key":
			res.id = r.UUID()
			res.name = res.id
			res.urn = "arn:aws:kms:" + res.region + ":" + acct + ":key/" + res.id
		case "trail":
			res.name = "trail-" + n
			res.id = res.name
			res.urn = "arn:aws:cloudtrail:" + res.region + ":" + acct + ":trail/" + res.name
		default: // volume
			res.id = "vol-0" + r.Hex(16)
			res.name = res.id
			res.urn = "arn:aws:ec2:" + res.region + ":" + acct + ":volume/" + res.id
		}
	case cloudAzure:
		res.name = strings.ToLower(res.typ.kind[:len(res.typ.kind)-1]) + "-" + n
		res.urn = "/subscriptions/" + acct + "/resourceGroups/rg-" + v.sub.pub.Name + "/providers/" + res.typ.service + "/" + res.typ.kind + "/" + res.name
		res.id = res.urn
	default: // GCP
		res.name = strings.ToLower(res.typ.kind[:len(res.typ.kind)-1]) + "-" + n
		res.id = r.Digits(19)
		switch res.typ.kind {
		case "instances":
			res.urn = "//compute.googleapis.com/projects/" + acct + "/zones/" + res.region + "-a/instances/" + res.name
		case "buckets":
			res.name = acct + "-bucket-" + n
			res.urn = "//storage.googleapis.com/" + res.name
		case "serviceAccounts":
			res.region = "global"
			res.urn = "//iam.googleapis.com/projects/" + acct + "/serviceAccounts/" + res.name + "@" + acct + ".iam.gserviceaccount.com"
		case "firewalls":
			res.region = "global"
			res.urn = "//compute.googleapis.com/projects/" + acct + "/global/firewalls/" + res.name
		default:
			res.urn = "//cloudsql.googleapis.com/projects/" + acct + "/instances/" + res.name
		}
	}
	return res
}

func (v *invSource) row(i int64) invRow {
	res := v.resource(i)
	meta := v.k.Num(i).Str("meta").Rng()
	apiKey := strings.ToUpper(meta.Hex(16))
	created := fmtMs(1672531200000 + meta.Int63n(700)*msPerDay + meta.Int63n(msPerDay)) // 2023-01-01 + up to ~2 years
	r := v.k.Num(i).Str("row").Num(v.col).Rng()
	row := invRow{
		APIKey:         apiKey,
		Csp:            v.csp,
		StartTime:      fmtMs(v.col),
		EndTime:        fmtMs(v.col + int64(time.Hour/time.Millisecond)),
		ResourceID:     res.id,
		ResourceRegion: res.region,
		ResourceType:   res.typ.resourceType,
		Service:        res.typ.service,
		Urn:            res.urn,
		Status:         invStatus{FormatVersion: 2, Status: "success"},
		CloudDetails:   invCloudDetails{AccountAlias: res.ref.alias, AccountID: res.ref.id},
	}
	switch v.cloud {
	case cloudAWS:
		row.ResourceConfig = map[string]any{"Arn": res.urn, "Name": res.name, "Id": res.id, "CreationDate": created}
	case cloudAzure:
		row.CloudDetails.TenantID, row.CloudDetails.SubscriptionID = res.ref.parentID, res.ref.id
		row.ResourceConfig = map[string]any{"id": res.urn, "name": res.name, "location": res.region, "type": res.typ.resourceType}
	default:
		row.CloudDetails.OrganizationID, row.CloudDetails.ProjectID = res.ref.parentID, res.ref.id
		row.ResourceConfig = map[string]any{"name": res.name, "selfLink": "https:" + res.urn, "location": res.region, "creationTimestamp": created}
	}
	switch r.Intn(3) {
	case 0:
		row.ResourceTags = map[string]string{}
	case 1:
		row.ResourceTags = map[string]string{"env": "prod"}
	default:
		row.ResourceTags = map[string]string{"env": "dev", "owner": "team-" + string(rune('a'+r.Intn(4)))}
	}
	if v.tricky {
		switch u := r.Intn(128); {
		case u == 0:
			row.ResourceTags = nil
		case u == 1:
			row.ResourceTags = map[string]string{"Name": trickyCJK}
		case u == 2:
			row.ResourceTags = map[string]string{"owner": trickyRTL}
		case u >= 3 && u <= 6:
			row.ResourceTags = map[string]string{"cost-center": trickyFormulas[u-3]}
		case u == 7:
			row.ResourceTags = map[string]string{"note": trickyControl}
		case u == 8:
			row.ResourceConfig["Description"] = trickyAccents
		case u == 9:
			row.ResourceTags = map[string]string{"emoji": trickyEmoji}
		}
	}
	return row
}

func (v *invSource) field(r *invRow, name string) string {
	switch name {
	case "apiKey":
		return r.APIKey
	case "csp":
		return r.Csp
	case "resourceId":
		return r.ResourceID
	case "resourceRegion":
		return r.ResourceRegion
	case "resourceType":
		return r.ResourceType
	case "service":
		return r.Service
	case "urn":
		return r.Urn
	case "cloudDetails.accountID":
		return r.CloudDetails.AccountID
	case "cloudDetails.accountAlias":
		return r.CloudDetails.AccountAlias
	case "cloudDetails.tenantId":
		return r.CloudDetails.TenantID
	case "cloudDetails.subscriptionId":
		return r.CloudDetails.SubscriptionID
	case "cloudDetails.organizationId":
		return r.CloudDetails.OrganizationID
	case "cloudDetails.projectId":
		return r.CloudDetails.ProjectID
	}
	return ""
}

func (v *invSource) setLong(r *invRow, s string) { r.ResourceConfig["Description"] = s }

// handleInventorySearch serves POST /api/v2/Inventory/search.
func (s *Server) handleInventorySearch(c *call) *response {
	var body searchBody
	if err := readJSON(c.r, &body, searchKeys("dataset", "csp")); err != nil {
		return s.failResp(err)
	}
	csp := ""
	if body.Csp != nil {
		csp = *body.Csp
	}
	if body.Dataset != nil && *body.Dataset != "" {
		alias, ok := inventoryDatasets[*body.Dataset]
		if !ok {
			return s.failResp(errorf(http.StatusBadRequest, "unknown dataset %q (deprecated; use csp AWS, Azure or GCP)", *body.Dataset))
		}
		if csp == "" {
			csp = alias
		} else if csp != alias {
			return s.failResp(errorf(http.StatusBadRequest, "dataset %q does not match csp %q", *body.Dataset, csp))
		}
	}
	if csp == "" {
		return s.failResp(errorf(http.StatusBadRequest, "csp is required (one of AWS, Azure, GCP)"))
	}
	if _, ok := inventoryCSPs[csp]; !ok {
		return s.failResp(errorf(http.StatusBadRequest, "unknown csp %q (one of AWS, Azure, GCP)", csp))
	}
	var start, end *string
	if body.TimeFilter != nil {
		start, end = body.TimeFilter.StartTime, body.TimeFilter.EndTime
	}
	from, to, err := resolveWindow(start, end, "timeFilter.startTime", "timeFilter.endTime", c.now)
	if err != nil {
		return s.failResp(err)
	}
	col, ok := s.collection(from, to, c.now)
	src, _ := s.newInvSource(c.sub, csp, col)
	st := pageState{Kind: kindInventory, Sub: c.sub.pub.Name, DS: csp, S: msCeil(from), E: msCeil(to), Col: col, F: body.Filters, R: body.Returns}
	if ok && len(src.refs) > 0 {
		st.Hi = src.n
	}
	return startResultSet(s, c, st, src, invFields)
}
