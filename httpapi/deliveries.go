package httpapi

import (
	"fmt"
	"net/http"

	"github.com/hookd/hookd"
)

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := hookd.DeliveryFilter{ProjectID: r.PathValue("project"), WebhookID: q.v.Get("webhook"),
		EventID: q.v.Get("event"), State: q.state("state"), Page: q.page()}
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.DeliveryList(r.Context(), f)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}

// listWebhookDeliveries lists a webhook's deliveries. The log of a deleted
// webhook stays readable; an unknown webhook with no deliveries is 404.
func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := hookd.DeliveryFilter{ProjectID: r.PathValue("project"), WebhookID: r.PathValue("webhook"),
		State: q.state("state"), Page: q.page()}
	if err := q.err(); err != nil {
		return err
	}
	ctx := r.Context()
	list, next, err := a.store.DeliveryList(ctx, f)
	if err != nil {
		return err
	}
	if len(list) == 0 && f.Cursor == "" {
		if _, err := a.store.WebhookGet(ctx, f.ProjectID, f.WebhookID); err != nil {
			return err
		}
	}
	return replyList(w, list, next)
}

func (a *API) getDelivery(w http.ResponseWriter, r *http.Request) error {
	ctx, project := r.Context(), r.PathValue("project")
	d, err := a.store.DeliveryGet(ctx, project, r.PathValue("delivery"))
	if err != nil {
		return err
	}
	if d.Attempts, err = a.store.AttemptList(ctx, project, d.ID); err != nil {
		return err
	}
	return reply(w, http.StatusOK, d)
}

func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := a.store.DeliveryRetry(r.Context(), r.PathValue("project"), r.PathValue("delivery"), a.now())
	if err != nil {
		return err
	}
	a.wake()
	return reply(w, http.StatusAccepted, d)
}

// ReplayRequest selects the deliveries of a webhook to send again.
type ReplayRequest struct {
	Since  Time                  `json:"since" doc:"Deliveries created at or after this time."`
	Until  Time                  `json:"until,omitempty" doc:"Deliveries created before this time; default now."`
	State  hookd.DeliveryState   `json:"state,omitempty" enum:"pending,succeeded,failed,canceled" doc:"Only deliveries in this state."`
	States []hookd.DeliveryState `json:"states,omitempty" enum:"pending,succeeded,failed,canceled" doc:"Only deliveries in these states. Default: failed."`
}

// params returns base completed from req, or an EINVALID error.
func (req *ReplayRequest) params(base hookd.ReplayParams) (hookd.ReplayParams, error) {
	p := base
	var v hookd.Validation
	if req.Since == "" {
		v.Add("since", "is required")
	}
	p.Since, p.Until = req.Since.parse(&v, "since"), req.Until.parse(&v, "until")
	if p.Until.IsZero() {
		p.Until = p.Now
	}
	if !p.Since.IsZero() && !p.Since.Before(p.Until) {
		v.Add("since", "must be before until")
	}
	p.States = req.States
	if req.State != "" {
		if len(req.States) > 0 {
			v.Add("state", "give state or states, not both")
		} else if !req.State.Valid() {
			v.Add("state", "must be pending, succeeded, failed or canceled")
		}
		p.States = []hookd.DeliveryState{req.State}
	}
	for i, s := range req.States {
		if !s.Valid() {
			v.Add(fmt.Sprintf("states[%d]", i), "must be pending, succeeded, failed or canceled")
		}
	}
	return p, v.Err()
}

// ReplayResult says how many deliveries a replay made due.
type ReplayResult struct {
	Count int `json:"count"`
}

func (a *API) replayWebhook(w http.ResponseWriter, r *http.Request) error {
	var req ReplayRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	p, err := req.params(hookd.ReplayParams{ProjectID: r.PathValue("project"), WebhookID: r.PathValue("webhook"),
		Now: a.now()})
	if err != nil {
		return err
	}
	n, err := a.store.DeliveryReplay(r.Context(), p)
	if err != nil {
		return err
	}
	if n > 0 {
		a.wake()
	}
	return reply(w, http.StatusAccepted, ReplayResult{Count: n})
}
