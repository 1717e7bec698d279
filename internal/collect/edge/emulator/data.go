package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// newKey is the root of the derivation tree every generated value comes
// from: a pure function of the seed and a path of names and indices (see
// emulatorkit.Key). The salt keeps this emulator's data apart from the
// other emulators' for the same seed.
func newKey(seed int64) emulatorkit.Key { return emulatorkit.NewKey(seed, 0x65646765656d7521) }

// proto.EnumStatus numbers (0 is protobuf's unspecified value).
const (
	statusInit      = 1
	statusActive    = 2
	statusSuspended = 3
	statusDeleted   = 4
)

var statusByName = map[string]int{"INIT": statusInit, "ACTIVE": statusActive, "SUSPENDED": statusSuspended, "DELETED": statusDeleted}

const (
	msPerDay      = 24 * 60 * 60 * 1000
	dataRetention = 120 * 24 * time.Hour
)

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Leslie", "Margaret", "Dennis", "Niklaus", "Shafi", "Tim", "Hedy"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Lamport", "Hamilton", "Ritchie", "Wirth", "Goldwasser", "Berners-Lee", "Lamarr"}
	groupNames = []string{"Engineering", "Finance", "Sales", "Support", "Security", "Contractors", "Executives", "Marketing", "Legal", "IT Admins", "Data Science", "HR"}
	appNames   = []string{"Jira", "GitHub", "Salesforce", "Workday", "Grafana", "Jenkins", "Confluence", "Snowflake", "Zendesk", "Vault", "Kibana", "NetSuite", "Tableau", "GitLab", "Okta Admin"}
	tricky     = []string{`=HYPERLINK("http://evil.example","click")`, "+1-555-0100", "-2+3", "@SUM(A1:A9)", "مرحبا بالعالم", "שלום עולם", "名前テスト", "tab\there", "line\r\nbreak", "bell\a\x00nul"}
	auditOps   = []struct{ op, method, path string }{
		{"TokenLogin", "GET", "/api/v1/tokenlogin"},
		{"QueryUsers", "GET", "/api/v1/users"},
		{"UpdateAccess", "PUT", "/api/v1/accesses/{uuid}"},
		{"CreateAccess", "POST", "/api/v1/accesses"},
		{"DeleteApp", "DELETE", "/api/v1/apps/{uuid}"},
		{"CreateToken", "POST", "/api/v1/tokens"},
		{"UpdateUser", "PUT", "/api/v1/users/{uuid}"},
		{"QueryAuditEvents", "GET", "/api/v1/auditevents"},
	}
)

func pick(list []string, i int) string {
	s := list[i%len(list)]
	if n := i / len(list); n > 0 {
		s += " " + strconv.Itoa(n+1)
	}
	return s
}

// hostile returns a tricky value for every 7th index in Tricky mode.
func (s *Server) hostile(i int, normal string) string {
	if s.cfg.Faults.Tricky && i%7 == 0 {
		return tricky[(i/7)%len(tricky)] + " " + normal
	}
	return normal
}

// ms renders an epoch-millisecond time: a JSON number, or in Tricky mode for
// every 5th index a quoted one, as protobuf's JSON mapping writes int64.
func (s *Server) ms(v int64, i int) any {
	if s.cfg.Faults.Tricky && i%5 == 0 {
		return strconv.FormatInt(v, 10)
	}
	return v
}

// base is a fixed instant that creation times count back from, so that
// directory data does not depend on Config.Now.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

func (s *Server) userUUID(i int) string {
	r := s.root.Str("user").Num(int64(i)).Rng()
	return r.UUID()
}

func (s *Server) ghostUUID(m int) string {
	r := s.root.Str("ghost").Num(int64(m)).Rng()
	return r.UUID()
}

func (s *Server) groupUUID(j int) string {
	r := s.root.Str("group").Num(int64(j)).Rng()
	return r.UUID()
}

