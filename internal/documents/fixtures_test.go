package documents_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv(childServerEnv) == "1" {
		// Re-executed by a test as a separate server process (kill_test.go).
		os.Exit(runChildServer())
	}
	testenv.Main(m)
}

// world is a fresh database and blob store with builders for the objects
// the document rules depend on. Agencies, cases and persons are inserted as
// the owner role: they are the setting, not what is under test.
type world struct {
	t       *testing.T
	db      *gorm.DB // application role
	owner   *gorm.DB // owner role
	blobs   blob.Store
	svc     *documents.Service
	dir     func(sha string) string // where the backend keeps an object's bytes on disk
	blobCfg config.Blob             // the same store, as program settings
	dbinfo  testenv.Database
	// leftovers lists temporary upload data in the store (files, keys,
	// unfinished multipart uploads with the bytes they hold).
	leftovers func() []string
}

type agency struct {
	ID      uuid.UUID
	Code    string
	Kind    access.Kind
	Country string
}

var seq atomic.Int64

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newWorld builds a world on the named backend ("local" or "s3").
func newWorld(t *testing.T, backend string, maxSize int64) *world {
	t.Helper()
	dbinfo := testenv.NewDatabase(t)
	w := &world{t: t, db: testenv.Open(t, dbinfo.AppURL), owner: testenv.Open(t, dbinfo.OwnerURL), dbinfo: dbinfo}
	switch backend {
	case "local":
		l, err := blob.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		w.blobs, w.dir = l, l.Path
		w.blobCfg = config.Blob{Backend: "local", Dir: l.Root()}
		w.leftovers = func() []string {
			entries, _ := os.ReadDir(filepath.Join(l.Root(), "tmp"))
			var out []string
			for _, e := range entries {
				if info, err := e.Info(); err == nil {
					out = append(out, fmt.Sprintf("file %s (%d bytes)", e.Name(), info.Size()))
				}
			}
			return out
		}
	case "s3":
		cfg := testenv.S3(t)
		cfg.PartSize = 5 << 20
		s, err := blob.NewS3(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		w.blobs = s
		w.dir = func(sha string) string { return testenv.S3Dir(t, cfg) + "/sha256/" + sha }
		w.blobCfg = config.Blob{Backend: "s3", S3Endpoint: cfg.Endpoint, S3Region: cfg.Region, S3Bucket: cfg.Bucket,
			S3AccessKey: cfg.AccessKey, S3SecretKey: cfg.SecretKey, S3PathStyle: true,
			S3PartSize: cfg.PartSize, S3Concurrency: 2}
		w.leftovers = func() []string {
			ctx := context.Background()
			c, bucket := s.Client(), aws.String(cfg.Bucket)
			var out []string
			objs, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("tmp/")})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs.Contents {
				out = append(out, "object "+aws.ToString(o.Key))
			}
			ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range ups.Uploads {
				parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: u.Key, UploadId: u.UploadId})
				if err != nil {
					t.Fatal(err)
				}
				var n int64
				for _, p := range parts.Parts {
					n += aws.ToInt64(p.Size)
				}
				out = append(out, fmt.Sprintf("upload %s (%d bytes)", aws.ToString(u.Key), n))
			}
			return out
		}
	default:
		t.Fatalf("unknown backend %s", backend)
	}
	if err := w.blobs.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.svc = documents.NewService(w.blobs, maxSize, quietLog())
	return w
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if err := w.owner.Exec(sql, args...).Error; err != nil {
		w.t.Fatalf("fixture: %v\n%s", err, sql)
	}
}

