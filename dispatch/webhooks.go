package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// indexTTL is how long a project's webhooks are reused before they are
// read again: a change to a webhook (its URL, a rotated secret) reaches
// the deliveries of other nodes within it.
const indexTTL = 500 * time.Millisecond

// webhooks caches each project's webhook index for the attempts.
type webhooks struct {
	store hookd.Store
	mu    sync.Mutex
	cache map[string]cachedIndex
}

type cachedIndex struct {
	ix *hookd.Index
	at time.Time
}

func newWebhooks(s hookd.Store) *webhooks {
	return &webhooks{store: s, cache: map[string]cachedIndex{}}
}

// get returns the newest known copy of a project's webhook: fresh when
// given (the copy read by the publish that made the delivery), else from a
// cached index younger than indexTTL, else read from the store. It returns an ENOTFOUND
// *hookd.Error when the webhook no longer exists, or the store's error.
func (c *webhooks) get(ctx context.Context, project, id string, fresh *hookd.Webhook) (*hookd.Webhook, error) {
	if fresh != nil {
		return fresh, nil
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.cache[project]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) > indexTTL {
		ix, err := c.store.WebhookIndex(ctx, project)
		if err != nil {
			return nil, err
		}
		e = cachedIndex{ix: ix, at: now}
		c.mu.Lock()
		if len(c.cache) > 10000 {
			clear(c.cache)
		}
		c.cache[project] = e
		c.mu.Unlock()
	}
	if w := e.ix.Webhook(id); w != nil {
		return w, nil
	}
	return nil, hookd.Errorf(hookd.ENOTFOUND, "webhook %s no longer exists", id)
}
