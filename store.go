package hookd

import (
	"context"
	"encoding/base64"
	"strconv"
	"time"
)

// Store keeps everything hookd knows. The sqlite and postgres packages
// implement it, and storetest checks that both behave the same.
//
// Every method returns an *Error with ENOTFOUND when the object it names does
// not exist (or belongs to another project), ECONFLICT when a unique name or
// id is taken, EUNAVAILABLE when the database cannot take writes (disk full,
// closed), and wraps any other failure as EINTERNAL.
type Store interface {
	ProjectStore
	KeyStore
	EventTypeStore
	WebhookStore
	EventStore
	DeliveryStore
	SecretStore
	IncomingStore
	SessionStore

	// Ping returns nil when the database answers and is migrated.
	Ping(ctx context.Context) error
	// Prune deletes up to limit finished deliveries (with their attempts)
	// completed before before, and events older than before that have no
	// deliveries left. It returns how many deliveries and events it deleted
	// (their attempts go with them and are not counted).
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
	// Close releases the database.
	Close() error
}

// Page asks for one page of a list: at most Limit items after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// ProjectStore keeps projects.
type ProjectStore interface {
	// ProjectCreate stores a new project.
	ProjectCreate(ctx context.Context, p *Project) error
	// ProjectGet returns one project.
	ProjectGet(ctx context.Context, id string) (*Project, error)
	// ProjectList returns projects, newest first, and the cursor of the next page ("" at the end).
	ProjectList(ctx context.Context, page Page) ([]*Project, string, error)
	// ProjectUpdate replaces a project's name, description and metadata.
	ProjectUpdate(ctx context.Context, p *Project) error
	// ProjectDelete deletes a project and everything in it.
	ProjectDelete(ctx context.Context, id string) error
}

// KeyStore keeps API keys.
type KeyStore interface {
	// KeyCreate stores a new key (its hash); ENOTFOUND when its project does not exist.
	KeyCreate(ctx context.Context, k *APIKey) error
	// KeyList returns the keys of a project ("" for admin keys), newest first.
	KeyList(ctx context.Context, projectID string, page Page) ([]*APIKey, string, error)
	// KeyByHash returns the key with hash, revoked or not.
	KeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// KeyRevoke marks a key of a project as revoked at at.
	KeyRevoke(ctx context.Context, projectID, id string, at time.Time) error
}

// SessionStore keeps dashboard sessions, shared by every node.
type SessionStore interface {
	// SessionCreate stores a new session: its hash, its key's id, the key
	// text sealed, its CSRF token and times. ENOTFOUND when the key does
	// not exist; ECONFLICT when the hash is taken.
	SessionCreate(ctx context.Context, s *Session) error
	// SessionGet returns the session stored under hash with its key text
	// opened and its Key as stored now; ENOTFOUND when there is no such
	// session or its key was deleted. It does not check expiry or
	// revocation: callers compare ExpiresAt, Key.RevokedAt and
	// Key.ExpiresAt with their clock.
	SessionGet(ctx context.Context, hash []byte) (*Session, error)
	// SessionTouch moves the expiry of the session stored under hash to
	// expires; ENOTFOUND when it does not exist.
	SessionTouch(ctx context.Context, hash []byte, expires time.Time) error
	// SessionDelete deletes the session stored under hash; deleting a
	// missing session is not an error.
	SessionDelete(ctx context.Context, hash []byte) error
	// SessionPrune deletes up to limit sessions that expired at or before
	// now or whose key is revoked or gone, and returns how many it deleted.
	SessionPrune(ctx context.Context, now time.Time, limit int) (int, error)
	// KeyPruneExpired deletes up to limit keys whose expiry (portal keys)
	// is at or before before, with their sessions, and returns how many
	// keys it deleted. Keys without expiry are never deleted.
	KeyPruneExpired(ctx context.Context, before time.Time, limit int) (int, error)
}

// EventTypeStore keeps each project's catalogue of event types.
type EventTypeStore interface {
	// EventTypeCreate stores a new event type; ECONFLICT when the name
	// exists, ENOTFOUND when the project does not.
	EventTypeCreate(ctx context.Context, t *EventType) error
	// EventTypeGet returns one event type.
	EventTypeGet(ctx context.Context, projectID, name string) (*EventType, error)
	// EventTypeList returns a project's event types ordered by name.
	EventTypeList(ctx context.Context, projectID string, page Page) ([]*EventType, string, error)
	// EventTypeUpdate replaces an event type's description, example and archived flag.
	EventTypeUpdate(ctx context.Context, t *EventType) error
	// EventTypeDelete deletes an event type.
	EventTypeDelete(ctx context.Context, projectID, name string) error
}

// WebhookStore keeps webhooks. Secrets are encrypted at rest by the store.
type WebhookStore interface {
	// WebhookCreate stores a new webhook.
	WebhookCreate(ctx context.Context, w *Webhook) error
	// WebhookGet returns one webhook with its secrets.
	WebhookGet(ctx context.Context, projectID, id string) (*Webhook, error)
	// WebhookList returns a project's webhooks, newest first.
	WebhookList(ctx context.Context, projectID string, page Page) ([]*Webhook, string, error)
	// WebhookUpdate replaces every setting of a webhook, its secrets and its
	// disabled state. When Active or Ordered changes, the store reschedules
	// the webhook's pending deliveries: a disabled webhook's deliveries wait
	// until it is enabled again.
	WebhookUpdate(ctx context.Context, w *Webhook) error
	// WebhookDelete deletes a webhook and cancels its pending deliveries; its
	// delivery log stays until retention removes it.
	WebhookDelete(ctx context.Context, projectID, id string, now time.Time) error
	// WebhookIndex returns the current fan-out index of a project.
	WebhookIndex(ctx context.Context, projectID string) (*Index, error)
}

