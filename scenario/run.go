package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"time"

	"zkctl/controller"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// TaskDuration is what every task the scenarios submit lasts.
const TaskDuration = 200 * time.Millisecond

// Proc is a role process a scenario started.
type Proc struct {
	Role, ID, Host string
	Log            string // its log file on the host
	PID            int
	Started        time.Time
	Ended          time.Time // when the scenario signalled it to end; zero if it did not
	Killed         bool      // ended by SIGKILL: it could log nothing more
}

// Name is the process name the node agent uses, "<role>-<id>".
func (p *Proc) Name() string { return p.Role + "-" + p.ID }

// run is one scenario in progress: the steps its script calls. The first
// step that fails records its error and every later step does nothing
// (like bufio.Scanner), so that scripts read as a plain list of steps.
type run struct {
	ctx     context.Context
	c       *controller.Cluster
	hosts   []string // the scenario's hosts; placement indexes point here
	servers []string // the ensemble
	mon     *monitor
	journal *ops.Journal // every operation of the scenario, and the processes it started
	timing  timing       // the ensemble's: every hold and wait derives from it
	place   Placement

	extra     []string // markdown lines for the report, after the notes
	figures   string   // a scenario without tasks: its own figures for the summaries
	artifacts string   // where files beside the report go
	events    []Event  // starts and faults
	snapshots []Snapshot
	notes     []string
	expects   []expectation
	handover  []handover
	ids       map[string]int // next number per role and host

	mu   sync.Mutex
	step string
	err  error
}

// handover is what a killed client left in /results for its successor,
// listed at a moment before the successor started.
type handover struct {
	client string
	tasks  []string
	at     time.Time
}

// expectation is a scenario's own statement, judged after the run.
// stopped: the run had stopped when the script stated it, so the steps
// it judges did not run and it is not judged.
type expectation struct {
	name    string
	reads   []string // the roles whose logs it reads (see reads)
	judge   func(o *observation) (bool, string)
	stopped bool
}

func (r *run) ok() bool {
	if r.err == nil && r.ctx.Err() != nil {
		r.fail(r.ctx.Err())
	}
	return r.err == nil
}

func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// setStep names what the script does now (for the progress line).
func (r *run) setStep(format string, args ...any) {
	r.mu.Lock()
	r.step = fmt.Sprintf(format, args...)
	r.mu.Unlock()
}

func (r *run) currentStep() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.step
}

// expect adds a statement about the run, judged once it is over from the
// logs of the roles it reads and from ZooKeeper.
func (r *run) expect(name string, roles []string, judge func(o *observation) (bool, string)) {
	r.expects = append(r.expects, expectation{name: name, reads: roles, judge: judge, stopped: !r.ok()})
}

// note adds a line to the scenario's section of the report.
func (r *run) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// newID names the next instance of role on host h: "vm2-w1", "vm2-w2"…
func (r *run) newID(role string, h int) string {
	key := role[:1]
	r.ids[key]++
	return fmt.Sprintf("%s-%s%d", r.hosts[h], key, r.ids[key])
}

// start starts one role process with id on scenario host h (ops.Start,
// as `zkctl start` does).
func (r *run) start(role string, h int, id string, o roles.Options) *Proc {
	p := &Proc{Role: role, ID: id, Host: r.hosts[h]}
	rec, _, ok := r.do(ops.Start{Role: role, Host: r.hosts[h], ID: id, Options: o}, "")
	if !ok {
		return p
	}
	if len(rec.Procs) != 1 {
		r.fail(fmt.Errorf("start %s %s on %s: %d processes", role, id, p.Host, len(rec.Procs)))
		return p
	}
	p.Started, p.Log, p.PID = rec.Start, rec.Procs[0].Log, rec.Procs[0].PID
	return p
}

// procs lists the role processes the scenario started, from its journal.
func (r *run) procs() []*Proc { return procsOf(r.journal.Records()) }

// procsOf reads the role processes out of a journal's records: each
// started process, ended by a later SIGKILL or SIGTERM of its instance
// or by a crash of its host.
func procsOf(recs []ops.Record) []*Proc {
	var out []*Proc
	end := func(p *Proc, at time.Time, killed bool) {
		if p.Ended.IsZero() {
			p.Ended, p.Killed = at, killed
		}
	}
	for _, rec := range recs {
		switch {
		case rec.Kind == ops.KindStart && len(rec.Procs) == 1:
			out = append(out, &Proc{Role: rec.Role, ID: rec.ID, Host: rec.Host, Log: rec.Procs[0].Log, PID: rec.Procs[0].PID, Started: rec.Start})
		case rec.Kind == ops.KindSignal && (rec.Signal == "SIGKILL" || rec.Signal == "SIGTERM") && rec.ID != "":
			for _, p := range out {
				if p.Host == rec.Host && p.Role == rec.Role && p.ID == rec.ID {
					end(p, rec.Start, rec.Signal == "SIGKILL")
				}
			}
		case rec.Kind == ops.KindCrash:
			for _, p := range out {
				if p.Host == rec.Host {
					end(p, rec.Start, true)
				}
			}
		}
	}
	return out
}

