package config

import (
	"fmt"
	"regexp"
)

// Consular holds the consular-notification settings.
type Consular struct {
	// MandatoryCountries are the ISO 3166-1 alpha-2 codes of the countries
	// whose nationals' consular notification is mandatory (a bilateral or
	// Vienna Convention Article 36 obligation): a person of one of these
	// nationalities gets consular_notification = mandatory automatically.
	MandatoryCountries []string `yaml:"mandatory_countries"`
}

func defaultConsular() Consular { return Consular{MandatoryCountries: []string{}} }

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

func (c Config) validateConsular() error {
	for _, code := range c.Consular.MandatoryCountries {
		if !countryCode.MatchString(code) {
			return &Error{Setting: "consular.mandatory_countries",
				Msg: fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. CN)", code)}
		}
	}
	return nil
}
