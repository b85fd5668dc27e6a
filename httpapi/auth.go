package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
)

// Key lookups are cached briefly so that a busy publisher does not read its
// key on every request. Revoking a key through this API drops it from the
// cache at once; a revocation made on another node takes effect here within
// keyCacheTTL.
const (
	keyCacheTTL  = 5 * time.Second
	keyCacheSize = 4096
)

// keyFrom returns the API key that authenticated the request of ctx.
func keyFrom(ctx context.Context) *hookd.APIKey {
	k, _ := ctx.Value(apiKeyKey).(*hookd.APIKey)
	return k
}

// authorize checks r's credentials against op's Auth and returns r with
// the key in its context.
//
//   - no, unknown or revoked key: 401 (EUNAUTHORIZED)
//   - admin route with a project key: 403 (EFORBIDDEN)
//   - project route with another project's key, or a missing project: 404
//     (ENOTFOUND), the same answer either way so keys learn nothing about
//     other tenants.
func (a *API) authorize(r *http.Request, rt route) (*http.Request, error) {
	op := rt.op
	if op.Auth == openapi.AuthNone {
		return r, nil
	}
	key, err := a.authenticate(r)
	if err != nil {
		return r, err
	}
	r = r.WithContext(context.WithValue(r.Context(), apiKeyKey, key))
	if op.Auth == openapi.AuthAdmin {
		if !key.Admin() {
			return r, hookd.Errorf(hookd.EFORBIDDEN, "this route needs the admin key")
		}
		return r, nil
	}
	return r, a.checkProject(r.Context(), key, r.PathValue("project"), rt.storeChecksProject)
}

// checkProject returns ENOTFOUND unless key may use project and, for an
// admin key, the project exists. skipExists skips the existence check for
// routes whose store call reports a missing project itself (publish).
func (a *API) checkProject(ctx context.Context, key *hookd.APIKey, project string, skipExists bool) error {
	if !key.Admin() {
		if key.ProjectID != project { // ids are not secrets: a plain compare is fine
			return hookd.Errorf(hookd.ENOTFOUND, "project %s not found", project)
		}
		return nil
	}
	if skipExists {
		return nil
	}
	if _, err := a.store.ProjectGet(ctx, project); err != nil {
		return err
	}
	return nil
}

// authenticate returns the unrevoked key of r's bearer token.
func (a *API) authenticate(r *http.Request) (*hookd.APIKey, error) {
	text, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "send an API key as Authorization: Bearer <key>")
	}
	hash := hookd.HashKey(text)
	now := a.now()
	key := a.keys.get(hash, now)
	if key == nil {
		var err error
		key, err = a.store.KeyByHash(r.Context(), hash)
		if hookd.ErrorCode(err) == hookd.ENOTFOUND {
			return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "the API key is not valid")
		}
		if err != nil {
			return nil, err
		}
		a.keys.put(hash, key, now)
	}
	if subtle.ConstantTimeCompare(key.Hash, hash) != 1 {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "the API key is not valid")
	}
	if key.RevokedAt != nil {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "the API key was revoked")
	}
	if key.Expired(now) {
		return nil, hookd.Errorf(hookd.EUNAUTHORIZED, "the API key has expired")
	}
	return key, nil
}

// bearer returns the token of an "Authorization: Bearer <token>" value.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// keyCache remembers looked-up keys by hash for a short time.
type keyCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[string]keyEntry
}

type keyEntry struct {
	key     *hookd.APIKey
	expires time.Time
}

func newKeyCache(ttl time.Duration, size int) *keyCache {
	return &keyCache{ttl: ttl, max: size, m: map[string]keyEntry{}}
}

// get returns the cached key of hash, or nil.
func (c *keyCache) get(hash []byte, now time.Time) *hookd.APIKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(hash)]
	if !ok || !now.Before(e.expires) {
		return nil
	}
	return e.key
}

// put caches key under hash, first making room when the cache is full.
func (c *keyCache) put(hash []byte, key *hookd.APIKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for h, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, h)
			}
		}
	}
	for h := range c.m { // still full: drop arbitrary entries
		if len(c.m) < c.max {
			break
		}
		delete(c.m, h)
	}
	c.m[string(hash)] = keyEntry{key: key, expires: now.Add(c.ttl)}
}

// drop forgets every cached key matching match.
func (c *keyCache) drop(match func(*hookd.APIKey) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if match(e.key) {
			delete(c.m, h)
		}
	}
}
