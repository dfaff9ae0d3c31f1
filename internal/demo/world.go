package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/seed"
)

// Agency is a demo agency.
type Agency struct {
	Code, Name, NameKm, Kind, Country string
}

// Person is a demo person. Dates are UTC.
type Person struct {
	ID                        uuid.UUID
	Family, Given             string
	FamilyNative, GivenNative string
	Sex                       string
	DateOfBirth               time.Time
	Nationality               string
	PassportNumber            string
	PassportStatus            string
	PassportExpires           *time.Time
	PermitNumber              string
	PermitStatus              string
	Address                   string
	Custody                   string
	Facility                  string
	DetainedAt                *time.Time
	DeportedAt                *time.Time
	DeportedVia               string
	EntryBanUntil             *time.Time
	Flag                      string
	ScreeningNotes            string
	Consents                  bool
	Cleared                   bool
	Asylum                    bool
	Notification              string
	CreatedBy                 string // agency code
	CreatedAt                 time.Time
}

// Link is a person's part in a case.
type Link struct {
	Person int // index in World.Persons
	Role   string
}

// StatusChange is one line of a case's status history.
type StatusChange struct {
	From, To string
	At       time.Time
	Note     string
}

// Case is a demo case.
type Case struct {
	ID             uuid.UUID
	Reference      string
	Owner          string // agency code
	Title          string
	Kind           string
	Status         string
	OperationName  string
	OperationPlace string
	OperationDate  time.Time
	Summary        string
	Notes          string
	Court          string // agency code, "" for none
	HearingDate    *time.Time
	LegalBasis     string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	History        []StatusChange
	Links          []Link
}

// Share is a demo share.
type Share struct {
	ID       uuid.UUID
	Case     int // index in World.Cases
	Agency   string
	Level    string
	Ceiling  string
	Purpose  string
	Created  time.Time
	Expires  time.Time
	Revoked  *time.Time
	Describe string // active, expired or revoked, for tests and the dev output
}

// World is the whole demo data set.
type World struct {
	Agencies []Agency
	Cases    []Case
	Persons  []Person
	Shares   []Share
}

// Case returns the case with the given reference.
func (w *World) Case(ref string) *Case {
	for i := range w.Cases {
		if w.Cases[i].Reference == ref {
			return &w.Cases[i]
		}
	}
	return nil
}

// Facilities of the demo, by name: kind (ACCESS.md). The social affairs
// shelter protects possible victims: their embassy sees "in the care of the
// authorities", never its name.
var Facilities = map[string]string{
	facilityPochentong: "detention_centre",
	facilityNCCT:       "other",
	facilityShelter:    "shelter",
	facilityPrison:     "prison",
	facilityPSN:        "police_station",
	facilityBavet:      "police_station",
}

// Facilities, routes and places of the demo (invented, after the seeds).
const (
	facilityPochentong = "Immigration Detention Centre, Pochentong"
	facilityNCCT       = "NCCT headquarters, Phnom Penh"
	facilityShelter    = "Social affairs shelter, Phnom Penh"
	facilityPrison     = "Municipal prison, Phnom Penh"
	facilityPSN        = "Preah Sihanouk Provincial Police holding facility"
	facilityBavet      = "Border police post, Bavet"
	viaAirport         = "Phnom Penh International Airport"
	viaTrapaingPhlong  = "Trapaing Phlong International Border Checkpoint"
	viaBavet           = "Bavet International Border Checkpoint"
	viaPoipet          = "Poipet International Border Checkpoint"
	art29              = "Immigration Law Art. 29"
)

// Reference numbers of the cases the seeds describe.
const (
	RefForgery      = "GDI-2026-000001"
	RefTuolKork     = "GDI-2026-000002"
	RefScamCompound = "GDI-2026-000003"
	RefDeportations = "GDI-2026-000004"
	RefOverstay     = "GDI-2026-000005"
	RefBavet        = "GDI-2025-000001"
	RefReam         = "POLICE-PSN-2026-000001"
)

// RefInspection is the reference of the i-th (1–10) Preah Sihanouk inspection.
func RefInspection(i int) string { return fmt.Sprintf("NCCT-2026-%06d", i) }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// builder makes the world with one seeded generator, so the same world comes
// out every time.
type builder struct {
	r *rand.Rand
	w World
}

