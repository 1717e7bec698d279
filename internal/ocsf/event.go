// Package ocsf writes a pack's compliance results as OCSF 1.8.0 Compliance
// Finding events (class_uid 2003, category Findings) in Parquet, laid out
// for an Amazon Security Lake custom source.
//
// One event per result: for a control with violations, one per (control ×
// violating resource), from the violations rows; for a control without
// violation rows (Compliant, Suppressed, CouldNotAssess,
// RequiresManualAssessment, or NonCompliant when the violations were not
// collected), one for the control, without resources. The class makes
// compliance required and resources only recommended, so a control-level
// result is a complete event; a result per assessed resource is not in the
// packs (they count assessed resources, they do not list them).
//
// The pipeline calls NewEvent for each result as rows pass and hands the
// events to a Writer (one Parquet file, one class); SecurityLakeKey names
// the file in the custom source's layout.
package ocsf

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
)

// Schema facts.
const (
	Version      = "1.8.0" // metadata.version
	CategoryUID  = 2
	CategoryName = "Findings"
	ClassUID     = 2003
	ClassName    = "Compliance Finding"
	ActivityID   = 1 // Create
	ActivityName = "Create"
	TypeUID      = ClassUID*100 + ActivityID
	TypeName     = ClassName + ": " + ActivityName
)

// Event is one OCSF Compliance Finding. The JSON names are OCSF's; the
// Parquet columns are the same, nested objects as groups and arrays as
// LISTs. Times are OCSF timestamp_t: milliseconds since the epoch.
type Event struct {
	ActivityID   int32       `json:"activity_id" parquet:"activity_id"`
	ActivityName string      `json:"activity_name,omitempty" parquet:"activity_name,optional"`
	CategoryUID  int32       `json:"category_uid" parquet:"category_uid"`
	CategoryName string      `json:"category_name,omitempty" parquet:"category_name,optional"`
	ClassUID     int32       `json:"class_uid" parquet:"class_uid"`
	ClassName    string      `json:"class_name,omitempty" parquet:"class_name,optional"`
	TypeUID      int64       `json:"type_uid" parquet:"type_uid"`
	TypeName     string      `json:"type_name,omitempty" parquet:"type_name,optional"`
	SeverityID   int32       `json:"severity_id" parquet:"severity_id"`
	Severity     string      `json:"severity,omitempty" parquet:"severity,optional"`
	StatusID     int32       `json:"status_id,omitempty" parquet:"status_id,optional"`
	Status       string      `json:"status,omitempty" parquet:"status,optional"`
	Time         int64       `json:"time" parquet:"time"`
	Message      string      `json:"message,omitempty" parquet:"message,optional"`
	Metadata     Metadata    `json:"metadata" parquet:"metadata"`
	Cloud        Cloud       `json:"cloud" parquet:"cloud"`
	Compliance   Compliance  `json:"compliance" parquet:"compliance"`
	FindingInfo  FindingInfo `json:"finding_info" parquet:"finding_info"`
	Resources    []Resource  `json:"resources,omitempty" parquet:"resources,list,optional"`
}

// Metadata is OCSF's metadata object.
type Metadata struct {
	Version         string           `json:"version" parquet:"version"`
	UID             string           `json:"uid,omitempty" parquet:"uid,optional"`
	Product         Product          `json:"product" parquet:"product"`
	Profiles        []string         `json:"profiles,omitempty" parquet:"profiles,list,optional"`
	LogName         string           `json:"log_name,omitempty" parquet:"log_name,optional"`
	LogProvider     string           `json:"log_provider,omitempty" parquet:"log_provider,optional"`
	TenantUID       string           `json:"tenant_uid,omitempty" parquet:"tenant_uid,optional"`
	Transformations []Transformation `json:"transformation_info_list,omitempty" parquet:"transformation_info_list,list,optional"`
}

// Product is OCSF's product object.
type Product struct {
	Name       string `json:"name,omitempty" parquet:"name,optional"`
	UID        string `json:"uid,omitempty" parquet:"uid,optional"`
	VendorName string `json:"vendor_name,omitempty" parquet:"vendor_name,optional"`
	Version    string `json:"version,omitempty" parquet:"version,optional"`
}

// Transformation is OCSF's transformation_info: this tool, which mapped
// the platform's data to OCSF.
type Transformation struct {
	Name    string   `json:"name,omitempty" parquet:"name,optional"`
	UID     string   `json:"uid,omitempty" parquet:"uid,optional"`
	Product *Product `json:"product,omitempty" parquet:"product,optional"`
	Time    int64    `json:"time,omitempty" parquet:"time,optional"`
}

// Cloud is OCSF's cloud object.
type Cloud struct {
	Provider string        `json:"provider" parquet:"provider"`
	Region   string        `json:"region,omitempty" parquet:"region,optional"`
	Account  *Account      `json:"account,omitempty" parquet:"account,optional"`
	Org      *Organization `json:"org,omitempty" parquet:"org,optional"`
}

