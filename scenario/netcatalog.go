package scenario

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"zkctl/ops"
	"zkctl/roles/protocol"
)

// The network fault scenarios: partitions and degradations made by the
// hosts' agents (ops.Partition, ops.Heal, ops.Degrade). They need hosts
// with their own addresses (Scenario.Net); on the embedded default they
// are skipped (Runnable) with ops.LoopbackReason.

func netScenarios() []*Scenario {
	return []*Scenario{
		{Name: "master-partition", What: "cut the leading master's host off from the others past the session timeout, then heal",
			Observe: "its server stops serving, its session expires on the majority, the backup leads, every write of the old master is refused; after heal it rejoins as a candidate",
			Place:   Placement{{"master", 0}, {"master", 1}, {"worker", 2}, {"worker", 2}, {"client", 2}}, Servers: 3, Net: true, script: masterPartition},
		{Name: "zk-leader-partition", What: "isolate the ZooKeeper leader's host, then heal",
			Observe: "the majority elects a new leader (time reported), the isolated server stops serving, the sessions connected to it move",
			Place:   zkPlace, Servers: 3, Net: true, script: zkLeaderPartition},
		{Name: "worker-partition", What: "cut a worker's host off past the session timeout, then heal",
			Observe: "its tasks are reassigned; after heal its late completions are refused, so no task gets a second result",
			Place:   Placement{{"master", 0}, {"worker", 1}, {"worker", 2}, {"client", 0}}, Servers: 3, Net: true, script: workerPartition},
		{Name: "partition-flap", What: "partition and heal the leading master's host four times, short and long cuts",
			Observe: "no task lost or doubled, at most one master at any time, a long cut makes the backup lead",
			Place:   Placement{{"master", 0}, {"master", 1}, {"worker", 1}, {"worker", 2}, {"client", 2}}, Servers: 3, Net: true, script: partitionFlap},
		{Name: "slow-network", What: "degrade a worker's host: first a stall below the session timeout, then one past it",
			Observe: "below: no failover, nothing lost; past: the worker's tasks move, nothing lost (the stalls are measured; the report says what was applied)",
			Place:   Placement{{"master", 0}, {"worker", 1}, {"worker", 2}, {"client", 0}}, Servers: 3, Net: true, script: slowNetwork},
	}
}

// masterPartition: the leading master's host is cut off.
func masterPartition(r *run) {
	ms := r.startMasters()
	r.startWorkers()
	r.startClients(30)
	r.waitDone(5)
	host := ms[0].Host
	r.note("%s runs the leading master %s and a ZooKeeper %s.", host, ms[0].ID, r.serverMode(host))
	r.snapshot("before the leader's host is cut off")
	part := r.partition(host)
	late := r.startClient(2, r.newID("client", 2), 10)
	r.waitMaster(ms[1])
	r.awaitStopsServing(host, part)
	r.holdUntil(part.At.Add(r.timing.sessionExpiry()), "the host stays cut off past the session timeout")
	r.snapshot("the old leader's host is still cut off; the backup leads")
	r.keepTasksComing(host)
	heal := r.heal(host)
	r.waitSoft(ms[0], "after heal the old leader rejoins as a candidate", "2 master candidates", ops.Candidates(r.mon.conn, 2))
	r.expect("the cut-off host's server stops serving", reads(), func(o *observation) (bool, string) {
		return o.stoppedServing(host, part, heal)
	})
	r.expect("its session expires on the majority: the backup leads while the host is still cut off", reads("master"), func(o *observation) (bool, string) {
		ok, detail := o.newMaster(part, ms[1])
		if e, found := o.electedAfter(part.At); found && !e.At.Before(heal.At) {
			return false, detail + ", but only after the heal"
		}
		return ok, detail
	})
	r.expect("the old leader is fenced: 0 successful writes after the cut", reads("master"), func(o *observation) (bool, string) {
		return o.fenced(ms[0], part)
	})
	r.expect("after heal the old leader rejoins as a candidate", reads("master"), func(o *observation) (bool, string) {
		return o.rejoined(ms[0], heal)
	})
	r.expect("tasks submitted during the cut are assigned by the backup", reads("master", "client"), func(o *observation) (bool, string) {
		return o.assignedBy(late, ms[1])
	})
}