// startMasters starts the placement's masters; the first is the leader:
// the others start once it leads.
func (r *run) startMasters() []*Proc {
	var out []*Proc
	for i, h := range r.place.Of("master") {
		p := r.start("master", h, r.newID("master", h), roles.Options{})
		out = append(out, p)
		if i == 0 {
			r.waitMaster(p)
		}
	}
	return out
}

// startWorkers starts the placement's workers and waits until each is alive.
func (r *run) startWorkers() []*Proc {
	var out []*Proc
	for _, h := range r.place.Of("worker") {
		out = append(out, r.startWorker(h))
	}
	return out
}

// startWorker starts one worker on host h and waits until it registered.
func (r *run) startWorker(h int) *Proc {
	p := r.start("worker", h, r.newID("worker", h), roles.Options{Concurrency: 1})
	r.waitForProc(p, "worker "+p.ID+" registered", ops.WorkerAlive(r.mon.conn, p.ID))
	return p
}

// startClients starts one client on each of the placement's client hosts,
// each submitting tasks tasks.
func (r *run) startClients(tasks int) []*Proc {
	var out []*Proc
	for _, h := range r.place.Of("client") {
		out = append(out, r.startClient(h, r.newID("client", h), tasks))
	}
	return out
}

// startClient starts a client with id on host h that submits tasks tasks.
func (r *run) startClient(h int, id string, tasks int) *Proc {
	return r.start("client", h, id, roles.Options{Tasks: tasks, Duration: TaskDuration})
}

// keepTasksComing starts one more client, on a client host that no fault
// holds (avoid), so that work is pending when a fault ends, whatever the
// timing made of the first clients' tasks: an old leader that resumes then
// has work it could take (a master that does not check its election node
// takes it, and the history shows it), and work after a heal is there to
// resume.
func (r *run) keepTasksComing(avoid ...string) {
	r.startClientAway(20, avoid...)
}

// startClientAway starts a client that submits tasks tasks on a client
// host, else any host, that no fault holds (avoid).
func (r *run) startClientAway(tasks int, avoid ...string) {
	hosts := r.place.Of("client")
	for i := range r.hosts {
		hosts = append(hosts, i)
	}
	for _, h := range hosts {
		if !slices.Contains(avoid, r.hosts[h]) {
			r.startClient(h, r.newID("client", h), tasks)
			return
		}
	}
	r.fail(fmt.Errorf("no host for more tasks: %v are all held by a fault", r.hosts))
}

// feed keeps worker w busy through a fault about to start on its host,
// whatever the timing made of the earlier clients' tasks: a client on a
// host no fault holds submits enough tasks for every worker to stay busy,
// at full speed, for the slowest call of this run so far (a fault's call
// can take seconds on a loaded machine before the fault is in effect)
// plus more (what the fault's holds last); then the run waits until w
// holds a task. When the call is slower still, holdsWork feeds w again.
func (r *run) feed(w *Proc, more time.Duration) {
	span := r.slowestCall() + more
	workers := len(r.place.Of("worker"))
	r.startClientAway(int(span/TaskDuration+1)*workers, w.Host)
	r.await(w.ID+" holds a task", r.timing.wait(), func() (bool, error) {
		return r.assigned(w) > 0, nil
	})
}

// holdsWork notes how many tasks w holds once the fault f has been
// applied, and when it holds none (its work ran out during a slow call)
// gives it more: its registration stands until its session expires, so
// the master still assigns it tasks, which it cannot complete.
func (r *run) holdsWork(w *Proc, f Event) {
	if !r.ok() {
		return
	}
	n := r.assigned(w)
	r.note("%s held %d tasks when the %s had been applied (%s).", w.ID, n, f.Msg, f.End().Format("15:04:05.000"))
	if n > 0 {
		return
	}
	r.keepTasksComing(w.Host)
	r.await(w.ID+" holds a task, or its session ended", r.timing.failover(), func() (bool, error) {
		alive, _, err := r.mon.conn.Exists(protocol.WorkerAlive(w.ID))
		return err == nil && (!alive || r.assigned(w) > 0), nil
	})
}

// slowestCall is the longest that a fault or a start of this run took,
// at least a second.
func (r *run) slowestCall() time.Duration {
	slowest := time.Second
	for _, e := range r.events {
		if e.Kind == KindFault || e.Kind == KindStart {
			slowest = max(slowest, e.Took)
		}
	}
	return slowest
}

// signal sends sig to p (ops.Signal, as `zkctl kill` does).
func (r *run) signal(p *Proc, sig syscall.Signal) Event {
	_, e, _ := r.do(ops.Signal{Role: p.Role, Host: p.Host, ID: p.ID, Signal: sig}, "")
	return e
}

// restart starts a process that the scenario ended again, with the same id.
func (r *run) restart(p *Proc, o roles.Options) *Proc {
	return r.start(p.Role, r.hostIndex(p.Host), p.ID, o)
}

func (r *run) hostIndex(name string) int {
	for i, h := range r.hosts {
		if h == name {
			return i
		}
	}
	return 0
}

