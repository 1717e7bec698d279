package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
)

// Errors, testable with errors.Is.
var (
	// ErrNotPublished: the pack has no manifest.json.
	ErrNotPublished = errors.New("pack is not published (no manifest.json)")
	// ErrChecksum: a file read from the pack does not match its size or
	// SHA-256 in the manifest. Nothing was stored for it.
	ErrChecksum = pack.ErrChanged
	// ErrConflict: the lake already holds a different object under the key.
	ErrConflict = errors.New("lake already holds a different object")
	// ErrLayout: a Parquet file's path, the pack id or the period cannot
	// be placed in the lake layout.
	ErrLayout = errors.New("not in the lake layout")
)

// DDL file names under <lake>/_ddl/.
const (
	DDLDir     = "_ddl"
	AthenaFile = "athena.sql"
	DuckDBFile = "duckdb.sql"
)

// Partition keys of every lake table, in folder order.
const (
	PartDate    = "dt"
	PartTenant  = "tenant"
	PartAccount = "account"
)

// Lake is a data-lake destination.
type Lake struct {
	Store storage.Store
	// Prefix is where the lake starts in Store ("" is its root).
	Prefix string
	// Location is Store's root as query engines name it: "s3://bucket/prefix"
	// or an absolute directory. The DDL's locations are built from it.
	Location string
}

// root is the lake's location with its prefix, without a trailing slash.
func (l Lake) root() string {
	r := strings.TrimSuffix(l.Location, "/")
	if l.Prefix != "" {
		r += "/" + l.Prefix
	}
	return r
}

func (l Lake) key(parts ...string) string {
	if l.Prefix != "" {
		parts = append([]string{l.Prefix}, parts...)
	}
	return path.Join(parts...)
}

// Object is one Parquet file of a pack and its place in the lake.
type Object struct {
	Table  string // dataset table, e.g. "evaluations"
	Path   string // in the pack, e.g. "parquet/evaluations/account=prod/dataset-AwsCompliance.parquet"
	Key    string // in the lake's store
	Size   int64
	SHA256 string
	Rows   *int64 // from the manifest; nil if it has none
	// Existed is set by Export when the lake already held the object with
	// the manifest's checksum: nothing was copied.
	Existed bool
}

// Result is what Export did.
type Result struct {
	PackID  string
	Objects []Object // every Parquet file of the pack, in manifest order
	DDL     DDL      // the DDL written to _ddl/
	DDLKeys []string // keys of athena.sql and duckdb.sql in the lake's store
}

// Copied counts the objects Export stored (not already present).
func (r Result) Copied() int {
	n := 0
	for _, o := range r.Objects {
		if !o.Existed {
			n++
		}
	}
	return n
}

// Export copies the Parquet files of the published pack at packPrefix in
// from into the lake and writes the DDL; see the package documentation.
// On error the Result holds the objects handled before it.
func Export(ctx context.Context, from storage.Store, packPrefix string, to Lake) (Result, error) {
	if to.Prefix != "" {
		if err := storage.CleanKey(to.Prefix); err != nil {
			return Result{}, fmt.Errorf("lake: prefix: %w", err)
		}
	}
	m, err := readManifest(ctx, from, packPrefix)
	if err != nil {
		return Result{}, err
	}
	objs, err := Plan(m, to.Prefix)
	if err != nil {
		return Result{}, fmt.Errorf("lake: pack %s: %w", packPrefix, err)
	}
	res := Result{PackID: m.PackID}
	meta := map[string]string{"evidence-pack-id": m.PackID, "evidence-tenant": pack.TenantFolder(m.Tenant)}
	for _, o := range objs {
		if err := copyObject(ctx, from, packPrefix+"/"+o.Path, to.Store, &o, meta); err != nil {
			return res, fmt.Errorf("lake: pack %s: %w", packPrefix, err)
		}
		res.Objects = append(res.Objects, o)
	}
	res.DDL, res.DDLKeys, err = writeDDL(ctx, to)
	if err != nil {
		return res, fmt.Errorf("lake: pack %s: %w", packPrefix, err)
	}
	return res, nil
}

// readManifest reads and checks the pack's manifest.json.
func readManifest(ctx context.Context, s storage.Store, packPrefix string) (pack.Manifest, error) {
	key := packPrefix + "/" + pack.ManifestName
	rc, err := s.Get(ctx, key)
	if errors.Is(err, storage.ErrNotExist) {
		return pack.Manifest{}, fmt.Errorf("lake: pack %s: %w", packPrefix, ErrNotPublished)
	}
	if err != nil {
		return pack.Manifest{}, fmt.Errorf("lake: read %s: %w", key, err)
	}
	defer rc.Close()
	m, err := pack.DecodeManifest(rc)
	if err != nil {
		return pack.Manifest{}, fmt.Errorf("lake: %s: %w", key, err)
	}
	if err := m.Validate(); err != nil {
		return pack.Manifest{}, fmt.Errorf("lake: %s: %w: %w", key, pack.ErrBadManifest, err)
	}
	return m, nil
}

