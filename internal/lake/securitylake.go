package lake

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/ocsf"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
)

// SecurityLake is an Amazon Security Lake custom source's location
// (s3://<bucket>/ext/<source-name>/, or a directory for a trial), where
// ExportSecurityLake writes a pack's compliance results as OCSF Compliance
// Finding events, one class per file:
//
//	region=<Region>/accountId=<AccountID or the AWS account>/eventDay=<YYYYMMDD>/<run-id>_<sub-account>_<file>.parquet
//
// Partition values (ocsf.SecurityLakeKey checks them):
//
//   - region is Region: the AWS Region of the Security Lake the data is
//     delivered to. A result's own region (a violating resource's) stays
//     in the event (cloud.region, resources[].region); a control-level
//     result has none, so no other choice would hold for every event.
//   - accountId is the cloud account of a result in AWS (a 12-digit
//     account id). Results of Azure subscriptions, GCP projects, IBM SCC
//     zones, Kubernetes clusters and Edge accounts have no AWS account:
//     they go under AccountID, the AWS account that owns the lake, and
//     keep their own account in cloud.account.uid and cloud.provider.
//   - eventDay is the UTC day of the event's time: the report's time (when
//     the platform assessed the account), else when the pack was made.
type SecurityLake struct {
	Store  storage.Store
	Prefix string // where the custom source's location starts in Store ("" is its root)
	// Region and AccountID are required; see the type's documentation.
	Region    string
	AccountID string
	// TempDir holds the pack's files and the events while they are
	// written ("" is os.TempDir()): Parquet is read and written with
	// random access, so neither goes through memory whole.
	TempDir string
}

// SecurityLakeObject is one file written (or found) in the Security Lake.
type SecurityLakeObject struct {
	Key     string   // in the Security Lake's store
	From    []string // the pack's Parquet files the events come from (controls, violations)
	Events  int64
	Size    int64
	SHA256  string
	Existed bool // already in the lake with this checksum: nothing was written
}

// SecurityLakeResult is what ExportSecurityLake did.
type SecurityLakeResult struct {
	PackID  string
	Objects []SecurityLakeObject
}

// Events counts the events of every object.
func (r SecurityLakeResult) Events() int64 {
	var n int64
	for _, o := range r.Objects {
		n += o.Events
	}
	return n
}

// Written counts the objects stored (not already present).
func (r SecurityLakeResult) Written() int {
	n := 0
	for _, o := range r.Objects {
		if !o.Existed {
			n++
		}
	}
	return n
}

var awsAccount = regexp.MustCompile(`^[0-9]{12}$`)

// ExportSecurityLake writes the compliance results of the published pack
// at packPrefix in from (its controls and violations tables) into the
// Security Lake as OCSF Compliance Findings (internal/ocsf): an event per
// violations row, and one per controls row that has none. It reads each
// Parquet file once, checking its size and SHA-256 against the manifest
// (ErrChecksum), and writes each object the way Export does (putOnce):
// never overwriting (ErrConflict), a second export of the pack a no-op,
// since the same pack gives the same bytes.
func ExportSecurityLake(ctx context.Context, from storage.Store, packPrefix string, to SecurityLake) (SecurityLakeResult, error) {
	if to.Region == "" || to.AccountID == "" {
		return SecurityLakeResult{}, errors.New("security lake: a region and the lake's AWS account id are required")
	}
	if to.Prefix != "" {
		if err := storage.CleanKey(to.Prefix); err != nil {
			return SecurityLakeResult{}, fmt.Errorf("security lake: prefix: %w", err)
		}
	}
	m, err := readManifest(ctx, from, packPrefix)
	if err != nil {
		return SecurityLakeResult{}, err
	}
	pairs, err := resultFiles(m)
	if err != nil {
		return SecurityLakeResult{}, fmt.Errorf("security lake: pack %s: %w", packPrefix, err)
	}
	src := ocsf.Source{PackID: m.PackID, Tenant: m.Tenant, Platform: m.Source.System, Tool: cmp.Or(m.Generator.Name, "evidence"),
		ToolVersion: m.Generator.Version, GeneratedAt: m.GeneratedAt}
	res := SecurityLakeResult{PackID: m.PackID}
	x := &slExport{ctx: ctx, from: from, prefix: packPrefix, to: to, src: src, m: m}
	for _, p := range pairs {
		objs, err := x.pair(p)
		res.Objects = append(res.Objects, objs...)
		if err != nil {
			return res, fmt.Errorf("security lake: pack %s: %w", packPrefix, err)
		}
	}
	return res, nil
}

