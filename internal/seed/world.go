package seed

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Columns written by the COPYs, in the order of the row functions.
var (
	personColumns = []string{"id", "family_name", "given_names", "family_name_native", "given_names_native",
		"sex", "date_of_birth", "nationality", "passport_number", "passport_status", "passport_expires_on",
		"work_permit_number", "work_permit_status", "address", "custody_status", "facility", "detained_at",
		"deported_at", "deported_via", "entry_ban_until", "trafficking_flag", "screening_notes",
		"victim_consents_to_embassy", "ct_proceedings_cleared", "asylum_claimed", "consular_notification",
		"created_by_agency_id", "linked_cases", "created_at", "updated_at"}
	caseColumns = []string{"id", "reference", "owner_agency_id", "title", "kind", "status", "operation_name",
		"operation_place", "operation_date", "summary", "notes", "court_agency_id", "hearing_date", "legal_basis",
		"possible_victim", "created_at", "updated_at"}
	linkColumns    = []string{"case_id", "person_id", "role", "linked_at"}
	shareColumns   = []string{"id", "case_id", "agency_id", "level", "ceiling", "purpose", "expires_at", "created_at", "revoked_at"}
	historyColumns = []string{"case_id", "from_status", "to_status", "note", "changed_at"}
)

// Enumerations as small integers for the plan arrays.
const (
	flagNone uint8 = iota
	flagSuspected
	flagIdentified
	flagCleared
)

var flagNames = []string{"none", "suspected", "identified", "cleared"}

const (
	stOpen uint8 = iota
	stInvestigation
	stBeforeCourt
	stAdjudicated
	stClosed
)

var statusNames = []string{"open", "investigation", "before_court", "adjudicated", "closed"}

var kindNames = []string{"illegal_entry", "illegal_work", "smuggling", "trafficking", "document_fraud"}

// MandatoryCountries have a mandatory-notification agreement in the
// synthetic world: their nationals' consular_notification is "mandatory".
var MandatoryCountries = map[string]bool{"GB": true, "KR": true, "RU": true}

// nationalityWeights: the seeds' picture (mostly Chinese, then Vietnamese,
// then the region), plus a long tail spread over every other embassy.
var nationalityWeights = map[string]float64{
	"CN": 55, "VN": 15, "TH": 4, "MM": 3, "ID": 3, "MY": 2.5, "LA": 2, "PH": 2, "KR": 1.5, "IN": 1.5,
	"BD": 1, "PK": 1, "NP": 0.7, "LK": 0.5, "US": 0.6, "AU": 0.4, "GB": 0.3, "NG": 0.5,
}

const longTailWeight = 5.0

// weighted picks indexes with given weights.
type weighted struct {
	cum []float64
}

func newWeighted(w []float64) weighted {
	c := make([]float64, len(w))
	sum := 0.0
	for i, x := range w {
		sum += x
		c[i] = sum
	}
	return weighted{cum: c}
}

func (w weighted) pick(r *rand.Rand) int {
	x := r.Float64() * w.cum[len(w.cum)-1]
	return sort.SearchFloat64s(w.cum, x)
}

type counter struct {
	agency pgtype.UUID
	last   int64
}

type share struct {
	id               pgtype.UUID
	caseIdx          int32
	agency           int
	level, ceiling   string
	purpose          string
	created, expires time.Time
	revoked          *time.Time
}

// world is the plan of one run: everything the COPYs need, in compact
// arrays, so that derived columns are known before the rows are written.
type world struct {
	opt  Options
	now  time.Time
	base uint64
	dir  *directory
	n, m int

	countries   []string // nationality index → ISO code
	natPick     weighted
	ownerPick   weighted
	ownerAgency []int // ownerPick index → agency index

	// persons
	personID []pgtype.UUID
	pNat     []uint8
	pFlag    []uint8
	pLinked  []uint8
	pCreator []int16
	pFirst   []int32 // first linking case, -1 when unlinked
	pInCourt []bool  // linked to a case before a court or adjudicated

	// cases
	caseID    []pgtype.UUID
	cOwner    []int16
	cStatus   []uint8
	cKind     []uint8
	cCourt    []int16 // -1: none
	cCreated  []int64
	cUpdated  []int64
	cVictim   []bool
	cRef      []string
	linkStart []int32 // links of case i: linkPerson[linkStart[i]:linkStart[i+1]]

	linkPerson []int32
	linkRole   []uint8

	shares       []share
	counters     map[counterKey]*counter
	historyCount int
}

