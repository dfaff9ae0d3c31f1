package minipdf_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/bundles/minipdf"
)

// qpdf accepts what minipdf writes, with the page count asked for.
func TestPagesAreValidPDF(t *testing.T) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Skip("qpdf not installed")
	}
	p := filepath.Join(t.TempDir(), "a.pdf")
	if err := os.WriteFile(p, minipdf.Pages([]string{"Charge sheet\nline (two)", "Page 2"}, minipdf.Options{}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("qpdf", "--check", p).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	n, err := exec.Command("qpdf", "--show-npages", p).Output()
	if err != nil || strings.TrimSpace(string(n)) != "2" {
		t.Fatalf("pages: %q %v", n, err)
	}
}
