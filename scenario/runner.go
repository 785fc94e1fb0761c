package scenario

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/node"
	"zkctl/ops"
)

// Runner runs scenarios on a deployed cluster (see `zkctl deploy`).
type Runner struct {
	Cluster *controller.Cluster
	// Out receives one line of progress per scenario; nil discards it.
	Out io.Writer
	// Terminal redraws that line as the scenario goes; otherwise each step
	// is printed on a line of its own.
	Terminal bool
	// Artifacts is the folder for files beside the report (Porcupine's
	// visualization of a refused history); default the temporary folder.
	Artifacts string
}

// Run runs the scenarios one after the other and returns what each
// observed. A scenario that fails does not stop the others; ctx does. At
// the end the role processes are stopped and the ensemble is left running.
func (rn *Runner) Run(ctx context.Context, scs []*Scenario) []*Result {
	pr := newProgress(rn.Out, rn.Terminal, len(scs))
	var out []*Result
	for i, sc := range scs {
		out = append(out, rn.runOne(ctx, sc, pr.scenario(i, sc.Name)))
		if ctx.Err() != nil {
			break
		}
	}
	rn.stopRoles(context.WithoutCancel(ctx), rn.waitBound())
	return out
}

// runOne resets the ensemble, runs the script, waits for the clients,
// collects the logs and judges.
func (rn *Runner) runOne(ctx context.Context, sc *Scenario, line *progressLine) *Result {
	res := &Result{Scenario: sc, Start: time.Now()}
	began := res.Start
	defer func() {
		res.Took = time.Since(began)
		line.end(res)
	}()
	all := rn.Cluster.Inv.Hosts
	if len(all) < HostsNeeded {
		res.Err = fmt.Errorf("needs %d hosts, the inventory %s has %d", HostsNeeded, rn.Cluster.Inv.Path, len(all))
		res.End = time.Now()
		return res
	}
	netErr := netPossible(ctx, rn.Cluster)
	if sc.Net && netErr != nil {
		res.Err, res.End = fmt.Errorf("cannot run here: %w", netErr), time.Now()
		return res
	}
	hosts, servers := all[:HostsNeeded], all[:sc.Servers]
	res.Hosts, res.Servers = hostNames(hosts), hostNames(servers)
	tm, err := readTiming(rn.Cluster, servers)
	if err != nil {
		res.Err, res.End = err, time.Now()
		return res
	}
	res.Timing = tm.String()
	if netErr == nil {
		defer rn.healAll(ctx, res, tm.wait())
	}
	line.step("reset: ensemble on %v", res.Servers)
	if err = deploy.ResetServers(ctx, rn.Cluster, servers); err != nil {
		res.Err, res.End = fmt.Errorf("reset: %w", err), time.Now()
		return res
	}
	if sc.Servers < len(all) {
		defer rn.resetBack(ctx, res, line)
	}
	mon, err := startMonitor(ctx, rn.Cluster, servers, tm.wait())
	if err != nil {
		res.Err, res.End = fmt.Errorf("connect to the ensemble: %w", err), time.Now()
		return res
	}
	r := rn.newRun(ctx, sc, res, mon, tm)
	res.Start = time.Now()
	stop := line.follow(r, mon, res.Start)
	sc.script(r)
	r.finish()
	stop()
	res.End = time.Now()
	rn.conclude(ctx, r, res)
	return res
}

func (rn *Runner) newRun(ctx context.Context, sc *Scenario, res *Result, mon *monitor, tm timing) *run {
	return &run{ctx: ctx, c: rn.Cluster, hosts: res.Hosts, servers: res.Servers, mon: mon, place: sc.Place,
		journal: ops.NewJournal(rn.Cluster), timing: tm, ids: map[string]int{}, step: "start the roles", artifacts: rn.artifacts()}
}

