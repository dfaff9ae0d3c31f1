package authztest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/google/uuid"
)

// SeedEnv names the environment variable that picks the random worlds'
// seed: a number to replay a failure, or "random" for a fresh one. Unset,
// the tests use a fixed seed, so `make test` is repeatable.
const SeedEnv = "CASEBRIDGE_AUTHZ_SEED"

// FixedSeed is the seed `make test` uses.
const FixedSeed = 20261124

// Seed returns the seed for the random worlds of a test run and logs it, so
// that a failure can be replayed with CASEBRIDGE_AUTHZ_SEED=<seed>.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(FixedSeed)
	switch v := os.Getenv(SeedEnv); v {
	case "":
	case "random":
		seed = rand.Uint64()
	default:
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a number or \"random\"", SeedEnv, v)
		}
		seed = n
	}
	t.Logf("random worlds: seed %d (replay with %s=%d)", seed, SeedEnv, seed)
	return seed
}

// Random builds a world of random situations from seed: cases of random
// owners, statuses and courts; persons of random nationality, custody,
// consular choice, trafficking flag, consent and facility, linked to 0–3
// cases in random roles; shares of random level and ceiling to random
// agencies, some expired or revoked; documents of every classification,
// about no person or a linked one, some releasable, some withdrawn. The
// same seed gives the same world.
func Random(seed uint64) *World {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := newDirectory()
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	agencyCodes := []string{"gdi", "ppm", "ncct", "emb-cn", "emb-vn", "moi", "court-pp", "court-sr"}
	owners := []*Agency{w.Agencies["gdi"], w.Agencies["ppm"], w.Agencies["ncct"]}
	courts := []*Agency{w.Agencies["court-pp"], w.Agencies["court-sr"]}

	nCases := 8 + r.IntN(6)
	for i := range nCases {
		c := &Case{Name: fmt.Sprintf("r%d-case-%d", seed%1000, i), ID: uuid.New(), Owner: owners[r.IntN(len(owners))],
			Status: pick("open", "investigation", "before_court", "adjudicated", "closed"), Version: 1}
		if c.Status != "open" && c.Status != "investigation" || r.IntN(3) == 0 {
			c.Court = courts[r.IntN(len(courts))]
		}
		if c.Court == nil && (c.Status == "before_court" || c.Status == "adjudicated") {
			c.Court = courts[0]
		}
		for range r.IntN(3) {
			s := &Share{ID: uuid.New(), Case: c, Agency: w.Agencies[agencyCodes[r.IntN(len(agencyCodes))]],
				Level: pick("summary", "full"), Ceiling: pick("public", "restricted", "confidential", "secret"),
				Expired: r.IntN(5) == 0, Revoked: r.IntN(5) == 0}
			c.Shares = append(c.Shares, s)
			w.Shares = append(w.Shares, s)
		}
		w.Cases = append(w.Cases, c)
	}
	facilities := sortedKeys(Facilities)
	nPersons := 15 + r.IntN(15)
	for i := range nPersons {
		x := &Person{Name: fmt.Sprintf("r%d-person-%d", seed%1000, i), ID: uuid.New(), Creator: owners[r.IntN(len(owners))],
			Nationality:  pick("CN", "CN", "VN", "VN", "TH", "US"),
			Custody:      pick("at_large", "detained", "charged", "convicted", "awaiting_deportation", "deported", "released"),
			Notification: pick("requested", "requested", "declined", "mandatory"),
			Flag:         pick("none", "none", "suspected", "identified", "cleared"),
			Consents:     r.IntN(2) == 0, Cleared: r.IntN(2) == 0, Asylum: r.IntN(4) == 0,
			Roles: map[*Case]string{}, Version: 1}
		x.Facility = facilities[r.IntN(len(facilities))]
		x.FacilityKind = Facilities[x.Facility]
		for range r.IntN(4) {
			c := w.Cases[r.IntN(len(w.Cases))]
			if containsCase(x.Cases, c) {
				continue
			}
			x.Cases = append(x.Cases, c)
			x.Roles[c] = pick("detainee", "suspect", "witness", "victim", "other")
			c.Persons = append(c.Persons, x)
		}
		w.Persons = append(w.Persons, x)
	}
	for i := range 20 + r.IntN(20) {
		c := w.Cases[r.IntN(len(w.Cases))]
		d := &Document{Name: fmt.Sprintf("r%d-doc-%d", seed%1000, i), ID: uuid.New(), Case: c,
			Classification: pick("public", "restricted", "confidential", "secret"), Withdrawn: r.IntN(6) == 0}
		if len(c.Persons) > 0 && r.IntN(3) > 0 {
			d.Person = c.Persons[r.IntN(len(c.Persons))]
		}
		d.Releasable = (d.Classification == "public" || d.Classification == "restricted") && r.IntN(2) == 0
		w.Documents = append(w.Documents, d)
	}
	return w
}

func containsCase(cs []*Case, c *Case) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}
