package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// errImportRefused makes the exit status 1 after the report was printed.
var errImportRefused = errors.New("import not committed")

// importCmd is a thin client of the import API: it uploads FILE into the
// case with reference REF, prints the validation report and, with
// --commit, commits it. It signs in with a bearer token (--token or
// CASEBRIDGE_TOKEN), so the server applies exactly the rules it applies to
// the web app.
func importCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the portal's base URL")
	token := fs.String("token", "", "access token (default $CASEBRIDGE_TOKEN)")
	ref := fs.String("case", "", "reference of the case to import into (required)")
	commit := fs.Bool("commit", false, "commit the import when every row is good")
	link := fs.Bool("link-existing", false, "with --commit: link rows that match persons on file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *token == "" {
		for _, e := range environ {
			if v, ok := strings.CutPrefix(e, "CASEBRIDGE_TOKEN="); ok {
				*token = v
			}
		}
	}
	if *ref == "" || fs.NArg() != 1 || *token == "" {
		return &usageError{msg: "usage: casebridge import --case REF [--commit [--link-existing]] [--url URL] [--token TOKEN] FILE"}
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	c := apiClient{base: strings.TrimSuffix(*base, "/"), token: *token, http: &http.Client{Timeout: 10 * time.Minute}}
	var list struct {
		Items []struct {
			ID        string `json:"id"`
			Reference string `json:"reference"`
		} `json:"items"`
	}
	if err := c.do(ctx, "GET", "/api/v1/cases?q="+url.QueryEscape(*ref)+"&limit=200", "", nil, &list); err != nil {
		return err
	}
	caseID := ""
	for _, it := range list.Items {
		if it.Reference == *ref {
			caseID = it.ID
		}
	}
	if caseID == "" {
		return fmt.Errorf("no case with reference %s is visible to you", *ref)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="metadata"`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	_, _ = fmt.Fprintf(pw, `{"case_id":%q}`, caseID)
	fw, _ := mw.CreateFormFile("file", filepath.Base(fs.Arg(0)))
	_, _ = fw.Write(data)
	_ = mw.Close()
	var report struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		TotalRows int    `json:"total_rows"`
		BadRows   int    `json:"bad_rows"`
		Errors    []struct {
			Line   int    `json:"line"`
			Column string `json:"column"`
			Reason string `json:"reason"`
		} `json:"errors"`
		Matches []struct {
			Line          int    `json:"line"`
			PersonID      string `json:"person_id"`
			AlreadyLinked bool   `json:"already_linked"`
		} `json:"matches"`
		Result *struct {
			Created       []string `json:"created"`
			Linked        []string `json:"linked"`
			AlreadyLinked []string `json:"already_linked"`
		} `json:"result"`
		Progress struct {
			Done  int `json:"done"`
			Total int `json:"total"`
		} `json:"progress"`
		CommitError *string `json:"commit_error"`
	}
	if err := c.do(ctx, "POST", "/api/v1/imports", mw.FormDataContentType(), &body, &report); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "import %s: %d rows, %d bad, %d on file already (%s)\n", report.ID, report.TotalRows, report.BadRows,
		len(report.Matches), report.Status)
	for _, e := range report.Errors {
		fmt.Fprintf(stdout, "line %d, %s: %s\n", e.Line, e.Column, e.Reason)
	}
	for _, m := range report.Matches {
		state := "will be linked"
		if m.AlreadyLinked {
			state = "already linked to the case"
		}
		fmt.Fprintf(stdout, "line %d: person %s on file, %s\n", m.Line, m.PersonID, state)
	}
	if report.Status != "validated" {
		return errImportRefused
	}
	if !*commit {
		fmt.Fprintf(stdout, "not committed (run again with --commit)\n")
		return nil
	}
	reqBody := strings.NewReader(fmt.Sprintf(`{"link_existing":%t}`, *link))
	if err := c.do(ctx, "POST", "/api/v1/imports/"+report.ID+"/commit", "application/json", reqBody, &report); err != nil {
		return err
	}
	// A large import is committed by a background job: follow its progress.
	for report.Status == "committing" {
		fmt.Fprintf(stdout, "committing: %d of %d\n", report.Progress.Done, report.Progress.Total)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		if err := c.do(ctx, "GET", "/api/v1/imports/"+report.ID, "", nil, &report); err != nil {
			return err
		}
	}
	if report.Status != "committed" || report.Result == nil {
		if report.CommitError != nil {
			fmt.Fprintf(stdout, "not committed: %s\n", *report.CommitError)
		}
		return errImportRefused
	}
	fmt.Fprintf(stdout, "committed: %d persons created, %d linked, %d already linked\n",
		len(report.Result.Created), len(report.Result.Linked), len(report.Result.AlreadyLinked))
	return nil
}

type apiClient struct {
	base, token string
	http        *http.Client
}

func (c apiClient) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var p struct {
			Detail string `json:"detail"`
			Errors []struct {
				Field, Message string
			} `json:"errors"`
		}
		_ = json.Unmarshal(b, &p)
		msg := p.Detail
		for _, e := range p.Errors {
			msg += fmt.Sprintf("\n  %s: %s", e.Field, e.Message)
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
	return json.Unmarshal(b, out)
}