// zkLeaderPartition: the ZooKeeper leader's host is isolated.
func zkLeaderPartition(r *run) {
	r.startMasters()
	r.startWorkers()
	r.startClients(50)
	r.waitDone(5)
	leader, _ := r.roles()
	if !r.ok() {
		return
	}
	before := r.sessionsOff(leader)
	r.note("Connections before the cut (srvr): %s.", r.connections())
	r.snapshot("before the ZooKeeper leader's host is cut off")
	part := r.partition(leader)
	r.waitFor("a new leader among the others", holds(func() bool {
		for _, s := range r.servers {
			if m := r.serverMode(s); s != leader && m == "leader" {
				return true
			}
		}
		return false
	}))
	r.awaitStopsServing(leader, part)
	r.hold(r.timing.session, "the sessions on the isolated server move")
	after := r.sessions()
	r.note("Connections %v after the cut: %s.", r.timing.session, r.connections())
	r.keepTasksComing(leader)
	heal := r.heal(leader)
	r.roles()
	r.waitMoreDone(3)
	r.expect("the majority elects a new leader", reads(), func(o *observation) (bool, string) {
		return o.zkElected(part)
	})
	r.expect("the isolated server stops serving", reads(), func(o *observation) (bool, string) {
		return o.stoppedServing(leader, part, heal)
	})
	r.expect("the sessions connected to it move: every role off the isolated host keeps its session", reads(), func(o *observation) (bool, string) {
		return sameSessions(before, after)
	})
	r.expect("after heal the isolated server serves again", reads(), func(o *observation) (bool, string) {
		return o.servesAgain(leader, heal)
	})
}

// workerPartition: a worker's host is cut off past the session timeout.
func workerPartition(r *run) {
	w := r.busyWorkerOnFollower(20)
	if !r.ok() {
		return
	}
	r.feed(w, 0)
	r.note("%s runs a ZooKeeper follower and worker %s (%d tasks assigned).", w.Host, w.ID, r.assigned(w))
	r.snapshot("before the worker's host is cut off")
	part := r.partition(w.Host)
	r.holdsWork(w, part)
	r.awaitExpired(w, part)
	r.keepTasksComing(w.Host)
	heal := r.heal(w.Host)
	r.waitMoreDone(5)
	r.expect("the cut-off worker's tasks are reassigned and completed once", reads("master", "worker"), func(o *observation) (bool, string) {
		return o.reassigned(w, part)
	})
	r.expect("its late completions are refused: it completed nothing after the cut under its old registration", reads("worker"), func(o *observation) (bool, string) {
		return o.lateRefused(w, part, heal)
	})
}

// partitionFlap: cut and heal the leading master's host, short and long.
func partitionFlap(r *run) {
	r.startMasters()
	r.startWorkers()
	r.startClients(150)
	r.waitDone(5)
	// A short cut lasts half a session timeout. A long one lasts past the
	// session timeout until the other master leads, bounded by a failover:
	// when the master's host also runs the ZooKeeper leader, the majority
	// first notices (syncLimit ticks), elects a new leader, and only then
	// expires the old master's session.
	long := [][2]Event{}
	var last Event
	for i, short := range []bool{true, false, true, false} {
		host := r.masterHost()
		if !r.ok() {
			return
		}
		before := r.mon.status().Master
		part := r.partition(host)
		if short {
			r.hold(r.timing.session/2, fmt.Sprintf("cut %d of 4 (short: %v)", i+1, r.timing.session/2))
		} else {
			r.holdUntil(part.At.Add(r.timing.sessionExpiry()), fmt.Sprintf("cut %d of 4 (long): past the session timeout", i+1))
			r.await("another master leads", r.timing.failover(), ops.MasterIs(r.mon.conn, func(m protocol.MasterInfo) bool {
				return m.ID != before
			}))
		}
		last = r.heal(host)
		if !short {
			long = append(long, [2]Event{part, last})
		}
		r.hold(r.timing.session, "healed")
	}
	h := r.place.Of("client")[0]
	r.startClient(h, r.newID("client", h), 5) // work after the last heal, whatever is left of the first client's
	r.waitMoreDone(5)
	r.expect("every cut past the session timeout makes the other master lead during the cut", reads("master"), func(o *observation) (bool, string) {
		return o.electedDuring(long)
	})
	r.expect("work resumes after the last heal", reads("worker"), func(o *observation) (bool, string) {
		return o.resumed(last)
	})
}

// slowNetwork: degrade a worker's host, below and past the session timeout.
func slowNetwork(r *run) {
	w := r.busyWorkerOnFollower(20)
	if !r.ok() {
		return
	}
	r.note("%s runs a ZooKeeper follower and worker %s; its outbound traffic to the other hosts is degraded.", w.Host, w.ID)
	// The degradations expire on the host after a wait bound, should the
	// controller never clear them.
	r.feed(w, 3*r.timing.session)
	mild := r.degrade(ops.Degrade{Host: w.Host, Delay: 20 * time.Millisecond, Loss: 10, Rate: "1mbit", For: r.timing.wait()})
	r.hold(2*r.timing.session, "a mild degradation")
	mildEnd := r.degrade(ops.Degrade{Host: w.Host, Clear: true})
	r.hold(r.timing.session, "after the mild degradation")
	r.feed(w, 0)
	cut := r.degrade(ops.Degrade{Host: w.Host, Loss: 100, For: r.timing.wait()})
	r.holdsWork(w, cut)
	r.awaitExpired(w, cut)
	r.keepTasksComing(w.Host)
	cutEnd := r.degrade(ops.Degrade{Host: w.Host, Clear: true})
	r.waitMoreDone(3)
	r.expect("a stall below the session timeout: no failover, nothing lost", reads("master", "worker"), func(o *observation) (bool, string) {
		return o.judgeStall(w, mild, mildEnd, false)
	})
	r.expect("a stall past the session timeout: the worker's tasks move, nothing lost", reads("master", "worker"), func(o *observation) (bool, string) {
		return o.judgeStall(w, cut, cutEnd, true)
	})
}

