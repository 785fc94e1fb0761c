// Package scenario reproduces the observations of the master/worker
// experiment as scripted, checked runs on a deployed cluster: each scenario
// resets the ensemble, starts real role processes on the inventory's first
// three hosts (ops.Start), injects faults through the same operations as
// `zkctl kill` (ops.Signal), and then judges what happened from two
// sources only: ZooKeeper itself (sampled while the scenario runs, and read
// at the end) and the role processes' logs. Nothing is assumed: every
// verdict and every measured time comes from what was observed.
//
// The files follow the run of a scenario: catalog.go and netcatalog.go
// (the scripts), timing.go (the ensemble's timing, from which every hold
// and wait derives), run.go (the steps a script is made of), steps.go (a
// step is an ops operation through the run's journal; its timeline event
// is made from its Record), inspect.go (what a step reads from
// ZooKeeper), runner.go (reset, run, collect, judge), monitor.go (what
// ZooKeeper showed while it ran), events.go (the role logs), checks.go (the
// invariants of every scenario), expect.go (the scenarios' own
// expectations), foreign.go (roles another program plays), history.go (the
// history checks, on every run that started), measure.go (times and
// rates), progress.go (the terminal), report.go and svg.go (the Markdown
// report and its timelines).
package scenario

import (
	"fmt"
	"strings"
	"time"

	"zkctl/roles"
)

// Scenario is one scripted, checked run.
type Scenario struct {
	Name    string // e.g. "c1w1m1"
	What    string // what happens
	Observe string // what must be observed
	Place   Placement
	// Servers is the size of the ensemble the scenario runs on: 3, or 1
	// (standalone on the first host).
	Servers int
	// NoTasks marks a scenario that runs no master/worker/client (the
	// register check): the task invariants do not apply to it.
	NoTasks bool
	// Net marks the network fault scenarios: they need hosts with their
	// own addresses (see Runnable).
	Net    bool
	script func(r *run)
}

// Placement says where the roles run: (role, host) pairs, the role a name
// of the role registry (roles.Registry), the host an index into the
// scenario's hosts (the inventory's first three). A pair may repeat: two
// workers on one host. Within a role the pairs are in start order.
type Placement []Place

// Place is one role process of a placement.
type Place struct {
	Role string
	Host int
}

// Of lists the hosts of role's processes, in order.
func (p Placement) Of(role string) []int {
	var out []int
	for _, pl := range p {
		if pl.Role == role {
			out = append(out, pl.Host)
		}
	}
	return out
}

// roleNames lists the registry's roles, in its order: the report's
// columns, the timeline's lanes, what a check that declares nothing reads.
func roleNames() []string {
	var out []string
	for _, r := range roles.Registry() {
		out = append(out, r.Name)
	}
	return out
}

// HostsNeeded is how many inventory hosts every scenario uses.
const HostsNeeded = 3

// catalog is every scenario, in the order `all` runs them.
func catalog() []*Scenario {
	return append([]*Scenario{
		{Name: "c1w1m1", What: "1 client, 1 worker, 1 master; kill the worker, later the client",
			Observe: "tasks wait while no worker lives and complete when a new one starts; a killed client leaves no orphan that a restarted client (same --id) can't clean up",
			Place:   Placement{{"master", 0}, {"worker", 1}, {"client", 2}}, Servers: 3, script: c1w1m1},
		{Name: "c1w2m1", What: "a worker fails with tasks assigned",
			Observe: "its tasks are reassigned and all complete exactly once",
			Place:   Placement{{"master", 0}, {"worker", 1}, {"worker", 2}, {"client", 0}}, Servers: 3, script: c1w2m1},
		{Name: "c2w2m1", What: "two clients, two workers compete",
			Observe: "load is balanced (the split is reported) and every task completes once",
			Place:   Placement{{"master", 0}, {"worker", 1}, {"worker", 2}, {"client", 1}, {"client", 2}}, Servers: 3, script: c2w2m1},
		{Name: "c2w2m2", What: "two masters; kill the leader (SIGTERM, then SIGKILL)",
			Observe: "the backup resumes: time to new master, no task lost",
			Place:   Placement{{"master", 0}, {"master", 1}, {"worker", 1}, {"worker", 2}, {"client", 0}, {"client", 2}}, Servers: 3, script: c2w2m2},
		{Name: "master-lag", What: "SIGSTOP the leader longer than the session timeout, then SIGCONT",
			Observe: "a backup takes over; the old leader is fenced (0 successful writes after expiry) and rejoins as candidate",
			Place:   Placement{{"master", 0}, {"master", 1}, {"worker", 2}, {"worker", 2}, {"client", 2}}, Servers: 3, script: masterLag},
		{Name: "zk-follower-kill", What: "kill one ZooKeeper follower",
			Observe: "sessions move to another server, no role failover, no task lost",
			Place:   zkPlace, Servers: 3, script: zkFollowerKill},
		{Name: "zk-leader-kill", What: "kill the ZooKeeper leader",
			Observe: "the ensemble elects a new leader (time reported), clients reconnect with their sessions, no task lost",
			Place:   zkPlace, Servers: 3, script: zkLeaderKill},
		{Name: "zk-quorum-loss", What: "kill two of three servers, then restart them",
			Observe: "the system stops making progress (reported), resumes after the restart, no task lost",
			Place:   zkPlace, Servers: 3, script: zkQuorumLoss},
		{Name: "host-crash", What: "crash a host running a ZooKeeper follower and a worker, then bring it back",
			Observe: "the seed's cluster-mode example: a machine lost as a whole keeps the ensemble's quorum, and its worker's tasks move",
			Place:   Placement{{"master", 0}, {"worker", 1}, {"worker", 2}, {"client", 0}}, Servers: 3, script: hostCrash},
		{Name: "linearizable", What: "Jepsen-style register: reads, writes and compare-and-set on one znode while the ZooKeeper leader is killed, frozen or (on hosts with their own addresses) cut off, or a minority is",
			Observe: "writes and CAS are linearizable (Porcupine), reads keep ZooKeeper's weaker promises",
			Place:   Placement{}, Servers: 3, NoTasks: true, script: linearizable},
		{Name: "standalone", What: "the same workload on a one-server ensemble, then kill that server",
			Observe: "what cluster mode adds: with one server everything stops until it is back",
			Place:   Placement{{"master", 0}, {"worker", 1}, {"worker", 2}, {"client", 0}}, Servers: 1, script: standalone},
	}, netScenarios()...)
}