func (b *builder) id() uuid.UUID {
	u := seed.NewUUID(b.r)
	return uuid.UUID(u.Bytes)
}

// person makes a person of nationality nat with a generated name and the
// defaults every demo person shares; set adjusts the rest.
func (b *builder) person(nat, sex, createdBy string, created time.Time, set func(p *Person)) int {
	n := seed.PersonName(b.r, nat, sex)
	age := 19 + b.r.IntN(30)
	p := Person{
		ID: b.id(), Family: n.Family, Given: n.Given, FamilyNative: n.FamilyNative, GivenNative: n.GivenNative,
		Sex: sex, DateOfBirth: dateOf(created.AddDate(-age, -b.r.IntN(12), -b.r.IntN(28))), Nationality: nat,
		PassportStatus: "none", PermitStatus: "none", Custody: "detained", Flag: "none",
		Notification: "requested", CreatedBy: createdBy, CreatedAt: created,
	}
	if b.r.IntN(100) < 6 {
		p.Notification = "declined"
	}
	if set != nil {
		set(&p)
	}
	b.w.Persons = append(b.w.Persons, p)
	return len(b.w.Persons) - 1
}

func (b *builder) passport(p *Person, status string, issued time.Time) {
	p.PassportStatus = status
	switch p.Nationality {
	case "CN":
		p.PassportNumber = fmt.Sprintf("E%08d", b.r.IntN(100000000))
	case "VN":
		p.PassportNumber = fmt.Sprintf("C%07d", b.r.IntN(10000000))
	default:
		p.PassportNumber = fmt.Sprintf("%s%07d", p.Nationality, b.r.IntN(10000000))
	}
	switch status {
	case "valid":
		p.PassportExpires = ptr(dateOf(issued.AddDate(2+b.r.IntN(7), b.r.IntN(12), 0)))
	case "expired":
		p.PassportExpires = ptr(dateOf(issued.AddDate(-1-b.r.IntN(3), -b.r.IntN(12), 0)))
	case "invalid":
		p.PassportExpires = ptr(dateOf(issued.AddDate(1+b.r.IntN(3), 0, 0)))
	case "none":
		p.PassportNumber = ""
	}
}

func (b *builder) detain(p *Person, when time.Time, facility string) {
	p.Custody = "detained"
	p.Facility = facility
	p.DetainedAt = ptr(when.Add(time.Duration(b.r.IntN(240)) * time.Minute))
}

func deport(p *Person, when time.Time, via string) {
	p.Custody = "deported"
	p.DeportedAt = ptr(when)
	p.DeportedVia = via
	// Three-year ban on re-entry (interior ministry prakas).
	p.EntryBanUntil = ptr(dateOf(when).AddDate(3, 0, 0))
}

// history walks a case through statuses at the given times.
func history(c *Case, steps ...any) {
	from := ""
	for i := 0; i+1 < len(steps); i += 2 {
		to, when := steps[i].(string), steps[i+1].(time.Time)
		c.History = append(c.History, StatusChange{From: from, To: to, At: when})
		from = to
		c.Status = to
		c.UpdatedAt = when
	}
}

func (b *builder) addCase(c Case, persons []int, role func(p *Person) string) int {
	c.ID = b.id()
	for _, i := range persons {
		r := "detainee"
		if role != nil {
			r = role(&b.w.Persons[i])
		}
		c.Links = append(c.Links, Link{Person: i, Role: r})
	}
	b.w.Cases = append(b.w.Cases, c)
	return len(b.w.Cases) - 1
}

// victimRole: a flagged person is linked as a (possible) victim.
func victimRole(p *Person) string {
	if p.Flag == "suspected" || p.Flag == "identified" {
		return "victim"
	}
	return "detainee"
}

var scamNotes = []string{
	"Answered an online job advertisement for customer-service work; passport taken on arrival at the compound.",
	"Recruited through a messaging app with the promise of an office job; made to run online scams under threat.",
	"Says the recruiter charged a debt for the journey and withheld wages; wants to go home.",
	"Lured by a social-media offer of well-paid work; reports beatings for missing scam targets.",
}

