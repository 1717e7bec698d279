package pack

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrBadSignature means manifest.sig does not match manifest.json under the
// given public key: the manifest (or the signature) was changed.
var ErrBadSignature = errors.New("manifest signature does not verify")

// manifest.sig holds the raw 64-byte ed25519 signature of manifest.json's
// bytes, so that it can be checked without this tool:
//
//	openssl pkeyutl -verify -pubin -inkey evidence-signing.pub -rawin -in manifest.json -sigfile manifest.sig

// GenerateKey makes an ed25519 key pair, PEM-encoded: the private key as
// PKCS #8 ("PRIVATE KEY"), the public key as PKIX ("PUBLIC KEY"), the forms
// openssl reads.
func GenerateKey(rnd io.Reader) (privPEM, pubPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return nil, nil, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pk}), nil
}

// ParsePrivateKey reads an ed25519 private key: PEM (PKCS #8), or raw — the
// 32-byte seed or 64-byte key, as bytes, hex or base64.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key: a %T, want ed25519", k)
		}
		return priv, nil
	}
	raw := rawKey(b)
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), nil
	}
	return nil, errors.New("signing key: want an ed25519 key as PEM (PKCS #8) or a raw 32-byte seed / 64-byte key (bytes, hex or base64)")
}

// ParsePublicKey reads an ed25519 public key: PEM (PKIX) or raw 32 bytes
// (bytes, hex or base64).
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key: a %T, want ed25519", k)
		}
		return pub, nil
	}
	if raw := rawKey(b); len(raw) == ed25519.PublicKeySize {
		return ed25519.PublicKey(raw), nil
	}
	return nil, errors.New("public key: want an ed25519 key as PEM (PKIX) or raw 32 bytes (bytes, hex or base64)")
}

// rawKey accepts key bytes as they are, or hex, or base64 text.
func rawKey(b []byte) []byte {
	s := strings.TrimSpace(string(b))
	if h, err := hex.DecodeString(s); err == nil {
		return h
	}
	if d, err := base64.StdEncoding.DecodeString(s); err == nil {
		return d
	}
	return b
}

// Ed25519Signer signs manifests with priv, for WithSigner; the manifest
// records its public key's fingerprint.
func Ed25519Signer(priv ed25519.PrivateKey) Signer {
	return Signer{
		Sign:        func(manifest []byte) ([]byte, error) { return ed25519.Sign(priv, manifest), nil },
		Algorithm:   "ed25519",
		Fingerprint: KeyFingerprint(priv.Public().(ed25519.PublicKey)),
	}
}

// KeyFingerprint names a public key: "sha256:" and the hex SHA-256 of its
// PKIX (DER) encoding, which anyone can recompute from the .pub file:
//
//	openssl pkey -pubin -in evidence-signing.pub -outform DER | sha256sum
func KeyFingerprint(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		// Only a key of the wrong length fails, and ed25519 keys are
		// made by this package or ParsePublicKey, which check it.
		return "sha256:invalid-key"
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckSignature verifies prefix's manifest.sig against its manifest.json
// with pub. It fails with ErrBadSignature on any change to either, and with
// an error naming the file when manifest.sig is missing.
func CheckSignature(ctx context.Context, store Reader, prefix string, pub ed25519.PublicKey) error {
	read := func(name string) ([]byte, error) {
		key := name
		if prefix != "" {
			key = strings.TrimSuffix(prefix, "/") + "/" + name
		}
		rc, err := store.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(rc, MaxManifestSize+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return buf.Bytes(), nil
	}
	m, err := read(ManifestName)
	if err != nil {
		return err
	}
	sig, err := read(SignatureName)
	if err != nil {
		return fmt.Errorf("the pack is not signed: %w", err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, m, sig) {
		return ErrBadSignature
	}
	return nil
}