func (s *Server) appUUID(k int) string {
	r := s.root.Str("app").Num(int64(k)).Rng()
	return r.UUID()
}

func (s *Server) accessUUID(m int) string {
	r := s.root.Str("access").Num(int64(m)).Rng()
	return r.UUID()
}

func (s *Server) userStatus(i int) int {
	switch {
	case i%17 == 3:
		return statusSuspended
	case i%23 == 5:
		return statusInit
	}
	return statusActive
}

func (s *Server) groupStatus(j int) int {
	if j%7 == 6 {
		return statusSuspended
	}
	return statusActive
}

func (s *Server) appStatus(k int) int {
	if k%9 == 8 {
		return statusSuspended
	}
	return statusActive
}

func (s *Server) accessStatus(m int) int {
	if m%10 == 9 {
		return statusSuspended
	}
	return statusActive
}

func (s *Server) userName(i int) string {
	return firstNames[i%len(firstNames)] + " " + lastNames[(i/len(firstNames))%len(lastNames)]
}

func (s *Server) userLogin(i int) string {
	return strings.ToLower(strings.ReplaceAll(s.userName(i), " ", ".")) + "." + strconv.Itoa(i) + "@example.com"
}

// Wire shapes: the document's response samples, keys in their
// (alphabetical) order.

type wireUser struct {
	AccountName   string `json:"account_name"`
	CreateTime    any    `json:"create_time"`
	DataSource    int    `json:"data_source"`
	DisplayName   string `json:"display_name"`
	IdPMFAStatus  int    `json:"idp_mfa_status"`
	IntegrationID string `json:"integration_id"`
	// IntegrationToSourceUserID: a map in the sample (collapsed); the
	// emulator's content is its own.
	IntegrationToSourceUserID map[string]string `json:"integration_to_source_user_id"`
	Location                  string            `json:"location"`
	MFAEncryptedSecret        string            `json:"mfa_encrypted_secret"`
	MFAStatus                 int               `json:"mfa_status"`
	RecordUpdateTime          any               `json:"record_update_time"`
	Role                      int               `json:"role"`
	SourceUserID              string            `json:"source_user_id"`
	Status                    int               `json:"status"`
	Tags                      []string          `json:"tags"`
	UpdateTime                any               `json:"update_time"`
	UUID                      string            `json:"uuid"`
}

func (s *Server) user(i int) wireUser {
	r := s.root.Str("user-attrs").Num(int64(i)).Rng()
	created := base - int64(i%900)*msPerDay - int64(r.Intn(msPerDay))
	updated := created + int64(r.Intn(60))*msPerDay
	integration := ""
	ds := 0
	if i%3 != 0 {
		integration, ds = "okta-"+s.cfg.Account, 101
	}
	sourceID := "00u" + r.Hex(17)
	w := wireUser{
		AccountName:               s.cfg.Account,
		CreateTime:                s.ms(created, i),
		DataSource:                ds,
		DisplayName:               s.hostile(i, s.userName(i)),
		IdPMFAStatus:              i % 3,
		IntegrationID:             integration,
		IntegrationToSourceUserID: map[string]string{},
		Location:                  []string{"US", "DE", "IN", "BR", "JP"}[i%5],
		MFAEncryptedSecret:        SecretMarker + "-mfa-" + r.Hex(24),
		MFAStatus:                 (i / 3) % 3,
		RecordUpdateTime:          s.ms(updated, i+1),
		Role:                      []int{0, 1, 2, 10}[i%4],
		SourceUserID:              sourceID,
		Status:                    s.userStatus(i),
		Tags:                      []string{"dept:" + strings.ToLower(groupNames[i%len(groupNames)])},
		UpdateTime:                s.ms(updated, i+2),
		UUID:                      s.userUUID(i),
	}
	if integration != "" {
		w.IntegrationToSourceUserID = map[string]string{integration: sourceID}
	}
	return w
}