// Build makes the demo world. now is when it is loaded: the shares' dates
// are relative to it (a share expires at most 365 days after it is made), the
// rest is fixed on the seeds' timeline.
func Build(now time.Time) *World {
	b := &builder{r: rand.New(rand.NewPCG(2026, 819))} // #nosec G404 -- demo data must be the same on every run; nothing secret is drawn
	b.w.Agencies = agencies()
	b.forgery()
	b.tuolKork()
	b.scamCompound()
	b.deportations()
	b.overstay()
	b.bavet()
	b.inspections()
	b.ream()
	b.unlinked()
	b.shares(now.UTC().Truncate(time.Second))
	return &b.w
}

// GDI-2026-000001: an earlier forgery case, judged.
func (b *builder) forgery() {
	op := at("2026-03-10T02:00:00Z")
	var ps []int
	for range 6 {
		ps = append(ps, b.person("CN", "male", "gdi", op, func(p *Person) {
			b.passport(p, "invalid", op)
			b.detain(p, op, facilityPochentong)
			p.Custody, p.Facility = "convicted", facilityPrison
		}))
	}
	c := Case{Reference: RefForgery, Owner: "gdi", Kind: "document_fraud",
		Title:         "Forged passports sold near Pochentong airport",
		OperationName: "Operation Lantern", OperationPlace: "Pochentong, Phnom Penh", OperationDate: dateOf(op),
		Summary: "Six Chinese nationals were found with forged passports and visas bought in Phnom Penh to travel on to third countries. " +
			"The forgeries were traced to a print shop near Pochentong airport.",
		Notes: "Exhibits: 14 forged passports, 2 laminators. Interpreter: Mandarin.",
		Court: "pp-court", HearingDate: ptr(day("2026-06-18")),
		LegalBasis: "Criminal Code (forgery of travel documents); " + art29, CreatedAt: op.Add(6 * time.Hour)}
	history(&c, "open", c.CreatedAt, "investigation", at("2026-03-12T03:00:00Z"),
		"before_court", at("2026-05-04T02:30:00Z"), "adjudicated", at("2026-06-18T09:00:00Z"))
	b.addCase(c, ps, nil)
}

// GDI-2026-000002: the Tuol Kork raid of the seeds: 225 detained, 222
// Chinese and 3 Vietnamese, only three with valid passports; before the
// Phnom Penh court under Art. 29 of the Immigration Law.
func (b *builder) tuolKork() {
	raid := at("2026-08-19T14:00:00Z")
	validAt := map[int]bool{17: true, 103: true, 223: true}
	var ps []int
	for i := range 225 {
		nat := "CN"
		if i >= 222 {
			nat = "VN"
		}
		sex := "male"
		if i%12 == 5 {
			sex = "female"
		}
		ps = append(ps, b.person(nat, sex, "gdi", raid, func(p *Person) {
			switch {
			case validAt[i]:
				b.passport(p, "valid", raid)
			case i%9 == 0:
				b.passport(p, "expired", raid)
			case i%13 == 0:
				b.passport(p, "invalid", raid)
			}
			b.detain(p, raid, facilityPochentong)
			switch i {
			case 41:
				// Screened by NCCT: a possible victim, proceedings cleared.
				p.Flag, p.Cleared = "suspected", true
				p.ScreeningNotes = scamNotes[0] + " NCCT interviewed him on 2 September and cleared the proceedings."
			case 88:
				p.Asylum = true
			}
		}))
	}
	c := Case{Reference: RefTuolKork, Owner: "gdi", Kind: "illegal_entry",
		Title:         "Tuol Kork raid: 225 foreign nationals detained",
		OperationName: "Operation Tuol Kork", OperationPlace: "Tuol Kork district, Phnom Penh", OperationDate: dateOf(raid),
		Summary: "A raid on a house in Tuol Kork district netted 222 Chinese and 3 Vietnamese nationals; only three held valid passports. " +
			"Police believe most intended to buy travel documents in Cambodia and travel on to third countries. " +
			"The detainees are held at the immigration detention centre near Pochentong airport.",
		Notes: "Two committees investigate the arrival of the group and the fires at the immigration compound. " +
			"Embassies of China, the United States and Australia follow the case.",
		Court: "pp-court", HearingDate: ptr(day("2026-12-03")), LegalBasis: art29, CreatedAt: raid.Add(5 * time.Hour)}
	history(&c, "open", c.CreatedAt, "investigation", at("2026-08-21T02:00:00Z"),
		"before_court", at("2026-11-12T03:15:00Z"))
	b.addCase(c, ps, victimRole)
}

