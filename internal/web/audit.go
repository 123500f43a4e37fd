package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
)

const auditPageSize = 50

type auditData struct {
	Entries []auditRow
	Clients []Option
	Next    string // link to older entries
	First   string // link back to the newest
}

type auditRow struct {
	audit.Entry
	ClientName string
}

// parseAuditTime reads a date (YYYY-MM-DD) or a datetime-local value
// (YYYY-MM-DDTHH:MM), in UTC.
func parseAuditTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := r.URL.Query()
	v := s.newView(r, "audit.title", nil)
	v.Form = q
	f := audit.Filter{
		ClientID:   queryID(q, "client_id"),
		Actor:      strings.TrimSpace(q.Get("actor")),
		ObjectType: strings.TrimSpace(q.Get("object_type")),
		ObjectID:   strings.TrimSpace(q.Get("object_id")),
		Action:     strings.TrimSpace(q.Get("action")),
		BeforeSeq:  queryID(q, "before"),
		Limit:      auditPageSize,
	}
	var ok bool
	if f.From, ok = parseAuditTime(q.Get("from")); !ok {
		v.Errs["from"] = v.T("audit.bad_time")
	}
	if f.To, ok = parseAuditTime(q.Get("to")); !ok {
		v.Errs["to"] = v.T("audit.bad_time")
	} else if len(q.Get("to")) == len("2006-01-02") {
		f.To = f.To.Add(24 * time.Hour) // a date "to" includes that whole day
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return err
	}
	d := &auditData{Clients: rf.clientOptions(v.T("common.all"), f.ClientID)}
	v.D = d
	status := http.StatusOK
	if len(v.Errs) > 0 {
		v.FormError = v.T("common.form_errors")
		status = http.StatusUnprocessableEntity
	} else {
		entries, err := s.store.AuditEntries(r.Context(), auditScope(p, f))
		if err != nil {
			return err
		}
		for _, e := range entries {
			row := auditRow{Entry: e}
			if e.ClientID != 0 {
				row.ClientName = rf.clientName(e.ClientID)
			}
			d.Entries = append(d.Entries, row)
		}
		base := url.Values{}
		for k, vs := range q {
			if k != "before" {
				base[k] = vs
			}
		}
		if len(entries) == auditPageSize {
			nq := url.Values{}
			for k, vs := range base {
				nq[k] = vs
			}
			nq.Set("before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
			d.Next = "/audit?" + nq.Encode()
		}
		if f.BeforeSeq != 0 {
			d.First = "/audit?" + base.Encode()
		}
	}
	return s.render(w, status, "audit", v)
}