// conclude snapshots the end state, reads the logs and judges the run.
func (rn *Runner) conclude(ctx context.Context, r *run, res *Result) {
	var open []string
	if r.ok() {
		r.snapshot("after every client finished")
		var err error
		if err = r.observe(func() error { open, err = openZnodes(r.mon.conn); return err }); err != nil {
			r.fail(err)
		}
	}
	logs := rn.collect(ctx, r)
	samples, zkEvents := r.mon.stop()
	res.Events = append(append(append([]Event(nil), r.events...), zkEvents...), logs...)
	sortEvents(res.Events)
	res.Procs, res.Snapshots, res.Notes, res.Extra, res.Samples = r.procs(), r.snapshots, r.notes, r.extra, samples
	res.Figures = r.figures
	res.Err = r.err
	o := newObservation(res, r, open)
	res.Checks = judge(o)
	if !res.Scenario.NoTasks {
		// Judged whatever stopped the run, an interrupt included.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timing.wait())
		res.Checks = append(res.Checks, rn.historyChecks(hctx, res)...)
		cancel()
	}
	res.Checks = markZkctlSpecific(res.Checks, rn.foreignRoles(r)) // foreign.go
	res.Metrics = measure(o)
}

// finish waits until every client the scenario did not kill has exited.
func (r *run) finish() {
	var clients []*Proc
	for _, p := range r.procs() {
		if p.Role == "client" && p.Ended.IsZero() {
			clients = append(clients, p)
		}
	}
	r.waitProcs(clients, "every client finished", r.timing.finish(), 250*time.Millisecond, holds(func() bool {
		return r.allExited(clients)
	}))
}

// allExited asks the hosts' agents whether every process in ps is dead.
func (r *run) allExited(ps []*Proc) bool {
	hosts, err := r.c.Hosts(r.hosts...)
	if err != nil {
		return false
	}
	sts, err := r.c.Statuses(r.ctx, hosts)
	if err != nil {
		return false
	}
	for _, p := range ps {
		for _, q := range sts[p.Host].Roles {
			if q.Name == p.Name() && q.PID == p.PID && q.State != node.StateDead {
				return false
			}
		}
	}
	return true
}

// collect reads the log of every process the scenario started.
func (rn *Runner) collect(ctx context.Context, r *run) []Event {
	var out []Event
	read := map[string]bool{}
	for _, p := range r.procs() {
		if p.Log == "" || read[p.Host+p.Log] {
			continue
		}
		read[p.Host+p.Log] = true
		data, err := rn.readLog(ctx, p)
		if err != nil {
			r.fail(fmt.Errorf("%s: read log of %s: %w", p.Host, p.Name(), err))
			continue
		}
		out = append(out, parseLog(p.Host, p.Name(), data)...)
	}
	return out
}

// readLog reads p's log through its host's agent.
func (rn *Runner) readLog(ctx context.Context, p *Proc) ([]byte, error) {
	hs, err := rn.Cluster.Hosts(p.Host)
	if err != nil {
		return nil, err
	}
	return rn.Cluster.ReadLog(ctx, hs[0], p.Name())
}

// resetBack restores the full ensemble after a scenario that ran on fewer
// servers; a failure is a failed check of that scenario.
func (rn *Runner) resetBack(ctx context.Context, res *Result, line *progressLine) {
	line.step("reset back to the full ensemble")
	err := deploy.Reset(ctx, rn.Cluster)
	c := Check{Name: "the full ensemble is back", OK: err == nil, Detail: "reset to " + fmt.Sprint(rn.Cluster.Inv.HostNames()), reads: reads()}
	if err != nil {
		c.Detail = err.Error()
	}
	res.Checks = append(res.Checks, c)
}

// waitBound is the wait bound of the inventory's timing (the full
// ensemble's), for what the runner does between scenarios; 30 s if the
// timing cannot be read.
func (rn *Runner) waitBound() time.Duration {
	tm, err := readTiming(rn.Cluster, rn.Cluster.Inv.Hosts)
	if err != nil {
		return 30 * time.Second
	}
	return tm.wait()
}

// stopRoles stops every role process on every host (the ensemble stays),
// within bound.
func (rn *Runner) stopRoles(ctx context.Context, bound time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var wg sync.WaitGroup
	for _, h := range rn.Cluster.Inv.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = ops.Signal{Host: h.Name, Signal: syscall.SIGTERM}.Run(ctx, rn.Cluster)
		}()
	}
	wg.Wait()
}

func hostNames(hosts []inventory.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}

func (rn *Runner) artifacts() string {
	if rn.Artifacts != "" {
		return rn.Artifacts
	}
	return os.TempDir()
}
