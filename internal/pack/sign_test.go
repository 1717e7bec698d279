package pack_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/storetest"

	"github.com/evidence-pack/evidence/internal/testtool"
)

func TestKeyFormats(t *testing.T) {
	privPEM, pubPEM, err := pack.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := pack.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := pack.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Fatal("the pair does not match")
	}
	seed := priv.Seed()
	for name, b := range map[string][]byte{
		"raw seed": seed, "hex seed": []byte(hex.EncodeToString(seed) + "\n"), "base64 key": []byte(base64.StdEncoding.EncodeToString(priv)),
	} {
		k, err := pack.ParsePrivateKey(b)
		if err != nil || !k.Equal(priv) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if k, err := pack.ParsePublicKey([]byte(hex.EncodeToString(pub))); err != nil || !k.Equal(pub) {
		t.Errorf("hex public key: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("short"), pubPEM} {
		if _, err := pack.ParsePrivateKey(bad); err == nil {
			t.Errorf("ParsePrivateKey(%q) accepted", bad)
		}
	}
}

func TestSignedPack(t *testing.T) {
	privPEM, pubPEM, _ := pack.GenerateKey(rand.Reader)
	priv, _ := pack.ParsePrivateKey(privPEM)
	pub, _ := pack.ParsePublicKey(pubPEM)
	root := t.TempDir()
	store, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	runID := "20261122T030405Z-3f9a1c"
	prefix := "acme/2026-11-21/" + runID
	w, err := pack.NewWriter(ctx, store, prefix, pack.WithSigner(pack.Ed25519Signer(priv)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(ctx, "summary.pdf", strings.NewReader("%PDF-1.4 test"), pack.MediaTypePDF, nil); err != nil {
		t.Fatal(err)
	}
	m := sampleManifest(runID)
	if err := w.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := pack.CheckSignature(ctx, store, prefix, pub); err != nil {
		t.Fatalf("signature: %v", err)
	}
	rep, err := pack.Verify(ctx, store, prefix)
	if err != nil || !rep.OK() || !rep.Signed {
		t.Fatalf("verify: %v %s", err, rep)
	}
	dir := filepath.Join(root, filepath.FromSlash(prefix))

	// openssl, an independent implementation, accepts the signature (a
	// subtest: without openssl, on a laptop, the checks below still run).
	t.Run("openssl", func(t *testing.T) {
		openssl := testtool.Program(t, "openssl", testtool.InstallOpenSSL, "version")
		pubFile := filepath.Join(t.TempDir(), "pub.pem")
		os.WriteFile(pubFile, pubPEM, 0o644)
		cmd := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pubFile, "-rawin",
			"-in", filepath.Join(dir, pack.ManifestName), "-sigfile", filepath.Join(dir, pack.SignatureName))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("openssl rejects the signature: %v\n%s", err, out)
		}
		// The fingerprint the manifest records is the one the recipe
		// (openssl pkey -pubin -outform DER | sha256sum) gives.
		der, err := exec.Command(openssl, "pkey", "-pubin", "-in", pubFile, "-outform", "DER").Output()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(der)
		want := "sha256:" + hex.EncodeToString(sum[:])
		got, err := pack.DecodeManifest(bytes.NewReader(storetest.Get(t, store, prefix+"/"+pack.ManifestName)))
		if err != nil || got.Signature == nil || got.Signature.KeyFingerprint != want || pack.KeyFingerprint(pub) != want {
			t.Errorf("manifest records %+v (%v), KeyFingerprint %s; openssl's recipe gives %s", got.Signature, err, pack.KeyFingerprint(pub), want)
		}
	})

	// Any change to the manifest, or another key, fails.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if err := pack.CheckSignature(ctx, store, prefix, other); !errors.Is(err, pack.ErrBadSignature) {
		t.Errorf("another key: %v", err)
	}
	mp := filepath.Join(dir, pack.ManifestName)
	orig, _ := os.ReadFile(mp)
	os.WriteFile(mp, bytes.Replace(orig, []byte("acme"), []byte("acmf"), 1), 0o644)
	if err := pack.CheckSignature(ctx, store, prefix, pub); !errors.Is(err, pack.ErrBadSignature) {
		t.Errorf("changed manifest: %v", err)
	}
	os.Remove(filepath.Join(dir, pack.SignatureName))
	if err := pack.CheckSignature(ctx, store, prefix, pub); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("missing signature: %v", err)
	}
}