type wireGroup struct {
	AccountName          string   `json:"account_name"`
	CreateTime           any      `json:"create_time"`
	DataSource           int      `json:"data_source"`
	Description          string   `json:"description"`
	IntegrationID        string   `json:"integration_id"`
	MembershipUpdateTime any      `json:"membership_update_time"`
	Name                 string   `json:"name"`
	ProfileUpdateTime    any      `json:"profile_update_time"`
	Status               int      `json:"status"`
	SubGroupCount        int      `json:"sub_group_count"`
	Tags                 []string `json:"tags"`
	UpdateTime           any      `json:"update_time"`
	UserCount            int      `json:"user_count"`
	UUID                 string   `json:"uuid"`
}

func (s *Server) group(j int) wireGroup {
	created := base - int64(700+j)*msPerDay
	return wireGroup{
		AccountName:          s.cfg.Account,
		CreateTime:           s.ms(created, j),
		DataSource:           101,
		Description:          s.hostile(j, "Members of "+pick(groupNames, j)),
		IntegrationID:        "okta-" + s.cfg.Account,
		MembershipUpdateTime: s.ms(created+int64(j%30+1)*msPerDay, j+1),
		Name:                 pick(groupNames, j),
		ProfileUpdateTime:    s.ms(created+msPerDay, j+2),
		Status:               s.groupStatus(j),
		SubGroupCount:        j % 3,
		Tags:                 []string{},
		UpdateTime:           s.ms(created+int64(j%30+1)*msPerDay, j+3),
		UserCount:            s.groupSize(j),
		UUID:                 s.groupUUID(j),
	}
}

type wireApp struct {
	AccountName         string            `json:"account_name"`
	ConnectorUniqueName string            `json:"connector_unique_name"`
	CreateTime          any               `json:"create_time"`
	CreatorDisplayName  string            `json:"creator_display_name"`
	CreatorUUID         string            `json:"creator_uuid"`
	DataSource          int               `json:"data_source"`
	Description         string            `json:"description"`
	Host                string            `json:"host"`
	HostMatchType       int               `json:"host_match_type"`
	IntegrationID       string            `json:"integration_id"`
	InternalHostPattern string            `json:"internal_host_pattern"`
	InternalPort        int               `json:"internal_port"`
	InternalProtocol    string            `json:"internal_protocol"`
	Name                string            `json:"name"`
	Path                string            `json:"path"`
	Port                int               `json:"port"`
	Protocol            string            `json:"protocol"`
	Protocols           []string          `json:"protocols"`
	RefDisplayNames     map[string]string `json:"ref_display_names"`
	RefMatches          []string          `json:"ref_matches"`
	Refs                []string          `json:"refs"`
	RequestHostHeader   string            `json:"request_host_header"`
	ReverseProxyName    string            `json:"reverse_proxy_name"`
	Status              int               `json:"status"`
	Tags                []string          `json:"tags"`
	TCPPortRanges       []string          `json:"tcp_port_ranges"`
	TCPPorts            []int             `json:"tcp_ports"`
	UDPPortRanges       []string          `json:"udp_port_ranges"`
	UDPPorts            []int             `json:"udp_ports"`
	UpdateTime          any               `json:"update_time"`
	UpdaterDisplayName  string            `json:"updater_display_name"`
	UpdaterUUID         string            `json:"updater_uuid"`
	UUID                string            `json:"uuid"`
	VerifyServerCert    int               `json:"verify_server_cert"`
}