// resultPair is a sub-account's controls file of a framework and its
// violations file (absent in a pack that has none).
type resultPair struct {
	sub, name            string
	controls, violations *pack.File
}

func resultFiles(m pack.Manifest) ([]resultPair, error) {
	byKey := map[[2]string]*resultPair{}
	for i := range m.Files {
		f := &m.Files[i]
		if !pack.InParquet(f.Path) {
			continue
		}
		pf, err := pack.ParseParquet(f.Path)
		if err != nil {
			return nil, fmt.Errorf("%w, so %w", err, ErrLayout)
		}
		if pf.Table != dataset.Controls && pf.Table != dataset.Violations {
			continue
		}
		k := [2]string{pf.SubAccount, strings.Join(append(slices.Clone(pf.Folders), pf.Name), "_")}
		p := byKey[k]
		if p == nil {
			p = &resultPair{sub: k[0], name: k[1]}
			byKey[k] = p
		}
		if pf.Table == dataset.Controls {
			p.controls = f
		} else {
			p.violations = f
		}
	}
	var out []resultPair
	for _, p := range byKey {
		if p.controls == nil {
			return nil, fmt.Errorf("%s has no controls file: %w", p.violations.Path, ErrLayout)
		}
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b resultPair) int { return strings.Compare(a.controls.Path, b.controls.Path) })
	return out, nil
}

// The columns of the controls and violations tables that the events use.
type slControl struct {
	SubAccount  string     `parquet:"sub_account"`
	Framework   string     `parquet:"framework"`
	Cloud       string     `parquet:"cloud,optional"`
	AccountID   string     `parquet:"account_id,optional"`
	Alias       string     `parquet:"account_alias,optional"`
	ReportTime  *time.Time `parquet:"report_time,optional,timestamp(millisecond)"`
	ControlID   string     `parquet:"control_id"`
	Title       string     `parquet:"title,optional"`
	Category    string     `parquet:"category,optional"`
	Requirement string     `parquet:"requirement_id,optional"`
	Severity    string     `parquet:"severity,optional"`
	Status      string     `parquet:"status"`
	InfoLink    string     `parquet:"info_link,optional"`
	RowID       string     `parquet:"row_id"`
}

type slViolation struct {
	AccountID string `parquet:"account_id,optional"`
	ControlID string `parquet:"control_id"`
	Region    string `parquet:"region,optional"`
	Resource  string `parquet:"resource"`
	Reasons   string `parquet:"reasons,optional"`
	RowID     string `parquet:"row_id"`
}

type slExport struct {
	ctx    context.Context
	from   storage.Store
	prefix string
	to     SecurityLake
	src    ocsf.Source
	m      pack.Manifest
}

// partition is an object's place: accountId and eventDay.
type partition struct {
	account string
	day     string // YYYYMMDD
}

// spool is one object being written to a temporary file, hashed as it goes.
type spool struct {
	f      *os.File
	h      hashWriter
	w      *ocsf.Writer
	events int64
}

