package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// WebhookRequest creates a webhook or changes the fields present in it.
// When creating, absent fields take their defaults (see hookd.Webhook).
type WebhookRequest struct {
	Name           *string                `json:"name,omitempty" doc:"Required when creating."`
	Description    *string                `json:"description,omitempty"`
	Kind           *string                `json:"kind,omitempty" enum:"http,slack,email,github_status,github_comment,gitlab_status,gitlab_comment" doc:"Default http."`
	URL            *string                `json:"url,omitempty" doc:"Required for http and slack."`
	Method         *string                `json:"method,omitempty" doc:"POST (default), PUT or PATCH."`
	ContentType    *string                `json:"content_type,omitempty" enum:"application/json,application/x-www-form-urlencoded"`
	Headers        *map[string]string     `json:"headers,omitempty" doc:"Extra request headers."`
	Events         *[]string              `json:"events,omitempty" doc:"Event types or patterns (deploy.*, *). Default [\"*\"]."`
	Signature      *hookd.SignatureConfig `json:"signature,omitempty" doc:"How deliveries are signed. Default: the standard scheme."`
	Secret         *string                `json:"secret,omitempty" doc:"The signing secret; generated when absent. On update it replaces the secret at once (rotate keeps the old one for a while)."`
	MaxAttempts    *int                   `json:"max_attempts,omitempty"`
	TimeoutMS      *int                   `json:"timeout_ms,omitempty"`
	RateLimit      *float64               `json:"rate_limit,omitempty" doc:"Deliveries per second; 0 means no limit."`
	MaxConcurrency *int                   `json:"max_concurrency,omitempty"`
	Ordered        *bool                  `json:"ordered,omitempty" doc:"Deliver one at a time, in publish order."`
	Active         *bool                  `json:"active,omitempty" doc:"Default true. Setting it to true re-enables a disabled webhook."`
	Config         json.RawMessage        `json:"config,omitempty" openapi:"object" doc:"Settings of the kind."`
	Filter         json.RawMessage        `json:"filter,omitempty" openapi:"object" doc:"Conditions on the event, e.g. {\"field\": \"data.stage\", \"in\": [\"dev\", \"staging\"]}, combined with and/or/not; null removes the filter."`
	Template       *string                `json:"template,omitempty" doc:"A Go text/template rendering the body instead of the default envelope; empty removes it."`
	Metadata       *map[string]string     `json:"metadata,omitempty"`
}

// apply sets the fields of w present in req, and records in v what cannot be applied.
func (req *WebhookRequest) apply(w *hookd.Webhook, v *hookd.Validation) {
	set(&w.Name, req.Name)
	set(&w.Description, req.Description)
	set(&w.Kind, req.Kind)
	set(&w.URL, req.URL)
	set(&w.Method, req.Method)
	set(&w.ContentType, req.ContentType)
	set(&w.Headers, req.Headers)
	set(&w.Signature, req.Signature)
	set(&w.Secret, req.Secret)
	set(&w.MaxAttempts, req.MaxAttempts)
	set(&w.TimeoutMS, req.TimeoutMS)
	set(&w.RateLimit, req.RateLimit)
	set(&w.MaxConcurrency, req.MaxConcurrency)
	set(&w.Ordered, req.Ordered)
	set(&w.Metadata, req.Metadata)
	if req.Events != nil {
		if len(*req.Events) == 0 {
			v.Add("events", `must have at least one pattern; use ["*"] for every event`)
		}
		w.Events = *req.Events
	}
	if req.Active != nil {
		if *req.Active && !w.Active {
			w.DisabledReason = ""
		}
		w.Active = *req.Active
	}
	if req.Config != nil {
		w.Config = compactJSON(req.Config)
	}
	if req.Filter != nil {
		w.Filter = compactJSON(req.Filter)
	}
	set(&w.Template, req.Template)
}

// validateContent adds to v the errors of w's filter and template.
func validateContent(w *hookd.Webhook, v *hookd.Validation) {
	if _, err := template.ParseFilter(w.Filter); err != nil {
		addFieldErrors(v, "filter", err)
	}
	if w.Template != "" {
		if _, err := template.Compile(w.Template, template.Options{}); err != nil {
			addFieldErrors(v, "template", err)
		}
	}
}

