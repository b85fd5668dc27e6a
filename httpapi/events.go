package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookd/hookd"
)

// PublishRequest publishes an event.
type PublishRequest struct {
	Type      string          `json:"type" doc:"The event type, such as deploy.succeeded."`
	Data      json.RawMessage `json:"data" openapi:"object" doc:"The event's data, a JSON object."`
	ID        string          `json:"id,omitempty" doc:"The event id; generated when absent. Publishing an id again is deduplicated."`
	Timestamp Time            `json:"timestamp,omitempty" doc:"When the event happened; default now."`

	// compact is set by decodeFast when Data holds no whitespace between
	// its tokens, so that it need not be compacted.
	compact bool
}

// event returns the event req describes, as published at now.
func (a *API) event(r *http.Request, req *PublishRequest) (*hookd.Event, error) {
	now := a.now()
	var v hookd.Validation
	ev := &hookd.Event{ID: req.ID, ProjectID: r.PathValue("project"), Type: req.Type, Data: req.Data,
		Timestamp: req.Timestamp.parse(&v, "timestamp"), CreatedAt: now}
	switch {
	case req.compact: // decodeFast found no whitespace to remove
	case len(ev.Data) > 0 && string(ev.Data) != "null":
		ev.Data = compactJSON(ev.Data)
	default:
		ev.Data = nil
	}
	if ev.Timestamp.IsZero() {
		ev.Timestamp = now
	}
	if k, ok := r.Header["Idempotency-Key"]; ok {
		ev.IdempotencyKey = k[0]
		if ev.IdempotencyKey == "" {
			v.Add("Idempotency-Key", "must be 1 to 255 characters")
		}
	}
	if e, ok := errors.AsType[*hookd.Error](ev.Validate()); ok {
		v.Fields = append(v.Fields, e.Fields...)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if ev.ID == "" {
		ev.ID = hookd.NewID(hookd.PrefixEvent, now)
	}
	return ev, nil
}

func (a *API) publishEvent(w http.ResponseWriter, r *http.Request) error {
	var req PublishRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	ev, err := a.event(r, &req)
	if err != nil {
		return err
	}
	p := hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Trigger: hookd.TriggerAuto, Now: ev.CreatedAt}
	if a.engine != nil {
		p.LeaseOwner, p.LeaseUntil, p.LeaseMax = a.engine.Lease(p.Now)
	}
	ctx, span := a.tracing.Start(r, ev)
	res, err := a.store.EventPublish(ctx, p)
	a.tracing.End(span, res, err)
	if err != nil {
		return err
	}
	a.published(res)
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
	} else if a.engine != nil && len(res.Deliveries) > 0 {
		a.engine.Offer(res)
	}
	if res.Duplicate {
		return reply(w, http.StatusAccepted, res.Event) // the stored event, not the decoder's
	}
	return replyEvent(w, http.StatusAccepted, res.Event)
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := hookd.EventFilter{ProjectID: r.PathValue("project"), Type: q.v.Get("type"),
		Since: q.time("since"), Until: q.time("until"), Page: q.page()}
	if f.Type != "" {
		if msg := hookd.ValidPattern(f.Type); msg != "" {
			q.val.Add("type", "%s", msg)
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.EventList(r.Context(), f)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}

// eventDeliveries is how many deliveries the event detail shows.
const eventDeliveries = 100

func (a *API) getEvent(w http.ResponseWriter, r *http.Request) error {
	ctx, project := r.Context(), r.PathValue("project")
	ev, err := a.store.EventGet(ctx, project, r.PathValue("event"))
	if err != nil {
		return err
	}
	ev.Deliveries, _, err = a.store.DeliveryList(ctx, hookd.DeliveryFilter{ProjectID: project, EventID: ev.ID,
		Page: hookd.Page{Limit: eventDeliveries}})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ev)
}
