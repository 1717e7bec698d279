package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The wire shapes below follow the response samples of the API document
// (seed 001), snake_case as shown there. Unknown fields are ignored. Fields
// are decoded only when the evidence uses them; fields that carry secrets
// are never decoded (see the package doc).

// User is an element of Query Users ("users").
type User struct {
	UUID             string   `json:"uuid"`
	AccountName      string   `json:"account_name"`
	DisplayName      string   `json:"display_name"`
	SourceUserID     string   `json:"source_user_id"`
	Status           Enum     `json:"status"`
	Role             Enum     `json:"role"`
	MFAStatus        Enum     `json:"mfa_status"`
	IdPMFAStatus     Enum     `json:"idp_mfa_status"`
	DataSource       Enum     `json:"data_source"`
	IntegrationID    string   `json:"integration_id"`
	Location         string   `json:"location"`
	Tags             []string `json:"tags"`
	CreateTime       Time     `json:"create_time"`
	UpdateTime       Time     `json:"update_time"`
	RecordUpdateTime Time     `json:"record_update_time"`
	// mfa_encrypted_secret is deliberately absent.
}

// Group is an element of Query Groups ("groups"). The API lists no members:
// only user_count and sub_group_count.
type Group struct {
	UUID                 string   `json:"uuid"`
	AccountName          string   `json:"account_name"`
	Name                 string   `json:"name"`
	Description          string   `json:"description"`
	Status               Enum     `json:"status"`
	DataSource           Enum     `json:"data_source"`
	IntegrationID        string   `json:"integration_id"`
	Tags                 []string `json:"tags"`
	UserCount            Int      `json:"user_count"`
	SubGroupCount        Int      `json:"sub_group_count"`
	CreateTime           Time     `json:"create_time"`
	UpdateTime           Time     `json:"update_time"`
	MembershipUpdateTime Time     `json:"membership_update_time"`
	ProfileUpdateTime    Time     `json:"profile_update_time"`
}

// App is an element of Query Apps ("apps").
type App struct {
	UUID                string   `json:"uuid"`
	AccountName         string   `json:"account_name"`
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	Host                string   `json:"host"`
	Path                string   `json:"path"`
	Protocol            string   `json:"protocol"`
	Port                Int      `json:"port"`
	Status              Enum     `json:"status"`
	DataSource          Enum     `json:"data_source"`
	IntegrationID       string   `json:"integration_id"`
	ConnectorUniqueName string   `json:"connector_unique_name"`
	ReverseProxyName    string   `json:"reverse_proxy_name"`
	Tags                []string `json:"tags"`
	CreatorUUID         string   `json:"creator_uuid"`
	CreatorDisplayName  string   `json:"creator_display_name"`
	UpdaterUUID         string   `json:"updater_uuid"`
	UpdaterDisplayName  string   `json:"updater_display_name"`
	CreateTime          Time     `json:"create_time"`
	UpdateTime          Time     `json:"update_time"`
}

// Access is an element of Query access objects ("accesses"): an access
// policy. "Filters select users and apps. Any user selected has access to
// any app selected." UserList holds user and group selectors
// ("user:<uuid>", "group:<uuid>" or a bare uuid), AppList app uuids.
type Access struct {
	UUID             string   `json:"uuid"`
	AccountName      string   `json:"account_name"`
	Description      string   `json:"description"`
	AccessType       Enum     `json:"access_type"`
	Status           Enum     `json:"status"`
	AllowGuestAccess bool     `json:"allow_guest_access"`
	AppList          []string `json:"app_list"`
	UserList         []string `json:"user_list"`
	RevokedUserList  []string `json:"revoked_user_list"`
	DataSource       Enum     `json:"data_source"`
	IntegrationID    string   `json:"integration_id"`
	CreatorUUID      string   `json:"creator_uuid"`
	CreateTime       Time     `json:"create_time"`
	UpdateTime       Time     `json:"update_time"`
	EndTime          Time     `json:"end_time"`
}

// Policy is an element of Query policies ("policies"), in the shape of the
// document's policy samples (Create a Policy, Get the policy details): the
// product's access policy. "If a situation match all the conditions,
// trigger the action"; "Filters select sessions and resources. The policy
// applies only if both filters match." The filters' inner shape is not in
// the document (proto.Filter, printed collapsed), so they are kept as the
// API sent them, never interpreted.
type Policy struct {
	UUID                       string          `json:"uuid"`
	AccountName                string          `json:"account_name"`
	Name                       string          `json:"name"`
	Description                string          `json:"description"`
	Action                     Enum            `json:"action"` // document: enum 0 1 2 3 4 101 … 500, names not given
	Type                       Enum            `json:"type"`   // proto.PolicyType 0-4
	Status                     Enum            `json:"status"`
	Priority                   Int             `json:"priority"`
	AllowGuestAccess           bool            `json:"allow_guest_access"`
	AppFilter                  json.RawMessage `json:"app_filter"`
	SessionFilter              json.RawMessage `json:"session_filter"`
	Constraints                json.RawMessage `json:"constraints"`
	FilterSelectorDisplayNames json.RawMessage `json:"filter_selector_display_names"`
	PolicyEventType            Enum            `json:"policy_event_type"`
	ParentAppControlPolicyUUID string          `json:"parent_app_control_policy_uuid"`
	WorkflowUUID               string          `json:"workflow_uuid"`
	DataSource                 Enum            `json:"data_source"`
	IntegrationID              string          `json:"integration_id"`
	CreatorUUID                string          `json:"creator_uuid"`
	CreatorDisplayName         string          `json:"creator_display_name"`
	UpdaterUUID                string          `json:"updater_uuid"`
	UpdaterDisplayName         string          `json:"updater_display_name"`
	CreateTime                 Time            `json:"create_time"`
	UpdateTime                 Time            `json:"update_time"`
	// metadata ("internal use only") and mitm_settings are not decoded.
}

