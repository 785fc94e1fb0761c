package zksession

import (
	"errors"
	"sync"

	"github.com/go-zookeeper/zk"
)

// listedHosts is a zk.HostProvider that hands out the servers as written
// (zk.Connect has shuffled them), round robin, without resolving them. With a Dialer that
// tunnels (Config.Dialer), the far end of the tunnel resolves the names;
// the controller may not know them.
type listedHosts struct {
	mu         sync.Mutex
	servers    []string
	curr, last int
}

// Init takes the servers of the connection string.
func (h *listedHosts) Init(servers []string) error {
	if len(servers) == 0 {
		return errors.New("no servers given")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.servers = append([]string(nil), servers...)
	h.curr, h.last = -1, -1
	return nil
}

// Len is the number of servers.
func (h *listedHosts) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.servers)
}

// Next is the next server to try; retryStart says every server has been
// tried since the last connection.
func (h *listedHosts) Next() (server string, retryStart bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr = (h.curr + 1) % len(h.servers)
	retryStart = h.curr == h.last
	if h.last == -1 {
		h.last = 0
	}
	return h.servers[h.curr], retryStart
}

// Connected records that the current server answered.
func (h *listedHosts) Connected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = h.curr
}

// Through is the client library's option that reaches the servers by
// dial, with the servers as listed (listedHosts); with a nil dial it
// changes nothing.
func Through(dial zk.Dialer) func(*zk.Conn) {
	return func(c *zk.Conn) {
		if dial != nil {
			zk.WithDialer(dial)(c)
			zk.WithHostProvider(&listedHosts{})(c)
		}
	}
}