func (s *Server) app(k int) wireApp {
	created := base - int64(500+k*3)*msPerDay
	return wireApp{
		AccountName:         s.cfg.Account,
		ConnectorUniqueName: "connector-" + strconv.Itoa(k%3),
		CreateTime:          s.ms(created, k),
		CreatorDisplayName:  s.userName(0),
		CreatorUUID:         s.userUUID(0),
		Description:         s.hostile(k, pick(appNames, k)+" (internal)"),
		Host:                fmt.Sprintf("app%d.internal.example.com", k),
		InternalHostPattern: fmt.Sprintf("app%d.corp.internal", k),
		InternalPort:        8443,
		InternalProtocol:    "https",
		Name:                pick(appNames, k),
		Path:                "/",
		Port:                443,
		Protocol:            "https",
		Protocols:           []string{"https"},
		RefDisplayNames:     map[string]string{},
		RefMatches:          []string{},
		Refs:                []string{},
		ReverseProxyName:    "proxy-" + strconv.Itoa(k%2),
		Status:              s.appStatus(k),
		Tags:                []string{"tier:" + strconv.Itoa(1+k%3)},
		TCPPortRanges:       []string{},
		TCPPorts:            []int{443},
		UDPPortRanges:       []string{},
		UDPPorts:            []int{},
		UpdateTime:          s.ms(created+int64(k+1)*msPerDay, k+1),
		UpdaterDisplayName:  s.userName(0),
		UpdaterUUID:         s.userUUID(0),
		UUID:                s.appUUID(k),
		VerifyServerCert:    1,
	}
}

// accessPlan is the structure of access m, by index.
type accessPlan struct {
	status  int
	apps    []int // app indices
	groups  []int // group indices, as "group:<uuid>"
	users   []int // user indices, as "user:<uuid>"
	bare    []int // user indices, as a bare uuid
	ghost   bool  // "user:<uuid>" of a user that does not exist
	tag     bool  // a tag selector, "tag:contractor"
	revoked []int // user indices in revoked_user_list
	guest   bool  // allow_guest_access
	end     int64 // end_time, ms; 0 none
}

func (s *Server) accessPlan(m int) accessPlan {
	U, G, A := s.cfg.Users, s.cfg.Groups, s.cfg.Apps
	p := accessPlan{status: s.accessStatus(m), ghost: m%6 == 1, tag: m%5 == 4}
	for t := range min(1+m%3, A) {
		p.apps = append(p.apps, (m*3+t)%A)
	}
	for t := range min(1+m%2, G) {
		p.groups = append(p.groups, (m+t)%G)
	}
	nu := min(2+m%5, U)
	for t := range nu {
		p.users = append(p.users, (m*13+t)%U)
	}
	if m%4 == 3 && nu < U {
		p.bare = []int{(m*13 + nu) % U}
	}
	if m%7 == 0 {
		p.revoked = []int{p.users[0]}
	}
	p.guest = m%9 == 0
	switch m % 8 {
	case 2:
		p.end = s.cfg.Now().Add(-10 * 24 * time.Hour).UnixMilli()
	case 5:
		p.end = s.cfg.Now().Add(30 * 24 * time.Hour).UnixMilli()
	}
	return p
}

type wireAccess struct {
	AccessType       int      `json:"access_type"`
	AccountName      string   `json:"account_name"`
	AllowGuestAccess bool     `json:"allow_guest_access"`
	AppList          []string `json:"app_list"`
	CreateTime       any      `json:"create_time"`
	CreatorUUID      string   `json:"creator_uuid"`
	DataSource       int      `json:"data_source"`
	Description      string   `json:"description"`
	EndTime          any      `json:"end_time"`
	IntegrationID    string   `json:"integration_id"`
	RevokedUserList  []string `json:"revoked_user_list"`
	Status           int      `json:"status"`
	UpdateTime       any      `json:"update_time"`
	UserList         []string `json:"user_list"`
	UUID             string   `json:"uuid"`
}

