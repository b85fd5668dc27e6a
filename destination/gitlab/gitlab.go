// Package gitlab sets GitLab commit statuses (kind "gitlab_status") and
// keeps one note per webhook on a merge request up to date (kind
// "gitlab_comment"), through GitLab's REST API v4.
//
// Every text setting is a template over the event. Config of gitlab_status:
//
//	{
//	  "api_url":     "https://gitlab.com/api/v4",              // default; self-managed: https://HOST/api/v4
//	  "project":     "group/app",                               // required: numeric id or full path
//	  "token":       "{{secret \"gitlab\" \"token\"}}",         // required: a token with the api scope (PRIVATE-TOKEN)
//	  "sha":         "{{.data.commit_ref}}",                    // default: data.sha, else data.commit_ref
//	  "state":       "{{.data.state}}",                         // default: data.state, else the event type
//	  "name":        "hookd/deploy",                            // default "hookd" ("context" is accepted too)
//	  "ref":         "{{.data.branch}}",                        // optional: branch or tag
//	  "target_url":  "{{.data.deploy_ssl_url}}",                // optional
//	  "description": "Deploy {{.data.state}}"                   // default: a one-line summary; cut to 255 characters
//	}
//
// The rendered state is mapped to GitLab's states: pending, queued,
// created, waiting, scheduled → pending; running, building, started,
// in_progress, processing, deploying → running; success, succeeded,
// ready, passed, ok, completed, deployed, done → success; failure, failed,
// rejected, error, errored → failed; canceled, cancelled, aborted, skipped
// → canceled. When it is empty, the last word of the event type decides
// (deploy_building → running, deploy_created and deploy.succeeded →
// success, deploy_failed → failed).
//
// GitLab refuses to set the state a status already has (400 "Cannot
// transition status via :run from :running"); hookd counts that answer as
// a success, because the commit shows the wanted state.
//
// Config of gitlab_comment: api_url, project and token as above, and
//
//	{
//	  "mr":   "{{.data.review_id}}",  // merge request iid; default: data.mr, else data.merge_request_iid, else data.iid, else data.review_id
//	  "body": "Deploy preview ready: {{.data.deploy_ssl_url}}"  // Markdown; default: a readable summary
//	}
//
// The note is created once and then updated in place: its body ends with a
// hidden marker <!-- hookd:WEBHOOK_ID -->, looked for in the first 500
// notes of the merge request.
//
// 401, 403, 404 and other 4xx are permanent; 408, 429 (with Retry-After)
// and 5xx are retried; redirects are not followed and are permanent.
package gitlab

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/destination/internal/outbound"
	"github.com/hookd/hookd/netguard"
)

// DefaultAPIURL is gitlab.com's REST API v4.
const DefaultAPIURL = "https://gitlab.com/api/v4"

// Defaults of the settings that have one.
const (
	DefaultSHA   = `{{default (get .data "commit_ref") (get .data "sha")}}`
	DefaultState = `{{get .data "state"}}`
	DefaultName  = "hookd"
	DefaultMR    = `{{or (get .data "mr") (get .data "merge_request_iid") (get .data "iid") (get .data "review_id")}}`
	// MaxDescription bounds a status description.
	MaxDescription = 255
	// MaxNoteBody bounds a note body (GitLab's limit is 1,000,000 characters).
	MaxNoteBody = 1000000
)

// Options configure a Sender. The zero value is usable (public addresses
// only, no secrets).
type Options struct {
	Policy    netguard.Policy
	Secrets   destination.Secrets
	UserAgent string // "" means "hookd/" + hookd.Version
	Now       func() time.Time
	Logger    *slog.Logger
}

// Common are the settings of both kinds.
type Common struct {
	APIURL  string `json:"api_url,omitempty"`
	Project string `json:"project"`
	Token   string `json:"token"`
}

