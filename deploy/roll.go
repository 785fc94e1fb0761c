package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/internal/fanout"
	"zkctl/internal/retry"
	"zkctl/node"
)

// RollOptions are the knobs of a roll (`zkctl restart zookeeper`).
type RollOptions struct {
	Hosts   []string      // the servers to restart; none: every server
	Force   bool          // start the servers found down first, instead of refusing
	DryRun  bool          // print the plan and change nothing
	Timeout time.Duration // for one server to pass its gate; 0: RollTimeout
}

// RollTimeout bounds how long a roll waits for one restarted server to
// pass its gate: a JVM's start, plus initLimit (20) ticks, the time
// ZooKeeper gives a learner to connect to the leader and sync.
func RollTimeout(tick time.Duration) time.Duration { return 30*time.Second + 20*tick }

// Time bounds of a roll's steps.
const (
	restartTimeout = time.Minute            // stop (TERM, KILL after 5 s) and start of one server, on a loaded host
	gatePoll       = 100 * time.Millisecond // how often the gate is polled
	fourLetterWait = 2 * time.Second        // one 4lw exchange
	logTailLines   = 15                     // of the server's log, quoted when it does not come back
)

// PlanRoll reads every server's mode and plans a roll of hosts (every
// server when none is named); see planRoll.
func (c *Cluster) PlanRoll(ctx context.Context, hosts []string, force bool) (RollPlan, error) {
	servers := c.Inv.ServerHosts()
	modes := c.serverModes(servers)
	rs := make([]rollServer, len(servers))
	for i, h := range servers {
		rs[i] = rollServer{host: h, mode: modes[i].Mode}
	}
	return planRoll(rs, hosts, force)
}

// serverModes asks every server for srvr from this machine, in parallel.
func (c *Cluster) serverModes(servers []inventory.Host) []node.ServerStatus {
	out := make([]node.ServerStatus, len(servers))
	fanout.Each(servers, func(i int, h inventory.Host) error {
		out[i] = c.QueryServer(h, fourLetterWait)
		return nil
	})
	return out
}

// Roll restarts servers one at a time as PlanRoll orders them, each gated
// on the ensemble's health (roll_gate.go) before the next is taken out.
// A server that does not pass its gate in time stops the roll there,
// naming it and quoting the end of its log; the servers after it are not
// touched. Cancelling ctx (SIGINT) never leaves a server stopped: a
// server being restarted is started again before Roll returns, and the
// roll stops without taking another one out.
func (c *Cluster) Roll(ctx context.Context, opts RollOptions) error {
	plan, err := c.PlanRoll(ctx, opts.Hosts, opts.Force)
	if err != nil {
		return err
	}
	c.UI.Phase("roll %d servers, one at a time: %s", len(plan.Steps), plan)
	if opts.DryRun {
		c.UI.Printf("dry run: nothing restarted")
		return nil
	}
	return c.runRoll(ctx, plan, opts.Timeout)
}

// runRoll runs a plan's steps in order.
func (c *Cluster) runRoll(ctx context.Context, plan RollPlan, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = RollTimeout(c.Inv.Cluster.TickTime)
	}
	start := time.Now()
	for i, st := range plan.Steps {
		rest := strings.Join(plan.Hosts()[i+1:], ", ")
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("roll interrupted before %s: every server is up; not restarted: %s", st.Host.Name, strings.Join(plan.Hosts()[i:], ", "))
		}
		if err := c.rollOne(ctx, st, timeout); err != nil {
			if rest == "" {
				rest = "none"
			}
			return fmt.Errorf("roll stopped at %s (%d of %d): %w\nnot restarted: %s", st.Host.Name, i+1, len(plan.Steps), err, rest)
		}
	}
	c.UI.Printf("rolled %d servers in %v", len(plan.Steps), time.Since(start).Round(time.Millisecond))
	return nil
}

// rollOne restarts one server and waits at its gate.
func (c *Cluster) rollOne(ctx context.Context, st RollStep, timeout time.Duration) error {
	h := st.Host
	servers := c.Inv.ServerHosts()
	if !st.Down() {
		if err := c.othersServing(h, servers); err != nil {
			return err
		}
	}
	began := time.Now()
	// Stop and start run to their end even when ctx is cancelled: a server
	// this roll stopped is always started again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restartTimeout)
	_, err := c.SignalServerOn(rctx, h, syscall.SIGTERM)
	var p node.Proc
	if err == nil {
		p, err = c.StartServerOn(rctx, h)
	}
	cancel()
	if err != nil {
		return c.withLogTail(ctx, h, err)
	}
	c.UI.Host(h.Name, "restarted (pid %d), waiting for it to rejoin", p.PID)
	v, err := c.waitGate(ctx, h, servers, timeout)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted while %s rejoins (pid %d, srvr mode %s): it keeps starting; no other server was taken out", h.Name, p.PID, v.mode)
	}
	if err != nil {
		return c.withLogTail(ctx, h, err)
	}
	c.UI.Host(h.Name, "back as %s in %v: new configuration in force, leader %s has %d followers synced, zxid %#x",
		v.mode, time.Since(began).Round(time.Millisecond), orNone(v.leader), v.synced, v.zxid)
	return nil
}

