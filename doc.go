// Package hookd holds the domain of hookd, a self-hosted webhooks platform:
// projects, API keys, event types, webhooks, events, deliveries and attempts,
// the Store interface every storage backend implements, the retry schedule,
// the subscription index used for fan-out, and the Error type that every
// layer returns and that the HTTP API maps to problem+json in one place.
//
// The package imports no database driver and no HTTP server. Implementations
// live in subpackages: sqlite and postgres (stores), dispatch (the delivery
// engine), destination (senders), signature (public signing and
// verification), httpapi (the REST API) and cmd/hookd (the binary).
package hookd

// Version is the version of hookd, sent in the User-Agent of every delivery.
// Release builds override it with -ldflags "-X github.com/hookd/hookd.Version=…".
var Version = "0.1.0-dev"