// killServer sends sig to the ZooKeeper server on host (a server name) and
// notes its mode just before.
func (r *run) killServer(host string, sig syscall.Signal) Event {
	_, e, _ := r.do(ops.Signal{Role: node.ZooKeeperName, Host: host, Signal: sig}, r.modeBefore(host))
	return e
}

// startServer starts the ZooKeeper server on host again.
func (r *run) startServer(host string) Event {
	_, e, _ := r.do(ops.StartServer{Host: host}, "")
	return e
}

// modeBefore is host's server mode before a fault on it, "" once the run
// stopped (nothing is asked then).
func (r *run) modeBefore(host string) string {
	if !r.ok() {
		return ""
	}
	return r.serverMode(host)
}

// waitFor polls cond until it holds; after the timing's wait bound the
// run fails.
func (r *run) waitFor(what string, cond func() (bool, error)) {
	r.waitEvery(what, r.timing.wait(), 20*time.Millisecond, cond)
}

// waitEvery is waitFor with its own timeout and polling period.
func (r *run) waitEvery(what string, timeout, every time.Duration, cond func() (bool, error)) {
	if !r.ok() {
		return
	}
	r.setStep("wait: %s", what)
	err := ops.Poll(r.ctx, every, timeout, what, cond)
	switch {
	case errors.Is(err, ops.ErrTimeout):
		r.fail(fmt.Errorf("waited %v for %s", timeout, what))
	case err != nil && r.ctx.Err() != nil:
		r.fail(r.ctx.Err())
	case err != nil:
		r.fail(err)
	}
}

// await waits, bounded by the timing, for something that an expectation
// then judges (a server that stops serving, a session that expires): a
// timeout does not stop the run, it is noted, and the expectation says
// what was seen. It tells whether cond held.
func (r *run) await(what string, bound time.Duration, cond func() (bool, error)) bool {
	if !r.ok() {
		return false
	}
	r.setStep("wait: %s", what)
	err := ops.Poll(r.ctx, 20*time.Millisecond, bound, what, cond)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ops.ErrTimeout):
		r.note("Waited %v (from the ensemble's timing) for %s: it did not happen.", bound, what)
	default:
		r.fail(r.ctx.Err())
	}
	return false
}

// holds turns a plain condition into one for waitFor.
func holds(cond func() bool) func() (bool, error) {
	return func() (bool, error) { return cond(), nil }
}

// waitDone waits until n tasks have completed since the start.
func (r *run) waitDone(n int) {
	r.waitFor(fmt.Sprintf("%d tasks done", n), holds(func() bool { return r.mon.status().Done >= n }))
}

// waitMoreDone waits until n more tasks have completed, or every task
// open now: how many are left when a script gets here depends on the
// timing and the machine (at a slow tick or under load the first
// clients' work may be over), and more than that can never complete.
func (r *run) waitMoreDone(n int) {
	st := r.mon.status()
	if k := min(n, st.Open); k > 0 {
		r.waitDone(st.Done + k)
	}
}

// waitMaster waits until /master names p.
func (r *run) waitMaster(p *Proc) {
	r.waitForProc(p, "master "+p.ID+" elected", ops.MasterIs(r.mon.conn, func(m protocol.MasterInfo) bool { return m.ID == p.ID }))
}

// waitCandidates waits until n masters take part in the election.
func (r *run) waitCandidates(n int) {
	r.waitFor(fmt.Sprintf("%d master candidates", n), ops.Candidates(r.mon.conn, n))
}

// waitLeader waits until a server leads (or serves standalone).
func (r *run) waitLeader() {
	r.waitFor("a ZooKeeper leader", holds(func() bool {
		for _, s := range r.servers {
			if m := r.serverMode(s); m == "leader" || m == "standalone" {
				return true
			}
		}
		return false
	}))
}

// waitIdle waits until no task is open.
func (r *run) waitIdle() { r.waitFor("no open task", ops.NoOpenTask(r.mon.conn)) }

// hold lets time pass while the fault acts.
func (r *run) hold(d time.Duration, why string) {
	if !r.ok() {
		return
	}
	r.setStep("hold %v: %s", d.Round(time.Millisecond), why)
	select {
	case <-r.ctx.Done():
		r.fail(r.ctx.Err())
	case <-time.After(d):
	}
}

// holdUntil holds until t.
func (r *run) holdUntil(t time.Time, why string) { r.hold(time.Until(t), why) }

// snapshot records `tree /` now.
func (r *run) snapshot(label string) {
	if !r.ok() {
		return
	}
	var b bytes.Buffer
	at := time.Now()
	if err := controller.Tree(&b, r.mon.conn, "/"); err != nil {
		b.WriteString("(tree failed: " + err.Error() + ")\n")
	}
	r.snapshots = append(r.snapshots, Snapshot{Label: label, At: at, Tree: b.String()})
}

// crashHost SIGKILLs every process on host at once (ops.Crash, as `zkctl
// crash` does): its server and the roles the scenario started there.
func (r *run) crashHost(host string) Event {
	_, e, _ := r.do(ops.Crash{Host: host}, r.modeBefore(host))
	return e
}
