package oscal

// The subset of the OSCAL assessment-results model (JSON) this package
// writes. Field order follows the schema's; every optional field is
// omitted when empty, since OSCAL forbids empty arrays and empty strings.

type assessmentResults struct {
	UUID       string      `json:"uuid"`
	Metadata   metadata    `json:"metadata"`
	ImportAP   importAP    `json:"import-ap"`
	Results    []result    `json:"results"`
	BackMatter *backMatter `json:"back-matter,omitempty"`
}

type metadata struct {
	Title        string       `json:"title"`
	Published    string       `json:"published,omitempty"`
	LastModified string       `json:"last-modified"`
	Version      string       `json:"version"`
	OSCALVersion string       `json:"oscal-version"`
	DocumentIDs  []documentID `json:"document-ids,omitempty"`
	Props        []prop       `json:"props,omitempty"`
	Roles        []role       `json:"roles,omitempty"`
	Parties      []party      `json:"parties,omitempty"`
	RespParties  []respParty  `json:"responsible-parties,omitempty"`
	Remarks      string       `json:"remarks,omitempty"`
}

type documentID struct {
	Scheme     string `json:"scheme,omitempty"`
	Identifier string `json:"identifier"`
}

type prop struct {
	Name    string `json:"name"`
	NS      string `json:"ns,omitempty"`
	Value   string `json:"value"`
	Class   string `json:"class,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

type role struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type party struct {
	UUID string `json:"uuid"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

type respParty struct {
	RoleID     string   `json:"role-id"`
	PartyUUIDs []string `json:"party-uuids"`
}

type importAP struct {
	Href    string `json:"href"`
	Remarks string `json:"remarks,omitempty"`
}

type result struct {
	UUID             string           `json:"uuid"`
	Title            string           `json:"title"`
	Description      string           `json:"description"`
	Start            string           `json:"start"`
	End              string           `json:"end,omitempty"`
	Props            []prop           `json:"props,omitempty"`
	LocalDefinitions *localDefs       `json:"local-definitions,omitempty"`
	ReviewedControls reviewedControls `json:"reviewed-controls"`
	Observations     []observation    `json:"observations,omitempty"`
	Risks            []risk           `json:"risks,omitempty"`
	Findings         []finding        `json:"findings,omitempty"`
	Remarks          string           `json:"remarks,omitempty"`
}

type localDefs struct {
	Components       []component       `json:"components,omitempty"`
	AssessmentAssets *assessmentAssets `json:"assessment-assets,omitempty"`
}

type component struct {
	UUID        string          `json:"uuid"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Props       []prop          `json:"props,omitempty"`
	Links       []link          `json:"links,omitempty"`
	Status      componentStatus `json:"status"`
}

type componentStatus struct {
	State string `json:"state"`
}

type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel,omitempty"`
	Text string `json:"text,omitempty"`
}

type assessmentAssets struct {
	Components []component `json:"components,omitempty"`
	Platforms  []platform  `json:"assessment-platforms"`
}

type platform struct {
	UUID           string          `json:"uuid"`
	Title          string          `json:"title,omitempty"`
	UsesComponents []usesComponent `json:"uses-components,omitempty"`
}

type usesComponent struct {
	ComponentUUID string `json:"component-uuid"`
}

type reviewedControls struct {
	Description       string             `json:"description,omitempty"`
	ControlSelections []controlSelection `json:"control-selections"`
}

type controlSelection struct {
	Description     string          `json:"description,omitempty"`
	IncludeAll      *struct{}       `json:"include-all,omitempty"`
	IncludeControls []selectControl `json:"include-controls,omitempty"`
}

type selectControl struct {
	ControlID string `json:"control-id"`
}

type observation struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title,omitempty"`
	Description      string             `json:"description"`
	Props            []prop             `json:"props,omitempty"`
	Methods          []string           `json:"methods"`
	Types            []string           `json:"types,omitempty"`
	Origins          []origin           `json:"origins,omitempty"`
	Subjects         []subject          `json:"subjects,omitempty"`
	RelevantEvidence []relevantEvidence `json:"relevant-evidence,omitempty"`
	Collected        string             `json:"collected"`
	Remarks          string             `json:"remarks,omitempty"`
}

type origin struct {
	Actors []actor `json:"actors"`
}

type actor struct {
	Type      string `json:"type"`
	ActorUUID string `json:"actor-uuid"`
}

type subject struct {
	SubjectUUID string `json:"subject-uuid"`
	Type        string `json:"type"`
	Title       string `json:"title,omitempty"`
	Props       []prop `json:"props,omitempty"`
}

type relevantEvidence struct {
	Href        string `json:"href,omitempty"`
	Description string `json:"description"`
	Props       []prop `json:"props,omitempty"`
}

type risk struct {
	UUID        string    `json:"uuid"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Statement   string    `json:"statement"`
	Props       []prop    `json:"props,omitempty"`
	Status      string    `json:"status"`
	Origins     []origin  `json:"origins,omitempty"`
	RiskLog     *riskLog  `json:"risk-log,omitempty"`
	RelatedObs  []related `json:"related-observations,omitempty"`
}

type riskLog struct {
	Entries []riskLogEntry `json:"entries"`
}

type riskLogEntry struct {
	UUID         string `json:"uuid"`
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
	Start        string `json:"start"`
	StatusChange string `json:"status-change,omitempty"`
}

type related struct {
	ObservationUUID string `json:"observation-uuid"`
}

type relatedRisk struct {
	RiskUUID string `json:"risk-uuid"`
}

type finding struct {
	UUID         string        `json:"uuid"`
	Title        string        `json:"title"`
	Description  string        `json:"description"`
	Props        []prop        `json:"props,omitempty"`
	Origins      []origin      `json:"origins,omitempty"`
	Target       target        `json:"target"`
	RelatedObs   []related     `json:"related-observations,omitempty"`
	RelatedRisks []relatedRisk `json:"related-risks,omitempty"`
	Remarks      string        `json:"remarks,omitempty"`
}

type target struct {
	Type     string       `json:"type"`
	TargetID string       `json:"target-id"`
	Title    string       `json:"title,omitempty"`
	Status   targetStatus `json:"status"`
}

type targetStatus struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

type backMatter struct {
	Resources []resource `json:"resources"`
}

type resource struct {
	UUID        string  `json:"uuid"`
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	Props       []prop  `json:"props,omitempty"`
	RLinks      []rlink `json:"rlinks,omitempty"`
	Remarks     string  `json:"remarks,omitempty"`
}

type rlink struct {
	Href      string `json:"href"`
	MediaType string `json:"media-type,omitempty"`
	Hashes    []hash `json:"hashes,omitempty"`
}

type hash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}
