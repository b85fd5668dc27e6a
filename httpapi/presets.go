package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
	"github.com/hookd/hookd/template"
)

// PresetResult says which event types an import added and which existed.
type PresetResult struct {
	Created  []string `json:"created"`
	Existing []string `json:"existing"`
}

// PreviewRequest renders a template against an event: a past one (event_id),
// a sample (event), or the example of a catalogue type (event_type).
type PreviewRequest struct {
	Template  string        `json:"template"`
	EventID   string        `json:"event_id,omitempty"`
	EventType string        `json:"event_type,omitempty" doc:"Render against this catalogue type's example."`
	Event     *PreviewEvent `json:"event,omitempty"`
}

// PreviewEvent is a sample event for a preview.
type PreviewEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data" openapi:"object"`
}

// PreviewResult is a rendered template. Secret values it used are shown as ***.
type PreviewResult struct {
	Body string `json:"body"`
}

func (a *API) contentRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "POST", Path: pathEventTypes + "/presets/{preset}", ID: "importEventTypePreset",
			Tag: tagEventTypes, Auth: openapi.AuthProject, Summary: "Add a sender's event catalogue",
			Description: "Adds the event types of a preset (netlify, bump) to the catalogue; types that exist are kept.",
			Response:    PresetResult{}}, handler: a.importPreset},
		{op: openapi.Operation{Method: "POST", Path: pathProject + "/templates/preview", ID: "previewTemplate",
			Tag: tagWebhooks, Auth: openapi.AuthProject, Summary: "Render a payload template",
			Description: "Renders a template against a past event, a sample event or a catalogue type's example. " +
				"Secret values are shown as ***.",
			Request: PreviewRequest{}, Response: PreviewResult{}}, handler: a.previewTemplate},
	}
}

func (a *API) importPreset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("preset")
	types, ok := hookd.EventTypePresets[name]
	if !ok {
		names := make([]string, 0, len(hookd.EventTypePresets))
		for n := range hookd.EventTypePresets {
			names = append(names, n)
		}
		slices.Sort(names)
		return hookd.Errorf(hookd.ENOTFOUND, "no preset %q; presets are %s", name, strings.Join(names, ", "))
	}
	res := PresetResult{Created: []string{}, Existing: []string{}}
	now := a.now()
	for _, t := range types {
		t.ProjectID, t.CreatedAt, t.UpdatedAt = r.PathValue("project"), now, now
		err := a.store.EventTypeCreate(r.Context(), &t)
		switch {
		case err == nil:
			res.Created = append(res.Created, t.Name)
		case hookd.ErrorCode(err) == hookd.ECONFLICT:
			res.Existing = append(res.Existing, t.Name)
		default:
			return err
		}
	}
	return reply(w, http.StatusOK, res)
}

func (a *API) previewTemplate(w http.ResponseWriter, r *http.Request) error {
	var req PreviewRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	project := r.PathValue("project")
	t, err := template.Compile(req.Template, template.Options{})
	if err != nil {
		return asFieldError("template", err)
	}
	ev, err := a.previewEvent(r.Context(), project, &req)
	if err != nil {
		return err
	}
	out, err := t.Render(r.Context(), ev, storeSecrets{a.store, project})
	if err != nil {
		return asFieldError("template", err)
	}
	return reply(w, http.StatusOK, PreviewResult{Body: template.Redact(string(out.Body), out.Secrets)})
}

// previewEvent returns the event a preview renders against.
func (a *API) previewEvent(ctx context.Context, project string, req *PreviewRequest) (*hookd.Event, error) {
	now := a.now()
	ev := &hookd.Event{ID: "evt_preview", ProjectID: project, Timestamp: now, CreatedAt: now}
	switch {
	case req.EventID != "":
		return a.store.EventGet(ctx, project, req.EventID)
	case req.Event != nil:
		ev.Type, ev.Data = req.Event.Type, req.Event.Data
		if err := ev.Validate(); err != nil {
			return nil, err
		}
	case req.EventType != "":
		et, err := a.store.EventTypeGet(ctx, project, req.EventType)
		if err != nil {
			return nil, err
		}
		ev.Type, ev.Data = et.Name, et.Example
		if len(ev.Data) == 0 {
			ev.Data = json.RawMessage(`{}`)
		}
	default:
		var v hookd.Validation
		v.Add("event", "give event_id, event or event_type to render against")
		return nil, v.Err()
	}
	return ev, nil
}

// asFieldError returns err as an EINVALID error on field.
func asFieldError(field string, err error) error {
	var v hookd.Validation
	addFieldErrors(&v, field, err)
	return v.Err()
}

// storeSecrets resolves a project's named secrets for a template.
type storeSecrets struct {
	store   hookd.Store
	project string
}

func (s storeSecrets) Secret(ctx context.Context, name, key string) (string, error) {
	return hookd.SecretValue(ctx, s.store, s.project, name, key)
}