// awaitStopsServing waits until the monitor saw host's server not serving
// after the fault f, bounded by the time a cut-off server takes to notice
// (syncLimit ticks) and a srvr round.
func (r *run) awaitStopsServing(host string, f Event) {
	r.await(host+"'s server stops serving", r.timing.serverNotice()+srvrTimeout+r.timing.tick, holds(func() bool {
		return r.mon.notServingSince(host, f.End())
	}))
}

// awaitExpired holds the fault f on worker w's host until w's session
// expired on the majority (its /workers_eph node is gone), bounded by a
// failover, and at least past the session timeout from the end of the
// fault's call (when it was surely in effect).
func (r *run) awaitExpired(w *Proc, f Event) {
	r.await("worker "+w.ID+"'s session expires on the majority", r.timing.failover(), func() (bool, error) {
		ok, _, err := r.mon.conn.Exists(protocol.WorkerAlive(w.ID))
		return err == nil && !ok, nil
	})
	r.holdUntil(f.End().Add(r.timing.sessionExpiry()), "the fault lasts past the session timeout")
}

// masterHost is the host of the master that leads now.
func (r *run) masterHost() string {
	id := r.mon.status().Master
	for _, p := range r.procs() {
		if p.Role == "master" && p.ID == id {
			return p.Host
		}
	}
	r.fail(fmt.Errorf("no master leads (/master %q)", id))
	return ""
}

// sessionsOff is sessions() without the ephemeral znodes of the roles
// that run on host (they are cut off with it).
func (r *run) sessionsOff(host string) map[string]int64 {
	all := r.sessions()
	drop := map[int64]bool{}
	for _, p := range r.procs() {
		if p.Host != host || !p.Ended.IsZero() {
			continue
		}
		for path, owner := range all {
			if path == protocol.WorkerAlive(p.ID) || candidateOf(path) == p.ID {
				drop[owner] = true
			}
		}
	}
	for path, owner := range all {
		if drop[owner] {
			delete(all, path)
		}
	}
	return all
}

// candidateOf is the name of the master whose election node is path, or "".
func candidateOf(path string) string {
	node, ok := strings.CutPrefix(path, protocol.ElectionPath+"/")
	if !ok {
		return ""
	}
	c, err := protocol.ParseCandidate(node)
	if err != nil {
		return ""
	}
	return c.Name
}

// modesOf returns the monitor's srvr samples of host in (from, to).
func (o *observation) modesOf(host string, from, to time.Time) []string {
	i := slices.Index(o.res.Samples.Servers, host)
	if i < 0 {
		return nil
	}
	var out []string
	for _, s := range o.res.Samples.Server {
		if s.At.After(from) && s.At.Before(to) {
			out = append(out, s.Modes[i])
		}
	}
	return out
}

// stoppedServing: host's server answered srvr as not serving (neither
// leader nor follower) at some sample between the cut and the heal.
func (o *observation) stoppedServing(host string, part, heal Event) (bool, string) {
	modes := o.modesOf(host, part.End(), heal.At)
	for i, m := range modes {
		if !serving(m) {
			return true, fmt.Sprintf("%s's server was %q in the sample %d of %d between the cut (%s) and the heal (%s)",
				host, m, i+1, len(modes), o.rel(part.At), o.rel(heal.At))
		}
	}
	return false, fmt.Sprintf("%s's server served in all %d samples between the cut and the heal", host, len(modes))
}

// servesAgain: host's server leads or follows after the heal.
func (o *observation) servesAgain(host string, heal Event) (bool, string) {
	for _, m := range o.modesOf(host, heal.At, o.res.End.Add(time.Minute)) {
		if m == "leader" || m == "follower" {
			return true, fmt.Sprintf("%s's server is a %s again after the heal (%s)", host, m, o.rel(heal.At))
		}
	}
	return false, host + "'s server did not serve again after the heal"
}

