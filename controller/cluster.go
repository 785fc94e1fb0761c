package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/internal/fanout"
	"zkctl/internal/retry"
	"zkctl/node"
)

// Cluster is the controller's handle on the hosts of an inventory. It opens
// one connection per host on first use and reuses it for every step.
type Cluster struct {
	Inv       *inventory.Inventory
	UI        *UI
	Log       *slog.Logger
	AcceptNew bool // accept unknown SSH host keys (never changed ones)
	// LockWait is how long an action of package deploy waits for another
	// one's lock on a host, LockExpiry the age at which a lock counts as
	// left by a dead one; zero means deploy.DefaultLockWait and
	// deploy.DefaultLockExpiry (deploy/step_lock.go reads them).
	LockWait, LockExpiry time.Duration
	// Resolver resolves the hosts' addresses that are names; nil = the
	// system's (tests limit it to the hosts file).
	Resolver *net.Resolver

	mu       sync.Mutex
	conns    map[string]transport.Transport
	uploaded map[string]bool // hosts whose agent this Cluster pushed
	netReady map[string]bool // hosts whose agent said it can make network faults
}

// NewCluster returns a cluster over inv that reports progress to ui.
func NewCluster(inv *inventory.Inventory, ui *UI, log *slog.Logger) *Cluster {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Cluster{Inv: inv, UI: ui, Log: log, conns: map[string]transport.Transport{}}
}

// HostError is a failure of one step on one host.
type HostError struct {
	Host string
	Step string
	Err  error
}

func (e *HostError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Host, e.Step, e.Err) }
func (e *HostError) Unwrap() error { return e.Err }

// StepError is err as a HostError of step on h; nil stays nil, and a
// HostError keeps its own host and step.
func StepError(h inventory.Host, step string, err error) error {
	if err == nil {
		return nil
	}
	var he *HostError
	if errors.As(err, &he) {
		return err
	}
	return &HostError{Host: h.Name, Step: step, Err: err}
}

// Transport returns the host's connection, dialing it on first use.
func (c *Cluster) Transport(ctx context.Context, h inventory.Host) (transport.Transport, error) {
	c.mu.Lock()
	t, ok := c.conns[h.Name]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	if h.IsLocal() {
		t = transport.Local{}
	} else {
		c.Log.Debug("dialing", "host", h.Name, "address", h.Address, "port", h.SSH.Port)
		s, err := transport.DialSSH(ctx, transport.SSHConfig{
			Host: h.Name, Address: h.Address, Port: h.SSH.Port, User: h.SSH.User,
			IdentityFile: h.SSH.IdentityFile, KnownHosts: h.SSH.KnownHosts,
			InsecureIgnoreHostKey: h.SSH.InsecureIgnoreHostKey, AcceptNew: c.AcceptNew,
			Sudo: h.SSH.Sudo, DialTimeout: h.SSH.DialTimeout, Jump: hops(h.SSH.Jump),
			HostKeyAlias: h.SSH.HostKeyAlias, Resolver: c.Resolver,
		})
		if err != nil {
			return nil, StepError(h, "connect", err)
		}
		t = s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.conns[h.Name]; ok {
		t.Close()
		return old, nil
	}
	c.conns[h.Name] = t
	return t, nil
}

// Retry policy of a step that failed because the connection was lost
// (transport.ErrConnLost): reconnect and try again, up to retries more
// times, waiting retryBackoff and then twice as long each time.
const (
	retries      = 3
	retryBackoff = 500 * time.Millisecond
)

// Retry runs fn with the host's transport under the reconnect policy
// above; permanent failures are returned at once.
func (c *Cluster) Retry(ctx context.Context, h inventory.Host, step string, fn func(transport.Transport) error) error {
	policy := retry.Policy{
		Attempts: retries + 1, Delay: retryBackoff, Factor: 2,
		Retryable: transport.IsTransient,
		OnRetry: func(err error, next int, wait time.Duration) {
			c.UI.Host(h.Name, "%s: %v; reconnecting, try %d of %d in %v", step, err, next, retries+1, wait)
			c.drop(h)
		},
	}
	err := policy.Do(ctx, func(int) error {
		t, err := c.Transport(ctx, h)
		if err != nil {
			return err
		}
		return fn(t)
	})
	return StepError(h, step, err)
}

// drop closes and forgets the host's connection so the next use redials.
func (c *Cluster) drop(h inventory.Host) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.conns[h.Name]; ok {
		t.Close()
		delete(c.conns, h.Name)
	}
}

// Close closes every connection.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, t := range c.conns {
		t.Close()
		delete(c.conns, name)
	}
}

// Each runs fn on every host in parallel and joins their errors; a host that
// fails does not stop the others.
func (c *Cluster) Each(ctx context.Context, hosts []inventory.Host, fn func(ctx context.Context, h inventory.Host, t transport.Transport) error) error {
	return fanout.All(hosts, func(_ int, h inventory.Host) error {
		t, err := c.Transport(ctx, h)
		if err == nil {
			err = fn(ctx, h, t)
		}
		return StepError(h, "run", err)
	})
}

// Hosts returns the named hosts (all when names is empty); an unknown name
// is an error matching inventory.ErrUnknownHost (Inventory.Lookup).
func (c *Cluster) Hosts(names ...string) ([]inventory.Host, error) {
	return c.Inv.Lookup(names...)
}

// AgentPath is where deploy puts the zkctl binary on a host.
func AgentPath(h inventory.Host) string { return node.Layout{Dir: h.Dir}.Agent() }

// hops are the inventory's jump hosts as the transport takes them.
func hops(jump []inventory.Hop) []transport.Hop {
	var out []transport.Hop
	for _, j := range jump {
		out = append(out, transport.Hop{User: j.User, Address: j.Address, Port: j.Port, IdentityFile: j.IdentityFile})
	}
	return out
}

// HostIndex is the index of the host named name in hosts, -1 when none is.
func HostIndex(hosts []inventory.Host, name string) int {
	for i, h := range hosts {
		if h.Name == name {
			return i
		}
	}
	return -1
}
