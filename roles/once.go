package roles

import (
	"log/slog"
	"sync"
)

// onceSet remembers what was already logged, so that a znode outside the
// protocol is reported once, not at every listing.
type onceSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

// warn logs msg at warning level the first time key is seen.
func (o *onceSet) warn(log *slog.Logger, key, msg string, args ...any) {
	o.mu.Lock()
	if o.seen == nil {
		o.seen = make(map[string]bool)
	}
	first := !o.seen[key]
	o.seen[key] = true
	o.mu.Unlock()
	if first {
		log.Warn(msg, args...)
	}
}
