package web

import (
	"net/http"
	"net/url"

	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/incident/triage"
)

// The "Report something suspicious" form: every signed-in person, one
// page, at most three fields plus "report anonymously".

type reportFormData struct {
	Choices []Option
}

func (s *Server) reportFormView(v *view) {
	d := &reportFormData{}
	for _, c := range desk.Choices {
		d.Choices = append(d.Choices, Option{Value: c, Label: v.T("incidents.choice." + c), Selected: v.Val("category") == c})
	}
	v.D = d
}

func (s *Server) reportForm(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "incidents.report_form_title", nil)
	s.reportFormView(v)
	return s.render(w, http.StatusOK, "report_new", v)
}

func (s *Server) reportSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in := triage.ReportInput{Channel: desk.ChannelPortal, Category: r.PostForm.Get("category"), Text: r.PostForm.Get("text"),
		Anonymous: r.PostForm.Get("anonymous") == "1"}
	up, err := formFile(r, "attachment")
	if err == nil {
		in.Attachment = up
		var rep *desk.Report
		if rep, err = s.incidents.Desk.Submit(r.Context(), principal(r), in); err == nil {
			q := url.Values{"ref": {rep.Ref}}
			if in.Anonymous {
				q.Set("anon", "1")
			}
			return redirect(w, r, "/report/done?"+q.Encode())
		}
	}
	v := s.newView(r, "incidents.report_form_title", nil)
	v.Form = r.PostForm
	if v.FormError = v.deskMessage(err); v.FormError == "" {
		return err
	}
	s.reportFormView(v)
	return s.render(w, http.StatusUnprocessableEntity, "report_new", v)
}

func (s *Server) reportDone(w http.ResponseWriter, r *http.Request) error {
	ref := r.URL.Query().Get("ref")
	if !reportRefRe.MatchString(ref) {
		return errNotFound
	}
	v := s.newView(r, "incidents.report_done_title", map[string]any{"Ref": ref, "Anonymous": r.URL.Query().Get("anon") == "1"})
	return s.render(w, http.StatusOK, "report_done", v)
}

type myReportRow struct {
	desk.Report
	Choice  string
	Status  string
	Outcome string
}

func (s *Server) reportMine(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "incidents.my_reports_title", nil)
	list, err := s.incidents.Desk.MyReports(r.Context(), principal(r))
	if err != nil {
		return err
	}
	rows := make([]myReportRow, 0, len(list))
	for _, rep := range list {
		row := myReportRow{Report: rep, Choice: v.T("incidents.choice." + rep.Category), Status: v.T("incidents.report_status." + rep.Status)}
		if rep.Category == "" {
			row.Choice = "—"
		}
		if rep.Outcome != "" {
			row.Outcome = v.T("incidents.outcome." + rep.Outcome)
		}
		rows = append(rows, row)
	}
	v.D = rows
	return s.render(w, http.StatusOK, "report_mine", v)
}