func newWorld(opt Options, existing uint64, dir *directory, existingCounters map[pgtype.UUID]map[int]int64) *world {
	w := &world{opt: opt, now: opt.Now, base: opt.Seed ^ (existing * 0x9e3779b97f4a7c15), dir: dir,
		n: opt.Persons, m: max(1, opt.Persons/5), counters: map[counterKey]*counter{}}
	var weights []float64
	for _, c := range Countries {
		if _, ok := dir.embassyOf[c.Code]; !ok {
			continue
		}
		w.countries = append(w.countries, c.Code)
		wt, ok := nationalityWeights[c.Code]
		if !ok {
			wt = longTailWeight / float64(len(Countries)-len(nationalityWeights))
		}
		weights = append(weights, wt)
	}
	w.natPick = newWeighted(weights)

	// Who owns the cases: the national department most, then the busy
	// provinces (the capital, Preah Sihanouk, the border crossings), then
	// counter-trafficking.
	ownerWeights := map[string]float64{"gdi": 40, "ncct": 7, PoliceCode("pp"): 10, PoliceCode("psn"): 8,
		PoliceCode("bmc"): 5, PoliceCode("svr"): 5, PoliceCode("srp"): 3}
	var ow []float64
	for _, p := range Provinces {
		if _, ok := ownerWeights[PoliceCode(p.Code)]; !ok {
			ownerWeights[PoliceCode(p.Code)] = 1
		}
		ownerWeights["ct-"+p.Code] = 0.2
	}
	codes := make([]string, 0, len(ownerWeights))
	for c := range ownerWeights {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		w.ownerAgency = append(w.ownerAgency, dir.byCode[c])
		ow = append(ow, ownerWeights[c])
	}
	w.ownerPick = newWeighted(ow)

	for id, years := range existingCounters {
		for _, a := range dir.all {
			if a.id == id {
				for y, last := range years {
					w.counters[counterKey{agency: dir.byCode[a.code], year: y}] = &counter{agency: id, last: last}
				}
			}
		}
	}
	return w
}

// rng returns the generator for one stream of the run. Streams are
// independent, so each table's rows are reproducible on their own.
func (w *world) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(w.base, stream*0x2545f4914f6cdd1d+1)) // #nosec G404 -- synthetic seed data must be reproducible from the seed; nothing secret is drawn
}

func (w *world) plan() {
	w.planPersons()
	w.planCases()
	w.planShares()
}

func (w *world) planPersons() {
	r := w.rng(1)
	w.personID = make([]pgtype.UUID, w.n)
	w.pNat = make([]uint8, w.n)
	w.pFlag = make([]uint8, w.n)
	w.pLinked = make([]uint8, w.n)
	w.pCreator = make([]int16, w.n)
	w.pFirst = make([]int32, w.n)
	w.pInCourt = make([]bool, w.n)
	for i := range w.n {
		w.personID[i] = NewUUID(r)
		w.pNat[i] = uint8(w.natPick.pick(r)) // #nosec G115 -- an index into the nationality table (under 256 entries)
		// Screening: most are not flagged; a few percent are possible or
		// identified victims (online-scam lures), some were cleared.
		switch x := r.Float64(); {
		case x < 0.04:
			w.pFlag[i] = flagSuspected
		case x < 0.055:
			w.pFlag[i] = flagIdentified
		case x < 0.07:
			w.pFlag[i] = flagCleared
		}
		w.pFirst[i] = -1
	}
}

