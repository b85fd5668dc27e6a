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
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/destination/internal/outbound"
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
// only, no secrets). Its fields are Policy (netguard.Policy), Secrets
// (destination.Secrets), UserAgent ("" means "hookd/" + hookd.Version),
// Now (func() time.Time) and Logger (*slog.Logger).
type Options outbound.Options

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
	core *outbound.Core
}

var _ destination.Kind = (*Sender)(nil)

// New returns a Sender with its own connection pool.
func New(o Options) *Sender { return &Sender{core: outbound.NewCore(outbound.Options(o))} }

// Close closes idle connections.
func (s *Sender) Close() { s.core.Close() }

// Validate checks the config of a gitlab_status or gitlab_comment webhook.
func (s *Sender) Validate(w *hookd.Webhook) error {
	var v hookd.Validation
	outbound.CheckNoURL(&v, w, "set config.api_url for a self-managed GitLab")
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
			outbound.CheckLiteralState(&v, c.State, gitlabState, "must be pending, running, success, failed or canceled (or a template)")
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
	outbound.CheckAPIURL(v, c.APIURL)
	if strings.TrimSpace(c.Project) == "" {
		v.Add("config.project", "is required (a numeric id or a path like group/app)")
	} else {
		outbound.CheckTemplate(v, "config.project", c.Project)
	}
	outbound.CheckToken(v, c.Token, "gitlab")
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
	return s.core.SendKinds(ctx, req, "GitLab", map[string]outbound.KindFunc{
		hookd.KindGitLabStatus:  s.status,
		hookd.KindGitLabComment: s.note,
	})
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
	token, err := outbound.RenderToken(r, c.Token)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("PRIVATE-TOKEN", token)
	h.Set("Accept", "application/json")
	return &project{base: strings.TrimRight(api, "/") + "/projects/" + url.PathEscape(id), header: h}, nil
}

// api is GitLab's REST API for outbound.API.CheckAnswer.
var api = outbound.API{Name: "GitLab", Thing: "project", Target: "the merge request",
	Limit: func(resp *outbound.Response, now time.Time, v hookd.Verdict, after time.Duration) (hookd.Verdict, time.Duration, bool) {
		if resp.Status == http.StatusTooManyRequests && after == 0 {
			if reset, err := strconv.ParseInt(resp.Header.Get("Ratelimit-Reset"), 10, 64); err == nil {
				after = max(time.Unix(reset, 0).Sub(now), 0)
			}
		}
		return v, after, false
	}}

// check judges a GitLab API answer: nil for 2xx, else a *outbound.Failure
// with GitLab's message.
func (s *Sender) check(resp *outbound.Response) error { return api.CheckAnswer(resp, s.core.Now()) }
