package server

import (
	"context"

	"go.opentelemetry.io/otel/propagation"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/destination/email"
	"github.com/hookd/hookd/destination/github"
	"github.com/hookd/hookd/destination/gitlab"
	"github.com/hookd/hookd/destination/httpdest"
	"github.com/hookd/hookd/destination/slack"
)

// secretSource adapts Server.secretValue to destination.Secrets.
type secretSource func(ctx context.Context, projectID, name, key string) (string, error)

func (f secretSource) Secret(ctx context.Context, projectID, name, key string) (string, error) {
	return f(ctx, projectID, name, key)
}

// senders builds the sender of every kind and the router between them, and
// returns the functions that close their connection pools.
func (s *Server) senders() (*destination.Router, []func()) {
	secrets := secretSource(s.secretValue)
	ho := httpdest.Options{Policy: s.c.Policy, Logger: s.log, Secrets: s.secretValue}
	if s.c.PropagateTrace {
		ho.Propagator = propagation.TraceContext{}
	}
	h := httpdest.New(ho)
	sl := slack.New(slack.Options{Policy: s.c.Policy, Secrets: secrets, Logger: s.log})
	em := email.New(email.Options{Policy: s.c.Policy, Secrets: secrets, Logger: s.log})
	gh := github.New(github.Options{Policy: s.c.Policy, Secrets: secrets, Logger: s.log})
	gl := gitlab.New(gitlab.Options{Policy: s.c.Policy, Secrets: secrets, Logger: s.log})
	r := destination.NewRouter(map[string]destination.Kind{
		hookd.KindHTTP:          destination.WithoutConfig(h),
		hookd.KindSlack:         sl,
		hookd.KindEmail:         em,
		hookd.KindGitHubStatus:  gh,
		hookd.KindGitHubComment: gh,
		hookd.KindGitLabStatus:  gl,
		hookd.KindGitLabComment: gl,
	})
	return r, []func(){h.Close, sl.Close, gh.Close, gl.Close}
}

// secretValue returns the value of key in a project's named secret.
func (s *Server) secretValue(ctx context.Context, projectID, name, key string) (string, error) {
	return hookd.SecretValue(ctx, s.store, projectID, name, key)
}