func (w *world) planCases() {
	r := w.rng(2)
	w.caseID = make([]pgtype.UUID, w.m)
	w.cOwner = make([]int16, w.m)
	w.cStatus = make([]uint8, w.m)
	w.cKind = make([]uint8, w.m)
	w.cCourt = make([]int16, w.m)
	w.cCreated = make([]int64, w.m)
	w.cUpdated = make([]int64, w.m)
	w.cVictim = make([]bool, w.m)
	w.cRef = make([]string, w.m)
	w.linkStart = make([]int32, w.m+1)
	kindPick := newWeighted([]float64{35, 30, 10, 10, 15})
	span := int64(6 * 365 * 24 * 3600)
	next := 0
	for i := range w.m {
		w.caseID[i] = NewUUID(r)
		owner := w.ownerAgency[w.ownerPick.pick(r)]
		w.cOwner[i] = int16(owner)           // #nosec G115 -- an index into the agency directory (under 2^15 agencies)
		w.cKind[i] = uint8(kindPick.pick(r)) // #nosec G115 -- an index into the case kinds (under 256)
		created := w.now.Unix() - 86400 - r.Int64N(span)
		updated := min(created+r.Int64N(200*86400), w.now.Unix()-60)
		w.cCreated[i], w.cUpdated[i] = created, updated
		age := float64(w.now.Unix()-created) / float64(span)
		// Older cases are mostly closed; recent ones still open.
		var st uint8
		switch x := r.Float64(); {
		case x < 0.15*(1-age):
			st = stOpen
		case x < 0.55*(1-age)+0.1:
			st = stInvestigation
		case x < 0.55*(1-age)+0.22:
			st = stBeforeCourt
		case x < 0.55*(1-age)+0.34:
			st = stAdjudicated
		default:
			st = stClosed
		}
		w.cStatus[i] = st
		w.cCourt[i] = -1
		if st == stBeforeCourt || st == stAdjudicated || (st == stClosed && r.IntN(10) < 4) {
			w.cCourt[i] = int16(w.courtFor(r, owner)) // #nosec G115 -- an index into the agency directory (under 2^15 agencies)
		}
		// Reference: per owner and year, as the server assigns them.
		year := time.Unix(created, 0).UTC().Year()
		key := counterKey{agency: owner, year: year}
		c := w.counters[key]
		if c == nil {
			c = &counter{agency: w.dir.all[owner].id}
			w.counters[key] = c
		}
		c.last++
		w.cRef[i] = fmt.Sprintf("%s-%d-%06d", upper(w.dir.all[owner].code), year, c.last)

		// 1–10 persons: a quarter alone, most in small groups, some in big ones.
		var k int
		switch x := r.Float64(); {
		case x < 0.25:
			k = 1
		case x < 0.70:
			k = 2 + r.IntN(4)
		default:
			k = 6 + r.IntN(5)
		}
		w.linkStart[i] = int32(len(w.linkPerson)) // #nosec G115 -- link counts are bounded by the seed scale (far under 2^31)
		for j := 0; j < k; j++ {
			var p int
			if next < w.n && r.IntN(100) >= 4 {
				p = next
				next++
			} else {
				// A person already known from another case.
				p = r.IntN(w.n)
				if w.inCase(i, int32(p)) || w.pLinked[p] == 255 { // #nosec G115 -- a person index, under the seed scale (far under 2^31)
					continue
				}
			}
			w.linkPerson = append(w.linkPerson, int32(p))
			role := uint8(0) // detainee
			switch x := r.IntN(100); {
			case (w.pFlag[p] == flagSuspected || w.pFlag[p] == flagIdentified) && x < 50:
				role = 3 // victim
			case x < 6:
				role = 1 // suspect
			case x < 9:
				role = 2 // witness
			}
			w.linkRole = append(w.linkRole, role)
			w.pLinked[p]++
			if w.pFirst[p] < 0 {
				w.pFirst[p] = int32(i)
				w.pCreator[p] = int16(owner) // #nosec G115 -- an index into the agency directory (under 2^15 agencies)
			}
			if st == stBeforeCourt || st == stAdjudicated {
				w.pInCourt[p] = true
			}
			if w.pFlag[p] == flagSuspected || w.pFlag[p] == flagIdentified {
				w.cVictim[i] = true
			}
		}
	}
	w.linkStart[w.m] = int32(len(w.linkPerson)) // #nosec G115 -- link counts are bounded by the seed scale (far under 2^31)
	// Persons in no case were recorded by a police office.
	police := []int{w.dir.byCode["gdi"], w.dir.byCode[PoliceCode("pp")], w.dir.byCode[PoliceCode("psn")]}
	for p := range w.n {
		if w.pFirst[p] < 0 {
			w.pCreator[p] = int16(police[r.IntN(len(police))]) // #nosec G115 -- an index into the agency directory (under 2^15 agencies)
		}
	}
}

