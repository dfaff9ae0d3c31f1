package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/bundles/minipdf"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
)

// demoDocument is a document the demo writes as a PDF into a case.
type demoDocument struct {
	title, kind, class string
	pages              []string
}

var tuolKorkDocuments = []demoDocument{
	{"Charge sheet: illegal entry, Tuol Kork raid", "charge_sheet", "restricted", []string{
		"GENERAL DEPARTMENT OF IMMIGRATION\nCharge sheet GDI-2026-000002\n\nCharge: illegal entry and stay\n(Law on Immigration, art. 29)\n\n225 foreign nationals detained in Tuol Kork district.",
		"Particulars of the charge\n\nThe accused entered the Kingdom without valid travel documents\nand remained without permission.",
	}},
	{"Arrest and search report", "police_report", "confidential", []string{
		"Arrest and search report\n\nOperation Tuol Kork\nA house in Tuol Kork district was searched under warrant.",
		"Persons found: 222 nationals of China, 3 of Viet Nam.\nValid passports: 3.",
		"Items seized: forged visas, blank passport pages, mobile telephones.\nThe search ended without incident.",
	}},
	{"List of detainees and their passports", "identity_document", "restricted", []string{
		"List of detainees (extract)\n\nHeld at the immigration detention centre, Pochentong.",
		"Passport status\n\nValid: 3. Expired: 41. None: 181.",
	}},
}

var tuolKorkLate = demoDocument{"Medical report of the detention centre", "medical_report", "restricted", []string{
	"Medical report\n\nReceived after the bundle was sealed.\nAll detainees seen by the centre's doctor; two referred to hospital.",
}}

// Bundles gives the Tuol Kork case, before the court, its court bundles: a
// bundle built from PDFs the demo writes (uploaded as documents of the
// case) and sealed, and its next version, a draft with a late addition
// pending. It acts through the services as the owner agency's supervisor
// (Row-Level Security, audit, blob store), so the bundle is really built
// and sealed. It does nothing when the case has bundles already, or is not
// there. It returns the line `casebridge dev` prints.
func Bundles(ctx context.Context, db *gorm.DB, docs *documents.Service, svc *bundles.Service) (string, error) {
	ctx = store.WithDB(ctx, db)
	var gdi struct {
		ID   uuid.UUID
		Name string
	}
	if err := store.WithTx(ctx, func(ctx context.Context) error {
		return store.DB(ctx).Raw(`SELECT id, name FROM agencies WHERE code = 'gdi'`).Scan(&gdi).Error
	}); err != nil {
		return "", fmt.Errorf("demo bundles: agency: %w", err)
	}
	if gdi.ID == uuid.Nil {
		return "demo bundles not made (no agency gdi)", nil
	}
	ctx = access.WithPrincipal(ctx, access.Principal{Issuer: "casebridge-demo", Subject: "demo-data", Name: "Demo data",
		AgencyID: gdi.ID, AgencyCode: "gdi", AgencyName: gdi.Name, Kind: access.KindImmigrationPolice,
		Roles: []access.Role{access.RoleSupervisor}})
	var c struct {
		ID          uuid.UUID
		HearingDate *time.Time
		Bundles     int
	}
	if err := store.WithTx(ctx, func(ctx context.Context) error {
		return store.DB(ctx).Raw(`SELECT c.id, c.hearing_date, (SELECT count(*) FROM bundles b WHERE b.case_id = c.id) AS bundles
			FROM cases c WHERE c.reference = ? AND c.status = 'before_court'`, RefTuolKork).Scan(&c).Error
	}); err != nil {
		return "", fmt.Errorf("demo bundles: case: %w", err)
	}
	switch {
	case c.ID == uuid.Nil:
		return "demo bundles not made (no Tuol Kork case before the court)", nil
	case c.Bundles > 0:
		return "demo bundles already made", nil
	}
	upload := func(d demoDocument) (uuid.UUID, error) {
		data := minipdf.Pages(d.pages, minipdf.Options{})
		doc, err := docs.Create(ctx, c.ID, documents.Metadata{Title: d.title, Kind: d.kind, Classification: access.Classification(d.class)},
			func() (documents.File, error) {
				return documents.File{Name: strings.ReplaceAll(strings.ToLower(d.title), " ", "-") + ".pdf", Body: bytes.NewReader(data)}, nil
			})
		if err != nil {
			return uuid.Nil, fmt.Errorf("demo bundles: document %q: %w", d.title, err)
		}
		return doc.ID, nil
	}
	var ids []uuid.UUID
	for _, d := range tuolKorkDocuments {
		id, err := upload(d)
		if err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	ref := func(id uuid.UUID) []bundles.ItemRef { return []bundles.ItemRef{{DocumentID: id, Version: 1}} }
	b, err := svc.Create(ctx, c.ID, bundles.NewBundle{Title: "Hearing bundle: Tuol Kork raid", Numbering: bundles.Consecutive,
		HearingDate: c.HearingDate, Sections: []bundles.SectionInput{
			{Label: "A", Title: "Charges", Items: ref(ids[0])},
			{Label: "B", Title: "Evidence", Items: ref(ids[1])},
			{Label: "C", Title: "Identity documents", Items: ref(ids[2])},
		}})
	if err != nil {
		return "", fmt.Errorf("demo bundles: %w", err)
	}
	if b, err = svc.BuildNow(ctx, b.ID); err != nil {
		return "", fmt.Errorf("demo bundles: build: %w", err)
	}
	if b.State != bundles.Built {
		return "", fmt.Errorf("demo bundles: the build ended %s (%+v)", b.State, b.Error)
	}
	if b, err = svc.Seal(ctx, b.ID, b.Version); err != nil {
		return "", fmt.Errorf("demo bundles: seal: %w", err)
	}
	late, err := upload(tuolKorkLate)
	if err != nil {
		return "", err
	}
	next, err := svc.Create(ctx, c.ID, bundles.NewBundle{Title: "Hearing bundle: Tuol Kork raid (late additions)",
		Numbering: b.Numbering, BasedOn: &b.ID})
	if err != nil {
		return "", fmt.Errorf("demo bundles: next version: %w", err)
	}
	secs := []bundles.SectionInput{{Label: "D", Title: "Late additions", Items: ref(late)}}
	if _, err := svc.Update(ctx, next.ID, next.Version, bundles.Patch{LateAdditions: &secs}); err != nil {
		return "", fmt.Errorf("demo bundles: late addition: %w", err)
	}
	return fmt.Sprintf("demo bundles made: %s sealed (%d pages, sha256 %s), version 2 with a late addition pending",
		b.CaseReference, *b.Pages, (*b.PDFSHA256)[:12]), nil
}
