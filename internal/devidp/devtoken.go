package devidp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// How `casebridge dev token ACCOUNT` gets a token without a browser:
//
// When Config.DataDir is set, the running provider picks a fresh random dev
// secret, writes DataDir/devidp.json = {"issuer", "token_endpoint", "secret"}
// with mode 0600 (owner only), and registers for every account a confidential
// client "dev-token.<username>" whose secret is that dev secret and whose only
// grant is client_credentials. A token issued to such a client is the
// account's user token: sub, name, preferred_username, agency and roles of the
// account, aud the configured audience — the same claims as after a browser
// sign-in. MintToken reads devidp.json and runs the ordinary
// client_credentials grant against the token endpoint (loopback only).
//
// Whoever can read the data dir can act as any demo account, which is exactly
// what a developer running `casebridge dev` can do anyway. The secret changes
// at every start, so a stale file only yields "invalid_client".

// DevFileName is the name of the file in the data dir that MintToken reads.
const DevFileName = "devidp.json"

// devTokenClientPrefix starts the client id of each account's dev-token client.
const devTokenClientPrefix = "dev-token."

// DevFile is the content of DataDir/devidp.json.
type DevFile struct {
	Issuer        string `json:"issuer"`
	TokenEndpoint string `json:"token_endpoint"`
	Secret        string `json:"secret"`
}

func (p *Provider) writeDevFile() error {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails
	secret := base64.RawURLEncoding.EncodeToString(raw)
	for _, a := range p.Accounts() {
		if err := p.registerAccountClient(a, secret); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(DevFile{ // #nosec G117 -- the development file exists to hand the dev client secret to `casebridge dev token`; written 0600
		Issuer:        p.issuer,
		TokenEndpoint: p.issuer + tokenPath,
		Secret:        secret,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", DevFileName, err)
	}
	if err := writeFileAtomic(filepath.Join(p.cfg.DataDir, DevFileName), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", DevFileName, err)
	}
	return nil
}

// ReadDevFile reads dataDir/devidp.json, written by a provider running with
// that data dir.
func ReadDevFile(dataDir string) (DevFile, error) {
	var f DevFile
	data, err := os.ReadFile(filepath.Join(dataDir, DevFileName)) // #nosec G304 -- the dev data directory given on the command line, not request input
	if errors.Is(err, os.ErrNotExist) {
		return f, fmt.Errorf("read dev provider file: no %s in %s; is `casebridge dev` running with this data dir? %w", DevFileName, dataDir, err)
	}
	if err != nil {
		return f, fmt.Errorf("read dev provider file: %w", err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("read dev provider file: %w", err)
	}
	if f.TokenEndpoint == "" || f.Secret == "" {
		return f, fmt.Errorf("read dev provider file: %s is incomplete", DevFileName)
	}
	return f, nil
}

// MintToken returns a fresh access token for account from the provider
// running with dataDir (see the comment at the top of this file).
func MintToken(ctx context.Context, dataDir, account string) (string, error) {
	f, err := ReadDevFile(dataDir)
	if err != nil {
		return "", err
	}
	cc := clientcredentials.Config{
		ClientID:     devTokenClientPrefix + account,
		ClientSecret: f.Secret,
		TokenURL:     f.TokenEndpoint,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: 30 * time.Second})
	tok, err := cc.Token(ctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_client" {
			return "", fmt.Errorf("mint token for %q: the dev provider at %s knows no such account (or was restarted since %s was written): %w", account, f.Issuer, DevFileName, err)
		}
		return "", fmt.Errorf("mint token for %q: %w", account, err)
	}
	return tok.AccessToken, nil
}

// WriteTable prints the demo accounts as a table: username, name, agency,
// roles and user group.
func (d *Directory) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tAGENCY\tROLES\tUSER GROUP") //nolint:errcheck // checked at Flush
	for _, a := range d.Accounts {
		agency := a.Agency
		if ag, ok := d.AgencyByCode(a.Agency); ok {
			agency = a.Agency + " (" + ag.Name + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Username, a.Name, agency, strings.Join(a.Roles, ","), a.Group) //nolint:errcheck // checked at Flush
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write accounts table: %w", err)
	}
	return nil
}
