package seed

import (
	"fmt"
	"strings"
)

// Agency is an agency the generators create (unless one with its code
// exists already).
type Agency struct {
	Code    string
	Name    string
	Kind    string
	Country string // embassies only
}

// Province is a Cambodian province (or the capital) and the short code its
// police office and court use.
type Province struct{ Code, Name string }

// Provinces of Cambodia. Phnom Penh's court is the demo's pp-court and
// Preah Sihanouk's the demo's sihanoukville-court; the others are named
// court-<code>.
var Provinces = []Province{
	{"pp", "Phnom Penh"}, {"bmc", "Banteay Meanchey"}, {"btb", "Battambang"}, {"kcm", "Kampong Cham"},
	{"kch", "Kampong Chhnang"}, {"ksp", "Kampong Speu"}, {"ktm", "Kampong Thom"}, {"kpt", "Kampot"},
	{"kdl", "Kandal"}, {"kep", "Kep"}, {"kkg", "Koh Kong"}, {"kte", "Kratie"}, {"mkr", "Mondulkiri"},
	{"omc", "Oddar Meanchey"}, {"pln", "Pailin"}, {"psn", "Preah Sihanouk"}, {"pvh", "Preah Vihear"},
	{"pvg", "Prey Veng"}, {"pst", "Pursat"}, {"rtk", "Ratanakiri"}, {"srp", "Siem Reap"},
	{"stg", "Stung Treng"}, {"svr", "Svay Rieng"}, {"tko", "Takeo"}, {"tbk", "Tboung Khmum"},
}

// Countries with an embassy in the synthetic world: ISO 3166-1 alpha-2 code
// and English short name.
var Countries = []struct{ Code, Name string }{
	{"CN", "the People's Republic of China"}, {"VN", "the Socialist Republic of Viet Nam"},
	{"US", "the United States of America"}, {"AU", "Australia"}, {"TH", "Thailand"}, {"LA", "the Lao PDR"},
	{"MY", "Malaysia"}, {"ID", "Indonesia"}, {"PH", "the Philippines"}, {"MM", "Myanmar"},
	{"SG", "Singapore"}, {"BN", "Brunei Darussalam"}, {"TL", "Timor-Leste"}, {"KR", "the Republic of Korea"},
	{"KP", "the Democratic People's Republic of Korea"}, {"JP", "Japan"}, {"MN", "Mongolia"}, {"IN", "India"},
	{"BD", "Bangladesh"}, {"PK", "Pakistan"}, {"NP", "Nepal"}, {"LK", "Sri Lanka"}, {"AF", "Afghanistan"},
	{"IR", "Iran"}, {"IQ", "Iraq"}, {"SA", "Saudi Arabia"}, {"AE", "the United Arab Emirates"}, {"QA", "Qatar"},
	{"KW", "Kuwait"}, {"OM", "Oman"}, {"JO", "Jordan"}, {"LB", "Lebanon"}, {"SY", "Syria"}, {"IL", "Israel"},
	{"TR", "Türkiye"}, {"EG", "Egypt"}, {"MA", "Morocco"}, {"DZ", "Algeria"}, {"TN", "Tunisia"}, {"LY", "Libya"},
	{"NG", "Nigeria"}, {"GH", "Ghana"}, {"KE", "Kenya"}, {"ET", "Ethiopia"}, {"UG", "Uganda"}, {"TZ", "Tanzania"},
	{"ZA", "South Africa"}, {"CM", "Cameroon"}, {"SN", "Senegal"}, {"CI", "Côte d'Ivoire"}, {"RW", "Rwanda"},
	{"SD", "Sudan"}, {"AO", "Angola"}, {"MZ", "Mozambique"}, {"ZW", "Zimbabwe"}, {"ZM", "Zambia"},
	{"GB", "the United Kingdom"}, {"IE", "Ireland"}, {"FR", "France"}, {"DE", "Germany"}, {"NL", "the Netherlands"},
	{"BE", "Belgium"}, {"LU", "Luxembourg"}, {"CH", "Switzerland"}, {"AT", "Austria"}, {"IT", "Italy"},
	{"ES", "Spain"}, {"PT", "Portugal"}, {"GR", "Greece"}, {"CY", "Cyprus"}, {"MT", "Malta"}, {"DK", "Denmark"},
	{"SE", "Sweden"}, {"NO", "Norway"}, {"FI", "Finland"}, {"IS", "Iceland"}, {"PL", "Poland"}, {"CZ", "Czechia"},
	{"SK", "Slovakia"}, {"HU", "Hungary"}, {"RO", "Romania"}, {"BG", "Bulgaria"}, {"RS", "Serbia"}, {"HR", "Croatia"},
	{"SI", "Slovenia"}, {"UA", "Ukraine"}, {"BY", "Belarus"}, {"RU", "the Russian Federation"}, {"EE", "Estonia"},
	{"LV", "Latvia"}, {"LT", "Lithuania"}, {"KZ", "Kazakhstan"}, {"UZ", "Uzbekistan"}, {"KG", "Kyrgyzstan"},
	{"TJ", "Tajikistan"}, {"TM", "Turkmenistan"}, {"AZ", "Azerbaijan"}, {"GE", "Georgia"}, {"AM", "Armenia"},
	{"CA", "Canada"}, {"MX", "Mexico"}, {"CU", "Cuba"}, {"BR", "Brazil"}, {"AR", "Argentina"}, {"CL", "Chile"},
	{"PE", "Peru"}, {"CO", "Colombia"}, {"VE", "Venezuela"}, {"EC", "Ecuador"}, {"BO", "Bolivia"}, {"UY", "Uruguay"},
	{"PY", "Paraguay"}, {"PA", "Panama"}, {"CR", "Costa Rica"}, {"DO", "the Dominican Republic"},
	{"NZ", "New Zealand"}, {"PG", "Papua New Guinea"}, {"FJ", "Fiji"}, {"WS", "Samoa"}, {"TO", "Tonga"},
	{"BT", "Bhutan"}, {"MV", "Maldives"}, {"YE", "Yemen"}, {"BH", "Bahrain"}, {"PS", "Palestine"},
	{"ER", "Eritrea"}, {"SO", "Somalia"}, {"ML", "Mali"}, {"NE", "Niger"}, {"TD", "Chad"}, {"GN", "Guinea"},
	{"SL", "Sierra Leone"}, {"LR", "Liberia"}, {"BJ", "Benin"}, {"TG", "Togo"}, {"BF", "Burkina Faso"},
	{"GA", "Gabon"}, {"CG", "the Congo"}, {"CD", "the Democratic Republic of the Congo"}, {"MG", "Madagascar"},
	{"MU", "Mauritius"}, {"NA", "Namibia"}, {"BW", "Botswana"}, {"MW", "Malawi"}, {"HT", "Haiti"},
	{"JM", "Jamaica"}, {"TT", "Trinidad and Tobago"}, {"GT", "Guatemala"}, {"HN", "Honduras"}, {"SV", "El Salvador"},
	{"NI", "Nicaragua"}, {"BA", "Bosnia and Herzegovina"}, {"MK", "North Macedonia"}, {"AL", "Albania"},
	{"MD", "Moldova"}, {"ME", "Montenegro"},
}