// othersServing refuses to take h out while another server does not
// serve: a roll never has two servers out.
func (c *Cluster) othersServing(h inventory.Host, servers []inventory.Host) error {
	modes := c.serverModes(servers)
	var bad []string
	for i, s := range servers {
		if s.Name != h.Name && !serving(modes[i].Mode) {
			bad = append(bad, s.Name+"="+modes[i].Mode)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: not restarting %s while %s: a roll never has two servers out", ErrRollRefused, h.Name, strings.Join(bad, " "))
	}
	return nil
}

// errServerExited is a restarted server whose process is gone.
var errServerExited = errors.New("the server exited")

// waitGate polls the gate of restarted server h until it holds, the
// server's process exits, timeout passes or ctx ends. It returns the last
// view.
func (c *Cluster) waitGate(ctx context.Context, h inventory.Host, servers []inventory.Host, timeout time.Duration) (gateView, error) {
	want := c.NodeConfig(h, servers)
	rejoin := int64(-1)
	var v gateView
	var why string
	err := retry.Poll(ctx, gatePoll, timeout, func() (bool, error) {
		v = c.gateViewOf(h, servers, want, &rejoin)
		held, w := v.check()
		why = w
		if !held && v.mode == "down" {
			return false, c.exited(ctx, h)
		}
		return held, nil
	})
	if errors.Is(err, retry.ErrTimeout) {
		return v, fmt.Errorf("not back within %v: waiting for %s", timeout, why)
	}
	return v, err
}

// exited returns errServerExited when h's server process is gone.
func (c *Cluster) exited(ctx context.Context, h inventory.Host) error {
	sts, err := c.Statuses(ctx, []inventory.Host{h})
	if err != nil {
		return nil // the agent may be slow; the gate's timeout decides
	}
	if zk := sts[h.Name].ZooKeeper; zk.State == node.StateDead {
		return fmt.Errorf("%w (pid %d)", errServerExited, zk.PID)
	}
	return nil
}

// gateViewOf takes one poll of the gate: srvr of every server, conf of
// h, mntr of the leader. rejoin keeps the leader's zxid from the first
// poll in which h answered as a member.
func (c *Cluster) gateViewOf(h inventory.Host, servers []inventory.Host, want *node.Config, rejoin *int64) gateView {
	v := gateView{synced: -1, rejoinZxid: *rejoin, wantSynced: c.Inv.Voters() - 1}
	switch {
	case len(servers) == 1:
		v.wantMode, v.standalone = []string{"standalone"}, true
	case h.Observer:
		v.wantMode = []string{"observer"}
	default:
		v.wantMode = []string{"follower", "leader"}
	}
	modes := c.serverModes(servers)
	var leader inventory.Host
	var leaderZxid int64
	for i, s := range servers {
		if s.Name == h.Name {
			v.mode, v.zxid = modes[i].Mode, modes[i].Zxid
		}
		if modes[i].Mode == "leader" {
			leader, leaderZxid, v.leader = s, modes[i].Zxid, s.Name
		}
	}
	if slices.Contains(v.wantMode, v.mode) && *rejoin < 0 && (v.leader != "" || v.standalone) {
		*rejoin = max(leaderZxid, 0)
		v.rejoinZxid = *rejoin
	}
	dial := c.ZKDialer([]inventory.Host{h})
	if out, err := node.FourLetterVia(dial, h.ClientAddr(), "conf", fourLetterWait); err != nil {
		v.confErr = err.Error()
	} else {
		v.conf = node.ConfMismatches(out, want)
	}
	if v.leader != "" {
		if out, err := node.FourLetterVia(c.ZKDialer([]inventory.Host{leader}), leader.ClientAddr(), "mntr", fourLetterWait); err == nil {
			if n, err := strconv.Atoi(node.ParseMntr(out)["zk_synced_followers"]); err == nil {
				v.synced = n
			}
		}
	}
	return v
}

// withLogTail adds the end of h's server log to err.
func (c *Cluster) withLogTail(ctx context.Context, h inventory.Host, err error) error {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	data, lerr := c.ReadLog(lctx, h, node.ZooKeeperName)
	if lerr != nil {
		return fmt.Errorf("%w (its log could not be read: %v)", err, lerr)
	}
	return fmt.Errorf("%w; the end of its log (zkctl tail %s zookeeper):\n%s", err, h.Name, lastLines(string(data), logTailLines))
}

// lastLines is the last n lines of s, each indented.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
