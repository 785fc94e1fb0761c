package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/ops"
	"zkctl/scenario/lincheck"
)

// The bounds of the linearizable scenario's history: Porcupine's search
// grows with the operations of uncertain outcome, so a run is bounded in
// operations and time, and the check in time ("unknown" past it, never "ok").
const (
	linOps          = 300
	linDuration     = 20 * time.Second
	linCheckTimeout = 60 * time.Second
	linFaultEvery   = 3 * time.Second
)

// linearizable is the Jepsen-style register check: clients spread over the
// servers read, write and compare-and-set one znode while the ZooKeeper
// leader is killed and frozen and, on hosts with their own addresses, the
// leader's host or a minority is cut off; Porcupine judges the writes and CAS, the
// reads are judged by what ZooKeeper promises of them (package lincheck).
func linearizable(r *run) {
	if !r.ok() {
		return
	}
	var servers []string
	var hosts []inventory.Host
	for _, s := range r.servers {
		h, _ := r.c.Inv.Host(s)
		servers, hosts = append(servers, h.ClientAddr()), append(hosts, h)
	}
	r.setStep("register workload on %d servers, leader faults every %v", len(servers), linFaultEvery)
	r.mon.fast(linDuration + 10*time.Second)
	nem := &linNemesis{r: r, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)),
		net: netPossible(r.ctx, r.c) == nil}
	if !nem.net {
		r.note("Network partitions were left out: %v.", netPossible(r.ctx, r.c))
	}
	h, err := lincheck.Run(r.ctx, lincheck.Config{Servers: servers, Ops: linOps, Duration: linDuration,
		SessionTimeout: r.timing.session, Logger: r.c.Log, Dialer: r.c.ZKDialer(hosts)}, nem)
	if err != nil {
		r.fail(fmt.Errorf("register workload: %w", err))
		return
	}
	r.setStep("check %d operations with Porcupine", len(h.Ops))
	res := lincheck.Check(h, linCheckTimeout, filepath.Join(r.artifacts, "linearizable-porcupine.html"))
	r.extra = append(r.extra, res.Markdown()...)
	r.figures = fmt.Sprintf("%d operations, verdict %s, %d faults", len(h.Ops), res.Verdict, len(res.Faults))
	r.expect("writes and compare-and-set are linearizable (Porcupine)", reads(), func(*observation) (bool, string) {
		return res.Verdict == lincheck.VerdictOK, fmt.Sprintf("verdict %s; %s", res.Verdict, countsLine(res))
	})
	r.expect("reads keep ZooKeeper's promises (per session: no going back, own writes seen; no invented values)", reads(), func(*observation) (bool, string) {
		if len(res.ReadViolations) > 0 {
			return false, fmt.Sprintf("%d violations, first: %s", len(res.ReadViolations), res.ReadViolations[0])
		}
		return true, fmt.Sprintf("%d reads, none breaks a promise", res.Counts[lincheck.Read].Total())
	})
	r.expect("the faults were injected", reads(), func(*observation) (bool, string) {
		return len(res.Faults) > 0, fmt.Sprintf("%d faults: %s", len(res.Faults), faultNames(res.Faults))
	})
}

// countsLine is "read 120 (ok 118, failed 0, indeterminate 2), …".
func countsLine(res lincheck.Result) string {
	var parts []string
	for _, k := range lincheck.Kinds() {
		c := res.Counts[k]
		parts = append(parts, fmt.Sprintf("%s %d (ok %d, failed %d, indeterminate %d)", k, c.Total(), c.OK, c.Failed, c.Indeterminate))
	}
	return strings.Join(parts, ", ")
}

func faultNames(fs []lincheck.Fault) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name+" "+f.Target)
	}
	return strings.Join(out, ", ")
}

// linNemesis injects a fault every linFaultEvery and undoes it a tick past
// the session timeout later, through the same operations as the CLI: it
// kills or freezes the ZooKeeper leader's server and, where the hosts have
// their own addresses, isolates the leader's host or a follower's (with
// three servers, a random half is a minority of one: the same cut).
type linNemesis struct {
	r   *run
	rnd *rand.Rand
	net bool // partitions can be made
}

func (n *linNemesis) Name() string {
	if n.net {
		return "leader kill/freeze, partitions"
	}
	return "leader kill/freeze"
}

func (n *linNemesis) Run(ctx context.Context, log func(lincheck.Fault)) {
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(linFaultEvery):
		}
		leader, all := n.leader()
		if leader == "" || !all {
			continue
		}
		f, fault, undo := n.pick(leader)
		n.do(fault, &f)
		time.Sleep(n.r.timing.session + n.r.timing.tick)
		n.do(undo, &f) // also when ctx has ended: a fault is always undone
		f.End = time.Now()
		log(f)
	}
}

// pick chooses the next fault and its undo.
func (n *linNemesis) pick(leader string) (lincheck.Fault, ops.Op, ops.Op) {
	kinds := 2
	if n.net {
		kinds = 4
	}
	f := lincheck.Fault{Target: leader, Start: time.Now()}
	switch n.rnd.IntN(kinds) {
	case 0:
		f.Name = "SIGKILL zookeeper"
		return f, ops.Signal{Role: "zookeeper", Host: leader, Signal: syscall.SIGKILL}, ops.StartServer{Host: leader}
	case 1:
		f.Name = "SIGSTOP zookeeper"
		return f, ops.Signal{Role: "zookeeper", Host: leader, Signal: syscall.SIGSTOP}, ops.Signal{Role: "zookeeper", Host: leader, Signal: syscall.SIGCONT}
	case 2:
		f.Name = "isolate the leader's host"
	default:
		f.Name = "isolate a minority"
		var others []string
		for _, s := range n.r.servers {
			if s != leader {
				others = append(others, s)
			}
		}
		f.Target = others[n.rnd.IntN(len(others))]
	}
	return f, ops.Partition{Hosts: []string{f.Target}, For: 3 * n.r.timing.session}, ops.Heal{Hosts: []string{f.Target}}
}

// do runs op (whatever the workload's context) and adds it to the timeline.
func (n *linNemesis) do(op ops.Op, f *lincheck.Fault) {
	rec, err := op.Run(context.WithoutCancel(n.r.ctx), n.r.c)
	if err != nil && f.Err == "" {
		f.Err = err.Error()
	}
	kind := KindFault
	if rec.Kind == ops.KindStartServer || rec.Signal == "SIGCONT" || rec.Kind == ops.KindHeal {
		kind = KindStart
	}
	n.r.events = append(n.r.events, Event{At: rec.Start, Took: rec.Took(), Host: rec.Host, Role: rec.Role,
		Proc: rec.Role, Kind: kind, Msg: rec.Title, Attrs: map[string]string{"signal": rec.Signal, "mode": "leader"}})
}

// leader is the server that leads now, "" when none does; all says that
// every server serves. A fault waits for all: ZooKeeper 3.8.0 can lose
// committed transactions when a server that just finished its sync, or its
// leader, crashes right after (see zktest.SettleAfterSync), and this
// scenario judges ZooKeeper under one fault at a time.
func (n *linNemesis) leader() (leader string, all bool) {
	all = true
	for _, s := range n.r.servers {
		switch n.r.serverMode(s) {
		case "leader":
			leader = s
		case "follower":
		default:
			all = false
		}
	}
	return leader, all
}
