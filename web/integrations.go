package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// This file holds the Integrations section of a webhook's page: a Slack
// URL with its own Test button (the Bump.sh seed). The Slack integration
// of a webhook is a companion webhook of kind slack, subscribed to the same
// events with the same filter, and marked with slackOfKey in its metadata.
// Being an ordinary webhook, it has its own deliveries, retries and log;
// the dashboard keeps its events, filter and active state in step with the
// webhook it belongs to, and deletes it with that webhook.

// slackOfKey is the metadata key naming the webhook a Slack companion
// belongs to.
const slackOfKey = "hookd.slack_for"

// slackSection is the Integrations section of a webhook's page.
type slackSection struct {
	// Companion is the Slack webhook, nil when none is set up.
	Companion *hookd.Webhook
	// Of is the webhook this one is the Slack companion of, if it is one.
	Of *hookd.Webhook
	// URL is the Slack URL as stored or as typed.
	URL string
	// Error is the message beside the URL field; Other an error not tied to it.
	Error, Other string
	Test         *httpapi.TestResult
	TestError    string
}

// companionOf returns the Slack companion of the webhook id, or nil.
func (d *Dashboard) companionOf(ctx context.Context, project, id string) (*hookd.Webhook, error) {
	for cursor := ""; ; {
		list, next, err := d.store.WebhookList(ctx, project, hookd.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, w := range list {
			if w.Kind == hookd.KindSlack && w.Metadata[slackOfKey] == id {
				return w, nil
			}
		}
		if next == "" {
			return nil, nil
		}
		cursor = next
	}
}

// fillSlack completes the section of wh's page from the store.
func (d *Dashboard) fillSlack(ctx context.Context, wh *hookd.Webhook, s *slackSection) error {
	if of := wh.Metadata[slackOfKey]; of != "" && wh.Kind == hookd.KindSlack {
		parent, err := d.store.WebhookGet(ctx, wh.ProjectID, of)
		if err == nil {
			s.Of = parent
		}
		return nil
	}
	if s.Companion == nil {
		c, err := d.companionOf(ctx, wh.ProjectID, wh.ID)
		if err != nil {
			return err
		}
		s.Companion = c
		if c != nil && s.URL == "" && s.Error == "" {
			s.URL = c.URL
		}
	}
	return nil
}

// saveSlack creates or updates the companion of wh with url and returns
// it; a field error of the URL comes back as the section's Error.
func (d *Dashboard) saveSlack(r *http.Request, wh *hookd.Webhook, s *slackSection) *hookd.Webhook {
	p := projectFrom(r.Context())
	if s.URL == "" {
		s.Error = "enter the Slack incoming-webhook URL, like https://hooks.slack.com/services/T…/B…/…"
		return nil
	}
	if s.Companion != nil && s.Companion.URL == s.URL {
		return s.Companion
	}
	req := httpapi.WebhookRequest{URL: &s.URL}
	method, path := "PATCH", ""
	if s.Companion != nil {
		path = apiWebhookPath(p.ID, s.Companion.ID)
	} else {
		name, kind, events := wh.Name+" → Slack", hookd.KindSlack, wh.Events
		meta := map[string]string{slackOfKey: wh.ID}
		req = httpapi.WebhookRequest{Name: &name, Kind: &kind, URL: &s.URL, Events: &events, Filter: wh.Filter,
			Active: &wh.Active, Metadata: &meta}
		method, path = "POST", apiProjectPath(p, "/webhooks")
	}
	var out hookd.Webhook
	if err := d.call(r, method, path, req, &out); err != nil {
		if e, ok := err.(*hookd.Error); ok {
			for _, fe := range e.Fields {
				if fe.Field == "url" {
					s.Error = fe.Message
					return nil
				}
			}
		}
		s.Other = hookd.ErrorMessage(err)
		return nil
	}
	s.Companion = &out
	return &out
}

// slackRequest reads the webhook of the path and the posted URL.
func (d *Dashboard) slackRequest(w http.ResponseWriter, r *http.Request) (*hookd.Webhook, *slackSection, bool) {
	p := projectFrom(r.Context())
	wh, err := d.store.WebhookGet(r.Context(), p.ID, r.PathValue("webhook"))
	if err == nil && wh.Kind == hookd.KindSlack {
		err = hookd.Errorf(hookd.EINVALID, "this webhook posts to Slack itself: it has no Slack integration")
	}
	var s slackSection
	if err == nil {
		err = d.fillSlack(r.Context(), wh, &s)
	}
	if err != nil {
		d.fail(w, r, err)
		return nil, nil, false
	}
	s.URL = strings.TrimSpace(r.PostFormValue("slack_url"))
	return wh, &s, true
}

func (d *Dashboard) slackSave(w http.ResponseWriter, r *http.Request) {
	wh, s, ok := d.slackRequest(w, r)
	if !ok {
		return
	}
	if d.saveSlack(r, wh, s) == nil {
		d.showWebhook(w, r, http.StatusUnprocessableEntity, &webhookData{Webhook: wh, Slack: s})
		return
	}
	d.redirect(w, r, webhookPath(wh.ProjectID, wh.ID)+"#integrations",
		"Slack URL saved: events of this webhook are also posted to Slack.")
}

// slackTest saves the typed URL when it changed, then sends a test message
// through the companion and shows the result in the section.
func (d *Dashboard) slackTest(w http.ResponseWriter, r *http.Request) {
	wh, s, ok := d.slackRequest(w, r)
	if !ok {
		return
	}
	c := d.saveSlack(r, wh, s)
	if c == nil {
		d.showWebhook(w, r, http.StatusUnprocessableEntity, &webhookData{Webhook: wh, Slack: s})
		return
	}
	var res httpapi.TestResult
	if err := d.call(r, "POST", apiWebhookPath(c.ProjectID, c.ID)+"/test", nil, &res); err != nil {
		s.TestError = hookd.ErrorMessage(err)
	} else {
		s.Test = &res
	}
	d.showWebhook(w, r, http.StatusOK, &webhookData{Webhook: wh, Slack: s})
}

func (d *Dashboard) slackRemove(w http.ResponseWriter, r *http.Request) {
	wh, s, ok := d.slackRequest(w, r)
	if !ok {
		return
	}
	if s.Companion != nil {
		if err := d.call(r, "DELETE", apiWebhookPath(wh.ProjectID, s.Companion.ID), nil, nil); err != nil {
			d.fail(w, r, err)
			return
		}
	}
	d.redirect(w, r, webhookPath(wh.ProjectID, wh.ID)+"#integrations", "Slack integration removed.")
}

// syncSlack brings the companion of the webhook id (if any) in step with
// it: its events, filter and active state. Failures are logged: the
// webhook itself was saved.
func (d *Dashboard) syncSlack(r *http.Request, id string) {
	p := projectFrom(r.Context())
	wh, err := d.store.WebhookGet(r.Context(), p.ID, id)
	if err != nil {
		return
	}
	c, err := d.companionOf(r.Context(), p.ID, id)
	if err != nil || c == nil {
		return
	}
	filter := wh.Filter
	if len(filter) == 0 {
		filter = []byte("null")
	}
	req := httpapi.WebhookRequest{Events: &wh.Events, Filter: filter, Active: &wh.Active}
	if err := d.call(r, "PATCH", apiWebhookPath(p.ID, c.ID), req, nil); err != nil {
		d.log.Warn("web: keep the Slack integration in step", "webhook", id, "err", err)
	}
}

// deleteSlack deletes the companion of the webhook id, if any.
func (d *Dashboard) deleteSlack(r *http.Request, id string) error {
	p := projectFrom(r.Context())
	c, err := d.companionOf(r.Context(), p.ID, id)
	if err != nil || c == nil {
		return err
	}
	return d.call(r, "DELETE", apiWebhookPath(p.ID, c.ID), nil, nil)
}
