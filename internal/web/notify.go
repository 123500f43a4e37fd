package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/notify/outbox"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

// notifyRoutes lists the notification channel pages.
func (s *Server) notifyRoutes() []route {
	if s.response.Notify == nil {
		return nil
	}
	pol := authz.Roles(notifyAdmins...)
	return []route{
		{"GET /notify", pol, s.notifyChannels},
		{"POST /notify/channels", pol, s.notifyChannelCreate},
		{"GET /notify/channels/{id}", pol, s.notifyChannelEdit},
		{"POST /notify/channels/{id}", pol, s.notifyChannelUpdate},
		{"POST /notify/channels/{id}/delete", pol, s.notifyChannelDelete},
		{"POST /notify/channels/{id}/test", pol, s.notifyChannelTest},
		{"GET /notify/deliveries", pol, s.notifyDeliveries},
		{"POST /notify/deliveries/{id}/retry", pol, s.notifyRetry},
	}
}

// notifyAllClients refuses callers limited to some clients: channels carry
// every client's events.
func notifyAllClients(r *http.Request) error {
	if !principal(r).AllClients {
		return errStatus(http.StatusForbidden, "response.notify.all_clients")
	}
	return nil
}

type notifyChannelRow struct {
	store.NotifyChannel
	Address string
}

type notifyChannelForm struct {
	V        *view
	Channels []notifyChannelRow
	Ch       *notifyChannelRow // nil: the new-channel form
	Clients  []org.Client
	TestErr  string
	TestOK   bool
}

// KindOptions are the channel kinds for the select.
func (d *notifyChannelForm) KindOptions() []Option {
	cur := d.V.Val("kind")
	if cur == "" && d.Ch != nil {
		cur = d.Ch.Kind
	}
	var out []Option
	for _, k := range notify.Kinds {
		out = append(out, Option{Value: k, Label: d.V.T("response.notify.kind." + k), Selected: k == cur})
	}
	return out
}

// SensitivityOptions are the sensitivity settings.
func (d *notifyChannelForm) SensitivityOptions() []Option {
	cur := d.V.Val("sensitivity")
	if cur == "" && d.Ch != nil {
		cur = d.Ch.Sensitivity
	}
	return []Option{
		{Value: notify.SensitivitySummary, Label: d.V.T("response.notify.summary"), Selected: cur != notify.SensitivityDetails},
		{Value: notify.SensitivityDetails, Label: d.V.T("response.notify.details"), Selected: cur == notify.SensitivityDetails},
	}
}

// SeverityOptions are the minimum severities.
func (d *notifyChannelForm) SeverityOptions() []Option {
	cur := d.V.Val("min_severity")
	if cur == "" && d.Ch != nil {
		cur = d.Ch.MinSeverity
	}
	out := []Option{{Value: "", Label: d.V.T("response.notify.any"), Selected: cur == ""}}
	for _, s := range notify.Severities {
		out = append(out, Option{Value: s, Label: s, Selected: s == cur})
	}
	return out
}

// EventOptions are the event kinds for the checkboxes.
func (d *notifyChannelForm) EventOptions() []Option {
	var cur []string
	if d.V.Form.Has("name") {
		cur = d.V.Form["kinds"]
	} else if d.Ch != nil {
		cur = d.Ch.Kinds
	}
	var out []Option
	for _, k := range notify.EventKinds {
		out = append(out, Option{Value: k, Label: k, Selected: slices.Contains(cur, k)})
	}
	return out
}

// ClientOptions are the clients for the checkboxes.
func (d *notifyChannelForm) ClientOptions() []Option {
	var cur []string
	if d.V.Form.Has("name") {
		cur = d.V.Form["client_ids"]
	} else if d.Ch != nil {
		for _, id := range d.Ch.ClientIDs {
			cur = append(cur, strconv.FormatInt(id, 10))
		}
	}
	var out []Option
	for _, c := range d.Clients {
		id := strconv.FormatInt(c.ID, 10)
		out = append(out, Option{Value: id, Label: c.Name, Selected: slices.Contains(cur, id)})
	}
	return out
}

// Value is a text field's value: submitted, else stored.
func (d *notifyChannelForm) Value(field string) string {
	if d.V.Form.Has(field) {
		return d.V.Val(field)
	}
	if d.Ch == nil {
		return ""
	}
	switch field {
	case "name":
		return d.Ch.Name
	case "categories":
		return strings.Join(d.Ch.Categories, ", ")
	}
	return ""
}