// addFieldErrors adds the field errors of err to v, or err's message under field.
func addFieldErrors(v *hookd.Validation, field string, err error) {
	if e, ok := errors.AsType[*hookd.Error](err); ok && len(e.Fields) > 0 {
		v.Fields = append(v.Fields, e.Fields...)
		return
	}
	v.Add(field, "%s", hookd.ErrorMessage(err))
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// validate applies defaults to w and returns every invalid field, those of
// v included, and a url the SSRF policy would refuse to dial.
func (a *API) validate(w *hookd.Webhook, v *hookd.Validation) error {
	w.ApplyDefaults()
	validateContent(w, v)
	e, ok := errors.AsType[*hookd.Error](w.Validate())
	if ok {
		v.Fields = append(v.Fields, e.Fields...)
	}
	if a.kinds != nil && (!ok || !hasField(e, "kind")) {
		if err := a.kinds(w); err != nil {
			addFieldErrors(v, "config", err)
		}
	}
	if a.check != nil && w.Kind == hookd.KindHTTP && !strings.Contains(w.URL, "{{") && (!ok || !hasField(e, "url")) {
		if err := a.check(w.URL); err != nil {
			v.Add("url", "%s", strings.TrimPrefix(err.Error(), "netguard: "))
		}
	}
	return v.Err()
}

// hasField reports whether e names field among its invalid fields.
func hasField(e *hookd.Error, field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req WebhookRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	now := a.now()
	wh := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: r.PathValue("project"),
		Active: true, CreatedAt: now, UpdatedAt: now}
	var v hookd.Validation
	req.apply(wh, &v)
	if err := a.validate(wh, &v); err != nil {
		return err
	}
	if err := a.store.WebhookCreate(r.Context(), wh); err != nil {
		return err
	}
	return reply(w, http.StatusCreated, wh)
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	page := q.page()
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.WebhookList(r.Context(), r.PathValue("project"), page)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := a.store.WebhookGet(r.Context(), r.PathValue("project"), r.PathValue("webhook"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, wh)
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var req WebhookRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	wh, err := a.store.WebhookGet(r.Context(), r.PathValue("project"), r.PathValue("webhook"))
	if err != nil {
		return err
	}
	active, ordered := wh.Active, wh.Ordered
	var v hookd.Validation
	req.apply(wh, &v)
	if err := a.validate(wh, &v); err != nil {
		return err
	}
	wh.UpdatedAt = a.now()
	if err := a.store.WebhookUpdate(r.Context(), wh); err != nil {
		return err
	}
	if wh.Active != active || wh.Ordered != ordered {
		a.wake()
	}
	return reply(w, http.StatusOK, wh)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.WebhookDelete(r.Context(), r.PathValue("project"), r.PathValue("webhook"), a.now()); err != nil {
		return err
	}
	return reply(w, http.StatusNoContent, nil)
}

// Secret is a webhook's signing secret.
type Secret struct {
	Secret                  string     `json:"secret" doc:"The secret that signs every delivery."`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty" doc:"Until when the previous secret also signs deliveries."`
}

func secretOf(wh *hookd.Webhook, now time.Time) Secret {
	s := Secret{Secret: wh.Secret}
	if len(wh.Secrets(now)) > 1 {
		s.PreviousSecretExpiresAt = wh.PreviousSecretExpiresAt
	}
	return s
}

func (a *API) getWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	wh, err := a.store.WebhookGet(r.Context(), r.PathValue("project"), r.PathValue("webhook"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, secretOf(wh, a.now()))
}

// RotateRequest rotates a webhook's signing secret.
type RotateRequest struct {
	Secret             string `json:"secret,omitempty" doc:"The new secret; generated when absent."`
	GracePeriodSeconds *int   `json:"grace_period_seconds,omitempty" doc:"How long the previous secret keeps signing (default 86400, at most 30 days; 0 ends it at once)."`
}

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	var req RotateRequest
	if _, err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	grace := hookd.DefaultGracePeriod
	var v hookd.Validation
	if req.GracePeriodSeconds != nil {
		grace = time.Duration(*req.GracePeriodSeconds) * time.Second
		if grace < 0 || grace > hookd.MaxGracePeriod {
			v.Add("grace_period_seconds", "must be between 0 and %d", int(hookd.MaxGracePeriod/time.Second))
		}
	}
	wh, err := a.store.WebhookGet(r.Context(), r.PathValue("project"), r.PathValue("webhook"))
	if err != nil {
		return err
	}
	if req.Secret == "" {
		req.Secret = hookd.NewSigningSecret()
	} else if msg := hookd.ValidSecret(wh.Signature.Scheme, req.Secret); msg != "" {
		v.Add("secret", "%s", msg)
	}
	if err := v.Err(); err != nil {
		return err
	}
	now := a.now()
	rotate(wh, req.Secret, now, grace)
	if err := a.store.WebhookUpdate(r.Context(), wh); err != nil {
		return err
	}
	return reply(w, http.StatusOK, secretOf(wh, now))
}