func (w *world) inCase(c int, p int32) bool {
	for _, q := range w.linkPerson[w.linkStart[c]:] {
		if q == p {
			return true
		}
	}
	return false
}

// courtFor picks the court a case of the owner goes to: the owner's
// province court, the capital's for the national departments mostly.
func (w *world) courtFor(r *rand.Rand, owner int) int {
	code := w.dir.all[owner].code
	for _, p := range Provinces {
		if code == PoliceCode(p.Code) || code == "ct-"+p.Code {
			return w.dir.byCode[CourtCode(p.Code)]
		}
	}
	switch x := r.IntN(10); {
	case x < 7:
		return w.dir.byCode[CourtCode("pp")]
	case x < 8:
		return w.dir.byCode[CourtCode("psn")]
	default:
		return w.dir.byCode[CourtCode(Provinces[r.IntN(len(Provinces))].Code)]
	}
}

var sharePurposes = []string{
	"Screening of detainees for trafficking indicators",
	"Consular follow-up of the nationals detained in this case",
	"Joint investigation of the smuggling network",
	"Preparation of the deportation of the detainees",
	"Hearing preparation",
	"Verification of travel documents",
}

func (w *world) planShares() {
	r := w.rng(5)
	count := w.m / 4
	ncct := w.dir.byCode["ncct"]
	var courts, police, ct []int
	for i, a := range w.dir.all {
		switch a.kind {
		case "court":
			courts = append(courts, i)
		case "immigration_police":
			police = append(police, i)
		case "counter_trafficking":
			ct = append(ct, i)
		}
	}
	ceilings := []string{"public", "restricted", "confidential", "secret"}
	ceilingPick := newWeighted([]float64{5, 40, 45, 10})
	day := int64(86400)
	for range count {
		c := int32(r.IntN(w.m)) // #nosec G115 -- a case index, under the seed scale (far under 2^31)
		owner := int(w.cOwner[c])
		var target int
		var purpose string
		switch x := r.IntN(100); {
		case x < 30:
			target, purpose = ncct, sharePurposes[0]
		case x < 60 && w.linkStart[c+1] > w.linkStart[c]:
			// The embassy of the case's first person.
			p := w.linkPerson[w.linkStart[c]]
			target, purpose = w.dir.embassyOf[w.countries[w.pNat[p]]], sharePurposes[1]
		case x < 70:
			target, purpose = courts[r.IntN(len(courts))], sharePurposes[4]
		case x < 90:
			target, purpose = police[r.IntN(len(police))], sharePurposes[2+r.IntN(2)]
		default:
			target, purpose = ct[r.IntN(len(ct))], sharePurposes[0]
		}
		if target == owner {
			continue
		}
		s := share{id: NewUUID(r), caseIdx: c, agency: target, purpose: purpose,
			ceiling: ceilings[ceilingPick.pick(r)], level: "summary"}
		if r.IntN(2) == 0 {
			s.level = "full"
		}
		now := w.now.Unix()
		switch x := r.IntN(100); {
		case x < 70: // active
			age := 1 + r.Int64N(300)
			created := now - age*day
			s.created = time.Unix(created, 0)
			s.expires = time.Unix(now+day+r.Int64N((365-age-1)*day), 0)
		case x < 90: // expired
			age := 100 + r.Int64N(600)
			created := now - age*day
			s.created = time.Unix(created, 0)
			s.expires = time.Unix(created+10*day+r.Int64N(80*day), 0)
		default: // revoked
			age := 2 + r.Int64N(300)
			created := now - age*day
			s.created = time.Unix(created, 0)
			s.expires = time.Unix(now+day+r.Int64N((365-age-1)*day), 0)
			rev := time.Unix(created+day+r.Int64N((age-1)*day), 0)
			s.revoked = &rev
		}
		w.shares = append(w.shares, s)
	}
}

