package lacework

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/source"
)

// A tenant may hold several API keys, each another user's with its own
// rate-limit budget per bucket (seed 000: "480 API requests per hour per
// user" and functionality). The units are spread over the keys, round
// robin per bucket, among the keys that reach the unit's sub-account; a
// unit's requests, and so the pages of its result sets, all go with its
// key. A key whose credentials are refused at discovery is dropped with a
// warning, and the others carry on.

// key is one API key of the tenant.
type key struct {
	name   string // for people: "API key ACME_12…"
	client *lacework.Client
	// reach is the sub-accounts the key reaches (lower-case); nil for the
	// primary key, whose discovery makes the plan.
	reach map[string]bool
	subs  map[string]*lacework.Client // its sub-account clients, made as units need them
}

// forSub makes the key's client of sub-account name.
func (k *key) forSub(name string) (*lacework.Client, error) {
	c, err := k.client.SubAccount(name)
	if err != nil {
		return nil, err
	}
	if k.subs == nil {
		k.subs = map[string]*lacework.Client{}
	}
	k.subs[name] = c
	return c, nil
}

// shareKeys keeps, in a sharded run with at least as many keys as shards,
// the keys of this shard: key j goes to shard j mod n, so that the pods
// of an Indexed Job, given one configuration, each use keys of their own.
// The first of them discovers.
func (s *Source) shareKeys(req source.Request) {
	// Each plan starts from every key: a source may be planned twice
	// (plan, then run), and a key refused once is checked again.
	s.keys, s.client = s.all, s.all[0].client
	s.turn, s.assigned = map[string]int{}, map[string]int{}
	for _, k := range s.all {
		k.reach, k.subs = nil, nil
	}
	n := req.Shard.Count
	if n < 2 || len(s.keys) < n {
		return
	}
	var mine []*key
	for j, k := range s.keys {
		if j%n == req.Shard.Index {
			mine = append(mine, k)
		}
	}
	s.keys, s.client = mine, mine[0].client
}

// checkKeys checks the keys beyond the primary one: each lists the
// sub-accounts it reaches, and one whose credentials are refused (or that
// cannot be checked) is dropped with a warning.
func (s *Source) checkKeys(ctx context.Context, p *source.Plan) error {
	active := s.keys[:1]
	for _, k := range s.keys[1:] {
		names, err := k.client.SubAccounts(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, lacework.ErrAuth):
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: credentials refused: the key is left out, the other keys carry on (%v)", k.name, err))
			continue
		case err != nil:
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: could not be checked, the key is left out: %v", k.name, err))
			continue
		}
		k.reach = map[string]bool{}
		for _, n := range names {
			k.reach[strings.ToLower(n)] = true
		}
		active = append(active, k)
	}
	s.keys = active
	return nil
}

// The rate-limit buckets of the units (their names in `evidence plan`).
const (
	bucketReports     = "Reports"
	bucketEvaluations = "Configs/ComplianceEvaluations/search"
	bucketInventory   = "Inventory/search"
	bucketAuditLogs   = "AuditLogs"
)

// reportID and tableID name a unit for assign and Estimate.
func reportID(framework, sub, account string) string {
	return "report|" + framework + "|" + sub + "|" + account
}
func tableID(table, sheet, sub string) string { return table + "|" + sheet + "|" + sub }

// prepareKeys makes every key's client of each discovered sub-account it
// reaches (the primary key's are discovery's own).
func (s *Source) prepareKeys(subs []*sub) error {
	for _, sb := range subs {
		for i, k := range s.keys {
			switch {
			case i == 0:
				if k.subs == nil {
					k.subs = map[string]*lacework.Client{}
				}
				k.subs[sb.name] = sb.client
			case k.reach[strings.ToLower(sb.name)]:
				if _, err := k.forSub(sb.name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// assign picks the key of a unit of bucket in sub-account sub, named id
// (Estimate finds it by that name), and returns its client there: the
// next, round robin in the bucket, of the keys that reach sub.
func (s *Source) assign(bucket, sub, id string) *lacework.Client {
	var can []int
	for i, k := range s.keys {
		if _, ok := k.subs[sub]; ok {
			can = append(can, i)
		}
	}
	i := can[s.turn[bucket]%len(can)]
	s.turn[bucket]++
	s.assigned[id] = i
	return s.keys[i].subs[sub]
}

// lane is the pipeline's name of unit id's key (source.ReportUnit.Lane):
// the key's rate-limit budget, which the unit's requests draw on.
func (s *Source) lane(id string) string { return "key " + strconv.Itoa(s.assigned[id]) }

// keyName is the name of unit id's key in `evidence plan` ("" with one
// key).
func (s *Source) keyName(id string) string {
	if len(s.keys) < 2 {
		return ""
	}
	i := s.assigned[id]
	name := s.keys[i].name
	// Masked ids may look alike (short ids are all stars, long ones may
	// share their ends): each key's share is still a bucket of its own.
	for j, k := range s.keys {
		if j != i && k.name == name {
			return fmt.Sprintf("%s #%d", name, i+1)
		}
	}
	return name
}