func (w *world) agency(kind access.Kind, country string) agency {
	w.t.Helper()
	a := agency{ID: uuid.New(), Code: fmt.Sprintf("a%d", seq.Add(1)), Kind: kind, Country: country}
	var c any
	if country != "" {
		c = country
	}
	w.exec(`INSERT INTO agencies (id, code, name, kind, country) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.Code, "Agency "+a.Code, string(kind), c)
	return a
}

// as returns a context for a principal of agency a with roles.
func (w *world) as(a agency, roles ...access.Role) context.Context {
	p := access.Principal{
		UserID: uuid.New(), Issuer: "test", Subject: uuid.NewString(), Name: "Tester",
		AgencyID: a.ID, AgencyCode: a.Code, AgencyName: "Agency " + a.Code, Kind: a.Kind,
		Country: a.Country, Roles: roles,
	}
	return access.WithPrincipal(store.WithDB(w.t.Context(), w.db), p)
}

// system is a context without a principal (the sweeper, verify).
func (w *world) system() context.Context { return store.WithDB(w.t.Context(), w.db) }

type caseOpt func(m map[string]any)

func status(s string, court uuid.UUID) caseOpt {
	return func(m map[string]any) { m["status"] = s; m["court_agency_id"] = court }
}

func (w *world) newCase(owner agency, opts ...caseOpt) uuid.UUID {
	w.t.Helper()
	m := map[string]any{"status": "open", "court_agency_id": nil}
	for _, o := range opts {
		o(m)
	}
	id := uuid.New()
	w.exec(`INSERT INTO cases (id, reference, owner_agency_id, title, kind, status, court_agency_id)
		VALUES (?, ?, ?, 'Raid on a construction site', 'illegal_work', ?, ?)`,
		id, fmt.Sprintf("T-%d", seq.Add(1)), owner.ID, m["status"], m["court_agency_id"])
	return id
}

type person struct {
	nationality, custody, notification, flag string
	consents                                 bool
}

// detainedNational is a person an embassy of country sees in the consular view.
func detainedNational(country string) person {
	return person{nationality: country, custody: "detained", notification: "requested", flag: "none"}
}

func (w *world) newPerson(creator agency, p person, cases ...uuid.UUID) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.exec(`INSERT INTO persons (id, family_name, given_names, nationality, custody_status,
			consular_notification, trafficking_flag, victim_consents_to_embassy, created_by_agency_id)
		VALUES (?, 'Nguyen', 'Van A', ?, ?, ?, ?, ?, ?)`,
		id, p.nationality, p.custody, p.notification, p.flag, p.consents, creator.ID)
	for _, c := range cases {
		w.exec(`INSERT INTO case_persons (case_id, person_id) VALUES (?, ?)`, c, id)
	}
	return id
}

func (w *world) share(caseID uuid.UUID, to agency, level, ceiling string) {
	w.t.Helper()
	w.exec(`INSERT INTO shares (case_id, agency_id, level, ceiling, purpose, expires_at)
		VALUES (?, ?, ?, ?, 'Joint investigation', now() + interval '30 days')`, caseID, to.ID, level, ceiling)
}

func file(name string, data []byte) documents.FileFunc {
	return func() (documents.File, error) {
		return documents.File{Name: name, Body: bytes.NewReader(data)}, nil
	}
}

// upload creates a document as ctx's principal and fails the test on error.
func (w *world) upload(ctx context.Context, caseID uuid.UUID, m documents.Metadata, name string, data []byte) documents.Document {
	w.t.Helper()
	d, err := w.svc.Create(ctx, caseID, m, file(name, data))
	if err != nil {
		w.t.Fatalf("upload %q: %v", m.Title, err)
	}
	return d
}

func meta(title string, c access.Classification) documents.Metadata {
	return documents.Metadata{Title: title, Kind: "evidence", Classification: c}
}

func (w *world) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.owner.Raw(sql, args...).Scan(&n).Error; err != nil {
		w.t.Fatal(err)
	}
	return n
}

// objects lists the hashes the blob store holds.
func (w *world) objects() []string {
	w.t.Helper()
	var out []string
	if err := w.blobs.Walk(w.t.Context(), func(i blob.Info) error { out = append(out, i.SHA256); return nil }); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// pdf returns a small distinct PDF.
func pdf(n int) []byte {
	return []byte(fmt.Sprintf("%%PDF-1.7\n%% document %d\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%%%EOF\n", n))
}
