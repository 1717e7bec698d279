package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/config"
)

// Opener builds a tenant's Source from its configuration.
type Opener func(ctx context.Context, t config.Tenant, env Env) (Source, error)

// Registry maps source names (a tenant's "source:") to their openers. The
// program builds one (cmd/evidence); adding a platform is one entry.
type Registry map[string]Opener

// Names lists the registered sources, sorted.
func (r Registry) Names() []string { return slices.Sorted(maps.Keys(r)) }

// Open checks that the tenant's sections match its source and opens it.
func (r Registry) Open(ctx context.Context, t config.Tenant, env Env) (Source, error) {
	open, ok := r[t.Source]
	if !ok {
		return nil, fmt.Errorf("tenant %s: source %q is not supported (want one of %s)", t.Name, t.Source, strings.Join(r.Names(), ", "))
	}
	for name := range t.Sections {
		if name != t.Source {
			return nil, fmt.Errorf("tenant %s: section %q does not belong to source %q: remove it or set source: %s", t.Name, name, t.Source, name)
		}
	}
	return open(ctx, t, env)
}

// OpenAll opens every tenant of cfg as a run will, which makes no request:
// it returns every problem of every tenant's section and environment at
// once, joined, and the sources of the tenants that opened (nil for the
// others). A tenant without a name takes the one its source gives (Named);
// one still without a name is a problem. env gives each tenant its own Env
// (its own redactor).
func (r Registry) OpenAll(ctx context.Context, cfg *config.Config, env func() Env) ([]Source, error) {
	srcs := make([]Source, len(cfg.Tenants))
	var errs []error
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		named := *t
		if named.Name == "" && len(cfg.Tenants) > 1 {
			named.Name = fmt.Sprint(i + 1) // "tenant 1: …" until it has a name
		}
		src, err := r.Open(ctx, named, env())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t.Name == "" {
			if n, ok := src.(Named); ok {
				t.Name = n.TenantName()
			}
		}
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("tenant %d: name is required for source %s", i+1, t.Source))
			continue
		}
		srcs[i] = src
	}
	return srcs, errors.Join(errs...)
}

// DecodeSection decodes the tenant's section for its source into v,
// strictly: an unknown key is an error naming the tenant. A missing section
// leaves v as it is (settings may all come from the environment).
func DecodeSection(t config.Tenant, v any) error {
	node, ok := t.Sections[t.Source]
	if !ok {
		return nil
	}
	// yaml.Node.Decode cannot reject unknown keys: round-trip through a
	// strict decoder.
	b, err := yaml.Marshal(&node)
	if err != nil {
		return fmt.Errorf("tenant %s: %s section: %w", t.Name, t.Source, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("tenant %s: %s section: %w", t.Name, t.Source, err)
	}
	return nil
}