// lateRefused: worker w completed nothing under its registration of
// before the cut once the cut was in place (a tick later); what it tried
// is in its dropped lines.
func (o *observation) lateRefused(w *Proc, part, heal Event) (bool, string) {
	var late []string
	for _, e := range o.done {
		if e.Proc == w.Name() && e.ID == w.ID && e.At.After(part.End().Add(o.tick)) {
			late = append(late, fmt.Sprintf("%s completed at %s", e.Task, o.rel(e.At)))
		}
	}
	dropped := 0
	for _, e := range filter(o.res.Events, KindDropped) {
		if e.Proc == w.Name() && e.At.After(part.At) {
			dropped++
		}
	}
	if len(late) > 0 {
		return false, fmt.Sprintf("%d completions by %s accepted after the cut", len(late), w.ID) + problems(late)
	}
	return true, fmt.Sprintf("no completion by %s accepted after the cut (%s); %d late results dropped once it was back (heal %s)",
		w.ID, o.rel(part.At), dropped, o.rel(heal.At))
}

// electedDuring: within each (cut, heal) pair another master led. The
// evidence is ZooKeeper's: the monitor's samples of /master naming
// another master than the one it named when the cut began. The master's
// own "elected" line is logged after its write came back and may fall
// just after the heal began (seen: 10 ms after, with /master sampled
// during the cut), so it counts only when no sample shows the change.
func (o *observation) electedDuring(pairs [][2]Event) (bool, string) {
	if len(pairs) == 0 {
		return false, "no long cut was made"
	}
	var parts []string
	for _, p := range pairs {
		cut, heal := p[0].At, p[1].At
		if s, ok := o.masterChanged(cut, heal); ok {
			parts = append(parts, fmt.Sprintf("%s in /master %.2fs after the cut at %s", s.Master, s.At.Sub(cut).Seconds(), o.rel(cut)))
			continue
		}
		e, ok := o.electedAfter(cut)
		if !ok || !e.At.Before(heal) {
			return false, fmt.Sprintf("no master elected during the cut %s–%s", o.rel(cut), o.rel(heal))
		}
		parts = append(parts, fmt.Sprintf("%s %.2fs after the cut at %s", e.ID, e.At.Sub(cut).Seconds(), o.rel(cut)))
	}
	return true, "elected: " + strings.Join(parts, ", ")
}

// masterChanged is the first sample in (from, to) whose /master names
// another master than the last sample at or before from did.
func (o *observation) masterChanged(from, to time.Time) (AppSample, bool) {
	before := ""
	for _, s := range o.res.Samples.App {
		switch {
		case !s.OK || s.Master == "":
		case !s.At.After(from):
			before = s.Master
		case s.At.Before(to) && s.Master != before:
			return s, before != ""
		}
	}
	return AppSample{}, false
}

// stall is the longest time within (from, to) in which worker w held a
// task and completed none: from an assignment to w (or w's completion
// before it) to w's next completion, or until its last held task moved
// back, or to. A worker with nothing to do is idle, not stalled.
func (o *observation) stall(w *Proc, from, to time.Time) time.Duration {
	var since time.Time // when the current stall began; zero while idle
	longest := time.Duration(0)
	end := func(at time.Time) {
		if since.IsZero() || !at.After(from) {
			return
		}
		start := since
		if start.Before(from) {
			start = from
		}
		longest = max(longest, at.Sub(start))
	}
	o.holdings(w, to, func(e Event, held map[string]bool) {
		if e.Kind == KindCompleted || len(held) == 0 {
			end(e.At)
			since = time.Time{}
		}
		if len(held) > 0 && since.IsZero() {
			since = e.At
		}
	})
	end(to)
	return longest
}

// judgeStall judges a degradation of w's host. One that is past the
// session timeout (past) must move w's tasks: it is judged by what
// happened (reassigned), the stall is shown. One below it is judged by
// the stall it caused while w held a task: below the session timeout, w
// must never be reported gone; past it, its tasks must move.
func (o *observation) judgeStall(w *Proc, deg, clear Event, past bool) (bool, string) {
	s := o.stall(w, deg.At, clear.At)
	what := fmt.Sprintf("%s (%s); longest stall of %s's completions while it held a task %.2fs (session timeout %v)",
		deg.Msg, orDash(deg.Attrs["applied"]), w.ID, s.Seconds(), o.run.timing.session)
	if !past {
		if s == 0 {
			return o.notJudged(what + ": it held no task during the degradation, so it shows nothing")
		}
		if s < o.run.timing.session {
			for _, e := range o.res.Events {
				if e.Kind == KindWorkerGone && e.Worker == w.ID && e.At.After(deg.At) && e.At.Before(clear.At.Add(o.run.timing.session)) {
					return false, what + ", yet the master reported it gone at " + o.rel(e.At)
				}
			}
			return true, what + ": no failover"
		}
	}
	ok, detail := o.reassigned(w, deg)
	return ok, what + ": " + detail
}
