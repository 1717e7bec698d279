package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/evidence-pack/evidence/internal/pack"
)

// cmdKeygen writes an ed25519 key pair for signing packs.
func cmdKeygen(_ context.Context, args []string, e env) error {
	fs := newFlagSet("keygen", e)
	out := fs.String("out", ".", "`directory` for evidence-signing.key (0600) and evidence-signing.pub")
	if err := parse(fs, args); err != nil {
		return err
	}
	priv, pub, err := pack.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	keyPath, pubPath := filepath.Join(*out, "evidence-signing.key"), filepath.Join(*out, "evidence-signing.pub")
	for _, f := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{{keyPath, priv, 0o600}, {pubPath, pub, 0o644}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return fmt.Errorf("keygen: %w (an existing key is never overwritten)", err)
		}
		_, err = fh.Write(f.b)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
	}
	pk, err := pack.ParsePublicKey(pub)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(e.stdout, "Wrote %s (keep it secret) and %s, key %s.\nSign packs with: evidence run --sign-key %s\nCheck them with: evidence verify --pub %s PACK\n",
		keyPath, pubPath, pack.KeyFingerprint(pk), keyPath, pubPath)
	return nil
}
