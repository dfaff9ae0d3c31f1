package config

import (
	"fmt"
	"regexp"
	"time"
)

// Consular holds the consular-notification settings.
type Consular struct {
	// MandatoryCountries are the ISO 3166-1 alpha-2 codes of the countries
	// whose nationals' consular notification is mandatory (a bilateral or
	// Vienna Convention Article 36 obligation): a person of one of these
	// nationalities gets consular_notification = mandatory automatically.
	MandatoryCountries []string `yaml:"mandatory_countries"`
	// OverdueAfter is how long a consular notification may stay
	// unacknowledged before it shows as overdue to coordinators.
	OverdueAfter time.Duration `yaml:"overdue_after"`
	// VisitOverdueAfter is how long a consular visit request may stay
	// unanswered before it shows as overdue to coordinators.
	VisitOverdueAfter time.Duration `yaml:"visit_overdue_after"`
}

func defaultConsular() Consular {
	return Consular{MandatoryCountries: []string{}, OverdueAfter: 72 * time.Hour, VisitOverdueAfter: 48 * time.Hour}
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

func (c Config) validateConsular() error {
	for _, code := range c.Consular.MandatoryCountries {
		if !countryCode.MatchString(code) {
			return &Error{Setting: "consular.mandatory_countries",
				Msg: fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. CN)", code)}
		}
	}
	if c.Consular.OverdueAfter < time.Minute {
		return &Error{Setting: "consular.overdue_after", Msg: "must be at least 1m"}
	}
	if c.Consular.VisitOverdueAfter < time.Minute {
		return &Error{Setting: "consular.visit_overdue_after", Msg: "must be at least 1m"}
	}
	return nil
}

// DemoMandatoryCountries is the demo list of mandatory-notification
// countries that `dev` uses when consular.mandatory_countries is not set.
// Its source and limits are in docs/consular.md: it is a published list
// of another state's bilateral obligations, standing in for the list the
// ministry must confirm for this country.
func DemoMandatoryCountries() []string {
	return []string{"AL", "DZ", "AG", "AM", "AZ", "BS", "BB", "BY", "BZ", "BN", "BG", "CN", "HK", "MO", "CR", "CY",
		"CZ", "DM", "FJ", "GM", "GE", "GH", "GD", "GY", "HU", "JM", "KZ", "KI", "KW", "KG", "MY", "MT", "MU", "MD",
		"MN", "NG", "PH", "PL", "RO", "RU", "KN", "LC", "VC", "SC", "SL", "SG", "SK", "TJ", "TZ", "TO", "TT", "TN",
		"TM", "TV", "UA", "GB", "UZ", "ZM", "ZW"}
}