// Account is OCSF's account object.
type Account struct {
	UID    string `json:"uid,omitempty" parquet:"uid,optional"`
	Name   string `json:"name,omitempty" parquet:"name,optional"`
	TypeID int32  `json:"type_id,omitempty" parquet:"type_id,optional"`
	Type   string `json:"type,omitempty" parquet:"type,optional"`
}

// Organization is OCSF's organization object: the tenant and sub-account.
type Organization struct {
	Name   string `json:"name,omitempty" parquet:"name,optional"`
	OUName string `json:"ou_name,omitempty" parquet:"ou_name,optional"`
}

// Compliance is OCSF's compliance object.
type Compliance struct {
	Standards     []string `json:"standards,omitempty" parquet:"standards,list,optional"`
	Requirements  []string `json:"requirements,omitempty" parquet:"requirements,list,optional"`
	Control       string   `json:"control,omitempty" parquet:"control,optional"`
	Desc          string   `json:"desc,omitempty" parquet:"desc,optional"`
	Category      string   `json:"category,omitempty" parquet:"category,optional"`
	StatusID      int32    `json:"status_id,omitempty" parquet:"status_id,optional"`
	Status        string   `json:"status,omitempty" parquet:"status,optional"`
	StatusCode    string   `json:"status_code,omitempty" parquet:"status_code,optional"`
	StatusDetails []string `json:"status_details,omitempty" parquet:"status_details,list,optional"`
}

// FindingInfo is OCSF's finding_info object.
type FindingInfo struct {
	UID         string   `json:"uid" parquet:"uid"`
	UIDAlt      string   `json:"uid_alt,omitempty" parquet:"uid_alt,optional"`
	Title       string   `json:"title,omitempty" parquet:"title,optional"`
	Desc        string   `json:"desc,omitempty" parquet:"desc,optional"`
	Types       []string `json:"types,omitempty" parquet:"types,list,optional"`
	SrcURL      string   `json:"src_url,omitempty" parquet:"src_url,optional"`
	CreatedTime int64    `json:"created_time,omitempty" parquet:"created_time,optional"`
}

// Resource is OCSF's resource_details object (with the cloud profile's
// provider and region).
type Resource struct {
	UID      string `json:"uid,omitempty" parquet:"uid,optional"`
	Name     string `json:"name,omitempty" parquet:"name,optional"`
	Type     string `json:"type,omitempty" parquet:"type,optional"`
	Region   string `json:"region,omitempty" parquet:"region,optional"`
	Provider string `json:"provider,omitempty" parquet:"provider,optional"`
}

// Source describes the pack the events come from.
type Source struct {
	PackID      string    // run id
	Tenant      string    // tenant as configured
	Platform    string    // platform id: lacework, sophos, ibm_scc, lacework_edge
	Tool        string    // this tool, e.g. "evidence"
	ToolVersion string    // generator.version
	GeneratedAt time.Time // when the pack was made
}

// Result is one compliance result: a control on a cloud account, and the
// violating resource when there is one.
type Result struct {
	Framework, SubAccount string
	Cloud                 string // AWS, Azure, GCP, Kubernetes
	AccountID             string
	AccountAlias          string
	ControlID, Title      string
	Section               string
	Requirement           string // the framework's own requirement id, where the platform gives it
	Severity              string // Critical, High, Medium, Low, Info
	Status                dataset.Status
	ReportTime            time.Time
	InfoLink              string
	// The violating resource; empty for a control-level result.
	Resource, ResourceType, Region string
	Reasons                        []string
	// RowID is the pack row the result comes from: the violations row, or
	// the controls row for a control-level result.
	RowID string
}

// platforms: display name and vendor of each source platform.
var platforms = map[string]Product{
	"lacework":      {Name: "Lacework", VendorName: "Fortinet"},
	"lacework_edge": {Name: "Lacework Edge", VendorName: "Fortinet"},
	"sophos":        {Name: "Sophos Cloud Optix", VendorName: "Sophos"},
	"ibm_scc":       {Name: "IBM Cloud Security and Compliance Center Workload Protection", VendorName: "IBM"},
}

var severities = map[string]int32{"info": 1, "informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
var severityNames = map[int32]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}

// compliance.status_id: 1 Pass, 2 Warning, 3 Fail, 99 Other; and the
// finding's status_id: 1 New, 3 Suppressed, 4 Resolved.
var statuses = map[dataset.Status]struct {
	id           int32
	name         string
	findingID    int32
	findingName  string
	withResource bool // may name a violating resource
}{
	dataset.Compliant:      {1, "Pass", 4, "Resolved", false},
	dataset.NonCompliant:   {3, "Fail", 1, "New", true},
	dataset.Suppressed:     {99, "Suppressed", 3, "Suppressed", true},
	dataset.CouldNotAssess: {2, "Warning", 1, "New", false},
	dataset.Manual:         {99, "Manual", 1, "New", false},
}

