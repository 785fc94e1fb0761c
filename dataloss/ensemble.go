package dataloss

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/scenario"
)

// ensemble is the servers a schedule acts on, through ops (so every fault
// is recorded in the journal, with its time), and what they report.
type ensemble struct {
	c       *controller.Cluster
	servers []inventory.Host
	journal *ops.Journal
	timing  scenario.ServerTiming
}

func newEnsemble(c *controller.Cluster) (*ensemble, error) {
	servers := c.Inv.ServerHosts()
	if len(c.Inv.ObserverNames()) > 0 {
		return nil, fmt.Errorf("dataloss: the inventory has observers (%s): the schedules need voters only", strings.Join(c.Inv.ObserverNames(), ", "))
	}
	t, err := scenario.ReadServerTiming(c, servers)
	if err != nil {
		return nil, fmt.Errorf("dataloss: %w", err)
	}
	return &ensemble{c: c, servers: servers, journal: ops.NewJournal(c), timing: t}, nil
}

// names are the servers' inventory names.
func (e *ensemble) names() []string {
	out := make([]string, len(e.servers))
	for i, h := range e.servers {
		out[i] = h.Name
	}
	return out
}

func (e *ensemble) host(name string) inventory.Host {
	for _, h := range e.servers {
		if h.Name == name {
			return h
		}
	}
	panic("dataloss: no server " + name) // the schedules name servers from e.names only
}

// status asks name for srvr.
func (e *ensemble) status(name string) node.ServerStatus {
	return e.c.QueryServer(e.host(name), time.Second)
}

func serving(st node.ServerStatus) bool { return st.Mode == "leader" || st.Mode == "follower" }

// do runs op and returns its error, the record kept in the journal.
func (e *ensemble) do(ctx context.Context, op ops.Op) error {
	_, err := e.journal.Do(ctx, op)
	return err
}

func (e *ensemble) stop(ctx context.Context, name string) error {
	return e.do(ctx, ops.StopServer{Host: name})
}

func (e *ensemble) kill(ctx context.Context, name string) error {
	return e.do(ctx, ops.Signal{Role: node.ZooKeeperName, Host: name, Signal: syscall.SIGKILL})
}

func (e *ensemble) start(ctx context.Context, name string) error {
	return e.do(ctx, ops.StartServer{Host: name})
}

// waitFor polls cond every interval until it holds, bounded by e's wait
// bound; what names the condition in the error.
func (e *ensemble) waitFor(ctx context.Context, interval time.Duration, what string, cond func() bool) error {
	return ops.Poll(ctx, interval, e.timing.Wait(), what, func() (bool, error) { return cond(), nil })
}

// leader waits for a server to report leading and returns it.
func (e *ensemble) leader(ctx context.Context) (string, error) {
	var l string
	err := e.waitFor(ctx, 50*time.Millisecond, "a leader", func() bool {
		for _, n := range e.names() {
			if e.status(n).Mode == "leader" {
				l = n
				return true
			}
		}
		return false
	})
	return l, err
}

// waitServing polls name's srvr every 10 ms until it reports serving, and
// returns that report: a schedule that crashes a server "right after it
// serves" acts as soon as this returns.
func (e *ensemble) waitServing(ctx context.Context, name string) (node.ServerStatus, error) {
	var st node.ServerStatus
	err := e.waitFor(ctx, 10*time.Millisecond, name+" serving", func() bool {
		st = e.status(name)
		return serving(st)
	})
	return st, err
}

// waitAllServing waits until every server serves (a restarted one has
// finished its sync).
func (e *ensemble) waitAllServing(ctx context.Context) error {
	return e.waitFor(ctx, 50*time.Millisecond, "every server serving", func() bool {
		for _, n := range e.names() {
			if !serving(e.status(n)) {
				return false
			}
		}
		return true
	})
}

// waitZxidPast waits until name reports a zxid above z plus n: n more
// transactions committed (the writer's, at least) since z.
func (e *ensemble) waitZxidPast(ctx context.Context, name string, z int64, n int) error {
	return e.waitFor(ctx, 20*time.Millisecond, fmt.Sprintf("%s's zxid %d past 0x%x", name, n, z), func() bool {
		st := e.status(name)
		return serving(st) && st.Zxid >= z+int64(n)
	})
}

// startDown starts every server that srvr reports down.
func (e *ensemble) startDown(ctx context.Context) error {
	for _, n := range e.names() {
		if e.status(n).Mode == "down" {
			if err := e.start(ctx, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitSameZxid waits until every server named serves and all report one
// zxid.
func (e *ensemble) waitSameZxid(ctx context.Context, names []string) error {
	return e.waitFor(ctx, 20*time.Millisecond, strings.Join(names, ", ")+" at one zxid", func() bool {
		var zxids []int64
		for _, n := range names {
			st := e.status(n)
			if !serving(st) {
				return false
			}
			zxids = append(zxids, st.Zxid)
		}
		return len(slices.Compact(zxids)) == 1
	})
}

// connect opens a session to servers, bounded by e's wait bound.
func (e *ensemble) connect(ctx context.Context, servers []inventory.Host) (*zk.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timing.Wait())
	defer cancel()
	return e.c.Connect(ctx, servers)
}