func (s *Server) access(m int) (wireAccess, accessPlan) {
	p := s.accessPlan(m)
	created := base - int64(300+m)*msPerDay
	a := wireAccess{
		AccessType:       m % 4,
		AccountName:      s.cfg.Account,
		AllowGuestAccess: p.guest,
		AppList:          []string{},
		CreateTime:       s.ms(created, m),
		CreatorUUID:      s.userUUID(0),
		EndTime:          s.ms(p.end, m+1),
		RevokedUserList:  []string{},
		Status:           p.status,
		UpdateTime:       s.ms(created+int64(m+1)*msPerDay, m+2),
		UserList:         []string{},
		UUID:             s.accessUUID(m),
	}
	var names []string
	for _, k := range p.apps {
		a.AppList = append(a.AppList, s.appUUID(k))
		names = append(names, pick(appNames, k))
	}
	a.Description = s.hostile(m, "Access to "+strings.Join(names, ", "))
	for _, j := range p.groups {
		a.UserList = append(a.UserList, "group:"+s.groupUUID(j))
	}
	for _, i := range p.users {
		a.UserList = append(a.UserList, "user:"+s.userUUID(i))
	}
	for _, i := range p.bare {
		a.UserList = append(a.UserList, s.userUUID(i))
	}
	if p.ghost {
		a.UserList = append(a.UserList, "user:"+s.ghostUUID(m))
	}
	if p.tag {
		a.UserList = append(a.UserList, "tag:contractor")
	}
	for _, i := range p.revoked {
		a.RevokedUserList = append(a.RevokedUserList, "user:"+s.userUUID(i))
	}
	return a, p
}

// Group membership (the emulator's own model: the document lists no
// members): user i belongs to group i mod Groups.
func (s *Server) memberOf(i, j int) bool { return i%s.cfg.Groups == j }

func (s *Server) groupSize(j int) int {
	if j >= s.cfg.Users {
		return 0
	}
	return (s.cfg.Users - j + s.cfg.Groups - 1) / s.cfg.Groups
}

// selects reports whether an access or policy naming users, bare users and
// groups (by index), minus revoked, selects user i. Tag selectors select
// nobody (the document gives no selector syntax to resolve them by).
func (s *Server) selects(users, bare, groups, revoked []int, i int) bool {
	if slices.Contains(revoked, i) {
		return false
	}
	if slices.Contains(users, i) || slices.Contains(bare, i) {
		return true
	}
	return slices.ContainsFunc(groups, func(j int) bool { return s.memberOf(i, j) })
}

// accessApplies: access m applies to app k and user i (Query access
// objects: "the access rules that apply to this app id / user id").
func (s *Server) accessApplies(m, k, i int) bool {
	p := s.accessPlan(m)
	return slices.Contains(p.apps, k) && s.selects(p.users, p.bare, p.groups, p.revoked, i)
}

// policyPlan is the structure of policy m, by index.
type policyPlan struct {
	status int
	action int
	typ    int
	apps   []int // app_filter selectors
	users  []int // session_filter user selectors
	groups []int // session_filter group selectors
	guest  bool
}

// Policy action numbers are the document's enum values; it gives no names.
var policyActions = []int{0, 1, 2, 3, 4, 101, 201, 300}

func (s *Server) policyPlan(m int) policyPlan {
	U, G, A := s.cfg.Users, s.cfg.Groups, s.cfg.Apps
	p := policyPlan{status: statusActive, action: policyActions[m%len(policyActions)], typ: m % 5, guest: m%4 == 1}
	if m%6 == 5 {
		p.status = statusSuspended
	}
	for t := range min(1+m%2, A) {
		p.apps = append(p.apps, (m*5+t)%A)
	}
	p.users = []int{(m * 7) % U}
	if m%3 == 0 {
		p.groups = []int{m % G}
	}
	return p
}

func (s *Server) policyApplies(m, k, i int) bool {
	p := s.policyPlan(m)
	return slices.Contains(p.apps, k) && s.selects(p.users, nil, p.groups, nil, i)
}

// wireFilter is the emulator's reading of proto.Filter, which the document
// prints collapsed ({}): a list of selectors. Inferred; the client keeps
// filters as sent and never interprets them.
type wireFilter struct {
	Selectors []string `json:"selectors"`
}

