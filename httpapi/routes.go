package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
)

// Paths of the API.
const (
	pathProjects   = "/v1/projects"
	pathProject    = pathProjects + "/{project}"
	pathKeys       = pathProject + "/keys"
	pathKey        = pathKeys + "/{key}"
	pathEventTypes = pathProject + "/event-types"
	pathEventType  = pathEventTypes + "/{name}"
	pathWebhooks   = pathProject + "/webhooks"
	pathWebhook    = pathWebhooks + "/{webhook}"
	pathEvents     = pathProject + "/events"
	pathEvent      = pathEvents + "/{event}"
	pathDeliveries = pathProject + "/deliveries"
	pathDelivery   = pathDeliveries + "/{delivery}"
)

// Tags group the operations in the document.
const (
	tagSystem     = "system"
	tagProjects   = "projects"
	tagKeys       = "keys"
	tagEventTypes = "event types"
	tagWebhooks   = "webhooks"
	tagEvents     = "events"
	tagDeliveries = "deliveries"
)

var stateParam = openapi.Param{Name: "state", In: "query", Enum: []string{"pending", "succeeded", "failed", "canceled"},
	Description: "Only deliveries in this state."}

// table is the route table: every route of the API, once. The mux and the
// OpenAPI document are both built from it.
func (a *API) table() []route {
	rts := slices.Concat(a.systemRoutes(), a.projectRoutes(), a.eventTypeRoutes(), a.webhookRoutes(),
		a.eventRoutes(), a.deliveryRoutes(), a.secretRoutes(), a.incomingRoutes(), a.contentRoutes(), a.metricsRoutes(), a.portalRoutes())
	for i := range rts {
		rts[i].op.Errors = errorStatuses(rts[i].op)
	}
	return rts
}

// errorStatuses returns op's error statuses: its own, and those every
// operation of its kind can answer.
func errorStatuses(op openapi.Operation) []int {
	codes := slices.Clone(op.Errors)
	codes = append(codes, http.StatusInternalServerError)
	if op.Auth != openapi.AuthNone {
		codes = append(codes, http.StatusUnauthorized, http.StatusServiceUnavailable)
	}
	if op.Auth == openapi.AuthAdmin {
		codes = append(codes, http.StatusForbidden)
	}
	if strings.Contains(op.Path, "{") {
		codes = append(codes, http.StatusNotFound)
	}
	if op.Request != nil {
		codes = append(codes, http.StatusBadRequest, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
	}
	if op.List || len(op.Params) > 0 {
		codes = append(codes, http.StatusBadRequest)
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status" enum:"ok"`
}

func (a *API) systemRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "GET", Path: "/healthz", ID: "health", Tag: tagSystem, Auth: openapi.AuthNone,
			Summary: "Liveness", Description: "Answers 200 while the process serves HTTP.", Response: Health{}},
			handler: a.health},
		{op: openapi.Operation{Method: "GET", Path: "/readyz", ID: "ready", Tag: tagSystem, Auth: openapi.AuthNone,
			Summary: "Readiness", Description: "Answers 200 when the database answers, 503 otherwise.",
			Response: Health{}, Errors: []int{http.StatusServiceUnavailable}},
			handler: a.readyz},
		{op: openapi.Operation{Method: "GET", Path: "/openapi.json", ID: "openapi", Tag: tagSystem, Auth: openapi.AuthNone,
			Summary: "This document", Response: map[string]any{}},
			handler: a.openapiDoc},
	}
}

func (a *API) projectRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "POST", Path: pathProjects, ID: "createProject", Tag: tagProjects,
			Auth: openapi.AuthAdmin, Summary: "Create a project", Request: ProjectRequest{}, Response: hookd.Project{},
			Status: http.StatusCreated}, handler: a.createProject},
		{op: openapi.Operation{Method: "GET", Path: pathProjects, ID: "listProjects", Tag: tagProjects,
			Auth: openapi.AuthAdmin, Summary: "List projects", Response: hookd.Project{}, List: true},
			handler: a.listProjects},
		{op: openapi.Operation{Method: "GET", Path: pathProject, ID: "getProject", Tag: tagProjects,
			Auth: openapi.AuthAdmin, Summary: "Get a project", Response: hookd.Project{}}, handler: a.getProject},
		{op: openapi.Operation{Method: "PATCH", Path: pathProject, ID: "updateProject", Tag: tagProjects,
			Auth: openapi.AuthAdmin, Summary: "Update a project", Description: "Changes the fields present in the body.",
			Request: ProjectRequest{}, Response: hookd.Project{}}, handler: a.updateProject},
		{op: openapi.Operation{Method: "DELETE", Path: pathProject, ID: "deleteProject", Tag: tagProjects,
			Auth: openapi.AuthAdmin, Summary: "Delete a project and everything in it",
			Description: "Deletes the project's keys, event types, webhooks, events and delivery log.",
			Status:      http.StatusNoContent}, handler: a.deleteProject},

		{op: openapi.Operation{Method: "POST", Path: pathKeys, ID: "createKey", Tag: tagKeys, Auth: openapi.AuthProject,
			Summary: "Create a project key", Description: "The answer holds the key's text in `key`; it is never shown again.",
			Request: KeyRequest{}, RequestOptional: true, Response: CreatedKey{}, Status: http.StatusCreated,
			Errors: []int{http.StatusForbidden}}, handler: a.createKey},
		{op: openapi.Operation{Method: "GET", Path: pathKeys, ID: "listKeys", Tag: tagKeys, Auth: openapi.AuthProject,
			Summary: "List the project's keys", Description: "Keys are shown by their prefix only.",
			Response: hookd.APIKey{}, List: true}, handler: a.listKeys},
		{op: openapi.Operation{Method: "DELETE", Path: pathKey, ID: "revokeKey", Tag: tagKeys, Auth: openapi.AuthProject,
			Summary: "Revoke a key", Description: "A revoked key is refused at once by this node, and within seconds by the others.",
			Status: http.StatusNoContent}, handler: a.revokeKey},
	}
}

