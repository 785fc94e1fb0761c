package scenario

import (
	"fmt"
	"syscall"
	"time"
	"zkctl/ops"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// The scripts. Each starts from a fresh ensemble with no role running,
// starts the placement's roles, submits enough tasks (TaskDuration each) to
// overlap every fault, injects the faults and states what it expects.
// The runner then waits for every live client to finish, and judges the
// invariants that hold in every scenario (checks.go) and the expectations.

// c1w1m1: kill the only worker, later the client.
func c1w1m1(r *run) {
	r.startMasters()
	ws := r.startWorkers()
	cs := r.startClients(25)
	r.waitDone(5)
	r.snapshot("before the worker is killed")
	kill := r.signal(ws[0], syscall.SIGKILL)
	r.hold(r.timing.session+500*time.Millisecond, "no worker alive: tasks must wait")
	w2 := r.startWorker(r.place.Of("worker")[0])
	r.expect("tasks wait while no worker lives", reads("worker"), func(o *observation) (bool, string) {
		return o.noProgress(kill.End(), w2.Started, "the worker was killed", "a new worker started")
	})
	r.expect("tasks complete once a new worker runs", reads("worker"), func(o *observation) (bool, string) {
		n := o.completedBy(w2)
		return n > 0, fmt.Sprintf("%s completed %d tasks", w2.ID, n)
	})

	r.waitMoreDone(5)
	r.signal(cs[0], syscall.SIGKILL)
	r.waitIdle()
	left := r.leftResults(cs[0].ID)
	r.handover = append(r.handover, handover{client: cs[0].ID, tasks: left, at: time.Now()})
	r.snapshot("the client was killed and its tasks finished: their results wait in /results")
	again := r.restart(cs[0], roles.Options{Tasks: 5, Duration: TaskDuration})
	r.expect("a restarted client (same --id) cleans up what the killed one left", reads("client"), func(o *observation) (bool, string) {
		return o.cleanedUp(again, left)
	})
}

// c1w2m1: a worker fails with tasks assigned.
func c1w2m1(r *run) {
	r.startMasters()
	ws := r.startWorkers()
	r.startClients(20)
	r.waitDone(4)
	r.feed(ws[0], 0)
	r.snapshot("before the worker is killed")
	kill := r.signal(ws[0], syscall.SIGKILL)
	r.holdsWork(ws[0], kill)
	r.expect("the killed worker's tasks are reassigned and completed by another worker", reads("master", "worker"), func(o *observation) (bool, string) {
		return o.reassigned(ws[0], kill)
	})
}

// c2w2m1: two clients and two workers compete.
func c2w2m1(r *run) {
	r.startMasters()
	ws := r.startWorkers()
	r.startClients(20)
	r.waitDone(6)
	r.snapshot("while both clients' tasks run")
	r.expect("load is balanced between the workers", reads("worker"), func(o *observation) (bool, string) {
		return o.balanced(ws)
	})
}

// c2w2m2: kill the leading master, with SIGTERM and then with SIGKILL.
func c2w2m2(r *run) {
	ms := r.startMasters()
	r.startWorkers()
	h1, h2 := r.place.Of("client")[0], r.place.Of("client")[1]
	r.startClient(h1, r.newID("client", h1), 30)
	r.waitDone(5)
	r.snapshot("before the leader is killed")
	term := r.signal(ms[0], syscall.SIGTERM)
	r.waitMaster(ms[1])
	r.expect("after SIGTERM of the leader the backup leads", reads("master"), func(o *observation) (bool, string) {
		return o.newMaster(term, ms[1])
	})
	r.restart(ms[0], roles.Options{})
	r.waitCandidates(2)
	r.waitMoreDone(3)
	kill := r.signal(ms[1], syscall.SIGKILL)
	late := r.startClient(h2, r.newID("client", h2), 20)
	r.waitMaster(ms[0])
	r.expect("after SIGKILL of the leader the restarted candidate leads", reads("master"), func(o *observation) (bool, string) {
		return o.newMaster(kill, ms[0])
	})
	r.expect("tasks submitted while no master leads are assigned by the new one", reads("master", "client"), func(o *observation) (bool, string) {
		return o.assignedBy(late, ms[0])
	})
}

// masterLag: SIGSTOP the leader for longer than the session timeout.
func masterLag(r *run) {
	ms := r.startMasters()
	r.startWorkers()
	r.startClients(30)
	r.waitDone(5)
	r.snapshot("before the leader is stopped")
	stop := r.signal(ms[0], syscall.SIGSTOP)
	h := r.place.Of("client")[0]
	late := r.startClient(h, r.newID("client", h), 10)
	r.waitMaster(ms[1])
	r.holdUntil(stop.At.Add(r.timing.sessionExpiry()), "the leader stays stopped past the session timeout")
	r.snapshot("the old leader is still stopped; the backup leads")
	r.keepTasksComing()
	cont := r.signal(ms[0], syscall.SIGCONT)
	r.waitSoft(ms[0], "the old leader rejoins as a candidate", "2 master candidates", ops.Candidates(r.mon.conn, 2))
	r.expect("a backup takes over while the leader is stopped", reads("master"), func(o *observation) (bool, string) {
		ok, detail := o.newMaster(stop, ms[1])
		if e, found := o.electedAfter(stop.At); found && !e.At.Before(cont.At) {
			return false, detail + ", but only after SIGCONT"
		}
		return ok, detail
	})
	r.expect("the old leader is fenced: 0 successful writes after its session expired", reads("master"), func(o *observation) (bool, string) {
		return o.fenced(ms[0], stop)
	})
	r.expect("the old leader rejoins as a candidate", reads("master"), func(o *observation) (bool, string) {
		return o.rejoined(ms[0], cont)
	})
	r.expect("tasks submitted during the lag are assigned by the backup", reads("master", "client"), func(o *observation) (bool, string) {
		return o.assignedBy(late, ms[1])
	})
}

// zkFollowerKill: kill the follower that serves the most sessions.
func zkFollowerKill(r *run) {
	r.startMasters()
	r.startWorkers()
	r.startClients(50)
	r.waitDone(5)
	_, followers := r.roles()
	f := r.busiest(followers)
	before := r.sessions()
	r.note("Connections before the kill (srvr): %s.", r.connections())
	r.snapshot("before the follower is killed")
	kill := r.killServer(f, syscall.SIGKILL)
	r.hold(r.timing.session+500*time.Millisecond, "sessions move to the other servers")
	r.note("Connections %v after the kill: %s.", (r.timing.session + 500*time.Millisecond), r.connections())
	after := r.sessions()
	back := r.startServer(f)
	r.expect("sessions move to another server: every role keeps its session", reads(), func(o *observation) (bool, string) {
		return sameSessions(before, after)
	})
	r.expect("no role failover", reads("master"), func(o *observation) (bool, string) {
		return o.noElection(kill.At)
	})
	r.expect("tasks keep completing while the follower is down", reads("worker"), func(o *observation) (bool, string) {
		n := len(o.completionsIn(kill.End(), back.At))
		return n > 0, fmt.Sprintf("%d tasks completed while %s was down", n, f)
	})
}

// zkLeaderKill: kill the ZooKeeper leader.
func zkLeaderKill(r *run) {
	r.startMasters()
	r.startWorkers()
	r.startClients(50)
	r.waitDone(5)
	leader, _ := r.roles()
	before := r.sessions()
	r.snapshot("before the ZooKeeper leader is killed")
	kill := r.killServer(leader, syscall.SIGKILL)
	r.waitLeader()
	r.hold(r.timing.session, "clients reconnect")
	after := r.sessions()
	r.startServer(leader)
	r.expect("the ensemble elects a new leader", reads(), func(o *observation) (bool, string) {
		return o.zkElected(kill)
	})
	r.expect("clients reconnect with their sessions", reads(), func(o *observation) (bool, string) {
		return sameSessions(before, after)
	})
}

// zkQuorumLoss: kill two of three servers, then restart them.
func zkQuorumLoss(r *run) {
	r.startMasters()
	r.startWorkers()
	r.startClients(60)
	r.waitDone(5)
	leader, followers := r.roles()
	if !r.ok() {
		return
	}
	before := r.sessions()
	r.snapshot("before two servers are killed")
	r.killServer(followers[0], syscall.SIGKILL)
	lost := r.killServer(leader, syscall.SIGKILL)
	r.hold(r.timing.session+time.Second, "no quorum: nothing can be written")
	back := r.startServer(leader)
	r.startServer(followers[0])
	r.waitLeader()
	r.waitMoreDone(1)
	after := r.sessions()
	_, kept := sameSessions(before, after)
	r.note("Sessions after the quorum came back: %s.", kept)
	r.expect("no progress without quorum", reads("worker"), func(o *observation) (bool, string) {
		return o.noProgress(lost.End(), back.At, "the quorum was lost", "the servers were restarted")
	})
	r.expect("progress resumes after the restart", reads("worker"), func(o *observation) (bool, string) {
		return o.resumed(back)
	})
}

// standalone: the same workload on one server, then kill it.
func standalone(r *run) {
	r.startMasters()
	r.startWorkers()
	r.startClients(40)
	r.waitDone(5)
	r.snapshot("before the only server is killed")
	only := r.servers[0]
	kill := r.killServer(only, syscall.SIGKILL)
	r.hold(r.timing.session+time.Second, "the only server is down")
	back := r.startServer(only)
	r.waitLeader()
	r.expect("with one server down everything stops", reads("worker"), func(o *observation) (bool, string) {
		ok, detail := o.noProgress(kill.End(), back.At, "the server was killed", "it was restarted")
		if n := o.answered(kill.End(), back.At); n > 0 {
			return false, fmt.Sprintf("%s; but ZooKeeper answered %d reads meanwhile", detail, n)
		}
		return ok, detail + "; ZooKeeper answered no read meanwhile"
	})
	r.expect("work resumes once the server is back", reads("worker"), func(o *observation) (bool, string) {
		return o.resumed(back)
	})
}

// hostCrash: the seed's cluster-mode example: a host running a ZooKeeper
// follower and a worker goes down as a whole, then comes back.
func hostCrash(r *run) {
	w := r.busyWorkerOnFollower(20)
	if !r.ok() {
		return
	}
	r.feed(w, r.timing.session+time.Second) // work for the worker to lose and for the others while the host is down
	before := r.sessions()
	delete(before, protocol.WorkerAlive(w.ID)) // dies with its host
	r.note("%s runs a ZooKeeper follower and worker %s (%d tasks assigned); connections before (srvr): %s.",
		w.Host, w.ID, r.assigned(w), r.connections())
	r.snapshot("before the host crashes")
	crash := r.crashHost(w.Host)
	r.holdsWork(w, crash)
	r.hold(r.timing.session+500*time.Millisecond, "the crashed host's sessions move or expire")
	after := r.sessions()
	back := r.startServer(w.Host)
	again := r.restart(w, roles.Options{Concurrency: 1})
	r.waitFor("worker "+again.ID+" registered again", ops.WorkerAlive(r.mon.conn, again.ID))
	h := r.place.Of("client")[0]
	r.startClient(h, r.newID("client", h), 10) // work for the host that came back
	r.waitMoreDone(10)
	r.expect("the ensemble keeps quorum: tasks complete while the host is down", reads("worker"), func(o *observation) (bool, string) {
		n := len(o.completionsIn(crash.End(), back.At))
		return n > 0, fmt.Sprintf("%d tasks completed while %s was down", n, w.Host)
	})
	r.expect("sessions on the crashed server move: every other role keeps its session", reads(), func(o *observation) (bool, string) {
		return sameSessions(before, after)
	})
	r.expect("the crashed worker's tasks are reassigned and completed once", reads("master", "worker"), func(o *observation) (bool, string) {
		return o.reassigned(w, crash)
	})
	r.expect("the host's processes restart and rejoin: its worker completes tasks again", reads("worker"), func(o *observation) (bool, string) {
		n := 0
		for _, e := range o.completionsIn(again.Started, o.res.End) {
			if e.Proc == again.Name() {
				n++
			}
		}
		return n > 0, fmt.Sprintf("%s completed %d tasks after %s came back", again.ID, n, w.Host)
	})
}
