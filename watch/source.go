package watch

import (
	"context"
	"time"

	"github.com/go-zookeeper/zk"
)

// Source is everything the view reads the cluster through. cluster.go
// adapts the controller to it; tests may adapt anything else.
type Source interface {
	// Servers names the ZooKeeper servers' hosts, in inventory order.
	Servers() []string
	// Session is how to open the view's own ZooKeeper session.
	Session() SessionConfig
	// FourLetter sends a four-letter-word command (srvr) to host's
	// server, through whatever tunnel reaches it, and returns the reply.
	FourLetter(host, cmd string, timeout time.Duration) (string, error)
	// FaultHosts names the hosts whose agents can hold network faults.
	FaultHosts() []string
	// NetFaults asks host's agent for its active network faults.
	NetFaults(ctx context.Context, host string) ([]Fault, error)
}

// SessionConfig is the view's ZooKeeper session: the servers'
// connection string, its timeout, and the dialer that reaches them (nil:
// directly).
type SessionConfig struct {
	Servers []string
	Timeout time.Duration
	Dialer  zk.Dialer
}