// GDI-2026-000003: an online-scam compound: possible and identified
// victims, among them US and Australian nationals; shared with NCCT.
func (b *builder) scamCompound() {
	op := at("2026-09-23T01:30:00Z")
	type spec struct {
		nat, sex, flag   string
		consents, asylum bool
	}
	specs := []spec{
		{"CN", "male", "suspected", true, false}, {"CN", "female", "suspected", false, false},
		{"CN", "male", "identified", false, false}, {"CN", "male", "none", false, false},
		{"CN", "male", "none", false, false}, {"CN", "female", "none", false, false},
		{"VN", "female", "identified", true, false}, {"VN", "male", "suspected", false, true},
		{"VN", "male", "none", false, false},
		{"US", "male", "identified", true, false}, {"US", "female", "none", false, false},
		{"AU", "male", "suspected", false, false},
	}
	var ps []int
	for i, s := range specs {
		ps = append(ps, b.person(s.nat, s.sex, "gdi", op, func(p *Person) {
			b.passport(p, []string{"valid", "none", "expired"}[i%3], op)
			b.detain(p, op, facilityShelter)
			p.Notification = "requested"
			p.Flag, p.Consents, p.Asylum = s.flag, s.consents, s.asylum
			if s.flag != "none" {
				p.ScreeningNotes = scamNotes[i%len(scamNotes)]
			}
		}))
	}
	c := Case{Reference: RefScamCompound, Owner: "gdi", Kind: "trafficking",
		Title:         "Online scam compound, Chamkar Mon: possible trafficking victims",
		OperationName: "Compound inspection", OperationPlace: "Chamkar Mon, Phnom Penh", OperationDate: dateOf(op),
		Summary: "Twelve foreign nationals found in an office compound running online scams. Several say they were lured by online job " +
			"advertisements and had their passports taken. Referred to NCCT for screening.",
		Notes:     "Victim interviews with NCCT and a social worker. No deportation before NCCT's decision.",
		CreatedAt: op.Add(4 * time.Hour)}
	history(&c, "open", c.CreatedAt, "investigation", at("2026-09-24T02:00:00Z"))
	b.addCase(c, ps, victimRole)
}

// GDI-2026-000004: the November deportations of the seeds: 130 deported on
// 7 and 8 November, 110 Chinese and 20 Vietnamese, three of them women, via
// Phnom Penh International Airport and the Trapaing Phlong checkpoint,
// banned from re-entry for three years.
func (b *builder) deportations() {
	op := at("2026-10-21T00:30:00Z")
	women := map[int]bool{12: true, 77: true, 121: true}
	var ps []int
	for i := range 130 {
		nat, when, via := "CN", at("2026-11-07T03:00:00Z"), viaAirport
		if i >= 110 {
			nat, when, via = "VN", at("2026-11-08T02:00:00Z"), viaTrapaingPhlong
		}
		sex := "male"
		if women[i] {
			sex = "female"
		}
		ps = append(ps, b.person(nat, sex, "gdi", op, func(p *Person) {
			if i%4 == 0 {
				b.passport(p, "expired", op)
			}
			b.detain(p, op, facilityPochentong)
			if i == 30 || i == 115 {
				// Screened before removal; not a victim.
				p.Flag = "cleared"
				p.ScreeningNotes = "Screened by NCCT on 30 October: no trafficking indicators."
			}
			deport(p, when.Add(time.Duration(i%50)*time.Minute), via)
		}))
	}
	c := Case{Reference: RefDeportations, Owner: "gdi", Kind: "illegal_work",
		Title:         "Construction sites, Chroy Changvar: 130 detained and deported",
		OperationName: "Operation Mekong", OperationPlace: "Chroy Changvar, Phnom Penh", OperationDate: dateOf(op),
		Summary: "130 foreign nationals (110 Chinese, 20 Vietnamese; three women) were detained for crossing the border illegally and " +
			"working in violation of the immigration law. They were deported on 7 and 8 November via Phnom Penh International Airport " +
			"and the Trapaing Phlong International Border Checkpoint and are banned from entering Cambodia for three years.",
		CreatedAt: op.Add(8 * time.Hour)}
	history(&c, "open", c.CreatedAt, "investigation", at("2026-10-22T02:00:00Z"), "closed", at("2026-11-09T04:00:00Z"))
	b.addCase(c, ps, nil)
}