// zkPlace is the placement of the three ZooKeeper fault scenarios.
var zkPlace = Placement{{"master", 0}, {"master", 1}, {"worker", 1}, {"worker", 2}, {"client", 0}}

// Names lists the scenarios in the order `all` runs them.
func Names() []string {
	var out []string
	for _, s := range catalog() {
		out = append(out, s.Name)
	}
	return out
}

// Lookup returns the scenario called name.
func Lookup(name string) (*Scenario, bool) {
	for _, s := range catalog() {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// UnknownError is a scenario name that does not exist.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown scenario %q: want all or one or more of %s", e.Name, strings.Join(Names(), ", "))
}

// Select resolves command-line arguments (names, or "all") into scenarios,
// in the order given, each once. An unknown name is an *UnknownError.
func Select(args []string) ([]*Scenario, error) {
	if len(args) == 0 {
		return nil, &UnknownError{Name: ""}
	}
	var out []*Scenario
	seen := map[string]bool{}
	for _, a := range args {
		list := []string{a}
		if a == "all" {
			list = Names()
		}
		for _, n := range list {
			s, ok := Lookup(n)
			if !ok {
				return nil, &UnknownError{Name: n}
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// Check is one judged statement about a run.
type Check struct {
	Name   string
	OK     bool
	Detail string
	// Skipped, when set, says why the check was not judged (a check of
	// zkctl's own role events on a role another program plays, a run that
	// stopped before what the check reads happened): it neither passes
	// nor fails the run, and the report shows it as "not judged".
	Skipped string
	// reads names the roles whose log events the check reads, as declared
	// where the check is made; empty: judged from ZooKeeper alone; nil
	// (undeclared): every role's.
	reads []string
}

// reads declares the roles whose logs a check reads (none: ZooKeeper's
// record alone).
func reads(roles ...string) []string { return append([]string{}, roles...) }

// broken tells whether c was judged and did not hold.
func (c Check) broken() bool { return !c.OK && c.Skipped == "" }

// Result is what one scenario run observed and concluded.
type Result struct {
	Scenario  *Scenario
	Hosts     []string      // the scenario's hosts, in placement order
	Servers   []string      // the ensemble it ran on
	Start     time.Time     // t=0 of the timeline: the ensemble is reset, no role runs
	End       time.Time     // every client finished (or the run gave up)
	Took      time.Duration // wall time, reset included
	Timing    string        // the ensemble's timing that the holds and waits derive from
	Err       error         // the scenario could not run to its end
	Procs     []*Proc
	Events    []Event // faults, ZooKeeper leader changes and role log lines, by time
	Checks    []Check
	Metrics   Metrics
	Snapshots []Snapshot
	Notes     []string
	Extra     []string     // markdown lines of the scenario's own, after the notes
	Figures   string       // a scenario without tasks (NoTasks): its own figures, where the summaries show tasks
	History   *HistoryInfo // what the history judges read; nil when they did not run
	Samples   *Samples
}

// Passed tells whether the scenario ran and every check held.
func (r *Result) Passed() bool {
	if r.Err != nil || len(r.Checks) == 0 {
		return false
	}
	for _, c := range r.Checks {
		if c.broken() {
			return false
		}
	}
	return true
}

// Verdict is PASS or FAIL.
func (r *Result) Verdict() string {
	if r.Passed() {
		return "PASS"
	}
	return "FAIL"
}

// Failed lists the broken checks (and the run error), for a one-line verdict.
func (r *Result) Failed() []string {
	var out []string
	if r.Err != nil {
		out = append(out, r.Err.Error())
	}
	for _, c := range r.Checks {
		if c.broken() {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// Snapshot is a `tree` of the znodes at one moment.
type Snapshot struct {
	Label string
	At    time.Time
	Tree  string
}