type wirePolicy struct {
	AccountName                string            `json:"account_name"`
	Action                     int               `json:"action"`
	AllowGuestAccess           bool              `json:"allow_guest_access"`
	AppFilter                  wireFilter        `json:"app_filter"`
	Constraints                struct{}          `json:"constraints"`
	CreateTime                 any               `json:"create_time"`
	CreatorDisplayName         string            `json:"creator_display_name"`
	CreatorUUID                string            `json:"creator_uuid"`
	DataSource                 int               `json:"data_source"`
	Description                string            `json:"description"`
	FilterSelectorDisplayNames map[string]string `json:"filter_selector_display_names"`
	IntegrationID              string            `json:"integration_id"`
	Metadata                   string            `json:"metadata"`
	MitmSettings               struct{}          `json:"mitm_settings"`
	Name                       string            `json:"name"`
	ParentAppControlPolicyUUID string            `json:"parent_app_control_policy_uuid"`
	PolicyEventType            int               `json:"policy_event_type"`
	Priority                   int               `json:"priority"`
	SessionFilter              wireFilter        `json:"session_filter"`
	Status                     int               `json:"status"`
	Type                       int               `json:"type"`
	UpdateTime                 any               `json:"update_time"`
	UpdaterDisplayName         string            `json:"updater_display_name"`
	UpdaterUUID                string            `json:"updater_uuid"`
	UUID                       string            `json:"uuid"`
	WorkflowUUID               string            `json:"workflow_uuid"`
}

func (s *Server) policyUUID(m int) string {
	r := s.root.Str("policy").Num(int64(m)).Rng()
	return r.UUID()
}

// policy renders policy m; names resolves filter_selector_display_names
// (resolveDisplayNames=true).
func (s *Server) policy(m int, names bool) wirePolicy {
	p := s.policyPlan(m)
	created := base - int64(200+m)*msPerDay
	w := wirePolicy{
		AccountName:        s.cfg.Account,
		Action:             p.action,
		AllowGuestAccess:   p.guest,
		AppFilter:          wireFilter{Selectors: []string{}},
		CreateTime:         s.ms(created, m),
		CreatorDisplayName: s.userName(0),
		CreatorUUID:        s.userUUID(0),
		Description:        s.hostile(m, fmt.Sprintf("Policy %d", m)),
		Name:               "policy-" + strconv.Itoa(m),
		Priority:           m % 3,
		SessionFilter:      wireFilter{Selectors: []string{}},
		Status:             p.status,
		Type:               p.typ,
		UpdateTime:         s.ms(created+int64(m+1)*msPerDay, m+1),
		UpdaterDisplayName: s.userName(0),
		UpdaterUUID:        s.userUUID(0),
		UUID:               s.policyUUID(m),
	}
	if names {
		w.FilterSelectorDisplayNames = map[string]string{}
	}
	for _, k := range p.apps {
		sel := "app:" + s.appUUID(k)
		w.AppFilter.Selectors = append(w.AppFilter.Selectors, sel)
		if names {
			w.FilterSelectorDisplayNames[sel] = pick(appNames, k)
		}
	}
	for _, i := range p.users {
		sel := "user:" + s.userUUID(i)
		w.SessionFilter.Selectors = append(w.SessionFilter.Selectors, sel)
		if names {
			w.FilterSelectorDisplayNames[sel] = s.userName(i)
		}
	}
	for _, j := range p.groups {
		sel := "group:" + s.groupUUID(j)
		w.SessionFilter.Selectors = append(w.SessionFilter.Selectors, sel)
		if names {
			w.FilterSelectorDisplayNames[sel] = pick(groupNames, j)
		}
	}
	return w
}

