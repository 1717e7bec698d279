// Package sources puts the platforms together: the one place that knows
// every source. A new platform is a sub-package of internal/source plus one
// line here.
package sources

import (
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/edge"
	"github.com/evidence-pack/evidence/internal/source/ibmscc"
	lwsource "github.com/evidence-pack/evidence/internal/source/lacework"
	"github.com/evidence-pack/evidence/internal/source/sophos"
)

// Options tune the sources (tests and the demo scale API limits down).
type Options struct {
	Lacework lacework.Limits
}

// Registry returns every source by its configuration name.
func Registry(o Options) source.Registry {
	return source.Registry{
		lwsource.Name: lwsource.Opener(o.Lacework),
		sophos.Name:   sophos.Open,
		ibmscc.Name:   ibmscc.Open,
		edge.Name:     edge.Open,
	}
}