// rowSource streams rows from a function of the row index.
type rowSource struct {
	n, i int
	row  func(i int) []any
	vals []any
}

func (s *rowSource) Next() bool {
	if s.i >= s.n {
		return false
	}
	s.vals = s.row(s.i)
	s.i++
	return true
}

func (s *rowSource) Values() ([]any, error) { return s.vals, nil }
func (s *rowSource) Err() error             { return nil }

var _ pgx.CopyFromSource = (*rowSource)(nil)

// Places, sites and facilities for the generated texts.
var (
	provincePlaces = map[string][]string{
		"pp":  {"Tuol Kork", "Chamkar Mon", "Daun Penh", "Sen Sok", "Chroy Changvar", "Mean Chey", "Por Sen Chey", "Russey Keo", "Dangkao", "Chbar Ampov"},
		"psn": {"Sihanoukville", "Otres", "Ream", "Prey Nob", "Stung Hav", "Ochheuteal"},
		"bmc": {"Poipet", "Serei Saophoan"},
		"svr": {"Bavet", "Svay Rieng town"},
		"srp": {"Siem Reap town", "Puok"},
		"kkg": {"Cham Yeam", "Koh Kong town"},
	}
	sites = []string{"a casino complex", "a construction site", "a residential compound", "a hotel",
		"a garment factory", "an office building", "a rented villa", "a karaoke bar"}
	facilities = []string{"Immigration Detention Centre, Phnom Penh", "GDI holding facility, Pochentong",
		"Preah Sihanouk Provincial Police holding facility", "NCCT shelter, Phnom Penh",
		"Provincial prison, Battambang", "Border police post, Bavet"}
	// facilityKinds registers each facility with its kind before the persons go in.
	facilityKinds = []string{"detention_centre", "detention_centre", "police_station", "shelter", "prison",
		"police_station"}
	routes = map[string][]string{
		"VN": {"Trapaing Phlong International Border Checkpoint", "Bavet International Border Checkpoint", "Phnom Penh International Airport"},
		"TH": {"Poipet International Border Checkpoint", "Cham Yeam International Border Checkpoint", "Phnom Penh International Airport"},
		"LA": {"Trapeang Kriel International Border Checkpoint", "Phnom Penh International Airport"},
	}
	operationWords = []string{"Lotus", "Mekong", "Tonle", "Angkor", "Kampuchea", "Sunrise", "Harbour", "Crossing", "Lantern", "Monsoon", "Delta", "Orchid"}
	victimNotes    = []string{
		"Recruited through an online job advertisement promising work in customer service; passport taken on arrival.",
		"Lured by a social-media offer of a well-paid office job; held in a compound and forced to run online scams.",
		"Says the recruiter charged a debt for the journey and withheld wages; wants to return home.",
		"Arrived on a tourist visa after a messaging-app job offer; reports beatings for missing scam targets.",
	}
)

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func (w *world) provinceOf(agency int) string {
	code := w.dir.all[agency].code
	for _, p := range Provinces {
		if code == PoliceCode(p.Code) || code == "ct-"+p.Code {
			return p.Code
		}
	}
	if code == "ncct" {
		return "psn"
	}
	return "pp"
}

func provinceName(code string) string {
	for _, p := range Provinces {
		if p.Code == code {
			return p.Name
		}
	}
	return code
}