type wireAuditEvent struct {
	AccountName        string `json:"account_name"`
	AuthAccountName    string `json:"auth_account_name"`
	AuthRole           int    `json:"auth_role"`
	AuthType           string `json:"auth_type"`
	AuthUUID           string `json:"auth_uuid"`
	ClientIP           string `json:"client_ip"`
	CreateTime         any    `json:"create_time"`
	ExpireTimeSec      int    `json:"expire_time_sec"`
	MatchedPath        string `json:"matched_path"`
	Method             string `json:"method"`
	Op                 string `json:"op"`
	Path               string `json:"path"`
	ProtoVersion       string `json:"proto_version"`
	Protocol           string `json:"protocol"`
	RequestBody        string `json:"request_body"`
	ResponseStatus     int    `json:"response_status"`
	ResponseStatusText string `json:"response_status_text"`
	Trace              string `json:"trace"`
	UserDisplayName    string `json:"user_display_name"`
	UserLogin          string `json:"user_login"`
	UUID               string `json:"uuid"`
}

// Audit events form a series: AuditEventsPerDay per UTC day, event k of a
// day at k·(msPerDay/perDay) ms after midnight; event n is event n%perDay
// of day n/perDay since the epoch.

func (s *Server) spacing() int64 { return int64(msPerDay / s.cfg.AuditEventsPerDay) }

// auditBefore counts the series' events before epoch-ms t (t >= 0).
func (s *Server) auditBefore(t int64) int64 {
	per := int64(s.cfg.AuditEventsPerDay)
	d, r := t/msPerDay, t%msPerDay
	sp := s.spacing()
	return d*per + min(per, (r+sp-1)/sp)
}

func (s *Server) auditTime(n int64) int64 {
	per := int64(s.cfg.AuditEventsPerDay)
	return (n/per)*msPerDay + (n%per)*s.spacing()
}

// auditSpan returns the event indices [lo, hi) in [from, to) ms, clipped to
// the data horizon.
func (s *Server) auditSpan(from, to int64) (int64, int64) {
	now := s.cfg.Now()
	a := max(from, now.Add(-dataRetention).UnixMilli(), 0)
	b := min(to, now.UnixMilli())
	if b <= a {
		return 0, 0
	}
	return s.auditBefore(a), s.auditBefore(b)
}

func (s *Server) auditEvent(n int64) wireAuditEvent {
	r := s.root.Str("audit").Num(n).Rng()
	op := auditOps[r.Intn(len(auditOps))]
	u := r.Intn(s.cfg.Users)
	path := strings.ReplaceAll(op.path, "{uuid}", r.UUID())
	status, text := 200, "OK"
	switch r.Intn(20) {
	case 0:
		status, text = 403, "Forbidden"
	case 1:
		status, text = 404, "Not Found"
	}
	i := int(n % 1_000_000)
	body := ""
	if op.method != "GET" {
		body = fmt.Sprintf(`{"account_name":%q,"secret":"%s-%s"}`, s.cfg.Account, SecretMarker, r.Hex(12))
	}
	return wireAuditEvent{
		AccountName:        s.cfg.Account,
		AuthAccountName:    s.cfg.Account,
		AuthRole:           []int{1, 2, 10}[u%3],
		AuthType:           []string{"session", "token"}[u%2],
		AuthUUID:           s.userUUID(u),
		ClientIP:           fmt.Sprintf("10.%d.%d.%d", r.Intn(256), r.Intn(256), 1+r.Intn(254)),
		CreateTime:         s.ms(s.auditTime(n), i),
		MatchedPath:        op.path,
		Method:             op.method,
		Op:                 op.op,
		Path:               path,
		ProtoVersion:       "HTTP/1.1",
		Protocol:           "https",
		RequestBody:        body,
		ResponseStatus:     status,
		ResponseStatusText: text,
		Trace:              r.Hex(32),
		UserDisplayName:    s.hostile(i, s.userName(u)),
		UserLogin:          s.userLogin(u),
		UUID:               r.UUID(),
	}
}
