package pack

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/storage"
)

// Schema is the value of Manifest.Schema for this version of the format.
const Schema = "evidence-pack/v1"

// Names at the root of a pack that Writer.Put refuses: Publish writes them.
const (
	ManifestName  = "manifest.json" // written last; its presence means "complete"
	SumsName      = "SHA256SUMS"    // `sha256sum -c SHA256SUMS` in the pack directory
	SignatureName = "manifest.sig"  // optional signature of manifest.json's bytes
)

// Media types of the files in a pack (File.MediaType).
const (
	MediaTypeJSON    = "application/json"
	MediaTypeText    = "text/plain; charset=utf-8"
	MediaTypeXLSX    = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	MediaTypePDF     = "application/pdf"
	MediaTypeParquet = "application/vnd.apache.parquet"
	MediaTypeSig     = "application/octet-stream"
	MediaTypeHTML    = "text/html; charset=utf-8"
)

// MaxManifestSize bounds how much of manifest.json DecodeManifest and Verify
// read: a manifest is metadata, and a huge one is not a pack.
const MaxManifestSize = 64 << 20

// ErrBadManifest is wrapped by DecodeManifest's errors: the bytes are not an
// evidence-pack/v1 manifest.
var ErrBadManifest = errors.New("not a valid evidence-pack/v1 manifest")

// Manifest is manifest.json. See the package documentation for every field.
type Manifest struct {
	Schema      string      `json:"schema"`               // Schema
	PackID      string      `json:"pack_id"`              // the run id
	Tenant      string      `json:"tenant"`               // whose evidence
	Source      Source      `json:"source"`               // where the data came from
	Period      Period      `json:"period"`               // what time it covers
	GeneratedAt time.Time   `json:"generated_at"`         // when it was published
	Generator   Generator   `json:"generator"`            // what built it
	Scope       Scope       `json:"scope"`                // what it covers
	Queries     []Query     `json:"queries"`              // one per unit of work
	Files       []File      `json:"files"`                // every file but manifest.json and manifest.sig
	Warnings    []string    `json:"warnings,omitempty"`   // for the auditor's attention
	Failures    []Failure   `json:"failures,omitempty"`   // units that failed
	Stats       *Stats      `json:"stats,omitempty"`      // the run's counters
	Invocation  *Invocation `json:"invocation,omitempty"` // how the run was asked for
	Signature   *Signature  `json:"signature,omitempty"`  // the key that signs it, when signed
	// Previous is the tenant's pack published before this one, as recorded
	// when it was published (state.json): the chain of packs that
	// VerifyChain follows. null for a tenant's first pack, and for packs
	// kept in a store that holds no state.
	Previous *Link `json:"previous"`
	// Replaces is the pack of the same period that this one supersedes
	// (the period's latest.json when this run started), when there was one.
	Replaces *Link `json:"replaces,omitempty"`
}

// Link names another pack of the tenant and fixes its content: the
// SHA-256 of its manifest.json, which lists the SHA-256 of every file.
type Link struct {
	PackID         string `json:"pack_id"`
	Path           string `json:"path"` // its key prefix in the store, as PackPrefix builds it
	Period         Period `json:"period"`
	ManifestSHA256 string `json:"manifest_sha256"`
}

// Signature names the key whose signature of manifest.json's bytes is in
// File: the manifest cannot hold its own signature, but it holds, and the
// signature therefore covers, which key made it.
type Signature struct {
	File           string `json:"file"`            // SignatureName
	Algorithm      string `json:"algorithm"`       // "ed25519"
	KeyFingerprint string `json:"key_fingerprint"` // KeyFingerprint of the public key
}

// Stats are a run's counters. The fields are in the order of their JSON
// names: the manifest wrote them as a map, which encoding/json sorts, and
// manifest.json keeps the same bytes.
type Stats struct {
	BytesReceived int64 `json:"bytes_received"` // response bytes read from the API
	DurationMS    int64 `json:"duration_ms"`    // from the start of collection to the manifest
	NetworkErrors int64 `json:"network_errors"` // requests that failed without an answer
	RateLimited   int64 `json:"rate_limited"`   // answers that were 429s
	Requests      int64 `json:"requests"`       // requests sent, retries included
	Retries       int64 `json:"retries"`
	Rows          int64 `json:"rows"`          // rows written, all tables
	ServerErrors  int64 `json:"server_errors"` // 5xx answers
}

// Invocation is how a run was asked for, so that it can be repeated: the
// command line (secrets removed), the SHA-256 of the configuration file and
// the public id of the credential used (never a secret).
type Invocation struct {
	CommandLine  []string `json:"command_line,omitempty"`
	ConfigSHA256 string   `json:"config_sha256,omitempty"`
	Credential   string   `json:"credential,omitempty"`
}