func (w *world) placeFor(r *rand.Rand, agency int) string {
	prov := w.provinceOf(agency)
	if places, ok := provincePlaces[prov]; ok {
		return places[r.IntN(len(places))] + ", " + provinceName(prov)
	}
	return provinceName(prov) + " town"
}

// addYears adds n years the way PostgreSQL's date + interval does: a
// 29 February becomes 28 February in a year without one (Go's AddDate would
// roll over to 1 March, a day more of entry ban than the law gives).
func addYears(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	last := time.Date(y+n, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y+n, m, min(d, last), 0, 0, 0, 0, time.UTC)
}

func date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (w *world) personRows() pgx.CopyFromSource {
	r := w.rng(3)
	sexPick := newWeighted([]float64{85, 14, 1}) // male, female, unknown
	sexes := []string{"male", "female", "unknown"}
	return &rowSource{n: w.n, row: func(i int) []any {
		nat := w.countries[w.pNat[i]]
		sex := sexes[sexPick.pick(r)]
		name := PersonName(r, nat, sex)
		var caseTime, caseUpdated time.Time
		status := uint8(255)
		if f := w.pFirst[i]; f >= 0 {
			caseTime, caseUpdated = time.Unix(w.cCreated[f], 0).UTC(), time.Unix(w.cUpdated[f], 0).UTC()
			status = w.cStatus[f]
		} else {
			caseTime = w.now.Add(-time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Second)
			caseUpdated = caseTime
		}
		dob := date(caseTime.AddDate(-16-r.IntN(45), 0, -r.IntN(365)))

		// Passport: the seeds' figure is about three in ten without a valid one.
		var passNo string
		var passExp any
		passStatus := []string{"valid", "valid", "valid", "valid", "expired", "invalid", "none", "none", "none", "unknown"}[r.IntN(10)]
		switch passStatus {
		case "valid":
			passNo = passportNumber(r, nat)
			passExp = date(caseTime.AddDate(1+r.IntN(8), 0, r.IntN(365)))
		case "expired", "invalid":
			passNo = passportNumber(r, nat)
			passExp = date(caseTime.AddDate(-r.IntN(4)-1, 0, -r.IntN(365)))
		}
		var permitNo string
		permit := []string{"none", "none", "none", "none", "none", "none", "valid", "valid", "expired", "unknown"}[r.IntN(10)]
		if permit == "valid" || permit == "expired" {
			permitNo = fmt.Sprintf("WP-%d-%06d", caseTime.Year(), r.IntN(1000000))
		}
		var address string
		if r.IntN(2) == 0 {
			address = fmt.Sprintf("House %d, Street %d, %s", 1+r.IntN(300), 1+r.IntN(600), provinceName(Provinces[r.IntN(len(Provinces))].Code))
		}

		// Custody follows the first case's progress.
		custody := custodyFor(r, status)
		flag := w.pFlag[i]
		victim := flag == flagSuspected || flag == flagIdentified
		cleared := false
		if victim && (custody == "deported" || w.pInCourt[i]) {
			// Non-punishment: only with counter-trafficking's decision.
			cleared = true
		}
		var facility string
		var detainedAt, deportedAt, banUntil any
		var via string
		if custody != "at_large" {
			d := caseTime.Add(time.Duration(r.IntN(48)) * time.Hour)
			detainedAt = d
			if custody != "released" {
				facility = facilities[r.IntN(len(facilities))]
			}
			if custody == "deported" {
				dep := caseUpdated.Add(time.Duration(1+r.IntN(30*24)) * time.Hour)
				if dep.After(w.now) {
					dep = w.now.Add(-time.Hour)
				}
				if dep.Before(d) {
					dep = d.Add(time.Hour)
				}
				deportedAt = dep
				rs, ok := routes[nat]
				if !ok {
					rs = []string{"Phnom Penh International Airport", "Siem Reap-Angkor International Airport"}
				}
				via = rs[r.IntN(len(rs))]
				banUntil = addYears(date(dep.UTC()), 3)
			}
		}
		var notes string
		consents := false
		if victim {
			notes = victimNotes[r.IntN(len(victimNotes))]
			consents = r.IntN(10) < 3
		}
		notification := "requested"
		switch {
		case MandatoryCountries[nat]:
			notification = "mandatory"
		case r.IntN(10) == 0:
			notification = "declined"
		}
		asylum := r.IntN(1000) < 3 || (victim && r.IntN(50) == 0)
		created := caseTime.Add(time.Duration(r.IntN(3600)) * time.Second)
		updated := caseUpdated
		if updated.Before(created) {
			updated = created
		}
		return []any{w.personID[i], name.Family, name.Given, name.FamilyNative, name.GivenNative,
			sex, dob, nat, passNo, passStatus, passExp,
			permitNo, permit, address, custody, facility, detainedAt,
			deportedAt, via, banUntil, flagNames[flag], notes,
			consents, cleared, asylum, notification,
			w.dir.all[w.pCreator[i]].id, int32(w.pLinked[i]), created, updated}
	}}
}

