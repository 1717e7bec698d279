package pack_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// chainStore builds a tenant's chain of daily packs in a store, as the
// job links them: each names the pack published before it.
type chainStore struct {
	t     *testing.T
	s     storage.Store
	key   ed25519.PrivateKey
	last  *pack.Link
	clock time.Time
	n     int
}

func newChain(t *testing.T, key ed25519.PrivateKey) *chainStore {
	return &chainStore{t: t, s: memstore.New(), key: key, clock: time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)}
}

// publish publishes the pack of day (0 is 2026-11-01) after the last one,
// signed with key (nil: unsigned); edit may change its manifest first.
func (c *chainStore) publish(day int, key ed25519.PrivateKey, edit func(*pack.Manifest)) pack.Link {
	c.t.Helper()
	c.n++
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day)
	id := fmt.Sprintf("run-%02d", c.n)
	c.clock = c.clock.Add(time.Hour)
	m := pack.Manifest{PackID: id, Tenant: "acme", Source: pack.Source{System: "lacework"},
		Period:      pack.Period{From: from, To: from.AddDate(0, 0, 1), Label: pack.PeriodLabel(from, from.AddDate(0, 0, 1))},
		GeneratedAt: c.clock, Generator: pack.Generator{Name: "evidence", Version: "test"}, Previous: c.last}
	if edit != nil {
		edit(&m)
	}
	var opts []pack.Option
	if key != nil {
		opts = append(opts, pack.WithSigner(pack.Ed25519Signer(key)))
	}
	w, err := pack.NewWriter(c.t.Context(), c.s, pack.PackPrefix("", "acme", m.Period.Label, id), opts...) // the first id: its folder
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := w.Put(c.t.Context(), pack.SummaryPDF, strings.NewReader("%PDF "+id), pack.MediaTypePDF, nil); err != nil {
		c.t.Fatal(err)
	}
	if err := w.Publish(c.t.Context(), m); err != nil {
		c.t.Fatal(err)
	}
	l := w.Link()
	c.last = &l
	return l
}

// A chain of signed daily packs verifies; each way of breaking it is
// named: a deleted pack (a missing day and a broken link), a pack
// replaced behind the chain's back, a fork, a pack published out of
// order, a chain that starts again, an unsigned pack and one signed by
// another key. A rerun that says what it replaces is no problem.
func TestVerifyChain(t *testing.T) {
	_, keyA, _ := ed25519.GenerateKey(rand.Reader)
	_, keyB, _ := ed25519.GenerateKey(rand.Reader)
	pubA := keyA.Public().(ed25519.PublicKey)
	four := func(t *testing.T) (*chainStore, []pack.Link) {
		c := newChain(t, keyA)
		var links []pack.Link
		for d := range 4 {
			links = append(links, c.publish(d, keyA, nil))
		}
		return c, links
	}
	tests := []struct {
		name    string
		breakIt func(c *chainStore, links []pack.Link)
		want    []string // "kind: pack" of every problem, pack "" for days
	}{
		{"whole", func(*chainStore, []pack.Link) {}, nil},
		{"rerun of a day, naming what it replaces", func(c *chainStore, links []pack.Link) {
			c.publish(1, keyA, func(m *pack.Manifest) { m.Replaces = &links[1] })
		}, nil},
		{"a pack deleted", func(c *chainStore, links []pack.Link) {
			storetest.DeletePrefix(t, c.s, links[1].Path)
		}, []string{"gap: ", "link: acme/2026-11-03/run-03"}},
		{"a pack replaced behind the chain's back", func(c *chainStore, links []pack.Link) {
			storetest.DeletePrefix(t, c.s, links[1].Path)
			first := links[0]
			c.last = &first
			c.publish(1, keyA, func(m *pack.Manifest) { m.PackID, m.Warnings = "run-02", []string{"edited"} }) // the same pack id, other content
		}, []string{"link: acme/2026-11-03/run-03", "order: acme/2026-11-03/run-03"}},
		{"two packs follow one", func(c *chainStore, links []pack.Link) {
			c.publish(4, keyA, nil)
			c.last = &links[3]
			c.publish(5, keyA, nil)
		}, []string{"fork: acme/2026-11-04/run-04"}},
		{"published out of order", func(c *chainStore, links []pack.Link) {
			c.publish(5, keyA, nil)
			c.publish(4, keyA, nil) // a backfill of the day before, not a rerun
		}, []string{"order: acme/2026-11-05/run-06"}},
		{"the chain starts again", func(c *chainStore, links []pack.Link) {
			c.last = nil
			c.publish(4, keyA, nil)
		}, []string{"fork: acme/2026-11-05/run-05"}},
		{"unsigned, and signed by another key", func(c *chainStore, links []pack.Link) {
			c.publish(4, nil, nil)
			c.publish(5, keyB, nil)
		}, []string{"signature: acme/2026-11-05/run-05", "signature: acme/2026-11-06/run-06"}},
		{"a day missing", func(c *chainStore, links []pack.Link) {
			c.publish(5, keyA, nil)
		}, []string{"gap: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, links := four(t)
			tc.breakIt(c, links)
			rep, err := pack.VerifyChain(t.Context(), c.s, "acme", pubA)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.Kind+": "+p.Pack)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) || rep.OK() != (tc.want == nil) {
				t.Errorf("problems %q, want %q\n%s", got, tc.want, rep)
			}
		})
	}
}
