package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// recentDeliveries is how many deliveries a webhook's page shows.
const recentDeliveries = 10

// projectsData is the projects page.
type projectsData struct {
	Projects []*hookd.Project
	Next     string
	Name     string
	Error    string
}

func (d *Dashboard) projectList(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	if !s.key.Admin() {
		http.Redirect(w, r, "/projects/"+s.key.ProjectID, http.StatusSeeOther)
		return
	}
	d.renderProjects(w, r, http.StatusOK, &projectsData{})
}

func (d *Dashboard) renderProjects(w http.ResponseWriter, r *http.Request, status int, data *projectsData) {
	list, next, err := d.store.ProjectList(r.Context(), hookd.Page{Limit: 100, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	data.Projects, data.Next = list, next
	d.render(w, r, status, "projects", &page{Title: "Projects", Data: data})
}

func (d *Dashboard) projectCreate(w http.ResponseWriter, r *http.Request) {
	if !sessionFrom(r.Context()).key.Admin() {
		d.renderError(w, r, nil, http.StatusForbidden, "Only the admin key can create projects.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	var p hookd.Project
	err := d.call(r, "POST", "/v1/projects", httpapi.ProjectRequest{Name: &name}, &p)
	if err != nil {
		msg := hookd.ErrorMessage(err)
		if e, ok := err.(*hookd.Error); ok && len(e.Fields) > 0 {
			msg = e.Fields[0].Message
		}
		d.renderProjects(w, r, http.StatusUnprocessableEntity, &projectsData{Name: name, Error: msg})
		return
	}
	d.redirect(w, r, "/projects/"+p.ID, "Project created.")
}

// webhookRow is one line of the webhooks list.
type webhookRow struct {
	*hookd.Webhook
	Last  *hookd.Delivery
	Spark *sparkline
}

func (d *Dashboard) webhookList(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), projectFrom(r.Context())
	list, next, err := d.store.WebhookList(ctx, p.ID, hookd.Page{Limit: 100, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	rows := make([]webhookRow, len(list))
	for i, wh := range list {
		rows[i].Webhook = wh
		last, _, err := d.store.DeliveryList(ctx, hookd.DeliveryFilter{ProjectID: p.ID, WebhookID: wh.ID,
			Page: hookd.Page{Limit: 1}})
		if err != nil {
			d.fail(w, r, err)
			return
		}
		if len(last) > 0 {
			rows[i].Last = last[0]
			if rows[i].Spark, err = d.sparklineOf(ctx, p.ID, wh.ID); err != nil {
				d.fail(w, r, err)
				return
			}
		}
	}
	d.render(w, r, http.StatusOK, "webhooks", &page{Title: p.Name + " · Webhooks", Tab: "webhooks",
		Data: map[string]any{"Webhooks": rows, "Next": next}})
}

// catalogue returns the names of the project's event types in use.
func (d *Dashboard) catalogue(r *http.Request) ([]string, error) {
	types, _, err := d.store.EventTypeList(r.Context(), projectFrom(r.Context()).ID, hookd.Page{Limit: 100})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range types {
		if !t.Archived {
			names = append(names, t.Name)
		}
	}
	return names, nil
}

func (d *Dashboard) webhookNew(w http.ResponseWriter, r *http.Request) {
	cat, err := d.catalogue(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "webhook_form", &page{Title: "Create webhook", Tab: "webhooks",
		Data: newWebhookForm(cat)})
}

func (d *Dashboard) webhookCreate(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	cat, err := d.catalogue(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := newWebhookForm(cat)
	req := f.parse(r)
	if len(f.Errors) == 0 {
		var wh hookd.Webhook
		if err = d.call(r, "POST", "/v1/projects/"+p.ID+"/webhooks", req, &wh); err == nil {
			d.redirect(w, r, webhookPath(p.ID, wh.ID), "Webhook created. Its secret token is below.")
			return
		}
		f.setErrors(err)
	}
	d.render(w, r, http.StatusUnprocessableEntity, "webhook_form", &page{Title: "Create webhook", Tab: "webhooks", Data: f})
}

func webhookPath(project, webhook string) string {
	return "/projects/" + project + "/webhooks/" + webhook
}

func apiWebhookPath(project, webhook string) string {
	return "/v1/projects/" + url.PathEscape(project) + "/webhooks/" + url.PathEscape(webhook)
}

// webhookData is a webhook's page.
type webhookData struct {
	Webhook    *hookd.Webhook
	Form       *webhookForm
	Deliveries []*hookd.Delivery
	// Secret is shown only after Reveal or Rotate.
	Secret        *httpapi.Secret
	Test          *httpapi.TestResult
	TestError     string
	SettingsSaved bool
	// Flash is a message shown at the top of this very response.
	Flash string
	// Slack is the Integrations section.
	Slack *slackSection
}

// Disabled reports whether the webhook is disabled.
func (w *webhookData) Disabled() bool { return !w.Webhook.Active }

// showWebhook renders a webhook's page with what data already holds.
func (d *Dashboard) showWebhook(w http.ResponseWriter, r *http.Request, status int, data *webhookData) {
	ctx, p := r.Context(), projectFrom(r.Context())
	id := r.PathValue("webhook")
	if data.Webhook == nil {
		wh, err := d.store.WebhookGet(ctx, p.ID, id)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		data.Webhook = wh
	}
	if data.Form == nil {
		cat, err := d.catalogue(r)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		data.Form = formOf(data.Webhook, cat)
	}
	if data.Slack == nil {
		data.Slack = &slackSection{}
	}
	if err := d.fillSlack(ctx, data.Webhook, data.Slack); err != nil {
		d.fail(w, r, err)
		return
	}
	list, _, err := d.store.DeliveryList(ctx, hookd.DeliveryFilter{ProjectID: p.ID, WebhookID: id,
		Page: hookd.Page{Limit: recentDeliveries}})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	data.Deliveries = list
	d.render(w, r, status, "webhook", &page{Title: data.Webhook.Name, Tab: "webhooks", Data: data, Flash: data.Flash})
}

func (d *Dashboard) webhookShow(w http.ResponseWriter, r *http.Request) {
	d.showWebhook(w, r, http.StatusOK, &webhookData{})
}

func (d *Dashboard) webhookUpdate(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("webhook")
	wh, err := d.store.WebhookGet(r.Context(), p.ID, id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	cat, err := d.catalogue(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := formOf(wh, cat)
	req := f.parse(r)
	if len(f.Errors) == 0 {
		if err = d.call(r, "PATCH", apiWebhookPath(p.ID, id), req, nil); err == nil {
			d.syncSlack(r, id)
			d.redirect(w, r, webhookPath(p.ID, id), "Settings saved.")
			return
		}
		f.setErrors(err)
	}
	d.showWebhook(w, r, http.StatusUnprocessableEntity, &webhookData{Webhook: wh, Form: f})
}

func (d *Dashboard) secretReveal(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("webhook")
	var sec httpapi.Secret
	if err := d.call(r, "GET", apiWebhookPath(p.ID, id)+"/secret", nil, &sec); err != nil {
		d.fail(w, r, err)
		return
	}
	d.showWebhook(w, r, http.StatusOK, &webhookData{Secret: &sec})
}

// graceChoices are the grace periods offered when rotating, in seconds.
var graceChoices = map[string]bool{"0": true, "3600": true, "86400": true, "604800": true}

func (d *Dashboard) secretRotate(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("webhook")
	g := r.PostFormValue("grace")
	if !graceChoices[g] {
		g = "86400"
	}
	grace, _ := strconv.Atoi(g)
	var sec httpapi.Secret
	err := d.call(r, "POST", apiWebhookPath(p.ID, id)+"/secret/rotate",
		httpapi.RotateRequest{GracePeriodSeconds: &grace}, &sec)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	msg := "Secret rotated. The previous secret stopped signing at once."
	if sec.PreviousSecretExpiresAt != nil {
		msg = "Secret rotated. The previous secret also signs deliveries until " +
			sec.PreviousSecretExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + "."
	}
	d.showWebhook(w, r, http.StatusOK, &webhookData{Secret: &sec, Flash: msg})
}

func (d *Dashboard) webhookTest(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("webhook")
	data := &webhookData{}
	var res httpapi.TestResult
	if err := d.call(r, "POST", apiWebhookPath(p.ID, id)+"/test", nil, &res); err != nil {
		if code := hookd.ErrorCode(err); code == hookd.ENOTFOUND {
			d.fail(w, r, err)
			return
		}
		data.TestError = hookd.ErrorMessage(err)
	} else {
		data.Test = &res
	}
	d.showWebhook(w, r, http.StatusOK, data)
}

func (d *Dashboard) webhookEnable(w http.ResponseWriter, r *http.Request)  { d.setActive(w, r, true) }
func (d *Dashboard) webhookDisable(w http.ResponseWriter, r *http.Request) { d.setActive(w, r, false) }

func (d *Dashboard) setActive(w http.ResponseWriter, r *http.Request, active bool) {
	p, id := projectFrom(r.Context()), r.PathValue("webhook")
	if err := d.call(r, "PATCH", apiWebhookPath(p.ID, id), httpapi.WebhookRequest{Active: &active}, nil); err != nil {
		d.fail(w, r, err)
		return
	}
	d.syncSlack(r, id)
	msg := "Webhook disabled: events published meanwhile are not sent to it; deliveries already pending wait until it is enabled again."
	if active {
		msg = "Webhook enabled."
	}
	d.redirect(w, r, webhookPath(p.ID, id), msg)
}

func (d *Dashboard) webhookDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	d.renderDelete(w, r, http.StatusOK, "")
}

func (d *Dashboard) renderDelete(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	p := projectFrom(r.Context())
	wh, err := d.store.WebhookGet(r.Context(), p.ID, r.PathValue("webhook"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, status, "delete", &page{Title: "Delete " + wh.Name, Tab: "webhooks",
		Data: map[string]any{"Webhook": wh, "Error": errMsg}})
}

func (d *Dashboard) webhookDelete(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("webhook")
	wh, err := d.store.WebhookGet(r.Context(), p.ID, id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != strings.TrimSpace(wh.Name) {
		d.renderDelete(w, r, http.StatusUnprocessableEntity, "Type the webhook's name exactly to confirm.")
		return
	}
	if err := d.deleteSlack(r, id); err != nil {
		d.fail(w, r, err)
		return
	}
	if err := d.call(r, "DELETE", apiWebhookPath(p.ID, id), nil, nil); err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/projects/"+p.ID, "Webhook "+wh.Name+" deleted.")
}

func (d *Dashboard) deliveryShow(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), projectFrom(r.Context())
	dl, err := d.store.DeliveryGet(ctx, p.ID, r.PathValue("delivery"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if dl.Attempts, err = d.store.AttemptList(ctx, p.ID, dl.ID); err != nil {
		d.fail(w, r, err)
		return
	}
	// Newest attempt first: that is the one people look for.
	for i, j := 0, len(dl.Attempts)-1; i < j; i, j = i+1, j-1 {
		dl.Attempts[i], dl.Attempts[j] = dl.Attempts[j], dl.Attempts[i]
	}
	wh, _ := d.store.WebhookGet(ctx, p.ID, dl.WebhookID) // nil when deleted: the log outlives it
	d.render(w, r, http.StatusOK, "delivery", &page{Title: "Delivery " + dl.ID, Tab: "webhooks",
		Data: map[string]any{"Delivery": dl, "Webhook": wh}})
}

func (d *Dashboard) deliveryRetry(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("delivery")
	err := d.call(r, "POST", "/v1/projects/"+url.PathEscape(p.ID)+"/deliveries/"+url.PathEscape(id)+"/retry", nil, nil)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, "/projects/"+p.ID+"/deliveries/"+id, "Redelivery queued: it is sent now.")
}

func (d *Dashboard) eventList(w http.ResponseWriter, r *http.Request) {
	p, q := projectFrom(r.Context()), r.URL.Query()
	typ, search := strings.TrimSpace(q.Get("type")), strings.TrimSpace(q.Get("id"))
	if search != "" {
		http.Redirect(w, r, "/projects/"+p.ID+"/events/"+url.PathEscape(search), http.StatusSeeOther)
		return
	}
	var typeErr string
	if typ != "" && hookd.ValidPattern(typ) != "" {
		typeErr = "Type " + hookd.ValidPattern(typ) + "."
		typ = ""
	}
	list, next, err := d.store.EventList(r.Context(), hookd.EventFilter{ProjectID: p.ID, Type: typ,
		Page: hookd.Page{Limit: 50, Cursor: q.Get("cursor")}})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "events", &page{Title: p.Name + " · Events", Tab: "events",
		Data: map[string]any{"Events": list, "Next": next, "Type": q.Get("type"), "TypeError": typeErr}})
}

func (d *Dashboard) eventShow(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), projectFrom(r.Context())
	ev, err := d.store.EventGet(ctx, p.ID, r.PathValue("event"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	list, _, err := d.store.DeliveryList(ctx, hookd.DeliveryFilter{ProjectID: p.ID, EventID: ev.ID,
		Page: hookd.Page{Limit: 100}})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, dl := range list {
		if _, ok := names[dl.WebhookID]; !ok {
			if wh, err := d.store.WebhookGet(ctx, p.ID, dl.WebhookID); err == nil {
				names[dl.WebhookID] = wh.Name
			}
		}
	}
	d.render(w, r, http.StatusOK, "event", &page{Title: "Event " + ev.ID, Tab: "events",
		Data: map[string]any{"Event": ev, "Deliveries": list, "Names": names, "Now": time.Now()}})
}