// GDI-2026-000005: a recent overstay check with US and Australian
// nationals; the share with the Australian embassy was revoked.
func (b *builder) overstay() {
	op := at("2026-11-16T07:00:00Z")
	specs := []struct{ nat, sex, notification string }{
		{"US", "male", "requested"}, {"AU", "female", "declined"}, {"CN", "male", "requested"}, {"CN", "male", "requested"},
	}
	var ps []int
	for _, s := range specs {
		ps = append(ps, b.person(s.nat, s.sex, "gdi", op, func(p *Person) {
			b.passport(p, "expired", op)
			b.detain(p, op, facilityPochentong)
			p.Notification = s.notification
		}))
	}
	c := Case{Reference: RefOverstay, Owner: "gdi", Kind: "illegal_entry",
		Title:         "Overstay check at a Daun Penh guesthouse",
		OperationName: "Document check", OperationPlace: "Daun Penh, Phnom Penh", OperationDate: dateOf(op),
		Summary:   "Four foreign nationals held after their visas were found to have expired months ago.",
		CreatedAt: op.Add(2 * time.Hour)}
	history(&c, "open", c.CreatedAt)
	b.addCase(c, ps, nil)
}

// GDI-2025-000001: last year's smuggling case at Bavet, closed; the share
// with the Vietnamese embassy has expired.
func (b *builder) bavet() {
	op := at("2025-05-06T22:00:00Z")
	var ps []int
	for i := range 8 {
		ps = append(ps, b.person("VN", []string{"male", "female"}[i%4/3], "gdi", op, func(p *Person) {
			b.detain(p, op, facilityBavet)
			deport(p, at("2025-05-20T01:00:00Z").Add(time.Duration(i)*time.Minute), viaBavet)
		}))
	}
	c := Case{Reference: RefBavet, Owner: "gdi", Kind: "smuggling",
		Title:         "Smuggled group intercepted near Bavet",
		OperationName: "Operation Crossing", OperationPlace: "Bavet, Svay Rieng", OperationDate: dateOf(op),
		Summary:   "Eight Vietnamese nationals crossed the border on foot with a paid guide and were intercepted on the road to Phnom Penh.",
		CreatedAt: op.Add(3 * time.Hour)}
	history(&c, "open", c.CreatedAt, "investigation", at("2025-05-08T02:00:00Z"), "closed", at("2025-05-21T03:00:00Z"))
	b.addCase(c, ps, nil)
}