// EventFilter selects events.
type EventFilter struct {
	ProjectID string
	// Type is an exact type or a pattern (deploy.*); empty means any.
	Type  string
	Since time.Time // inclusive, zero means no bound
	Until time.Time // exclusive, zero means no bound
	Page
}

// EventStore keeps events.
type EventStore interface {
	// EventPublish stores an event and one delivery per matching webhook in
	// one transaction. It returns the existing event with Duplicate set when
	// the id or idempotency key was used before with the same fingerprint,
	// and ECONFLICT when it was used with a different one.
	EventPublish(ctx context.Context, p PublishParams) (*PublishResult, error)
	// EventGet returns one event.
	EventGet(ctx context.Context, projectID, id string) (*Event, error)
	// EventList returns events, newest first.
	EventList(ctx context.Context, f EventFilter) ([]*Event, string, error)
}

// DeliveryFilter selects deliveries.
type DeliveryFilter struct {
	ProjectID string
	WebhookID string        // empty means any
	EventID   string        // empty means any
	State     DeliveryState // empty means any
	Page
}

// ClaimParams asks for due deliveries.
type ClaimParams struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
	// Exclude lists webhooks whose deliveries must not be claimed now
	// (their lanes are full).
	Exclude []string
}

// ReplayParams selects the deliveries of one webhook to send again.
type ReplayParams struct {
	ProjectID string
	WebhookID string
	Since     time.Time // inclusive: deliveries created at or after
	Until     time.Time // exclusive
	// States are the states to replay; empty means failed only.
	States []DeliveryState
	Now    time.Time
}

// LeaseRef names a leased delivery.
type LeaseRef struct {
	Seq   int64
	Token int64
}

// DeliveryStore keeps deliveries and attempts, and is the queue.
type DeliveryStore interface {
	// DeliveryGet returns one delivery (without attempts).
	DeliveryGet(ctx context.Context, projectID, id string) (*Delivery, error)
	// DeliveryList returns deliveries, newest first.
	DeliveryList(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	// AttemptList returns every attempt of a delivery, oldest first.
	AttemptList(ctx context.Context, projectID, deliveryID string) ([]*Attempt, error)
	// DeliveryClaim leases up to Limit due deliveries (oldest due first) to
	// Owner until LeaseUntil and returns them with their events. A delivery
	// whose lease ran out is due again.
	DeliveryClaim(ctx context.Context, p ClaimParams) ([]*Job, error)
	// DeliveryRenew extends the leases still held under refs to until and
	// returns how many it extended.
	DeliveryRenew(ctx context.Context, refs []LeaseRef, until time.Time) (int, error)
	// DeliveryComplete records each outcome: its attempt, and, when the lease
	// is still held, the delivery's new state. Outcomes whose lease was lost
	// keep only their attempt.
	DeliveryComplete(ctx context.Context, outcomes []*Outcome) error
	// DeliveryRetry makes a delivery due now for one manual attempt and
	// returns it. A pending delivery is only brought forward.
	DeliveryRetry(ctx context.Context, projectID, id string, now time.Time) (*Delivery, error)
	// DeliveryReplay makes due now every delivery that p selects and returns how many.
	DeliveryReplay(ctx context.Context, p ReplayParams) (int, error)
	// DeliveryNextDue returns when the earliest pending delivery is due, and
	// false when none is pending.
	DeliveryNextDue(ctx context.Context) (time.Time, bool, error)
}

// Sealer encrypts secrets for storage. The secretbox package implements it.
type Sealer interface {
	// Seal returns the ciphertext of plaintext, bound to context ad.
	Seal(plaintext, ad string) (string, error)
	// Open returns the plaintext of a Seal result; it fails when the data was
	// changed, bound to another ad, or sealed with an unknown key.
	Open(ciphertext, ad string) (string, error)
}

// EncodeCursor returns the opaque cursor for a position.
func EncodeCursor(pos int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt(nil, pos, 10))
}

// DecodeCursor returns the position in a cursor; an EMALFORMED *Error when
// the cursor was not made by EncodeCursor. The empty cursor means the start.
func DecodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if pos, perr := strconv.ParseInt(string(b), 10, 64); perr == nil && pos > 0 {
			return pos, nil
		}
	}
	return 0, Errorf(EMALFORMED, "cursor %q is not valid; use the next_cursor of a previous page", c)
}

// PageLimit returns limit bounded to [1, 100], with 20 for zero.
func PageLimit(limit int) int {
	if limit <= 0 {
		return 20
	}
	return min(limit, 100)
}

// CommitStats counts the work of a store's group-commit writers since it
// opened (see sqlstore).
type CommitStats struct {
	// Commits is how many write transactions ran (or were tried).
	Commits uint64
	// Writes is how many writes (publishes, outcome batches, changes) they
	// carried: Writes/Commits is the group-commit factor.
	Writes uint64
	// Pipelined is how many of those writes were sent in a pipeline, one
	// round trip for their whole transaction (PostgreSQL's publishes).
	Pipelined uint64
}
