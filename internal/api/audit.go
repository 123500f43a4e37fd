package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/org"
)

// AuditEntry is one entry of the audit trail.
type AuditEntry struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	ActorUserID  int64     `json:"actor_user_id,omitempty"`
	Action       string    `json:"action"`
	ObjectType   string    `json:"object_type,omitempty"`
	ObjectID     string    `json:"object_id,omitempty"`
	ClientID     int64     `json:"client_id,omitempty"`
	RequestID    string    `json:"request_id,omitempty"`
	IP           string    `json:"ip,omitempty"`
	BeforeDigest string    `json:"before_digest,omitempty" doc:"hex SHA-256 of the object's state before"`
	AfterDigest  string    `json:"after_digest,omitempty" doc:"hex SHA-256 of the object's state after"`
	Detail       string    `json:"detail,omitempty"`
	PrevHash     string    `json:"prev_hash"`
	Hash         string    `json:"hash"`
}

// AuditPage is a page of the audit trail, newest first. Pages are chained by
// sequence number: pass next_before_seq as before_seq for the next page.
type AuditPage struct {
	Items         []AuditEntry `json:"items"`
	Limit         int          `json:"limit"`
	NextBeforeSeq int64        `json:"next_before_seq,omitempty"`
}

func auditOut(e *audit.Entry) AuditEntry {
	return AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, ActorUserID: e.ActorUserID, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, ClientID: e.ClientID, RequestID: e.RequestID, IP: e.IP,
		BeforeDigest: e.BeforeDigest, AfterDigest: e.AfterDigest, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
}

var auditParams = []param{
	queryParam("actor", "string", "exact actor (username, token:ID(name), system)"),
	queryParam("object_type", "string", "exact object type (person, user, client…)"),
	queryParam("object_id", "string", "exact object id (with object_type)"),
	queryParam("client_id", "integer", "only this client's entries"),
	queryParam("action", "string", "exact action, or a prefix ending in * (person.*)"),
	queryParam("from", "string", "at or after this time (RFC 3339 or YYYY-MM-DD)"),
	queryParam("to", "string", "before this time (RFC 3339 or YYYY-MM-DD)"),
	queryParam("before_seq", "integer", "only entries older than this sequence number (paging)"),
	queryParam("limit", "integer", fmt.Sprintf("page size, 1 to %d (default %d)", MaxLimit, DefaultLimit)),
}

func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(org.DateLayout, v); err == nil {
		return t, nil
	}
	return time.Time{}, fieldErr(name, "must be a time (RFC 3339, e.g. 2025-01-31T09:00:00Z) or a date (YYYY-MM-DD)")
}

// listAudit: the trail, filtered and scoped. A caller limited to some
// clients sees only those clients' entries (not operator-wide ones).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	f := audit.Filter{AllClients: p.AllClients, ClientIDs: p.ClientIDs, Limit: DefaultLimit}
	var err error
	if v := r.URL.Query().Get("limit"); v != "" {
		if f.Limit, _, err = page(r); err != nil {
			return err
		}
	}
	for name, dst := range map[string]*string{"actor": &f.Actor, "object_type": &f.ObjectType, "object_id": &f.ObjectID, "action": &f.Action} {
		if *dst, err = queryString(r, name, 200); err != nil {
			return err
		}
	}
	if f.ClientID, err = queryInt(r, "client_id"); err != nil {
		return err
	}
	if f.BeforeSeq, err = queryInt(r, "before_seq"); err != nil {
		return err
	}
	if f.From, err = queryTime(r, "from"); err != nil {
		return err
	}
	if f.To, err = queryTime(r, "to"); err != nil {
		return err
	}
	if f.ClientID != 0 && !p.CanSeeClient(f.ClientID) {
		return fieldErr("client_id", "is not a known client")
	}
	entries, err := s.store.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	out := AuditPage{Items: make([]AuditEntry, len(entries)), Limit: f.Limit}
	for i := range entries {
		out.Items[i] = auditOut(&entries[i])
	}
	if len(entries) == f.Limit && len(entries) > 0 && entries[len(entries)-1].Seq > 1 {
		out.NextBeforeSeq = entries[len(entries)-1].Seq
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportAudit streams the whole trail (or from_seq..to_seq) with its signed
// checkpoints as the JSON Lines file "custodia audit verify --file" checks.
// The export itself is recorded first. Only callers who see every client may
// export: the chain cannot be verified with other clients' entries removed.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if !p.AllClients {
		return httpErr(http.StatusForbidden, "Exporting the audit trail needs access to every client (the chain covers all of them).")
	}
	from, err := queryInt(r, "from_seq")
	if err != nil {
		return err
	}
	to, err := queryInt(r, "to_seq")
	if err != nil {
		return err
	}
	if to != 0 && from > to {
		return fieldErr("to_seq", "must not be below from_seq")
	}
	if from == 0 {
		from = 1
	}
	if err := s.store.Audit(r.Context(), audit.Record{Action: "audit.export", ObjectType: "audit_log",
		Detail: fmt.Sprintf("export from %d to %d (0 = head)", from, to)}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="custodia-audit-%s.jsonl"`, time.Now().UTC().Format("20060102-150405")))
	x, err := audit.NewExportWriter(w, from)
	if err != nil {
		return err
	}
	err = s.store.AuditStream(r.Context(), from, to, x.Entry, x.Checkpoint)
	if err == nil {
		err = x.Close()
	}
	if err != nil {
		// The body has begun: the client sees a truncated file without its
		// end line, which verification reports. Log the cause.
		s.log.ErrorContext(r.Context(), "audit export failed midway", "error", err.Error())
	}
	return nil
}