func passportNumber(r *rand.Rand, nat string) string {
	switch nat {
	case "CN":
		return fmt.Sprintf("E%08d", r.IntN(100000000))
	case "VN":
		return fmt.Sprintf("C%07d", r.IntN(10000000))
	default:
		return fmt.Sprintf("%s%07d", nat, r.IntN(10000000))
	}
}

func custodyFor(r *rand.Rand, caseStatus uint8) string {
	x := r.IntN(100)
	switch caseStatus {
	case stOpen, stInvestigation:
		switch {
		case x < 60:
			return "detained"
		case x < 85:
			return "awaiting_deportation"
		case x < 95:
			return "released"
		}
		return "at_large"
	case stBeforeCourt:
		if x < 70 {
			return "charged"
		}
		return "detained"
	case stAdjudicated:
		switch {
		case x < 50:
			return "convicted"
		case x < 80:
			return "awaiting_deportation"
		}
		return "deported"
	case stClosed:
		switch {
		case x < 60:
			return "deported"
		case x < 90:
			return "released"
		}
		return "convicted"
	default: // in no case
		switch {
		case x < 50:
			return "at_large"
		case x < 70:
			return "released"
		}
		return "detained"
	}
}

var legalBases = []string{
	"Immigration Law Art. 29",
	"Immigration Law (working without a permit)",
	"Immigration Law; Criminal Code (smuggling of migrants)",
	"Law on Suppression of Human Trafficking and Sexual Exploitation",
	"Criminal Code (forgery of travel documents)",
}

