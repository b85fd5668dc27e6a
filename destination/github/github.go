// Package github sets GitHub commit statuses (kind "github_status") and
// keeps one comment per webhook on a pull request or issue up to date
// (kind "github_comment"), through GitHub's REST API.
//
// Every text setting is a template over the event. Config of github_status:
//
//	{
//	  "api_url":     "https://api.github.com",           // default; GitHub Enterprise: https://HOST/api/v3
//	  "repo":        "octo-org/app",                      // required: owner/name
//	  "token":       "{{secret \"github\" \"token\"}}",   // required: repo:status or statuses:write
//	  "sha":         "{{.data.commit_ref}}",              // default: data.sha, else data.commit_ref
//	  "state":       "{{.data.state}}",                   // default: data.state, else the event type
//	  "context":     "hookd/deploy",                      // default "hookd"
//	  "target_url":  "{{.data.deploy_ssl_url}}",          // optional
//	  "description": "Deploy {{.data.state}}"             // default: a one-line summary; cut to 140 characters
//	}
//
// The rendered state is mapped to GitHub's four states: pending, queued,
// created, waiting, scheduled, running, building, started, in_progress,
// processing, deploying → pending; success, succeeded, ready, passed, ok,
// completed, deployed, done, finished → success; failure, failed,
// rejected, warning → failure; error, errored, canceled, cancelled,
// aborted, skipped → error. When it is empty, the last word of the event
// type decides (deploy_building → pending, deploy_created (Netlify's
// success) and deploy.succeeded → success, deploy_failed → failure).
// Anything else fails the attempt (permanent).
//
// Config of github_comment: api_url, repo and token as above, and
//
//	{
//	  "number": "{{.data.review_id}}",   // PR or issue number; default: data.pr, else data.number, else data.review_id
//	  "body":   "Deploy preview ready: {{.data.deploy_ssl_url}}" // Markdown; default: a readable summary
//	}
//
// The comment is created once and then updated in place: its body ends with
// a hidden marker <!-- hookd:WEBHOOK_ID -->, looked for in the first 500
// comments of the issue.
//
// 401, 403, 404 and 422 are permanent, except a 403 or 429 that is a rate
// limit (x-ratelimit-remaining: 0, retried at x-ratelimit-reset, or a
// Retry-After); 408, 429 and 5xx are retried; redirects are not followed
// and are permanent (a renamed repository needs its new name).
package github

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// DefaultAPIURL is GitHub's REST API.
const DefaultAPIURL = "https://api.github.com"

// Defaults of the settings that have one.
const (
	DefaultSHA     = `{{default (get .data "commit_ref") (get .data "sha")}}`
	DefaultState   = `{{get .data "state"}}`
	DefaultContext = "hookd"
	DefaultNumber  = `{{or (get .data "pr") (get .data "number") (get .data "review_id")}}`
	// MaxDescription is GitHub's limit on a status description.
	MaxDescription = 140
)

// Options configure a Sender. The zero value is usable (public addresses
// only, no secrets). Its fields are Policy (netguard.Policy), Secrets
// (destination.Secrets), UserAgent ("" means "hookd/" + hookd.Version),
// Now (func() time.Time) and Logger (*slog.Logger).
type Options outbound.Options

// Common are the settings of both kinds.
type Common struct {
	APIURL string `json:"api_url,omitempty"`
	Repo   string `json:"repo"`
	Token  string `json:"token"`
}