// Source is where the data came from. Never credentials.
type Source struct {
	System  string `json:"system"`        // "lacework"
	BaseURL string `json:"base_url"`      // "https://acme.lacework.net"
	API     string `json:"api,omitempty"` // "Lacework API v2"
	// FailingOnly: the platform reports failing rules only (Sophos Cloud
	// Optix), so no compliance percentage can be computed from the pack.
	FailingOnly bool `json:"failing_only,omitempty"`
}

// Period is the time range the evidence covers: [From, To).
type Period struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Label string    `json:"label"` // PeriodLabel(From, To)
}

// Generator is the program that built the pack.
type Generator struct {
	Name    string `json:"name"` // "evidence"
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// Scope is what the run covered.
type Scope struct {
	SubAccounts []string `json:"sub_accounts"`
	Accounts    []string `json:"accounts"`
	Frameworks  []string `json:"frameworks"`
	Datasets    []string `json:"datasets"` // the datasets the pack holds (at least one unit ran)
	// Excluded is what the run was asked for and the pack does not hold,
	// each with the reason ("audit_logs: the platform has no audit log").
	Excluded []string `json:"excluded,omitempty"`
}

// Query is one request series made to the source (one unit of work).
type Query struct {
	Dataset    string        `json:"dataset"`
	SubAccount string        `json:"sub_account,omitempty"`
	Account    string        `json:"account,omitempty"`
	Framework  string        `json:"framework,omitempty"`
	Window     period.Window `json:"window"`
	Pages      int64         `json:"pages"`
	Rows       int64         `json:"rows"`
	Requests   int64         `json:"requests,omitempty"`
	// Queries counts the result sets run (windows, and re-runs after a
	// result set hit the API's row cap); Splits counts those re-runs.
	Queries  int64 `json:"result_sets,omitempty"`
	Splits   int64 `json:"splits,omitempty"`
	Complete bool  `json:"complete"` // false: the unit failed; Rows is what came before the error
	// AnnouncedRows is the API's own count of the rows (totalRows,
	// totalCount, …) when it gave one; Rows must equal it for a complete unit.
	AnnouncedRows *int64 `json:"announced_rows,omitempty"`
	// Request is the API call behind the unit: method, path, parameters.
	Request *Request `json:"request,omitempty"`
	// Parts are the result sets the unit was read as (time windows, or
	// re-runs in parts after a row cap), each with its rows and the API's
	// own count when it gave one: a count can be checked window by window.
	Parts []QueryPart `json:"parts,omitempty"`
}

// Request is an API call as the manifest records it (never a credential).
type Request struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Params map[string]string `json:"params,omitempty"`
}

// QueryPart is one result set of a unit.
type QueryPart struct {
	Window        period.Window `json:"window"`
	Filter        string        `json:"filter,omitempty"` // the part's filter, when the result set was split by one (an account)
	Rows          int64         `json:"rows"`
	AnnouncedRows *int64        `json:"announced_rows,omitempty"`
}

// File is one file of the pack.
type File struct {
	Path      string `json:"path"` // relative to the pack root, slash-separated
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"` // lower-case hex
	MediaType string `json:"media_type"`
	Rows      *int64 `json:"rows,omitempty"` // data rows, for tabular files
}

// clone copies f so that Rows is not shared.
func (f File) clone() File {
	if f.Rows != nil {
		n := *f.Rows
		f.Rows = &n
	}
	return f
}

// Failure is a unit of work that failed while the run carried on.
type Failure struct {
	Unit       string `json:"unit"`
	SubAccount string `json:"sub_account,omitempty"`
	Account    string `json:"account,omitempty"`
	Framework  string `json:"framework,omitempty"`
	Dataset    string `json:"dataset,omitempty"`
	Error      string `json:"error"`
	// RowsBeforeError is how many rows the unit wrote before it failed;
	// they are in the pack, marked incomplete by this failure.
	RowsBeforeError int64 `json:"rows_before_error,omitempty"`
}

