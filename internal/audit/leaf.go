package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"
)

// LeafVersion is the first field of every leaf. A later encoding gets a new
// version string; leaves already in the tree keep theirs forever.
const LeafVersion = "casebridge/audit/v1"

// leafFields is the number of fields of a v1 leaf, the version included.
const leafFields = 17

// TimeFormat is how a leaf writes the event time: UTC, microseconds (the
// precision of PostgreSQL's timestamptz), always six fractional digits.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Entry is an audit event as stored: what Record wrote plus what the
// database assigned (id, time). It is what a leaf of the tree commits to.
type Entry struct {
	ID           int64
	Time         time.Time
	ActorUserID  uuid.UUID
	ActorIssuer  string
	ActorSubject string
	ActorName    string
	AgencyID     uuid.UUID
	AgencyCode   string
	Action       string
	ObjectType   string
	ObjectID     string
	CaseID       uuid.UUID
	Outcome      Outcome
	RequestID    string
	ClientAddr   string
	Details      string // PostgreSQL's text form of the jsonb value
}

// uuidText is how a leaf writes a UUID: lower-case hyphenated, or the empty
// string for "none" (uuid.Nil).
func uuidText(u uuid.UUID) string {
	if u == uuid.Nil {
		return ""
	}
	return u.String()
}

// EncodeLeaf returns the canonical v1 encoding of e, the bytes whose
// RFC 6962 leaf hash (SHA-256 of 0x00 followed by the bytes) is the tree
// leaf. The encoding is a sequence of fields, each a 4-byte big-endian
// length followed by that many bytes of UTF-8 text, in this fixed order:
//
//	 0 version        "casebridge/audit/v1"
//	 1 id             decimal
//	 2 time           UTC, "2006-01-02T15:04:05.000000Z"
//	 3 actor_user_id  UUID, lower-case hyphenated, or empty
//	 4 actor_issuer
//	 5 actor_subject
//	 6 actor_name
//	 7 agency_id      UUID or empty
//	 8 agency_code
//	 9 action
//	10 object_type
//	11 object_id
//	12 case_id        UUID or empty
//	13 outcome        ok | denied | not_found | error
//	14 request_id
//	15 client_addr
//	16 details        PostgreSQL's text output of the jsonb value
//
// docs/audit.md describes it for partner agencies' verifiers.
func EncodeLeaf(e *Entry) []byte {
	fields := [leafFields]string{
		LeafVersion,
		strconv.FormatInt(e.ID, 10),
		e.Time.UTC().Format(TimeFormat),
		uuidText(e.ActorUserID),
		e.ActorIssuer,
		e.ActorSubject,
		e.ActorName,
		uuidText(e.AgencyID),
		e.AgencyCode,
		e.Action,
		e.ObjectType,
		e.ObjectID,
		uuidText(e.CaseID),
		string(e.Outcome),
		e.RequestID,
		e.ClientAddr,
		e.Details,
	}
	size := 0
	for _, f := range fields {
		size += 4 + len(f)
	}
	buf := make([]byte, 0, size)
	for _, f := range fields {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(f))) // #nosec G115 -- a field of one audit event: far under 4 GiB (bodies and details are capped in KiB)
		buf = append(buf, f...)
	}
	return buf
}

// LeafHash returns the tree leaf hash of e.
func LeafHash(e *Entry) tlog.Hash { return tlog.RecordHash(EncodeLeaf(e)) }

// ErrBadLeaf means bytes are not a well-formed leaf.
var ErrBadLeaf = errors.New("malformed audit leaf")

// DecodeLeaf parses a v1 leaf back into an entry. It is strict: EncodeLeaf of
// the result gives back exactly data, or DecodeLeaf fails.
func DecodeLeaf(data []byte) (*Entry, error) {
	var fields [leafFields]string
	rest := data
	for i := range fields {
		if len(rest) < 4 {
			return nil, fmt.Errorf("decode leaf: field %d: %w: truncated length", i, ErrBadLeaf)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, fmt.Errorf("decode leaf: field %d: %w: truncated value", i, ErrBadLeaf)
		}
		fields[i] = string(rest[:n])
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode leaf: %w: %d trailing bytes", ErrBadLeaf, len(rest))
	}
	if fields[0] != LeafVersion {
		return nil, fmt.Errorf("decode leaf: %w: unknown version %q", ErrBadLeaf, fields[0])
	}
	e := &Entry{
		ActorIssuer:  fields[4],
		ActorSubject: fields[5],
		ActorName:    fields[6],
		AgencyCode:   fields[8],
		Action:       fields[9],
		ObjectType:   fields[10],
		ObjectID:     fields[11],
		Outcome:      Outcome(fields[13]),
		RequestID:    fields[14],
		ClientAddr:   fields[15],
		Details:      fields[16],
	}
	var err error
	if e.ID, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
		return nil, fmt.Errorf("decode leaf: id: %w", ErrBadLeaf)
	}
	if e.Time, err = time.Parse(TimeFormat, fields[2]); err != nil {
		return nil, fmt.Errorf("decode leaf: time: %w", ErrBadLeaf)
	}
	for _, u := range []struct {
		dst   *uuid.UUID
		src   string
		field string
	}{{&e.ActorUserID, fields[3], "actor_user_id"}, {&e.AgencyID, fields[7], "agency_id"}, {&e.CaseID, fields[12], "case_id"}} {
		if u.src == "" {
			continue
		}
		if *u.dst, err = uuid.Parse(u.src); err != nil {
			return nil, fmt.Errorf("decode leaf: %s: %w", u.field, ErrBadLeaf)
		}
	}
	// Strictness: a second spelling of the same event (leading zeros, upper-
	// case UUID, another time zone) would hash differently, so refuse it.
	if re := EncodeLeaf(e); string(re) != string(data) {
		return nil, fmt.Errorf("decode leaf: %w: not in canonical form", ErrBadLeaf)
	}
	return e, nil
}