// StatusConfig is the config of a github_status webhook.
type StatusConfig struct {
	Common
	SHA         string `json:"sha,omitempty"`
	State       string `json:"state,omitempty"`
	Context     string `json:"context,omitempty"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
}

// CommentConfig is the config of a github_comment webhook.
type CommentConfig struct {
	Common
	Number string `json:"number,omitempty"`
	Body   string `json:"body,omitempty"`
}

// Sender sends github_status and github_comment webhooks. It implements
// destination.Kind for both kinds and is safe for concurrent use.
type Sender struct {
	core *outbound.Core
}

var _ destination.Kind = (*Sender)(nil)

// New returns a Sender with its own connection pool.
func New(o Options) *Sender { return &Sender{core: outbound.NewCore(outbound.Options(o))} }

// Close closes idle connections.
func (s *Sender) Close() { s.core.Close() }

// Validate checks the config of a github_status or github_comment webhook.
func (s *Sender) Validate(w *hookd.Webhook) error {
	var v hookd.Validation
	outbound.CheckNoURL(&v, w, "set config.api_url for GitHub Enterprise")
	switch w.Kind {
	case hookd.KindGitHubStatus:
		var c StatusConfig
		if outbound.DecodeConfig(&v, w.Config, &c) {
			checkCommon(&v, &c.Common)
			for field, text := range map[string]string{"sha": c.SHA, "state": c.State, "context": c.Context,
				"target_url": c.TargetURL, "description": c.Description} {
				outbound.CheckTemplate(&v, "config."+field, text)
			}
			checkState(&v, c.State)
		}
	case hookd.KindGitHubComment:
		var c CommentConfig
		if outbound.DecodeConfig(&v, w.Config, &c) {
			checkCommon(&v, &c.Common)
			outbound.CheckTemplate(&v, "config.number", c.Number)
			outbound.CheckTemplate(&v, "config.body", c.Body)
		}
	default:
		v.Add("kind", "must be %s or %s", hookd.KindGitHubStatus, hookd.KindGitHubComment)
	}
	return v.Err()
}

func checkCommon(v *hookd.Validation, c *Common) {
	outbound.CheckAPIURL(v, c.APIURL)
	if c.Repo == "" {
		v.Add("config.repo", "is required (owner/name)")
	} else if !strings.Contains(c.Repo, "{{") && !repoRE.MatchString(c.Repo) {
		v.Add("config.repo", "must be owner/name")
	} else {
		outbound.CheckTemplate(v, "config.repo", c.Repo)
	}
	outbound.CheckToken(v, c.Token, "github")
}

// checkState refuses a literal state that maps to nothing.
func checkState(v *hookd.Validation, s string) {
	outbound.CheckLiteralState(v, s, githubState, "must be error, failure, pending or success (or a template)")
}

var repoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// githubState maps a normalized state to GitHub's.
func githubState(s string) string {
	switch s {
	case outbound.StatePending, outbound.StateRunning:
		return "pending"
	case outbound.StateSuccess:
		return "success"
	case outbound.StateFailure:
		return "failure"
	case outbound.StateError, outbound.StateCanceled:
		return "error"
	}
	return ""
}

// Send makes one attempt: a status, or the sticky comment.
func (s *Sender) Send(ctx context.Context, req *hookd.SendRequest) *hookd.SendResult {
	return s.core.SendKinds(ctx, req, "GitHub", map[string]outbound.KindFunc{
		hookd.KindGitHubStatus:  s.status,
		hookd.KindGitHubComment: s.comment,
	})
}

// repo is a rendered repository and its API base.
type repo struct {
	base   string // {api}/repos/{owner}/{name}
	header http.Header
}

// common renders the API URL, repository and token.
func common(r *outbound.Renderer, c *Common) (*repo, error) {
	api, err := r.Optional("config.api_url", c.APIURL, DefaultAPIURL)
	if err != nil {
		return nil, err
	}
	name, err := r.String("config.repo", c.Repo)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if !repoRE.MatchString(name) {
		return nil, outbound.Permanent("config.repo: " + strconv.Quote(outbound.Clip(name, 100)) + " is not owner/name")
	}
	token, err := outbound.RenderToken(r, c.Token)
	if err != nil {
		return nil, err
	}
	owner, repoName, _ := strings.Cut(name, "/")
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", "2022-11-28")
	base := strings.TrimRight(api, "/") + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repoName)
	return &repo{base: base, header: h}, nil
}