// NCCT-2026-000001…010: the Preah Sihanouk inspections of the seeds (10
// locations, 18 August to 4 October, 2,760 foreigners), as a one-in-ten
// sample: 276 persons, 81 without a valid passport, 151 of those with one
// working without a permit, 68 deported, 92 awaiting deportation at NCCT's
// headquarters, the others released; about twenty possible or identified
// victims, among them two US and two Australian nationals.
func (b *builder) inspections() {
	sizes := []int{48, 40, 35, 31, 28, 26, 22, 19, 15, 12}
	places := []string{
		"a casino complex, Otres", "a hotel tower, Ochheuteal", "a residential compound, Ream",
		"an office building, Sihanoukville centre", "a villa compound, Prey Nob", "a construction site, Stung Hav",
		"a karaoke bar, Sihanoukville", "an apartment block, Otres", "a factory compound, Prey Nob", "a hotel, Ream",
	}
	total := 0
	for _, s := range sizes {
		total += s
	}
	// Outcomes in the report's proportions, dealt over the sample.
	type outcome struct {
		passport, permit, custody, flag string
		consents                        bool
		notification                    string // "": the usual mix
	}
	var outs []outcome
	for i := range total {
		o := outcome{passport: "valid", permit: "none", custody: "released", flag: "none"}
		switch {
		case i < 81: // without a valid passport
			o.passport = []string{"none", "none", "expired", "invalid"}[i%4]
		case i < 81+151: // passport, no work permit
		default: // passport and permit
			o.permit = "valid"
		}
		outs = append(outs, o)
	}
	// Deported and awaiting deportation: from those without papers.
	for i := range 68 {
		outs[i*3].custody = "deported"
	}
	n := 0
	for i := 0; i < 232 && n < 92; i++ {
		if outs[i].custody == "released" {
			outs[i].custody = "awaiting_deportation"
			n++
		}
	}
	// Possible and identified victims among those not yet deported.
	flagged := 0
	for i := 1; i < total && flagged < 20; i += 11 {
		if outs[i].custody == "deported" {
			continue
		}
		outs[i].flag = "suspected"
		if flagged%3 == 2 {
			outs[i].flag = "identified"
		}
		outs[i].consents = flagged%3 == 0
		flagged++
	}
	b.r.Shuffle(len(outs), func(i, j int) { outs[i], outs[j] = outs[j], outs[i] })
	// Nationalities: mostly Chinese, some Vietnamese and from the region;
	// two US and two Australian nationals recruited online, held awaiting
	// deportation, two of them victims who consent to their embassy
	// knowing.
	nats := make([]string, total)
	for k := range nats {
		nats[k] = "CN"
		switch x := (k * 7) % 20; {
		case x < 2:
			nats[k] = "VN"
		case x == 2:
			nats[k] = "TH"
		case x == 3:
			nats[k] = "ID"
		case x == 4:
			nats[k] = "MY"
		case x == 5:
			nats[k] = "MM"
		}
	}
	foreign := []string{"US", "US", "AU", "AU"}
	for k := 0; k < total && len(foreign) > 0; k++ {
		if outs[k].custody == "awaiting_deportation" {
			j := 4 - len(foreign)
			nats[k] = foreign[0]
			foreign = foreign[1:]
			outs[k].flag = []string{"identified", "suspected", "identified", "suspected"}[j]
			outs[k].consents = j%2 == 0
			outs[k].notification = "requested"
		}
	}

	start := at("2026-08-18T02:00:00Z")
	k := 0
	for loc, size := range sizes {
		op := start.Add(time.Duration(loc*47*24/9) * time.Hour) // spread to 4 October
		var ps []int
		for j := range size {
			o, nat := outs[k], nats[k]
			k++
			sex := "male"
			if b.r.IntN(100) < 22 {
				sex = "female"
			}
			ps = append(ps, b.person(nat, sex, "ncct", op, func(p *Person) {
				if o.passport != "none" {
					b.passport(p, o.passport, op)
				}
				p.PermitStatus = o.permit
				if o.permit == "valid" {
					p.PermitNumber = fmt.Sprintf("WP-2026-%06d", b.r.IntN(1000000))
				}
				b.detain(p, op, facilityNCCT)
				p.Flag, p.Consents = o.flag, o.consents
				if o.flag != "none" {
					p.ScreeningNotes = scamNotes[k%len(scamNotes)]
				}
				if o.notification != "" {
					p.Notification = o.notification
				}
				switch o.custody {
				case "released":
					p.Custody, p.Facility = "released", ""
				case "awaiting_deportation":
					p.Custody = "awaiting_deportation"
				case "deported":
					via := viaAirport
					switch nat {
					case "VN":
						via = viaTrapaingPhlong
					case "TH":
						via = viaPoipet
					}
					deport(p, op.AddDate(0, 0, 12+j%9), via)
				}
			}))
		}
		kind := "illegal_work"
		for _, i := range ps {
			if f := b.w.Persons[i].Flag; f == "suspected" || f == "identified" {
				kind = "trafficking"
			}
		}
		c := Case{Reference: RefInspection(loc + 1), Owner: "ncct", Kind: kind,
			Title:         fmt.Sprintf("Preah Sihanouk inspection %d of 10: %s", loc+1, places[loc]),
			OperationName: "Preah Sihanouk inspections", OperationPlace: places[loc] + ", Preah Sihanouk",
			OperationDate: dateOf(op),
			Summary: fmt.Sprintf("NCCT officials inspected %s and found %d foreign nationals (a sample of the inspection records). "+
				"Those without valid passports or work permits are held at NCCT headquarters awaiting deportation.", places[loc], size),
			CreatedAt: op.Add(10 * time.Hour)}
		switch {
		case loc < 6:
			history(&c, "open", c.CreatedAt, "investigation", op.AddDate(0, 0, 2), "closed", op.AddDate(0, 0, 30))
		case loc < 9:
			history(&c, "open", c.CreatedAt, "investigation", op.AddDate(0, 0, 2))
		default:
			// Before the provincial court: the flagged persons' proceedings
			// were cleared by NCCT first (non-punishment principle).
			for _, i := range ps {
				if f := b.w.Persons[i].Flag; f == "suspected" || f == "identified" {
					b.w.Persons[i].Cleared = true
				}
			}
			c.Court, c.HearingDate, c.LegalBasis = "sihanoukville-court", ptr(day("2026-12-10")), art29
			history(&c, "open", c.CreatedAt, "investigation", op.AddDate(0, 0, 2), "before_court", at("2026-11-03T03:00:00Z"))
		}
		b.addCase(c, ps, victimRole)
	}
}