// embassyCode is the agency code of country c's embassy (the demo's
// emb-cn, emb-vn, …).
func embassyCode(country string) string { return "emb-" + strings.ToLower(country) }

// ScaleAgencies is the synthetic world's agency directory: the national
// immigration and counter-trafficking departments, the ministry, a police
// office, a counter-trafficking office and a court per province, and an
// embassy per country. Codes match the demo's (gdi, ncct, moi, pp-court,
// sihanoukville-court, emb-cn, …) so both worlds can share a database.
func ScaleAgencies() []Agency {
	as := []Agency{
		{Code: "gdi", Name: "General Department of Immigration", Kind: "immigration_police"},
		{Code: "ncct", Name: "National Committee for Counter Trafficking", Kind: "counter_trafficking"},
		{Code: "moi", Name: "Ministry of Interior", Kind: "interior_ministry"},
	}
	for _, p := range Provinces {
		as = append(as,
			Agency{Code: PoliceCode(p.Code), Name: p.Name + " Provincial Police, Immigration Office", Kind: "immigration_police"},
			Agency{Code: "ct-" + p.Code, Name: p.Name + " Provincial Committee for Counter Trafficking", Kind: "counter_trafficking"},
			Agency{Code: CourtCode(p.Code), Name: courtName(p), Kind: "court"})
	}
	for _, c := range Countries {
		as = append(as, Agency{Code: embassyCode(c.Code), Name: "Embassy of " + c.Name, Kind: "embassy", Country: c.Code})
	}
	return as
}

// PoliceCode is the agency code of a province's police immigration office.
func PoliceCode(province string) string { return "police-" + province }

// CourtCode is the agency code of a province's court.
func CourtCode(province string) string {
	switch province {
	case "pp":
		return "pp-court"
	case "psn":
		return "sihanoukville-court"
	}
	return "court-" + province
}

func courtName(p Province) string {
	if p.Code == "pp" {
		return "Phnom Penh Municipal Court"
	}
	return fmt.Sprintf("%s Provincial Court of First Instance", p.Name)
}