func (a *API) eventTypeRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "POST", Path: pathEventTypes, ID: "createEventType", Tag: tagEventTypes,
			Auth: openapi.AuthProject, Summary: "Add an event type to the catalogue", Request: EventTypeRequest{},
			Response: hookd.EventType{}, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
			handler: a.createEventType},
		{op: openapi.Operation{Method: "GET", Path: pathEventTypes, ID: "listEventTypes", Tag: tagEventTypes,
			Auth: openapi.AuthProject, Summary: "List the catalogue", Description: "Event types are ordered by name.",
			Response: hookd.EventType{}, List: true}, handler: a.listEventTypes},
		{op: openapi.Operation{Method: "GET", Path: pathEventType, ID: "getEventType", Tag: tagEventTypes,
			Auth: openapi.AuthProject, Summary: "Get an event type", Response: hookd.EventType{}},
			handler: a.getEventType},
		{op: openapi.Operation{Method: "PATCH", Path: pathEventType, ID: "updateEventType", Tag: tagEventTypes,
			Auth: openapi.AuthProject, Summary: "Update an event type", Description: "Changes the fields present in the body.",
			Request: EventTypePatch{}, Response: hookd.EventType{}}, handler: a.updateEventType},
		{op: openapi.Operation{Method: "DELETE", Path: pathEventType, ID: "deleteEventType", Tag: tagEventTypes,
			Auth: openapi.AuthProject, Summary: "Remove an event type from the catalogue", Status: http.StatusNoContent},
			handler: a.deleteEventType},
	}
}

func (a *API) webhookRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "POST", Path: pathWebhooks, ID: "createWebhook", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "Create a webhook",
			Description: "Unset settings take their defaults; a signing secret is generated unless one is given.",
			Request:     WebhookRequest{}, Response: hookd.Webhook{}, Status: http.StatusCreated},
			handler: a.createWebhook, storeChecksProject: true},
		{op: openapi.Operation{Method: "GET", Path: pathWebhooks, ID: "listWebhooks", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "List webhooks", Response: hookd.Webhook{}, List: true},
			handler: a.listWebhooks},
		{op: openapi.Operation{Method: "GET", Path: pathWebhook, ID: "getWebhook", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "Get a webhook", Response: hookd.Webhook{}}, handler: a.getWebhook},
		{op: openapi.Operation{Method: "PATCH", Path: pathWebhook, ID: "updateWebhook", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "Update a webhook",
			Description: "Changes the fields present in the body; objects such as headers are replaced whole. " +
				"Setting active to true re-enables a disabled webhook and sends its waiting deliveries.",
			Request: WebhookRequest{}, Response: hookd.Webhook{}}, handler: a.updateWebhook},
		{op: openapi.Operation{Method: "DELETE", Path: pathWebhook, ID: "deleteWebhook", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "Delete a webhook",
			Description: "Cancels its pending deliveries; its delivery log stays until retention removes it.",
			Status:      http.StatusNoContent}, handler: a.deleteWebhook},
		{op: openapi.Operation{Method: "GET", Path: pathWebhook + "/secret", ID: "getWebhookSecret", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "Read the signing secret", Response: Secret{}},
			handler: a.getWebhookSecret},
		{op: openapi.Operation{Method: "POST", Path: pathWebhook + "/secret/rotate", ID: "rotateWebhookSecret",
			Tag: tagWebhooks, Auth: openapi.AuthProject, Summary: "Rotate the signing secret",
			Description: "The new secret signs at once; the previous one also signs until the grace period ends " +
				"(default 24 hours). The body is optional.",
			Request: RotateRequest{}, RequestOptional: true, Response: Secret{}}, handler: a.rotateWebhookSecret},
		{op: openapi.Operation{Method: "POST", Path: pathWebhook + "/test", ID: "testWebhook", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "Send a test event now",
			Description: "Publishes a webhook.test event to this webhook alone, even when it is disabled, makes one " +
				"attempt at once and answers with it, whatever the receiver answered.",
			Response: TestResult{}, Errors: []int{http.StatusServiceUnavailable}}, handler: a.testWebhook},
		{op: openapi.Operation{Method: "GET", Path: pathWebhook + "/deliveries", ID: "listWebhookDeliveries",
			Tag: tagWebhooks, Auth: openapi.AuthProject, Summary: "List a webhook's deliveries",
			Params: []openapi.Param{stateParam}, Response: hookd.Delivery{}, List: true},
			handler: a.listWebhookDeliveries},
		{op: openapi.Operation{Method: "POST", Path: pathWebhook + "/replay", ID: "replayWebhook", Tag: tagWebhooks,
			Auth: openapi.AuthProject, Summary: "Redeliver a time range",
			Description: "Sends again the webhook's deliveries created in [since, until) in the given states " +
				"(failed when none is given), in batches of 1,000 on the server; answers how many it made due.",
			Request: ReplayRequest{}, Response: ReplayResult{}, Status: http.StatusAccepted,
			Errors: []int{http.StatusConflict}}, handler: a.replayWebhook},
	}
}

