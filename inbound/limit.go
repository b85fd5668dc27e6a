package inbound

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per hook with a rate limit, and folds
// the log entries of rate-limited requests: during a flood, one entry per
// second per hook is written, counting the requests it stands for, so that
// the limit also protects the database.
type limiters struct {
	mu    sync.Mutex
	hooks map[string]*limiter
}

type limiter struct {
	limit  float64
	bucket *rate.Limiter
	logged time.Time // when the last rate_limited entry was written
	folded int       // rate-limited requests since, not yet written
}

// foldInterval is the shortest time between two rate_limited log entries of a hook.
const foldInterval = time.Second

func newLimiters() *limiters { return &limiters{hooks: map[string]*limiter{}} }

// allow reports whether the hook may take one more request at now, and if
// not, how long until it may (at least a second, for Retry-After).
func (ls *limiters) allow(hookID string, limit float64, now time.Time) (bool, time.Duration) {
	if limit <= 0 {
		return true, 0
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.hooks[hookID]
	if l == nil || l.limit != limit {
		burst := max(1, int(math.Ceil(limit)))
		l = &limiter{limit: limit, bucket: rate.NewLimiter(rate.Limit(limit), burst)}
		ls.hooks[hookID] = l
	}
	if l.bucket.AllowN(now, 1) {
		return true, 0
	}
	r := l.bucket.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, max(wait, time.Second)
}

// fold reports whether a rate-limited request at now should be logged, and
// how many earlier ones its entry stands for; otherwise it counts it.
func (ls *limiters) fold(hookID string, now time.Time) (log bool, repeats int) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.hooks[hookID]
	if l == nil {
		return true, 0
	}
	if now.Sub(l.logged) < foldInterval {
		l.folded++
		return false, 0
	}
	repeats, l.folded, l.logged = l.folded, 0, now
	return true, repeats
}
