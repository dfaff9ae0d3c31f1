package devidp

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/configs"
	"github.com/casebridge/casebridge/internal/access"
)

// Agency is a demo agency from configs/demo-accounts.yaml.
type Agency struct {
	Code    string      `yaml:"code"`
	Name    string      `yaml:"name"`
	Kind    access.Kind `yaml:"kind"`
	Country string      `yaml:"country,omitempty"`
}

// Account is a person who can sign in at the development provider.
type Account struct {
	Username string   `yaml:"username"`
	Name     string   `yaml:"name"`
	Email    string   `yaml:"email"`
	Agency   string   `yaml:"agency"`
	Roles    []string `yaml:"roles"`
	// Group is the user group the sign-in page shows next to the name.
	Group string `yaml:"group"`
	// Subject is the token's sub claim. Empty means derived from the
	// username (a stable UUID), so that relying parties never see the
	// username as identifier, as with a real provider.
	Subject string `yaml:"subject,omitempty"`
}

// subject returns the account's sub claim.
func (a Account) subject() string {
	if a.Subject != "" {
		return a.Subject
	}
	return uuid.NewSHA1(subjectNamespace, []byte(a.Username)).String()
}

// subjectNamespace seeds the derived subjects; any fixed UUID would do.
var subjectNamespace = uuid.MustParse("6f1c3d5e-2b7a-4c1e-9a51-0c4b6de1a9f2")

// Directory is the content of a demo accounts file.
type Directory struct {
	Agencies []Agency  `yaml:"agencies"`
	Accounts []Account `yaml:"accounts"`
}

var (
	codePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ParseDirectory decodes and checks a demo accounts file: known fields only,
// agency codes unique and well formed, kinds known, embassies with a country,
// accounts unique and in a listed agency.
func ParseDirectory(data []byte) (*Directory, error) {
	var d Directory
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("parse demo accounts: %w", err)
	}
	var errs []error
	agencies := map[string]bool{}
	for i, a := range d.Agencies {
		switch {
		case !codePattern.MatchString(a.Code):
			errs = append(errs, fmt.Errorf("agencies[%d]: bad code %q", i, a.Code))
		case agencies[a.Code]:
			errs = append(errs, fmt.Errorf("agencies[%d]: duplicate code %q", i, a.Code))
		}
		agencies[a.Code] = true
		if a.Name == "" {
			errs = append(errs, fmt.Errorf("agencies[%d]: name missing", i))
		}
		if !a.Kind.Valid() {
			errs = append(errs, fmt.Errorf("agencies[%d]: unknown kind %q", i, a.Kind))
		}
		if a.Country != "" && !countryPattern.MatchString(a.Country) {
			errs = append(errs, fmt.Errorf("agencies[%d]: bad country %q", i, a.Country))
		}
		if a.Kind == access.KindEmbassy && a.Country == "" {
			errs = append(errs, fmt.Errorf("agencies[%d]: embassy %q without country", i, a.Code))
		}
	}
	users := map[string]bool{}
	for i, a := range d.Accounts {
		if a.Username == "" || users[a.Username] {
			errs = append(errs, fmt.Errorf("accounts[%d]: missing or duplicate username %q", i, a.Username))
		}
		users[a.Username] = true
		if !agencies[a.Agency] {
			errs = append(errs, fmt.Errorf("accounts[%d]: unknown agency %q", i, a.Agency))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("check demo accounts: %w", err)
	}
	return &d, nil
}

// Demo returns the demo agencies and accounts embedded in the binary
// (configs/demo-accounts.yaml).
func Demo() (*Directory, error) {
	return ParseDirectory(configs.DemoAccounts)
}

// AgencyByCode returns the agency with the given code.
func (d *Directory) AgencyByCode(code string) (Agency, bool) {
	for _, a := range d.Agencies {
		if a.Code == code {
			return a, true
		}
	}
	return Agency{}, false
}