func (a *API) eventRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "POST", Path: pathEvents, ID: "publishEvent", Tag: tagEvents,
			Auth: openapi.AuthProject, Summary: "Publish an event",
			Description: "Stores the event and one delivery per matching webhook, then answers 202. " +
				"A repeated Idempotency-Key or id with the same type and data answers the first event again " +
				"(with Idempotent-Replayed: true); with other type or data it answers 409.",
			Params: []openapi.Param{{Name: "Idempotency-Key", In: "header",
				Description: "Publishes at most once per key (1 to 255 printable ASCII characters)."}},
			Request: PublishRequest{}, Response: hookd.Event{}, Status: http.StatusAccepted,
			Errors: []int{http.StatusConflict}}, handler: a.publishEvent, storeChecksProject: true},
		{op: openapi.Operation{Method: "GET", Path: pathEvents, ID: "listEvents", Tag: tagEvents,
			Auth: openapi.AuthProject, Summary: "List events",
			Params: []openapi.Param{
				{Name: "type", In: "query", Description: "An event type or pattern (deploy.*)."},
				{Name: "since", In: "query", Format: "date-time", Description: "Only events published at or after."},
				{Name: "until", In: "query", Format: "date-time", Description: "Only events published before."},
			},
			Response: hookd.Event{}, List: true}, handler: a.listEvents},
		{op: openapi.Operation{Method: "GET", Path: pathEvent, ID: "getEvent", Tag: tagEvents,
			Auth: openapi.AuthProject, Summary: "Get an event with its deliveries",
			Description: "deliveries holds up to the 100 newest; list more with GET …/deliveries?event=.",
			Response:    hookd.Event{}}, handler: a.getEvent},
	}
}

func (a *API) deliveryRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "GET", Path: pathDeliveries, ID: "listDeliveries", Tag: tagDeliveries,
			Auth: openapi.AuthProject, Summary: "List deliveries",
			Params: []openapi.Param{
				{Name: "webhook", In: "query", Description: "Only deliveries to this webhook."},
				{Name: "event", In: "query", Description: "Only deliveries of this event."},
				stateParam,
			},
			Response: hookd.Delivery{}, List: true}, handler: a.listDeliveries},
		{op: openapi.Operation{Method: "GET", Path: pathDelivery, ID: "getDelivery", Tag: tagDeliveries,
			Auth: openapi.AuthProject, Summary: "Get a delivery with all its attempts", Response: hookd.Delivery{}},
			handler: a.getDelivery},
		{op: openapi.Operation{Method: "POST", Path: pathDelivery + "/retry", ID: "retryDelivery", Tag: tagDeliveries,
			Auth: openapi.AuthProject, Summary: "Redeliver now",
			Description: "Makes the delivery due now for one more attempt, whatever its state.",
			Response:    hookd.Delivery{}, Status: http.StatusAccepted, Errors: []int{http.StatusConflict}},
			handler: a.retryDelivery},
	}
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	return reply(w, http.StatusOK, Health{Status: "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := a.ready(r.Context()); err != nil {
		a.log.WarnContext(r.Context(), "not ready", "err", err)
		why := "the database does not answer"
		if hookd.ErrorCode(err) == hookd.EUNAVAILABLE {
			why = hookd.ErrorMessage(err) // e.g. the disk is full
		}
		return hookd.Errorf(hookd.EUNAVAILABLE, "not ready: %s", why)
	}
	return reply(w, http.StatusOK, Health{Status: "ok"})
}

func (a *API) openapiDoc(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.doc)
	return nil
}
