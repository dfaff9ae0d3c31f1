package documents_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/documents"
)

// A share of a case to an embassy never shows it documents about its own
// nationals (ACCESS.md, Own state): only the consular document rule applies
// to them (releasable, at most restricted), and such a document is shown
// with the person, never in the shared case's list. Documents about nationals
// of other countries, and about no person, follow the share.
func TestOwnNationalsDocumentsNeverThroughAShare(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "local", 1<<20)
	gdi := w.agency(access.KindImmigrationPolice, "")
	embVN := w.agency(access.KindEmbassy, "VN")
	embCN := w.agency(access.KindEmbassy, "CN")
	c := w.newCase(gdi)
	vn := w.newPerson(gdi, detainedNational("VN"), c)
	cn := w.newPerson(gdi, detainedNational("CN"), c)
	w.share(c, embVN, "full", "secret")
	w.share(c, embCN, "full", "secret")

	officer := w.as(gdi, access.RoleOfficer)
	up := func(title string, about uuid.UUID, class access.Classification, releasable bool) uuid.UUID {
		m := meta(title, class)
		m.ConsularReleasable = releasable
		if about != uuid.Nil {
			m.PersonID = &about
		}
		return w.upload(officer, c, m, title+".pdf", pdf(int(seq.Add(1)))).ID
	}
	docs := map[string]uuid.UUID{
		"vn medical report":   up("vn medical report", vn, access.Restricted, false),
		"vn releasable":       up("vn releasable", vn, access.Restricted, true),
		"vn public statement": up("vn public statement", vn, access.Public, false),
		"cn statement":        up("cn statement", cn, access.Restricted, false),
		"case evidence":       up("case evidence", uuid.Nil, access.Restricted, false),
	}
	liaisonVN, liaisonCN := w.as(embVN, access.RoleLiaison), w.as(embCN, access.RoleLiaison)

	for _, tc := range []struct {
		name       string
		readable   []string // by id
		caseList   []string // in the shared case's document list
		personList map[uuid.UUID][]string
	}{
		{name: "emb-vn",
			readable:   []string{"vn releasable", "cn statement", "case evidence"},
			caseList:   []string{"cn statement", "case evidence"},
			personList: map[uuid.UUID][]string{vn: {"vn releasable"}, cn: {"cn statement"}}},
		{name: "emb-cn",
			readable:   []string{"vn medical report", "vn releasable", "vn public statement", "case evidence"},
			caseList:   []string{"vn medical report", "vn releasable", "vn public statement", "case evidence"},
			personList: map[uuid.UUID][]string{vn: {"vn medical report", "vn releasable", "vn public statement"}, cn: nil}},
	} {
		ctx := liaisonVN
		if tc.name == "emb-cn" {
			ctx = liaisonCN
		}
		for title, id := range docs {
			d, err := w.svc.Get(ctx, id)
			want := slices.Contains(tc.readable, title)
			switch {
			case want && err != nil:
				t.Errorf("%s: %s: %v, want readable", tc.name, title, err)
			case !want && !errors.Is(err, apperr.ErrNotFound):
				t.Errorf("%s: %s: %v, want not found", tc.name, title, err)
			case want && title == "vn releasable" && tc.name == "emb-vn" && d.CaseID != uuid.Nil:
				t.Errorf("%s: %s is shown with its case %s: the consular projection has no case", tc.name, title, d.CaseID)
			}
			_, err = w.svc.Open(ctx, id, 0)
			if want != (err == nil) {
				t.Errorf("%s: content of %s: %v, want readable=%v", tc.name, title, err, want)
			}
		}
		titles := func(p documents.Page) []string {
			var out []string
			for _, d := range p.Items {
				for title, id := range docs {
					if id == d.ID {
						out = append(out, title)
					}
				}
			}
			slices.Sort(out)
			return out
		}
		page, err := w.svc.List(ctx, documents.ListFilter{CaseID: c})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(tc.caseList)
		slices.Sort(want)
		if got := titles(page); !slices.Equal(got, want) {
			t.Errorf("%s: the shared case's documents: %v, want %v", tc.name, got, want)
		}
		for person, list := range tc.personList {
			page, err := w.svc.List(ctx, documents.ListFilter{PersonID: person})
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(list)
			slices.Sort(want)
			if got := titles(page); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("%s: documents about person %s: %v, want %v", tc.name, person, got, want)
			}
		}
	}
}