// EncodeManifest returns manifest.json's bytes: JSON with a 2-space indent
// and a trailing newline, times in UTC, Files sorted by Path, nil lists as
// [] and map keys sorted, so that equal manifests give equal bytes. HTML
// characters are not escaped (the file is read by people).
func EncodeManifest(m Manifest) ([]byte, error) {
	m = normalize(m)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("pack: encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// normalize returns a copy of m in canonical form; m is not modified.
func normalize(m Manifest) Manifest {
	utc := func(t *time.Time) { *t = t.UTC() }
	utc(&m.Period.From)
	utc(&m.Period.To)
	utc(&m.GeneratedAt)
	orEmpty := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	m.Scope.SubAccounts = orEmpty(m.Scope.SubAccounts)
	m.Scope.Accounts = orEmpty(m.Scope.Accounts)
	m.Scope.Frameworks = orEmpty(m.Scope.Frameworks)
	m.Scope.Datasets = orEmpty(m.Scope.Datasets)

	m.Queries = slices.Clone(m.Queries)
	if m.Queries == nil {
		m.Queries = []Query{}
	}
	for i := range m.Queries {
		utc(&m.Queries[i].Window.From)
		utc(&m.Queries[i].Window.To)
	}
	m.Files = slices.Clone(m.Files)
	if m.Files == nil {
		m.Files = []File{}
	}
	slices.SortStableFunc(m.Files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	return m
}

// DecodeManifest reads a manifest (at most MaxManifestSize bytes). It is
// strict: unknown fields, trailing data and a schema other than Schema are
// errors wrapping ErrBadManifest. It does not check the content; see
// Manifest.Validate.
func DecodeManifest(r io.Reader) (Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("pack: read manifest: %w", err)
	}
	if len(b) > MaxManifestSize {
		return Manifest{}, fmt.Errorf("pack: manifest larger than %d bytes: %w", MaxManifestSize, ErrBadManifest)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		// A newer schema may add fields: name the schema rather than the field.
		var head struct {
			Schema string `json:"schema"`
		}
		if json.Unmarshal(b, &head) == nil && head.Schema != Schema {
			return Manifest{}, fmt.Errorf("pack: manifest schema %q, want %q: %w", head.Schema, Schema, ErrBadManifest)
		}
		return Manifest{}, fmt.Errorf("pack: decode manifest: %v: %w", err, ErrBadManifest)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Manifest{}, fmt.Errorf("pack: decode manifest: data after the JSON object: %w", ErrBadManifest)
	}
	if m.Schema != Schema {
		return Manifest{}, fmt.Errorf("pack: manifest schema %q, want %q: %w", m.Schema, Schema, ErrBadManifest)
	}
	return m, nil
}

// Validate checks what a published manifest must satisfy: the schema; a pack
// id, tenant and generation time; a period that ends after it starts; and
// files with clean, unique, sorted paths, sizes ≥ 0 and SHA-256 in lower-case
// hex, SHA256SUMS among them and neither manifest.json nor manifest.sig. It
// returns every problem, joined.
func (m Manifest) Validate() error {
	return joinProblems(append(m.headerProblems(), m.fileProblems()...))
}

func joinProblems(msgs []string) error {
	errs := make([]error, len(msgs))
	for i, p := range msgs {
		errs[i] = errors.New(p)
	}
	return errors.Join(errs...)
}

// headerProblems lists what Validate reports about everything but Files.
func (m Manifest) headerProblems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if m.Schema != Schema {
		add("schema is %q, want %q", m.Schema, Schema)
	}
	if m.PackID == "" {
		add("pack_id is empty")
	}
	if m.Tenant == "" {
		add("tenant is empty")
	}
	if m.GeneratedAt.IsZero() {
		add("generated_at is not set")
	}
	if !m.Period.From.IsZero() && !m.Period.To.IsZero() && !m.Period.To.After(m.Period.From) {
		add("period.to %s is not after period.from %s", m.Period.To.UTC().Format(time.RFC3339), m.Period.From.UTC().Format(time.RFC3339))
	}
	return out
}

// fileProblems lists what Validate reports about Files.
func (m Manifest) fileProblems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	seen := make(map[string]bool, len(m.Files))
	hasSums := false
	for i, f := range m.Files {
		switch {
		case storage.CleanKey(f.Path) != nil:
			add("files[%d]: path %q is not a clean relative path", i, f.Path)
		case f.Path == ManifestName || f.Path == SignatureName:
			add("files[%d]: %s cannot list itself or its signature", i, f.Path)
		case seen[f.Path]:
			add("files[%d]: %s is listed twice", i, f.Path)
		case i > 0 && f.Path < m.Files[i-1].Path:
			add("files[%d]: %s is out of order (after %s)", i, f.Path, m.Files[i-1].Path)
		}
		seen[f.Path] = true
		hasSums = hasSums || f.Path == SumsName
		if f.Size < 0 {
			add("files[%d]: %s has a negative size %d", i, f.Path, f.Size)
		}
		if !isHexSHA256(f.SHA256) {
			add("files[%d]: %s has sha256 %q, want 64 lower-case hex digits", i, f.Path, f.SHA256)
		}
		if f.Rows != nil && *f.Rows < 0 {
			add("files[%d]: %s has negative rows %d", i, f.Path, *f.Rows)
		}
	}
	if !hasSums {
		add("files does not list %s", SumsName)
	}
	return out
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