// StatusConfig is the config of a gitlab_status webhook.
type StatusConfig struct {
	Common
	SHA         string `json:"sha,omitempty"`
	State       string `json:"state,omitempty"`
	Name        string `json:"name,omitempty"`
	Context     string `json:"context,omitempty"` // an alias of Name
	Ref         string `json:"ref,omitempty"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
}

// CommentConfig is the config of a gitlab_comment webhook.
type CommentConfig struct {
	Common
	MR   string `json:"mr,omitempty"`
	Body string `json:"body,omitempty"`
}

// Sender sends gitlab_status and gitlab_comment webhooks. It implements
// destination.Kind for both kinds and is safe for concurrent use.
type Sender struct {
	client  *outbound.Client
	tmpl    outbound.Templates
	secrets destination.Secrets
	now     func() time.Time
	log     *slog.Logger
}

var _ destination.Kind = (*Sender)(nil)

// New returns a Sender with its own connection pool.
func New(o Options) *Sender {
	c := outbound.NewClient(o.Policy, o.UserAgent, o.Now)
	return &Sender{client: c, secrets: o.Secrets, now: c.Now, log: o.Logger}
}

// Close closes idle connections.
func (s *Sender) Close() { s.client.Close() }

// Validate checks the config of a gitlab_status or gitlab_comment webhook.
func (s *Sender) Validate(w *hookd.Webhook) error {
	var v hookd.Validation
	if w.URL != "" {
		v.Add("url", "must be empty for kind %s (set config.api_url for a self-managed GitLab)", w.Kind)
	}
	switch w.Kind {
	case hookd.KindGitLabStatus:
		var c StatusConfig
		if outbound.DecodeConfig(&v, w.Config, &c) {
			checkCommon(&v, &c.Common)
			for field, text := range map[string]string{"sha": c.SHA, "state": c.State, "name": c.Name, "context": c.Context,
				"ref": c.Ref, "target_url": c.TargetURL, "description": c.Description} {
				outbound.CheckTemplate(&v, "config."+field, text)
			}
			if c.Name != "" && c.Context != "" {
				v.Add("config.context", "is another name of config.name: set only one")
			}
			if c.State != "" && !strings.Contains(c.State, "{{") && gitlabState(outbound.NormalizeState(c.State)) == "" {
				v.Add("config.state", "must be pending, running, success, failed or canceled (or a template)")
			}
		}
	case hookd.KindGitLabComment:
		var c CommentConfig
		if outbound.DecodeConfig(&v, w.Config, &c) {
			checkCommon(&v, &c.Common)
			outbound.CheckTemplate(&v, "config.mr", c.MR)
			outbound.CheckTemplate(&v, "config.body", c.Body)
		}
	default:
		v.Add("kind", "must be %s or %s", hookd.KindGitLabStatus, hookd.KindGitLabComment)
	}
	return v.Err()
}

func checkCommon(v *hookd.Validation, c *Common) {
	if c.APIURL != "" {
		outbound.CheckURLTemplate(v, "config.api_url", c.APIURL, false)
	}
	if strings.TrimSpace(c.Project) == "" {
		v.Add("config.project", "is required (a numeric id or a path like group/app)")
	} else {
		outbound.CheckTemplate(v, "config.project", c.Project)
	}
	if c.Token == "" {
		v.Add("config.token", `is required (for example {{secret "gitlab" "token"}})`)
	} else {
		outbound.CheckTemplate(v, "config.token", c.Token)
	}
}

// gitlabState maps a normalized state to GitLab's.
func gitlabState(s string) string {
	switch s {
	case outbound.StatePending, outbound.StateRunning, outbound.StateSuccess, outbound.StateCanceled:
		return s
	case outbound.StateFailure, outbound.StateError:
		return "failed"
	}
	return ""
}

// Send makes one attempt: a status, or the sticky note.
func (s *Sender) Send(ctx context.Context, req *hookd.SendRequest) *hookd.SendResult {
	a := outbound.Begin(req, s.now())
	if req == nil || req.Webhook == nil || req.Event == nil {
		return a.Fail(hookd.VerdictPermanent, "nothing to send: the request has no webhook or no event")
	}
	w := req.Webhook
	ctx, cancel := a.WithTimeout(ctx, w)
	defer cancel()
	r := outbound.NewRenderer(ctx, &s.tmpl, req.Event, destination.ProjectSecrets(s.secrets, w.ProjectID), a)
	var err error
	switch w.Kind {
	case hookd.KindGitLabStatus:
		err = s.status(r, w, req.Event)
	case hookd.KindGitLabComment:
		err = s.note(r, w, req.Event)
	default:
		err = outbound.Permanent("kind " + strconv.Quote(w.Kind) + " is not supported by the GitLab sender")
	}
	var res *hookd.SendResult
	if err != nil {
		res = a.FailErr(err)
	} else {
		res = a.Succeed()
	}
	outbound.Log(ctx, s.log, w.Kind, w, res)
	return res
}

// project is a rendered project and its API base.
type project struct {
	base   string // {api}/projects/{id}
	header http.Header
}

// common renders the API URL, project and token.
func common(r *outbound.Renderer, c *Common) (*project, error) {
	api, err := r.Optional("config.api_url", c.APIURL, DefaultAPIURL)
	if err != nil {
		return nil, err
	}
	id, err := r.String("config.project", c.Project)
	if err != nil {
		return nil, err
	}
	id = strings.Trim(strings.TrimSpace(id), "/")
	if outbound.NoValue(id) {
		return nil, outbound.Permanent("config.project: rendered empty")
	}
	token, err := r.String("config.token", c.Token)
	if err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	r.A.Hide(token)
	if outbound.NoValue(token) {
		return nil, outbound.Permanent("config.token: rendered empty")
	}
	h := http.Header{}
	h.Set("PRIVATE-TOKEN", token)
	h.Set("Accept", "application/json")
	return &project{base: strings.TrimRight(api, "/") + "/projects/" + url.PathEscape(id), header: h}, nil
}

// decode reads the config of w into v.
func decode(w *hookd.Webhook, v any) error {
	if len(w.Config) == 0 {
		return nil
	}
	if err := json.Unmarshal(w.Config, v); err != nil {
		return outbound.Permanent("invalid config: " + err.Error())
	}
	return nil
}

// check judges a GitLab API answer: nil for 2xx, else a *outbound.Failure
// with GitLab's message.
func check(resp *outbound.Response, now time.Time) error {
	v, after := outbound.APIVerdict(resp, now)
	if v == hookd.VerdictSuccess {
		return nil
	}
	if resp.Status == http.StatusTooManyRequests && after == 0 {
		if reset, err := strconv.ParseInt(resp.Header.Get("Ratelimit-Reset"), 10, 64); err == nil {
			after = max(time.Unix(reset, 0).Sub(now), 0)
		}
	}
	msg := "GitLab answered " + strconv.Itoa(resp.Status)
	if m := outbound.APIMessage(resp.Body); m != "" {
		msg += ": " + m
	}
	switch {
	case resp.Status == http.StatusUnauthorized:
		msg += " (check the token)"
	case resp.Status == http.StatusNotFound:
		msg += " (check the project, the merge request and the token's access)"
	case resp.Status >= 300 && resp.Status < 400:
		msg += " (redirect not followed: has the project moved?)"
	}
	return &outbound.Failure{Verdict: v, Msg: msg, RetryAfter: after}
}