func (w *world) caseRows() pgx.CopyFromSource {
	r := w.rng(4)
	return &rowSource{n: w.m, row: func(i int) []any {
		owner := int(w.cOwner[i])
		kind := w.cKind[i]
		place := w.placeFor(r, owner)
		created, updated := time.Unix(w.cCreated[i], 0).UTC(), time.Unix(w.cUpdated[i], 0).UTC()
		opDate := date(created.AddDate(0, 0, -r.IntN(3)))
		persons := int(w.linkStart[i+1] - w.linkStart[i])
		nat := "foreign"
		if persons > 0 {
			nat = w.countries[w.pNat[w.linkPerson[w.linkStart[i]]]] + " and other"
		}
		var title, opName, summary string
		switch kindNames[kind] {
		case "illegal_entry":
			opName = "Operation " + operationWords[r.IntN(len(operationWords))]
			title = fmt.Sprintf("Raid at %s, %s: %d foreign nationals detained", sites[r.IntN(len(sites))], place, persons)
			summary = fmt.Sprintf("Immigration police raided %s in %s and detained %d %s nationals who had entered without valid travel documents.",
				sites[r.IntN(len(sites))], place, persons, nat)
		case "illegal_work":
			opName = "Labour inspection"
			title = fmt.Sprintf("Inspection of %s, %s: work without permits", sites[r.IntN(len(sites))], place)
			summary = fmt.Sprintf("An inspection found %d %s nationals working without work permits; several held no valid passport.", persons, nat)
		case "smuggling":
			opName = "Operation " + operationWords[r.IntN(len(operationWords))]
			title = fmt.Sprintf("Smuggling of migrants through %s", place)
			summary = fmt.Sprintf("A group of %d migrants was intercepted after crossing the border irregularly; the organisers are being identified.", persons)
		case "trafficking":
			opName = "Compound inspection"
			title = fmt.Sprintf("Online scam compound, %s: possible trafficking victims", place)
			summary = fmt.Sprintf("%d persons found in a compound running online scams; several report deceptive recruitment and confiscated passports.", persons)
		default:
			opName = "Document check"
			title = fmt.Sprintf("Forged travel documents seized in %s", place)
			summary = fmt.Sprintf("Forged passports and visas were found with %d foreign nationals; the documents are being examined.", persons)
		}
		var court, hearing, legal any
		if c := w.cCourt[i]; c >= 0 {
			court = w.dir.all[c].id
			legal = legalBases[kind]
			switch w.cStatus[i] {
			case stBeforeCourt:
				hearing = date(updated.AddDate(0, 0, 10+r.IntN(80)))
			default:
				hearing = date(updated.AddDate(0, 0, -r.IntN(60)))
			}
		}
		notes := ""
		if r.IntN(3) == 0 {
			notes = "Interpreter needed for interviews. Evidence logged at the unit."
		}
		return []any{w.caseID[i], w.cRef[i], w.dir.all[owner].id, title, kindNames[kind], statusNames[w.cStatus[i]],
			opName, place, opDate, summary, notes, court, hearing, legal,
			w.cVictim[i], created, updated}
	}}
}

var linkRoles = []string{"detainee", "suspect", "witness", "victim", "other"}

func (w *world) linkRows() pgx.CopyFromSource {
	c := 0
	return &rowSource{n: len(w.linkPerson), row: func(i int) []any {
		for int32(i) >= w.linkStart[c+1] { // #nosec G115 -- a link index, under the seed scale (far under 2^31)
			c++
		}
		return []any{w.caseID[c], w.personID[w.linkPerson[i]], linkRoles[w.linkRole[i]], time.Unix(w.cCreated[c], 0).UTC()}
	}}
}

func (w *world) shareRows() pgx.CopyFromSource {
	return &rowSource{n: len(w.shares), row: func(i int) []any {
		s := w.shares[i]
		var revoked any
		if s.revoked != nil {
			revoked = *s.revoked
		}
		return []any{s.id, w.caseID[s.caseIdx], w.dir.all[s.agency].id, s.level, s.ceiling, s.purpose, s.expires, s.created, revoked}
	}}
}

// historyRows writes each case's path to its status: open, then
// investigation, court and judgment as far as it got.
func (w *world) historyRows() pgx.CopyFromSource {
	type change struct {
		c        int
		from, to int
		at       int64
	}
	var changes []change
	for c := range w.m {
		st := int(w.cStatus[c])
		path := []int{int(stOpen)}
		switch {
		case st == int(stClosed) && w.cCourt[c] >= 0:
			path = append(path, int(stInvestigation), int(stBeforeCourt), int(stAdjudicated), int(stClosed))
		case st == int(stClosed):
			path = append(path, int(stInvestigation), int(stClosed))
		default:
			for s := int(stInvestigation); s <= st; s++ {
				path = append(path, s)
			}
		}
		span := w.cUpdated[c] - w.cCreated[c]
		for j, s := range path {
			at := w.cCreated[c]
			if len(path) > 1 {
				at += span * int64(j) / int64(len(path)-1)
			}
			from := -1
			if j > 0 {
				from = path[j-1]
			}
			changes = append(changes, change{c: c, from: from, to: s, at: at})
		}
	}
	w.historyCount = len(changes)
	return &rowSource{n: len(changes), row: func(i int) []any {
		ch := changes[i]
		var from any
		if ch.from >= 0 {
			from = statusNames[ch.from]
		}
		return []any{w.caseID[ch.c], from, statusNames[ch.to], "", time.Unix(ch.at, 0).UTC()}
	}}
}
