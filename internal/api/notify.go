package api

import (
	"context"
	"net/http"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/notify/outbox"
	"github.com/custodia/custodia/internal/store"
)

// NotifyService manages notification channels (outbox.Service).
type NotifyService interface {
	SaveChannel(ctx context.Context, id int64, in outbox.ChannelInput) (*store.NotifyChannel, error)
	DeleteChannel(ctx context.Context, id int64) error
	TestSend(ctx context.Context, id int64) error
	Retry(ctx context.Context, id int64) error
	MaskedAddress(ch *store.NotifyChannel) string
}

// Channel is a notification channel as the API shows it: the destination
// masked (a webhook URL is a credential), the secret never.
type Channel struct {
	store.NotifyChannel
	Address   string `json:"address"`
	HasSecret bool   `json:"has_secret"`
}

// TestResult is the outcome of a test send.
type TestResult struct {
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"`
}

// notifyAdmins manage channels: they receive every client's events, so
// only callers who see every client may.
var notifyAdmins = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}

func (s *Server) declareNotify() {
	if s.response.Notify == nil {
		return
	}
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	pol := authz.Roles(roles(notifyAdmins)...)
	id := pathParam("id", "the channel's id")
	tag := "notifications"
	s.add(&operation{Method: get, Path: "/notify/channels", Policy: pol, ID: "listNotifyChannels", Tag: tag,
		Summary: "List the notification channels (e-mail, signed webhooks, Slack, Teams) with their rules and sensitivity.",
		Params:  pageParams, Response: List[Channel]{}, Handler: s.listChannels})
	s.add(&operation{Method: post, Path: "/notify/channels", Policy: pol, ID: "createNotifyChannel", Tag: tag,
		Summary: "Create a channel; its address and signing secret are stored sealed with the master key.",
		Request: outbox.ChannelInput{}, Status: http.StatusCreated, Response: Channel{}, Handler: s.createChannel})
	s.add(&operation{Method: get, Path: "/notify/channels/{id}", Policy: pol, ID: "getNotifyChannel", Tag: tag,
		Summary: "Get a channel.", Params: []param{id}, Response: Channel{}, Handler: s.getChannel})
	s.add(&operation{Method: patch, Path: "/notify/channels/{id}", Policy: pol, ID: "updateNotifyChannel", Tag: tag,
		Summary: "Change a channel; an empty address or secret keeps the stored one.", Params: []param{id}, Request: outbox.ChannelInput{}, Response: Channel{}, Handler: s.updateChannel})
	s.add(&operation{Method: del, Path: "/notify/channels/{id}", Policy: pol, ID: "deleteNotifyChannel", Tag: tag,
		Summary: "Delete a channel and its deliveries.", Params: []param{id}, Handler: s.deleteChannel})
	s.add(&operation{Method: post, Path: "/notify/channels/{id}/test", Policy: pol, ID: "testNotifyChannel", Tag: tag,
		Summary: "Send a test notification at once and report the outcome.", Params: []param{id}, Response: TestResult{}, Handler: s.testChannel})
	s.add(&operation{Method: get, Path: "/notify/deliveries", Policy: pol, ID: "listNotifyDeliveries", Tag: tag,
		Summary: "List deliveries, newest first; status=dead lists the dead letters.",
		Params:  append([]param{queryParam("status", "string", "pending, delivered or dead")}, pageParams...), Response: List[store.NotifyDelivery]{}, Handler: s.listDeliveries})
	s.add(&operation{Method: post, Path: "/notify/deliveries/{id}/retry", Policy: pol, ID: "retryNotifyDelivery", Tag: tag,
		Summary: "Put a dead letter back in the delivery queue.", Params: []param{pathParam("id", "the delivery's id")}, Handler: s.retryDelivery})
}

// allClients refuses callers limited to some clients.
func allClients(r *http.Request) error {
	if !principal(r).AllClients {
		return httpErr(http.StatusForbidden, "Notification channels carry every client's events: managing them needs access to every client.")
	}
	return nil
}

func (s *Server) channelView(c *store.NotifyChannel) Channel {
	return Channel{NotifyChannel: *c, Address: s.response.Notify.MaskedAddress(c), HasSecret: len(c.Secret) > 0}
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	list, err := s.store.NotifyChannels(r.Context())
	if err != nil {
		return err
	}
	out := make([]Channel, len(list))
	for i := range list {
		out[i] = s.channelView(&list[i])
	}
	writeJSON(w, http.StatusOK, pageOf(out, limit, offset))
	return nil
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.NotifyChannel(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.channelView(c))
	return nil
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	var in outbox.ChannelInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.response.Notify.SaveChannel(r.Context(), 0, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.channelView(c))
	return nil
}

func (s *Server) updateChannel(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.NotifyChannel(r.Context(), id); err != nil {
		return err
	}
	var in outbox.ChannelInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.response.Notify.SaveChannel(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.channelView(c))
	return nil
}

func (s *Server) deleteChannel(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.response.Notify.DeleteChannel(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) testChannel(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.NotifyChannel(r.Context(), id); err != nil {
		return err
	}
	res := TestResult{Delivered: true}
	if err := s.response.Notify.TestSend(r.Context(), id); err != nil {
		res = TestResult{Error: err.Error()}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	status, err := queryString(r, "status", 20)
	if err != nil {
		return err
	}
	switch status {
	case "", store.NotifyPending, store.NotifyDelivered, store.NotifyDead:
	default:
		return fieldErr("status", "must be pending, delivered or dead")
	}
	list, err := s.store.NotifyDeliveries(r.Context(), status, 500)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, limit, offset))
	return nil
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	if err := allClients(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.response.Notify.Retry(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