func (s *Server) channelData(r *http.Request, v *view, ch *store.NotifyChannel) (*notifyChannelForm, error) {
	d := &notifyChannelForm{V: v}
	list, err := s.store.NotifyChannels(r.Context())
	if err != nil {
		return nil, err
	}
	for i := range list {
		d.Channels = append(d.Channels, notifyChannelRow{NotifyChannel: list[i], Address: s.response.Notify.MaskedAddress(&list[i])})
	}
	if ch != nil {
		d.Ch = &notifyChannelRow{NotifyChannel: *ch, Address: s.response.Notify.MaskedAddress(ch)}
	}
	d.Clients, err = s.store.Clients(r.Context(), org.ClientFilter{Scope: scope(r), Page: org.Page{Limit: org.MaxLimit}})
	return d, err
}

func (s *Server) notifyChannels(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	v := s.newView(r, "response.notify.title", nil)
	d, err := s.channelData(r, v, nil)
	if err != nil {
		return err
	}
	v.D = d
	return s.render(w, http.StatusOK, "notify_channels", v)
}

func notifyChannelInput(r *http.Request) (outbox.ChannelInput, error) {
	f := r.PostForm
	in := outbox.ChannelInput{Name: f.Get("name"), Kind: f.Get("kind"), Address: f.Get("address"), Secret: f.Get("secret"),
		Sensitivity: f.Get("sensitivity"), Kinds: f["kinds"], MinSeverity: f.Get("min_severity")}
	for _, c := range strings.Split(f.Get("categories"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			in.Categories = append(in.Categories, c)
		}
	}
	for _, s := range f["client_ids"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return in, outbox.FieldErrors{{Field: "client_ids", Message: "is not a known client"}}
		}
		in.ClientIDs = append(in.ClientIDs, id)
	}
	active := f.Get("active") == "on"
	in.Active = &active
	return in, nil
}

func (s *Server) saveChannelForm(w http.ResponseWriter, r *http.Request, id int64) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in, err := notifyChannelInput(r)
	if err == nil {
		_, err = s.response.Notify.SaveChannel(r.Context(), id, in)
	}
	if err != nil {
		v := s.newView(r, "response.notify.title", nil)
		v.Form = r.PostForm
		if !setResponseErrors(v, err) {
			return err
		}
		var cur *store.NotifyChannel
		if id != 0 {
			if cur, err = s.store.NotifyChannel(r.Context(), id); err != nil {
				return err
			}
		}
		d, derr := s.channelData(r, v, cur)
		if derr != nil {
			return derr
		}
		v.D = d
		page := "notify_channels"
		if id != 0 {
			page = "notify_channel"
		}
		return s.render(w, http.StatusUnprocessableEntity, page, v)
	}
	return redirect(w, r, withFlash("/notify", "saved"))
}

func (s *Server) notifyChannelCreate(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	return s.saveChannelForm(w, r, 0)
}

func (s *Server) notifyChannelEdit(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ch, err := s.store.NotifyChannel(r.Context(), id)
	if err != nil {
		return err
	}
	v := s.newView(r, "response.notify.edit", nil)
	d, err := s.channelData(r, v, ch)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("test") {
	case "ok":
		d.TestOK = true
	case "failed":
		d.TestErr = r.URL.Query().Get("error")
	}
	v.D = d
	return s.render(w, http.StatusOK, "notify_channel", v)
}

func (s *Server) notifyChannelUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.NotifyChannel(r.Context(), id); err != nil {
		return err
	}
	return s.saveChannelForm(w, r, id)
}

func (s *Server) notifyChannelDelete(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if err := s.response.Notify.DeleteChannel(r.Context(), id); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/notify", "saved"))
}

func (s *Server) notifyChannelTest(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.NotifyChannel(r.Context(), id); err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	to := "/notify/channels/" + strconv.FormatInt(id, 10)
	if err := s.response.Notify.TestSend(r.Context(), id); err != nil {
		msg := err.Error()
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return redirect(w, r, to+"?test=failed&error="+url.QueryEscape(msg))
	}
	return redirect(w, r, to+"?test=ok")
}

type notifyDeliveriesPage struct {
	Status     string
	Deliveries []store.NotifyDelivery
}

func (s *Server) notifyDeliveries(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", store.NotifyPending, store.NotifyDelivered, store.NotifyDead:
	default:
		status = ""
	}
	list, err := s.store.NotifyDeliveries(r.Context(), status, 200)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "notify_deliveries", s.newView(r, "response.notify.deliveries", &notifyDeliveriesPage{Status: status, Deliveries: list}))
}

func (s *Server) notifyRetry(w http.ResponseWriter, r *http.Request) error {
	if err := notifyAllClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if err := s.response.Notify.Retry(r.Context(), id); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/notify/deliveries?status=dead", "saved"))
}