// rotate makes secret the webhook's secret; the current one keeps signing
// for grace (a previous secret still in its grace period is dropped).
func rotate(wh *hookd.Webhook, secret string, now time.Time, grace time.Duration) {
	wh.PreviousSecret, wh.PreviousSecretExpiresAt = "", nil
	if grace > 0 && wh.Secret != "" {
		until := now.Add(grace)
		wh.PreviousSecret, wh.PreviousSecretExpiresAt = wh.Secret, &until
	}
	wh.Secret, wh.UpdatedAt = secret, now
}

// TestResult is the answer of the test route: the test delivery and its attempt.
type TestResult struct {
	Delivery *hookd.Delivery `json:"delivery"`
	Attempt  *hookd.Attempt  `json:"attempt"`
}

// TestEventType is the type of the events the test route sends.
const TestEventType = "webhook.test"

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request) error {
	if a.engine == nil {
		return hookd.Errorf(hookd.EUNAVAILABLE, "this server does not deliver webhooks")
	}
	ctx, project, id := r.Context(), r.PathValue("project"), r.PathValue("webhook")
	now := a.now()
	owner, until, _ := a.engine.Lease(now)
	if owner == "" {
		return hookd.Errorf(hookd.EUNAVAILABLE, "the dispatcher cannot take a test delivery now; try again")
	}
	wh, err := a.store.WebhookGet(ctx, project, id)
	if err != nil {
		return err
	}
	data := a.testData(ctx, wh)
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: project, Type: TestEventType,
		Data: data, Timestamp: now, CreatedAt: now}
	pctx, span := a.tracing.Start(r, ev)
	res, err := a.store.EventPublish(pctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Only: id,
		Trigger: hookd.TriggerTest, LeaseOwner: owner, LeaseUntil: until, LeaseMax: 1, Now: now})
	a.tracing.End(span, res, err)
	if err != nil {
		return err
	}
	if len(res.Deliveries) != 1 {
		return hookd.Errorf(hookd.EINTERNAL, "test publish made %d deliveries", len(res.Deliveries))
	}
	att, err := a.engine.Send(ctx, &hookd.Job{Delivery: res.Deliveries[0], Event: res.Event}, res.Webhooks[0])
	if err != nil {
		return err
	}
	d, err := a.store.DeliveryGet(ctx, project, res.Deliveries[0].ID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, TestResult{Delivery: d, Attempt: att})
}

// testData returns the data of a webhook.test event for w: the example of
// the first catalogue type w subscribes to that has one (so that templates
// and integrations reading event fields can be tried), with webhook_id and
// message added; without an example, just those two.
func (a *API) testData(ctx context.Context, w *hookd.Webhook) json.RawMessage {
	fields := map[string]any{}
	if ex := a.exampleFor(ctx, w); len(ex) > 0 {
		_ = json.Unmarshal(ex, &fields)
	}
	fields["webhook_id"] = w.ID
	fields["message"] = "This is a test delivery from hookd."
	data, _ := json.Marshal(fields)
	return data
}

// exampleFor returns the example of the first catalogue event type that w
// subscribes to and that has an object example, or nil.
func (a *API) exampleFor(ctx context.Context, w *hookd.Webhook) json.RawMessage {
	types, _, err := a.store.EventTypeList(ctx, w.ProjectID, hookd.Page{Limit: 100})
	if err != nil {
		return nil
	}
	for _, p := range w.Events {
		for _, t := range types {
			if len(t.Example) > 0 && t.Example[0] == '{' && hookd.MatchPattern(p, t.Name) {
				return t.Example
			}
		}
	}
	return nil
}

// wake tells the engine, if any, that deliveries became due.
func (a *API) wake() {
	if a.engine != nil {
		a.engine.Wake()
	}
}
