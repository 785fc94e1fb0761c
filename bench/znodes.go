package bench

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/fanout"
	"zkctl/internal/retry"
	"zkctl/node"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// batchOps is how many znode operations one bench multi carries when it
// prepares or clears the application's znodes (one transaction each).
const batchOps = 200

// zxid is a ZooKeeper transaction id: the epoch in the high 32 bits, a
// counter of the epoch's transactions in the low 32.
type zxid int64

func (z zxid) epoch() int64   { return int64(z) >> 32 }
func (z zxid) counter() int64 { return int64(z) & 0xffffffff }
func (z zxid) String() string { return "0x" + strconv.FormatInt(int64(z), 16) }

// txnsBetween is the number of transactions from a to b, an error when the
// leader changed (new epoch) in between.
func txnsBetween(a, b zxid) (int64, error) {
	if a.epoch() != b.epoch() {
		return 0, fmt.Errorf("the ZooKeeper leader changed during the run (zxid %s → %s): run again", a, b)
	}
	return b.counter() - a.counter(), nil
}

// leaderZxid asks every server of cfg for srvr (through cfg.Dialer, a
// tunnel where the controller needs one) and returns the leader's Zxid (or
// the standalone server's): the ensemble's transaction counter.
func leaderZxid(cfg roles.Config) (zxid, error) {
	servers := cfg.Servers
	sts := make([]node.ServerStatus, len(servers))
	fanout.Each(servers, func(i int, s string) error {
		sts[i] = node.QueryServerVia(cfg.Dialer, s, 2*time.Second)
		return nil
	})
	var modes []string
	for i, st := range sts {
		if st.Mode == "leader" || st.Mode == "standalone" {
			return zxid(st.Zxid), nil
		}
		modes = append(modes, servers[i]+"="+st.Mode)
	}
	return 0, fmt.Errorf("srvr: no leader among %s", strings.Join(modes, " "))
}

// packets is the sum over the servers of the packets they received from
// clients (requests, pings included) and sent to them (replies and watch
// events), from 4lw mntr; servers that do not answer count nothing.
type packets struct{ received, sent int64 }

func serverPackets(cfg roles.Config) packets {
	each := make([]packets, len(cfg.Servers))
	fanout.Each(cfg.Servers, func(i int, s string) error {
		out, err := node.FourLetterVia(cfg.Dialer, s, "mntr", 2*time.Second)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			k, v, _ := strings.Cut(line, "\t")
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			switch k {
			case "zk_packets_received":
				each[i].received = n
			case "zk_packets_sent":
				each[i].sent = n
			}
		}
		return nil
	})
	var total packets
	for _, p := range each {
		total.received += p.received
		total.sent += p.sent
	}
	return total
}

// settledZxid waits until the leader's zxid stops moving (up to a second)
// and returns it: the last transactions of a phase are then counted.
func settledZxid(ctx context.Context, cfg roles.Config) (zxid, error) {
	last, err := leaderZxid(cfg)
	if err != nil {
		return 0, err
	}
	for range 20 {
		if err := retry.Sleep(ctx, 50*time.Millisecond); err != nil {
			return 0, err
		}
		z, err := leaderZxid(cfg)
		if err != nil {
			return 0, err
		}
		if z == last {
			return z, nil
		}
		last = z
	}
	return last, nil
}

// multiBatches runs ops as multis of at most batchOps ops, at most
// `parallel` at a time. A batch that fails is retried op by op, ignoring
// the errors in ignore (a node already there or already gone). Connection
// losses are waited out (up to retryFor); after one, a create that finds
// its node or a delete that misses its node counts as done, since the lost
// try may have gone through.
func multiBatches(conn *zk.Conn, ops []any, parallel int, ignore ...error) error {
	var batches [][]any
	for len(ops) > 0 {
		n := min(batchOps, len(ops))
		batches = append(batches, ops[:n])
		ops = ops[n:]
	}
	return errors.Join(fanout.Limit(batches, parallel, func(_ int, b []any) error {
		return runBatch(conn, b, ignore)
	})...)
}