// Plan places the Parquet files of m in the lake under prefix ("" for the
// store's root), without touching any store. Files outside the pack's
// parquet/ folder are not data sets and are left out. It fails with ErrLayout if a Parquet
// path is not one of the pack layout (pack.ParseParquet) with a dataset
// table, if two files would share a key, or if the pack id or the period
// cannot name a lake file.
func Plan(m pack.Manifest, prefix string) ([]Object, error) {
	runID := m.PackID
	if runID == "" || storage.SafePart(runID) != runID || strings.ContainsAny(runID, "_=") {
		return nil, fmt.Errorf("pack id %q cannot start a lake file name (want letters, digits, '-' and '.'): %w", runID, ErrLayout)
	}
	if m.Period.From.IsZero() {
		return nil, fmt.Errorf("the manifest has no period start for dt=: %w", ErrLayout)
	}
	dt := m.Period.From.UTC().Format("2006-01-02")
	tenant := partValue(m.Tenant)
	tables := map[string]bool{}
	for _, t := range dataset.All() {
		tables[t.Name] = true
	}
	l := Lake{Prefix: prefix}
	var out []Object
	seen := map[string]string{}
	for _, f := range m.Files {
		if !pack.InParquet(f.Path) {
			continue
		}
		pf, err := pack.ParseParquet(f.Path)
		if err != nil {
			return nil, fmt.Errorf("%w, so %w", err, ErrLayout)
		}
		table, account := pf.Table, partValue(pf.SubAccount)
		name, err := fileName(pf, runID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		if !tables[table] {
			return nil, fmt.Errorf("%s: %q is not a dataset table: %w", f.Path, table, ErrLayout)
		}
		key := l.key(table, PartDate+"="+dt, PartTenant+"="+tenant, PartAccount+"="+account, name)
		if other, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s and %s both go to %s: %w", other, f.Path, key, ErrLayout)
		}
		seen[key] = f.Path
		var rows *int64
		if f.Rows != nil {
			n := *f.Rows
			rows = &n
		}
		out = append(out, Object{Table: table, Path: f.Path, Key: key, Size: f.Size, SHA256: f.SHA256, Rows: rows})
	}
	return out, nil
}

// fileName is the lake's name of a pack's Parquet file:
// "<run-id>[_<k>-<v>...][_<name>].parquet", with the folders of older packs
// as "_<k>-<v>" and the pack's own name ("framework-CIS_1.4") left out when
// it is "part-00000".
func fileName(f pack.ParquetFile, runID string) (string, error) {
	name := runID
	for _, seg := range f.Folders {
		k, v, isKV := strings.Cut(seg, "=")
		switch {
		case isKV && (k == PartDate || k == PartTenant):
			return "", fmt.Errorf("folder %s= is a lake partition key: %w", k, ErrLayout)
		case isKV:
			name += "_" + nameValue(k) + "-" + nameValue(v)
		default:
			name += "_" + nameValue(seg)
		}
	}
	if f.Name != pack.DefaultParquetName {
		name += "_" + nameValue(f.Name)
	}
	return name + ".parquet", nil
}

// partValue is a partition value: a key part without '=' (Hive splits
// "k=v" at the first '=', but a value with one is not worth the doubt).
func partValue(s string) string { return strings.ReplaceAll(storage.SafePart(s), "=", "_") }

// nameValue is a part of a file name: no '=', which Hive readers could
// take for a partition.
func nameValue(s string) string { return strings.ReplaceAll(storage.SafePart(s), "=", "-") }

// copyObject streams src from the pack's store to o.Key in the lake,
// checking size and SHA-256 against the manifest while it copies. An
// object already under o.Key is accepted if it has the manifest's checksum.
func copyObject(ctx context.Context, from storage.Store, src string, to storage.Store, o *Object, meta map[string]string) error {
	existed, err := putOnce(ctx, to, o.Key, func() (io.ReadCloser, error) { return from.Get(ctx, src) },
		want{name: src, size: o.Size, sha: o.SHA256}, storage.PutOptions{ContentType: pack.MediaTypeParquet, Metadata: meta})
	o.Existed = existed
	return err
}

// want is what an object must be: its size and SHA-256, and how errors
// name where it came from.
type want struct {
	name string
	size int64
	sha  string
}