type hashWriter struct {
	w io.Writer
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// pair writes the events of one controls file and its violations.
func (x *slExport) pair(p resultPair) (objs []SecurityLakeObject, err error) {
	controls, err := x.readControls(p.controls)
	if err != nil {
		return nil, err
	}
	type ckey struct{ account, control string }
	index := make(map[ckey]int, len(controls))
	for i, c := range controls {
		index[ckey{c.AccountID, c.ControlID}] = i
	}
	hasViolations := make([]bool, len(controls))

	spools := map[partition]*spool{}
	defer func() {
		for _, s := range spools {
			s.f.Close()
			os.Remove(s.f.Name())
		}
	}()
	write := func(c slControl, r ocsf.Result) error {
		e, err := ocsf.NewEvent(x.src, r)
		if err != nil {
			return err
		}
		pt := partition{account: x.to.AccountID, day: time.UnixMilli(e.Time).UTC().Format("20060102")}
		if strings.EqualFold(c.Cloud, "AWS") && awsAccount.MatchString(c.AccountID) {
			pt.account = c.AccountID
		}
		s := spools[pt]
		if s == nil {
			f, err := os.CreateTemp(x.to.TempDir, ".evidence-ocsf-*.parquet")
			if err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			s = &spool{f: f}
			s.h = hashWriter{w: f, h: sha256.New()}
			s.w = ocsf.NewWriter(&s.h, ocsf.WriterOptions{RowGroupRows: 1000, CreatedBy: x.src.Tool + " version " + x.src.ToolVersion,
				Metadata: map[string]string{"evidence.pack_id": x.m.PackID, "evidence.tenant": x.m.Tenant, "evidence.source": x.m.Source.System}})
			spools[pt] = s
		}
		s.events++
		return s.w.Write(e)
	}
	result := func(c slControl) ocsf.Result {
		r := ocsf.Result{Framework: c.Framework, SubAccount: c.SubAccount, Cloud: c.Cloud, AccountID: c.AccountID, AccountAlias: c.Alias,
			ControlID: c.ControlID, Title: c.Title, Section: c.Category, Requirement: c.Requirement, Severity: c.Severity, Status: dataset.Status(c.Status),
			InfoLink: c.InfoLink, RowID: c.RowID}
		if c.ReportTime != nil {
			r.ReportTime = *c.ReportTime
		}
		return r
	}

	if p.violations != nil {
		err := readRows(x, p.violations, func(rows []slViolation) error {
			for _, v := range rows {
				i, ok := index[ckey{v.AccountID, v.ControlID}]
				if !ok {
					return fmt.Errorf("%s: row %s names control %s of account %s, which %s does not hold", p.violations.Path, v.RowID, v.ControlID, v.AccountID, p.controls.Path)
				}
				hasViolations[i] = true
				r := result(controls[i])
				r.Resource, r.Region, r.RowID = v.Resource, v.Region, v.RowID
				if v.Reasons != "" {
					r.Reasons = strings.Split(v.Reasons, "; ")
				}
				if err := write(controls[i], r); err != nil {
					return fmt.Errorf("%s: %w", p.violations.Path, err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i, c := range controls {
		if hasViolations[i] {
			continue
		}
		if err := write(c, result(c)); err != nil {
			return nil, fmt.Errorf("%s: %w", p.controls.Path, err)
		}
	}

	from := []string{p.controls.Path}
	if p.violations != nil {
		from = append(from, p.violations.Path)
	}
	pts := make([]partition, 0, len(spools))
	for pt := range spools {
		pts = append(pts, pt)
	}
	slices.SortFunc(pts, func(a, b partition) int { return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.day, b.day)) })
	name := x.m.PackID + "_" + nameValue(p.sub) + "_" + nameValue(p.name) + ".parquet"
	for _, pt := range pts {
		s := spools[pt]
		if err := s.w.Close(); err != nil {
			return objs, fmt.Errorf("write the events of %s: %w", p.controls.Path, err)
		}
		day, _ := time.Parse("20060102", pt.day)
		key, err := ocsf.SecurityLakeKey(x.to.Region, pt.account, day, name)
		if err != nil {
			return objs, fmt.Errorf("%s: %w: %w", p.controls.Path, err, ErrLayout)
		}
		if x.to.Prefix != "" {
			key = x.to.Prefix + "/" + key
		}
		o := SecurityLakeObject{Key: key, From: from, Events: s.events, Size: s.h.n, SHA256: hex.EncodeToString(s.h.h.Sum(nil))}
		spooled := s.f.Name()
		o.Existed, err = putOnce(x.ctx, x.to.Store, key, func() (io.ReadCloser, error) { return os.Open(spooled) },
			want{name: "the OCSF events of " + p.controls.Path, size: o.Size, sha: o.SHA256},
			storage.PutOptions{ContentType: pack.MediaTypeParquet, Metadata: map[string]string{"evidence-pack-id": x.m.PackID, "evidence-tenant": pack.TenantFolder(x.m.Tenant)}})
		if err != nil {
			return objs, err
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// readControls reads a controls file whole: the controls of one
// sub-account's framework (a few thousand at most), which every violation
// of it looks up.
func (x *slExport) readControls(f *pack.File) ([]slControl, error) {
	var out []slControl
	err := readRows(x, f, func(rows []slControl) error {
		out = append(out, rows...)
		return nil
	})
	return out, err
}

// readRows copies a pack's Parquet file to a temporary file, checking its
// size and SHA-256 against the manifest as it goes, then reads its rows
// into T in batches.
func readRows[T any](x *slExport, f *pack.File, fn func([]T) error) error {
	tmp, err := os.CreateTemp(x.to.TempDir, ".evidence-pack-*.parquet")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	src := x.prefix + "/" + f.Path
	rc, err := x.from.Get(x.ctx, src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	cr := pack.Check(storage.ContextReader(x.ctx, rc), pack.File{Path: src, Size: f.Size, SHA256: f.SHA256})
	_, err = io.Copy(tmp, cr)
	rc.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	r := pq.NewGenericReader[T](tmp)
	defer r.Close()
	buf := make([]T, 500)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if ferr := fn(buf[:n]); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
}
