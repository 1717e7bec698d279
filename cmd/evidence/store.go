package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/s3"
)

// openStore opens the output location for writing packs: a directory, or
// s3://bucket/prefix with the config's S3 settings.
func openStore(ctx context.Context, out string, c config.S3, log *slog.Logger) (storage.Store, error) {
	if strings.HasPrefix(out, "s3://") {
		sc, err := s3.ParseURL(out)
		if err != nil {
			return nil, usageError{err}
		}
		sc.Region, sc.Endpoint, sc.PathStyle = c.Region, c.Endpoint, c.PathStyle
		sc.SSE, sc.KMSKeyID, sc.ObjectLockMode, sc.RetainDays = c.SSE, c.KMSKeyID, c.ObjectLockMode, c.RetainDays
		sc.PartSize = int64(c.PartSizeMiB) << 20
		sc.Logger = log
		return s3.New(ctx, sc)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", out, err)
	}
	return local.New(out)
}

// checkOutput refuses an output location that is a pack or inside one,
// before any request: the new pack would become an extra file of the old
// one, which would then fail verification (on an Object Lock bucket, for
// its whole retention).
func checkOutput(ctx context.Context, out string, c config.S3, log *slog.Logger) error {
	var err error
	if strings.HasPrefix(out, "s3://") {
		sc, perr := s3.ParseURL(out)
		if perr != nil {
			return usageError{perr}
		}
		bucket, berr := openStore(ctx, "s3://"+sc.Bucket, c, log)
		if berr != nil {
			return berr
		}
		err = pack.EnclosingPack(ctx, bucket, sc.Prefix)
	} else {
		err = pack.EnclosingDir(out)
	}
	if errors.Is(err, pack.ErrInsidePack) {
		return usagef("output %s: %w; a pack written there would make that pack fail verification: give the folder (or prefix) that holds the tenants' folders", out, err)
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", out, err)
	}
	return nil
}