// retryFor bounds how long the bench's own writes wait out connection
// losses (a leader election on an overloaded machine).
const retryFor = 30 * time.Second

// waitOut is the bench's retry policy for its own writes: a lost
// connection is waited out, the call tried again every 200 ms until
// deadline; lost records that one was. It is bounded by the deadline, not
// by a context, so that a cleanup after Ctrl-C still completes.
func waitOut(deadline time.Time, lost *bool) retry.Policy {
	return retry.Policy{Delay: 200 * time.Millisecond, Retryable: func(err error) bool {
		if roles.IsConnErr(err) && time.Now().Before(deadline) {
			*lost = true
			return true
		}
		return false
	}}
}

func runBatch(conn *zk.Conn, b []any, ignore []error) error {
	lost := false
	p := waitOut(time.Now().Add(retryFor), &lost)
	multi := func(ops ...any) func(int) error {
		return func(int) error { _, err := conn.Multi(ops...); return err }
	}
	if err := p.Do(context.Background(), multi(b...)); err == nil {
		return nil
	}
	for _, op := range b {
		err := p.Do(context.Background(), multi(op))
		switch {
		case err == nil || isAny(err, ignore):
		case lost && alreadyDone(op, err):
		default:
			return fmt.Errorf("%s: %w", roles.OpString(op), err)
		}
	}
	return nil
}