// POLICE-PSN-2026-000001: another agency's case (the provincial police).
func (b *builder) ream() {
	op := at("2026-10-30T21:00:00Z")
	var ps []int
	for i := range 9 {
		ps = append(ps, b.person("CN", "male", "police-psn", op, func(p *Person) {
			b.detain(p, op, facilityPSN)
			if i == 4 {
				p.Flag = "suspected"
				p.ScreeningNotes = scamNotes[1]
			}
		}))
	}
	c := Case{Reference: RefReam, Owner: "police-psn", Kind: "smuggling",
		Title:         "Boat landing of migrants at Ream",
		OperationName: "Coastal patrol", OperationPlace: "Ream, Preah Sihanouk", OperationDate: dateOf(op),
		Summary:   "Nine Chinese nationals landed from a fishing boat at night; the boat crew fled.",
		CreatedAt: op.Add(5 * time.Hour)}
	history(&c, "open", c.CreatedAt, "investigation", at("2026-11-01T02:00:00Z"))
	b.addCase(c, ps, victimRole)
}

// Two persons recorded by GDI at the airport, not yet in any case.
func (b *builder) unlinked() {
	when := at("2026-11-20T10:00:00Z")
	for range 2 {
		b.person("CN", "male", "gdi", when, func(p *Person) {
			b.passport(p, "valid", when)
			p.Custody = "at_large"
		})
	}
}

func (b *builder) shares(now time.Time) {
	d := func(n int) time.Time { return now.AddDate(0, 0, n) }
	idx := func(ref string) int {
		for i, c := range b.w.Cases {
			if c.Reference == ref {
				return i
			}
		}
		panic("demo: no case " + ref)
	}
	b.w.Shares = []Share{
		{Case: idx(RefScamCompound), Agency: "ncct", Level: "full", Ceiling: "confidential",
			Purpose: "Screening of the detainees for trafficking indicators and victim support", Created: d(-20), Expires: d(160), Describe: "active"},
		{Case: idx(RefTuolKork), Agency: "emb-cn", Level: "summary", Ceiling: "restricted",
			Purpose: "Consular follow-up of the Chinese nationals detained in the Tuol Kork raid", Created: d(-10), Expires: d(80), Describe: "active"},
		{Case: idx(RefBavet), Agency: "emb-vn", Level: "summary", Ceiling: "restricted",
			Purpose: "Consular follow-up of the deportation via Bavet", Created: d(-200), Expires: d(-110), Describe: "expired"},
		{Case: idx(RefOverstay), Agency: "emb-au", Level: "full", Ceiling: "restricted",
			Purpose: "Identity verification of an Australian national", Created: d(-5), Expires: d(25), Revoked: ptr(d(-2)), Describe: "revoked"},
		{Case: idx(RefInspection(4)), Agency: "gdi", Level: "full", Ceiling: "confidential",
			Purpose: "Deportation of the detainees awaiting removal", Created: d(-30), Expires: d(150), Describe: "active"},
	}
	for i := range b.w.Shares {
		b.w.Shares[i].ID = b.id()
	}
}
