// Package configs carries the configuration files that the binary needs at
// run time: the demo agencies and accounts used by `casebridge dev`.
package configs

import _ "embed"

// DemoAccounts is demo-accounts.yaml: the demo agencies and one account per
// user group, read by the development identity provider and the demo data
// loader.
//
//go:embed demo-accounts.yaml
var DemoAccounts []byte