// AuditEvent is an element of Query Audit Events ("audit_events"): one call
// to the Edge API. request_body is deliberately absent: it is the body of
// the audited call and may carry secrets.
type AuditEvent struct {
	UUID               string `json:"uuid"`
	AccountName        string `json:"account_name"`
	AuthAccountName    string `json:"auth_account_name"`
	AuthRole           Enum   `json:"auth_role"`
	AuthType           string `json:"auth_type"`
	AuthUUID           string `json:"auth_uuid"`
	ClientIP           string `json:"client_ip"`
	CreateTime         Time   `json:"create_time"`
	Method             string `json:"method"`
	Op                 string `json:"op"`
	Path               string `json:"path"`
	MatchedPath        string `json:"matched_path"`
	Protocol           string `json:"protocol"`
	ProtoVersion       string `json:"proto_version"`
	ResponseStatus     Int    `json:"response_status"`
	ResponseStatusText string `json:"response_status_text"`
	Trace              string `json:"trace"`
	UserDisplayName    string `json:"user_display_name"`
	UserLogin          string `json:"user_login"`
}

// session is the TokenLogin response (the fields the client uses).
type session struct {
	Token         string `json:"token"`
	TTLSec        Int    `json:"ttl_sec"`
	ExpireTimeSec Int    `json:"expire_time_sec"`
}

// Status names of proto.EnumStatus, by number (see StatusName).
var statusNames = [...]string{"UNSPECIFIED", "INIT", "ACTIVE", "SUSPENDED", "DELETED"}

// Status names.
const (
	StatusInit      = "INIT"
	StatusActive    = "ACTIVE"
	StatusSuspended = "SUSPENDED"
	StatusDeleted   = "DELETED"
)

// StatusName returns the name of a proto.EnumStatus value: a name as
// written (upper-cased), or the number mapped 0 UNSPECIFIED, 1 INIT,
// 2 ACTIVE, 3 SUSPENDED, 4 DELETED (an assumption: the document lists the
// numbers 0-4 and, for filters, the names INIT | ACTIVE | SUSPENDED |
// DELETED in that order). Other numbers read "STATUS_<n>"; an absent value
// is UNSPECIFIED.
func StatusName(e Enum) string {
	s := strings.TrimSpace(string(e))
	if s == "" {
		return statusNames[0]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return strings.ToUpper(s)
	}
	if n >= 0 && n < len(statusNames) {
		return statusNames[n]
	}
	return "STATUS_" + s
}

// Enum is a protobuf enum value as the API writes it: a number (the
// document's samples) or a name (protobuf's JSON mapping). It keeps the
// text: "2" or "ACTIVE"; "" when absent or null.
type Enum string

// UnmarshalJSON implements json.Unmarshaler.
func (e *Enum) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*e = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = Enum(s)
	default:
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("enum value %s: want an integer or a name", truncate(string(b), 40))
		}
		*e = Enum(strconv.FormatInt(n, 10))
	}
	return nil
}

// Int is an integer written as a JSON number or, as protobuf's JSON mapping
// writes 64-bit integers, a quoted one. null is 0.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return fmt.Errorf("integer %s: %w", truncate(string(b), 40), err)
	}
	*n = Int(v)
	return nil
}

// Time is an instant as the API writes it: an epoch integer (see ParseTime),
// quoted or not, or an RFC 3339 string. 0, null and "" are the zero Time
// (protobuf's "unset"). It always holds UTC and marshals as RFC 3339, so a
// decoded value round-trips exactly.
type Time struct{ time.Time }

// Epoch magnitudes: an epoch value below secondsBelow is seconds (up to the
// year 5138), below millisBelow milliseconds, below microsBelow
// microseconds, else nanoseconds. Any instant after 1973-03-03 is read in
// the right unit whichever of the four the server uses.
const (
	secondsBelow = 100_000_000_000
	millisBelow  = 100_000_000_000_000
	microsBelow  = 100_000_000_000_000_000
)

// ParseTime parses what Time accepts.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if s[0] == '-' || (s[0] >= '0' && s[0] <= '9') {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return FromEpoch(v)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("unrecognised time %q: want epoch seconds/milliseconds or RFC 3339", truncate(s, 40))
	}
	if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("time %q out of range", truncate(s, 40))
	}
	return t, nil
}

// FromEpoch reads an epoch integer by magnitude (seconds, milliseconds,
// microseconds or nanoseconds); 0 is the zero Time, negative values are
// errors.
func FromEpoch(v int64) (time.Time, error) {
	switch {
	case v == 0:
		return time.Time{}, nil
	case v < 0:
		return time.Time{}, fmt.Errorf("epoch time %d is negative", v)
	case v < secondsBelow:
		return time.Unix(v, 0).UTC(), nil
	case v < millisBelow:
		return time.UnixMilli(v).UTC(), nil
	case v < microsBelow:
		return time.UnixMicro(v).UTC(), nil
	}
	return time.Unix(0, v).UTC(), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	switch {
	case s == "null":
		t.Time = time.Time{}
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	case len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		return fmt.Errorf("time %s: want a number or a string", truncate(s, 40))
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON implements json.Marshaler: RFC 3339 with nanoseconds, or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