var providers = map[string]struct {
	name   string
	typeID int32
	typ    string
}{
	"aws":        {"AWS", 10, "AWS Account"},
	"azure":      {"Azure", 13, "Azure Subscription"},
	"gcp":        {"GCP", 11, "GCP Project"},
	"kubernetes": {"Kubernetes", 99, "Kubernetes cluster"},
}

// NewEvent makes the event of one result.
func NewEvent(s Source, r Result) (Event, error) {
	st, ok := statuses[r.Status]
	if !ok {
		return Event{}, fmt.Errorf("ocsf: control %s: unknown status %q", r.ControlID, r.Status)
	}
	if r.ControlID == "" || r.Framework == "" || r.RowID == "" {
		return Event{}, fmt.Errorf("ocsf: result without a control, framework or row_id: %+v", r)
	}
	if r.Resource != "" && !st.withResource {
		return Event{}, fmt.Errorf("ocsf: control %s is %s but names a violating resource %s", r.ControlID, r.Status, r.Resource)
	}
	if s.PackID == "" || s.Platform == "" || s.Tool == "" || s.GeneratedAt.IsZero() {
		return Event{}, errors.New("ocsf: source without a pack id, platform, tool or time")
	}
	when := cmp.Or(r.ReportTime, s.GeneratedAt)
	prod, ok := platforms[s.Platform]
	if !ok {
		prod = Product{Name: s.Platform}
	}
	prod.UID = s.Platform

	e := Event{
		ActivityID: ActivityID, ActivityName: ActivityName,
		CategoryUID: CategoryUID, CategoryName: CategoryName,
		ClassUID: ClassUID, ClassName: ClassName,
		TypeUID: TypeUID, TypeName: TypeName,
		StatusID: st.findingID, Status: st.findingName,
		Time: when.UnixMilli(),
		Metadata: Metadata{
			Version:     Version,
			Product:     prod,
			Profiles:    []string{"cloud"},
			LogName:     "compliance",
			LogProvider: s.Tool,
			TenantUID:   s.Tenant,
			Transformations: []Transformation{{
				Name:    fmt.Sprintf("%s %s: evidence pack %s to OCSF %s", s.Tool, s.ToolVersion, s.PackID, Version),
				UID:     s.PackID,
				Product: &Product{Name: s.Tool, Version: s.ToolVersion},
				Time:    s.GeneratedAt.UnixMilli(),
			}},
		},
		Compliance: Compliance{
			Standards:  []string{r.Framework},
			Control:    r.ControlID,
			Desc:       r.Title,
			Category:   r.Section,
			StatusID:   st.id,
			Status:     st.name,
			StatusCode: string(r.Status),
		},
	}
	if r.Requirement != "" {
		e.Compliance.Requirements = []string{r.Requirement}
	}
	e.SeverityID, e.Severity = severity(r.Severity)

	prov, ok := providers[strings.ToLower(r.Cloud)]
	if !ok {
		prov.name, prov.typeID, prov.typ = cmp.Or(r.Cloud, "Unknown"), 99, cmp.Or(r.Cloud, "Unknown")+" account"
	}
	e.Cloud = Cloud{Provider: prov.name, Region: r.Region}
	if r.AccountID != "" || r.AccountAlias != "" {
		e.Cloud.Account = &Account{UID: r.AccountID, Name: r.AccountAlias, TypeID: prov.typeID, Type: prov.typ}
	}
	if s.Tenant != "" {
		e.Cloud.Org = &Organization{Name: s.Tenant, OUName: r.SubAccount}
	}

	// The finding is the (control × resource) result: the same uid in
	// every pack, so consecutive exports update one finding.
	e.FindingInfo = FindingInfo{
		UID:         findingUID(s, r),
		UIDAlt:      r.RowID,
		Title:       strings.TrimSpace(r.ControlID + " " + r.Title),
		Types:       []string{"Compliance"},
		SrcURL:      r.InfoLink,
		CreatedTime: when.UnixMilli(),
	}
	// The event is this pack's report of the finding.
	e.Metadata.UID = uid("event", s.PackID, e.FindingInfo.UID)

	target := "account " + r.AccountID
	if r.Resource != "" {
		e.Resources = []Resource{{UID: r.Resource, Type: r.ResourceType, Region: r.Region, Provider: prov.name}}
		target = r.Resource
		if len(r.Reasons) > 0 {
			e.Compliance.StatusDetails = append([]string(nil), r.Reasons...)
		}
	}
	e.Message = fmt.Sprintf("%s %s: %s on %s", r.Framework, r.ControlID, r.Status, target)
	e.FindingInfo.Desc = e.Message
	return e, nil
}

func severity(s string) (int32, string) {
	if id, ok := severities[strings.ToLower(strings.TrimSpace(s))]; ok {
		return id, severityNames[id]
	}
	if strings.TrimSpace(s) == "" {
		return 0, "Unknown"
	}
	return 99, s
}

func findingUID(s Source, r Result) string {
	return uid("finding", s.Platform, s.Tenant, r.SubAccount, r.Framework, r.AccountID, r.ControlID, r.Resource)
}

// uid is a stable id of the parts: a version 5-style name hash, as hex.
func uid(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
