package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/s3"
)

// errNotVerified is a pack that does not verify; the report on stdout says
// why.
var errNotVerified = shown{errors.New("the pack does not verify")}

// cmdVerify checks a pack's files against its manifest (and, with --pub,
// its signature); on S3 also what S3 itself recorded of each file. With
// --chain it checks a tenant's folder of packs as a chain.
func cmdVerify(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("verify", e)
	pubFile := fs.String("pub", "", "ed25519 public key `file`: also check manifest.sig (with --chain: every pack's)")
	endpoint := fs.String("s3-endpoint", "", "S3-compatible server `URL` for s3:// locations (path-style)")
	chain := fs.Bool("chain", false, "PATH is a tenant's folder: check every pack in it and the links between them (missing days, deleted or replaced packs, forks, order, signatures)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("verify: want one location: a pack's folder (holding manifest.json), or with --chain a tenant's folder")
	}
	loc := fs.Arg(0)
	store, err := openLocation(ctx, loc, *endpoint)
	if err != nil {
		return fmt.Errorf("verify %s: %w", loc, err)
	}
	var pub ed25519.PublicKey
	if *pubFile != "" {
		b, err := os.ReadFile(*pubFile)
		if err != nil {
			return usageError{fmt.Errorf("public key: %w", err)}
		}
		if pub, err = pack.ParsePublicKey(b); err != nil {
			return usageError{fmt.Errorf("%s: %w", *pubFile, err)}
		}
	}
	if *chain {
		return verifyChain(ctx, e, store, loc, pub)
	}

	rep, err := pack.Verify(ctx, store, "")
	if errors.Is(err, pack.ErrNoManifest) {
		if packs, lerr := pack.Packs(ctx, store, ""); lerr == nil && len(packs) > 0 {
			return usageError{fmt.Errorf("verify %s: not a pack but a folder of packs (%d); verify one of them (or all, with --chain):\n%s", loc, len(packs), listPacks(ctx, store, loc, packs))}
		}
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", loc, err)
	}
	rep.Prefix = loc // the pack as the user named it
	var sigErr error
	key := "" // the fingerprint of --pub's key
	if pub != nil {
		key = pack.KeyFingerprint(pub)
		sigErr = pack.CheckSignature(ctx, store, "", pub)
		if s := rep.Manifest.Signature; s != nil && s.KeyFingerprint != key {
			// Say which key it is: the signature check alone says only "no".
			sigErr = fmt.Errorf("the manifest names key %s, %s is key %s: %w", s.KeyFingerprint, *pubFile, key, cmp.Or(sigErr, pack.ErrBadSignature))
		}
		rep.SignatureChecked = true
	}
	fmt.Fprintln(e.stdout, rep.String())
	ok := rep.OK()
	if s3s, isS3 := store.(*s3.Store); isS3 && !checkS3(ctx, e, s3s, rep.Manifest) {
		ok = false
	}
	switch {
	case pub == nil:
	case sigErr != nil:
		fmt.Fprintf(e.stdout, "signature: FAILED: %v\n", sigErr)
		return errNotVerified
	default:
		fmt.Fprintf(e.stdout, "signature: OK (manifest.sig verifies with %s, key %s)\n", *pubFile, key)
	}
	if !ok {
		return errNotVerified
	}
	return nil
}

// openLocation opens a folder or s3://bucket/prefix as a store rooted
// there, as a pack's folder is its own root.
func openLocation(ctx context.Context, loc, endpoint string) (storage.Store, error) {
	if strings.HasPrefix(loc, "s3://") {
		return openStore(ctx, strings.TrimSuffix(loc, "/"), config.S3{Endpoint: endpoint, PathStyle: endpoint != ""}, slog.New(slog.DiscardHandler))
	}
	if st, err := os.Stat(loc); err != nil || !st.IsDir() {
		return nil, errors.New("not a directory")
	}
	return local.New(loc)
}

// verifyChain checks the packs of a tenant's folder as a chain.
func verifyChain(ctx context.Context, e env, store storage.Store, loc string, pub ed25519.PublicKey) error {
	rep, err := pack.VerifyChain(ctx, store, "", pub)
	if err != nil {
		return fmt.Errorf("verify --chain %s: %w", loc, err)
	}
	if rep.Packs == 0 {
		return usagef("verify --chain %s: no pack in it: want a tenant's folder (<output>/<tenant>)", loc)
	}
	fmt.Fprint(e.stdout, strings.Replace(rep.String(), "chain:", "chain "+loc+":", 1))
	if !rep.OK() {
		return errNotVerified
	}
	return nil
}

// checkS3 compares what S3 itself recorded for each file of the pack (its
// stored SHA-256 checksum, or our sha256 metadata) with the manifest, and
// reports the Object Lock state of the pack's objects.
func checkS3(ctx context.Context, e env, s *s3.Store, m pack.Manifest) bool {
	ok := true
	locked := map[string]int{}
	var earliest time.Time
	for _, f := range m.Files {
		info, err := s.Info(ctx, f.Path)
		if err != nil {
			fmt.Fprintf(e.stdout, "s3: %s: %v\n", f.Path, err)
			ok = false
			continue
		}
		if info.SHA256 != "" && info.SHA256 != f.SHA256 {
			fmt.Fprintf(e.stdout, "s3: %s: S3 records SHA-256 %s, the manifest %s\n", f.Path, info.SHA256, f.SHA256)
			ok = false
		}
		mode := info.LockMode
		if mode == "" {
			mode = "none"
		} else if earliest.IsZero() || info.RetainUntil.Before(earliest) {
			earliest = info.RetainUntil
		}
		locked[mode]++
	}
	var parts []string
	for _, mode := range []string{"COMPLIANCE", "GOVERNANCE", "none"} {
		if n := locked[mode]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, mode))
		}
	}
	line := "s3: Object Lock: " + strings.Join(parts, ", ")
	if !earliest.IsZero() {
		line += ", retained until at least " + earliest.UTC().Format(time.RFC3339)
	}
	fmt.Fprintln(e.stdout, line)
	if ok {
		fmt.Fprintln(e.stdout, "s3: the checksums S3 stored agree with the manifest")
	}
	return ok
}

// listPacks names the packs of a folder (loc) of packs, the newest first,
// at most ten, and marks the one its latest.json points at (a period's
// folder has one: job.Latest).
func listPacks(ctx context.Context, store storage.Store, loc string, packs []string) string {
	latest := ""
	if rc, err := store.Get(ctx, "latest.json"); err == nil {
		var l job.Latest
		if json.NewDecoder(io.LimitReader(rc, storage.MaxReplaceSize)).Decode(&l) == nil {
			latest = path.Base(l.Path)
		}
		rc.Close()
	}
	join := func(p string) string {
		if strings.HasPrefix(loc, "s3://") {
			return strings.TrimSuffix(loc, "/") + "/" + p + "/"
		}
		return filepath.Join(loc, filepath.FromSlash(p))
	}
	var b strings.Builder
	const most = 10
	for i, p := range packs {
		if i == most {
			fmt.Fprintf(&b, "  … and %d older\n", len(packs)-most)
			break
		}
		b.WriteString("  " + join(p))
		if latest != "" && path.Base(p) == latest {
			b.WriteString("   (latest.json: the period's newest pack)")
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