// putOnce is how the lakes write: never overwriting, idempotent. It stores
// what open gives under key, checking size and SHA-256 against w while it
// streams, so that a mismatch fails the Put and leaves nothing
// (ErrChecksum). A key the store already holds is read back and hashed:
// with w's checksum it counts as stored before (existed), with another it
// fails with ErrConflict. open is called only when the object is to be
// written.
func putOnce(ctx context.Context, to storage.Store, key string, open func() (io.ReadCloser, error), w want, o storage.PutOptions) (existed bool, err error) {
	found, err := exists(ctx, to, key)
	if err != nil {
		return false, err
	}
	if found {
		return true, checkExisting(ctx, to, key, w)
	}
	rc, err := open()
	if err != nil {
		return false, fmt.Errorf("read %s: %w", w.name, err)
	}
	defer rc.Close()
	cr := pack.Check(rc, pack.File{Path: w.name, Size: w.size, SHA256: w.sha})
	obj, err := to.Put(ctx, key, cr, o)
	switch {
	case cr.Err() != nil:
		// The store failed because the content did not match: say so
		// first, whatever words the store wrapped it in.
		return false, fmt.Errorf("copy %s to %s: %w", w.name, key, cr.Err())
	case errors.Is(err, storage.ErrExist):
		// Stored meanwhile, by a concurrent export of the same run.
		return true, checkExisting(ctx, to, key, w)
	case err != nil:
		return false, fmt.Errorf("copy %s to %s: %w", w.name, key, err)
	case obj.Size != w.size || obj.SHA256 != w.sha:
		// the checked reader saw EOF and agreed, so the store stored other bytes
		// than it was given. The object stays: the lake never deletes.
		return false, fmt.Errorf("copy %s to %s: the store reports %d bytes, SHA-256 %s; want %d bytes, SHA-256 %s: %w",
			w.name, key, obj.Size, obj.SHA256, w.size, w.sha, ErrConflict)
	}
	return false, nil
}

// errFound stops a List at the first match.
var errFound = errors.New("found")

// exists reports whether key is an object of s.
func exists(ctx context.Context, s storage.Store, key string) (bool, error) {
	err := s.List(ctx, key, func(o storage.Object) error {
		if o.Key == key {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for %s: %w", key, err)
	}
	return false, nil
}

// checkExisting reads key back from the lake and compares its size and
// SHA-256 with w's.
func checkExisting(ctx context.Context, s storage.Store, key string, w want) error {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	// One byte more than expected is enough to tell a larger object.
	n, err := io.Copy(h, io.LimitReader(storage.ContextReader(ctx, rc), w.size+1))
	if err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != w.size || sum != w.sha {
		return fmt.Errorf("%s exists and differs from %s (%d bytes, SHA-256 %s; want %d bytes, %s): %w",
			key, w.name, n, sum, w.size, w.sha, ErrConflict)
	}
	return nil
}

// writeDDL generates the DDL for the lake and writes it to _ddl/: Athena for
// every dataset table, DuckDB for the tables that have files in the lake.
func writeDDL(ctx context.Context, l Lake) (DDL, []string, error) {
	var present []string
	for _, t := range dataset.All() {
		ok, err := hasObjects(ctx, l.Store, l.key(t.Name)+"/")
		if err != nil {
			return DDL{}, nil, err
		}
		if ok {
			present = append(present, t.Name)
		}
	}
	d := Generate(l.root(), present)
	var keys []string
	for _, f := range []struct{ name, body string }{{AthenaFile, d.Athena}, {DuckDBFile, d.DuckDB}} {
		key := l.key(DDLDir, f.name)
		if err := putSmall(ctx, l.Store, key, f.body); err != nil {
			return DDL{}, nil, err
		}
		keys = append(keys, key)
	}
	return d, keys, nil
}

func hasObjects(ctx context.Context, s storage.Store, prefix string) (bool, error) {
	err := s.List(ctx, prefix, func(storage.Object) error { return errFound })
	if errors.Is(err, errFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("list %s: %w", prefix, err)
	}
	return false, nil
}

// putSmall sets key to body: nothing if it already holds body, else
// Replace when the store can, else Put (which fails if key exists).
func putSmall(ctx context.Context, s storage.Store, key, body string) error {
	found, err := exists(ctx, s, key)
	if err != nil {
		return err
	}
	if found {
		same, err := holds(ctx, s, key, body)
		if err != nil || same {
			return err
		}
	}
	o := storage.PutOptions{ContentType: "application/sql; charset=utf-8"}
	if r, ok := s.(storage.Replacer); ok {
		if _, err := r.Replace(ctx, key, strings.NewReader(body), o); err != nil {
			return fmt.Errorf("write %s: %w", key, err)
		}
		return nil
	}
	if _, err := s.Put(ctx, key, strings.NewReader(body), o); err != nil {
		return fmt.Errorf("write %s (the store cannot replace files): %w", key, err)
	}
	return nil
}

// holds reports whether key's content is body.
func holds(ctx context.Context, s storage.Store, key, body string) (bool, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(storage.ContextReader(ctx, rc), int64(len(body))+1))
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	return bytes.Equal(b, []byte(body)), nil
}