// alreadyDone tells whether err means that op was applied by a try whose
// answer was lost.
func alreadyDone(op any, err error) bool {
	switch op.(type) {
	case *zk.CreateRequest:
		return errors.Is(err, zk.ErrNodeExists)
	case *zk.DeleteRequest:
		return errors.Is(err, zk.ErrNoNode)
	}
	return false
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// taskName is the name of the bench's i-th queued task.
func taskName(prefix string, i int) string { return protocol.TaskName(prefix, i) }

// queueTasks submits n tasks named prefix-0 … prefix-(n-1) with payload, as
// the protocol's client does (create /data/t and /tasks/t ""), batched.
func queueTasks(conn *zk.Conn, acl []zk.ACL, prefix string, n int, payload string) error {
	ops := make([]any, 0, 2*n)
	for i := range n {
		t := taskName(prefix, i)
		ops = append(ops,
			&zk.CreateRequest{Path: protocol.Data(t), Data: []byte(payload), Acl: acl},
			&zk.CreateRequest{Path: protocol.Task(t), Data: []byte{}, Acl: acl})
	}
	if err := multiBatches(conn, ops, 4); err != nil {
		return fmt.Errorf("queue %d tasks: %w", n, err)
	}
	return nil
}

// appState counts what the protocol's znodes hold.
type appState struct {
	master     bool
	candidates int
	live       int // /workers_eph children
	workers    int // /workers children
	assigned   int // sum of /workers/<w> children
	tasks      int
	data       int
	results    int
}

func (s appState) String() string {
	var parts []string
	if s.master {
		parts = append(parts, "a master")
	}
	for _, c := range []struct {
		n    int
		what string
	}{{s.candidates, "election candidates"}, {s.live, "live workers"}, {s.workers, "worker znodes"},
		{s.tasks, "tasks"}, {s.data, "task data"}, {s.results, "results"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func (s appState) empty() bool { return s == appState{} }

// readApp reads the counts; worker listings are concurrent.
func readApp(conn *zk.Conn) (appState, error) {
	var s appState
	ok, _, err := conn.Exists(protocol.MasterPath)
	if err != nil {
		return s, fmt.Errorf("read %s: %w", protocol.MasterPath, err)
	}
	s.master = ok
	for _, c := range []struct {
		path string
		n    *int
	}{{protocol.ElectionPath, &s.candidates}, {protocol.WorkersEphPath, &s.live},
		{protocol.TasksPath, &s.tasks}, {protocol.DataPath, &s.data}, {protocol.ResultsPath, &s.results}} {
		_, st, err := conn.Exists(c.path)
		if err != nil {
			return s, fmt.Errorf("read %s: %w", c.path, err)
		}
		if st != nil {
			*c.n = int(st.NumChildren)
		}
	}
	n, err := countAssigned(conn)
	if err != nil {
		return s, err
	}
	s.assigned = n.assigned
	s.workers = n.workers
	return s, nil
}

type assignedCount struct{ workers, assigned int }

// countAssigned lists /workers and sums its children's child counts: the
// assignments in ZooKeeper.
func countAssigned(conn *zk.Conn) (assignedCount, error) {
	ws, _, err := conn.Children(protocol.WorkersPath)
	if errors.Is(err, zk.ErrNoNode) {
		return assignedCount{}, nil
	}
	if err != nil {
		return assignedCount{}, fmt.Errorf("list %s: %w", protocol.WorkersPath, err)
	}
	counts := make([]int32, len(ws))
	err = fanout.All(ws, func(i int, w string) error {
		_, st, err := conn.Exists(protocol.Worker(w))
		if err == nil && st != nil {
			counts[i] = st.NumChildren
		}
		return err
	})
	if err != nil {
		return assignedCount{}, fmt.Errorf("read %s/*: %w", protocol.WorkersPath, err)
	}
	c := assignedCount{workers: len(ws)}
	for _, n := range counts {
		c.assigned += int(n)
	}
	return c, nil
}

// wipeApp deletes every assignment, worker, task, data and result znode
// (not /master nor the election): the bench's own leftovers.
func wipeApp(conn *zk.Conn) error {
	var ops []any
	ws, _, err := conn.Children(protocol.WorkersPath)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("list %s: %w", protocol.WorkersPath, err)
	}
	for _, w := range ws {
		kids, _, err := conn.Children(protocol.Worker(w))
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("list %s: %w", protocol.Worker(w), err)
		}
		for _, t := range kids {
			ops = append(ops, &zk.DeleteRequest{Path: protocol.Assignment(w, t), Version: -1})
		}
	}
	if err := multiBatches(conn, ops, 4, zk.ErrNoNode); err != nil {
		return fmt.Errorf("clear assignments: %w", err)
	}
	ops = ops[:0]
	for _, dir := range []string{protocol.WorkersPath, protocol.WorkersEphPath, protocol.TasksPath, protocol.DataPath, protocol.ResultsPath} {
		kids, _, err := conn.Children(dir)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		slices.Sort(kids)
		for _, k := range kids {
			ops = append(ops, &zk.DeleteRequest{Path: path.Join(dir, k), Version: -1})
		}
	}
	if err := multiBatches(conn, ops, 4, zk.ErrNoNode); err != nil {
		return fmt.Errorf("clear tasks: %w", err)
	}
	return nil
}

// registerFakeWorkers makes n workers that never run anything: persistent
// /workers/<w> from conn and ephemeral /workers_eph/<w> from alive, whose
// session keeps them alive.
func registerFakeWorkers(conn, alive *zk.Conn, acl []zk.ACL, prefix string, n int) ([]string, error) {
	names := make([]string, n)
	var dirs, live []any
	for i := range names {
		names[i] = fmt.Sprintf("%s%02d", prefix, i)
		dirs = append(dirs, &zk.CreateRequest{Path: protocol.Worker(names[i]), Data: []byte{}, Acl: acl})
		live = append(live, &zk.CreateRequest{Path: protocol.WorkerAlive(names[i]), Data: []byte{}, Acl: acl, Flags: zk.FlagEphemeral})
	}
	if err := multiBatches(conn, dirs, 1); err != nil {
		return nil, fmt.Errorf("register workers: %w", err)
	}
	if err := multiBatches(alive, live, 1); err != nil {
		return nil, fmt.Errorf("register workers: %w", err)
	}
	return names, nil
}
