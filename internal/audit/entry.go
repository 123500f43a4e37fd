package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimeLayout is how an entry's time is written in the canonical encoding (and
// stored): UTC with microseconds. It matches store.TimeLayout.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// GenesisHash is the prev_hash of entry 1: 64 zeros.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one link of the audit chain as stored.
type Entry struct {
	Seq          int64     // 1, 2, 3 … without gaps
	At           time.Time // UTC, microsecond precision
	Actor        string
	ActorUserID  int64 // 0 for system or anonymous
	Action       string
	ObjectType   string
	ObjectID     string
	ClientID     int64 // 0 for operator-wide entries
	RequestID    string
	IP           string
	BeforeDigest string // hex SHA-256 of the canonical JSON of the state before, "" if none
	AfterDigest  string // hex SHA-256 of the canonical JSON of the state after, "" if none
	Detail       string
	PrevHash     string // the previous entry's Hash (GenesisHash for entry 1)
	Hash         string // hex SHA-256 of Canonical()

	// computed is the hash of the canonical encoding when the reader of an
	// export has already computed it from the line (saves encoding twice).
	computed string
}

// NewEntry turns a caller's record into the entry that follows a chain whose
// head is (prevSeq, prevHash): it computes the digests, normalizes the text
// fields to valid UTF-8, truncates the time to microseconds and sets Hash.
func NewEntry(rec Record, prevSeq int64, prevHash string) (Entry, error) {
	if rec.Action == "" {
		return Entry{}, fmt.Errorf("audit record: action is required")
	}
	before, err := Digest(rec.Before)
	if err != nil {
		return Entry{}, fmt.Errorf("audit record %s: digest of before: %w", rec.Action, err)
	}
	after, err := Digest(rec.After)
	if err != nil {
		return Entry{}, fmt.Errorf("audit record %s: digest of after: %w", rec.Action, err)
	}
	if prevSeq == 0 {
		prevHash = GenesisHash
	}
	at := rec.Time
	if at.IsZero() {
		at = time.Now()
	}
	e := Entry{
		Seq:          prevSeq + 1,
		At:           at.UTC().Truncate(time.Microsecond),
		Actor:        clean(rec.Actor),
		ActorUserID:  rec.ActorUserID,
		Action:       clean(rec.Action),
		ObjectType:   clean(rec.ObjectType),
		ObjectID:     clean(rec.ObjectID),
		ClientID:     rec.ClientID,
		RequestID:    clean(rec.RequestID),
		IP:           clean(rec.IP),
		BeforeDigest: before,
		AfterDigest:  after,
		Detail:       clean(rec.Detail),
		PrevHash:     prevHash,
	}
	e.Hash = e.ComputeHash()
	return e, nil
}

func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// Canonical returns the entry's canonical encoding, the bytes its hash covers:
// a JSON object with exactly these members in this (sorted) order and no
// whitespace:
//
//	action, actor, actor_user_id, after_digest, at, before_digest, client_id,
//	detail, ip, object_id, object_type, prev_hash, request_id, seq
//
// Integers are decimal without leading zeros; at is TimeLayout; strings are
// escaped as RFC 8785 (JCS) does: \" \\ \b \f \n \r \t, other control
// characters as \u00xx, everything else as UTF-8. Because members are sorted
// and integers stay below 2^53 this is the JCS form of the object. Hash is not
// part of the encoding; PrevHash is, which chains each entry to the previous.
func (e *Entry) Canonical() []byte {
	return e.AppendCanonical(make([]byte, 0, 384))
}

// AppendCanonical appends the canonical encoding to b.
func (e *Entry) AppendCanonical(b []byte) []byte {
	b = append(b, `{"action":`...)
	b = appendString(b, e.Action)
	b = append(b, `,"actor":`...)
	b = appendString(b, e.Actor)
	b = append(b, `,"actor_user_id":`...)
	b = strconv.AppendInt(b, e.ActorUserID, 10)
	b = append(b, `,"after_digest":`...)
	b = appendString(b, e.AfterDigest)
	b = append(b, `,"at":"`...)
	b = e.At.UTC().AppendFormat(b, TimeLayout)
	b = append(b, `","before_digest":`...)
	b = appendString(b, e.BeforeDigest)
	b = append(b, `,"client_id":`...)
	b = strconv.AppendInt(b, e.ClientID, 10)
	b = append(b, `,"detail":`...)
	b = appendString(b, e.Detail)
	b = append(b, `,"ip":`...)
	b = appendString(b, e.IP)
	b = append(b, `,"object_id":`...)
	b = appendString(b, e.ObjectID)
	b = append(b, `,"object_type":`...)
	b = appendString(b, e.ObjectType)
	b = append(b, `,"prev_hash":`...)
	b = appendString(b, e.PrevHash)
	b = append(b, `,"request_id":`...)
	b = appendString(b, e.RequestID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	return append(b, '}')
}

// ComputeHash returns the hex SHA-256 of the entry's canonical encoding.
func (e *Entry) ComputeHash() string {
	var buf [512]byte
	return hashHex(e.AppendCanonical(buf[:0]))
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped the RFC 8785 way. Bytes that
// are not valid UTF-8 are copied as they are (so distinct strings never encode
// alike); entries written by NewEntry never contain them.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Digest returns the hex SHA-256 of the canonical JSON of v, or "" for nil.
// The canonical JSON is v marshalled by encoding/json and re-encoded with
// object keys sorted (by bytes), no insignificant whitespace, numbers as
// written and strings escaped as in the entry's canonical encoding; so a
// struct and a map with the same members digest alike.
func Digest(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if raw, ok := v.(json.RawMessage); ok && raw == nil {
		return "", nil
	}
	b, err := CanonicalJSON(v)
	if err != nil {
		return "", err
	}
	return hashHex(b), nil
}

// CanonicalJSON returns the canonical JSON of v used by Digest.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return appendJSON(make([]byte, 0, len(raw)), generic), nil
}

// appendJSON writes a decoded JSON value with sorted keys and no whitespace.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case json.Number:
		return append(b, x...)
	case string:
		return appendString(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x[k])
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("audit: unexpected JSON value %T", v))
}

// validHash reports whether s is 64 lower-case hex digits.
func validHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validText reports whether s is valid UTF-8 (entries are normalized to it).
func validText(s string) bool { return utf8.ValidString(s) }
