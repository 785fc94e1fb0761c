package scenario

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"zkctl/node"
)

// Builders of hand-built observations for the unit tests of the checks
// (checks_test.go) and the metrics (measure_test.go). Times are seconds
// after at(0), the start of the run; every process runs on host "vm1"
// unless an event says otherwise with a "host" attribute.

// at is s seconds after the start of a hand-built run.
func at(s float64) time.Time {
	return time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second)))
}

// ev is an event of kind at s, logged by the process role-id. The pairs in
// kv become its attributes, and fill the fields that classify fills from
// them (task, worker, session, write, sent, tasks or results, msg, host).
func ev(s float64, kind Kind, role, id string, kv ...string) Event {
	e := Event{At: at(s), Host: "vm1", Role: role, ID: id, Proc: role + "-" + id, Kind: kind, Msg: string(kind),
		Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		e.Attrs[k] = v
		switch k {
		case "task":
			e.Task = v
		case "worker":
			e.Worker = v
		case "session":
			e.Session = v
		case "write":
			e.Write = v
		case "msg":
			e.Msg = v
		case "host":
			e.Host = v
		case "tasks", "results":
			e.N, _ = strconv.Atoi(v)
		case "sent":
			f, _ := strconv.ParseFloat(v, 64)
			e.Sent = at(f)
		}
	}
	return e
}

// The scenario's own events, as run.go records them.

func started(s float64, role, id string) Event {
	e := ev(s, KindStart, role, id)
	e.Msg = "start " + role + " " + id
	return e
}

func signalled(s float64, role, id, sig string) Event {
	e := ev(s, KindFault, role, id, "signal", sig)
	e.Msg = sig + " " + role + " " + id
	return e
}

// zkKill is a signal to the server on host, in mode just before.
func zkKill(s float64, host, mode string) Event {
	e := ev(s, KindFault, node.ZooKeeperName, "", "signal", "SIGKILL", "mode", mode, "host", host)
	e.Proc, e.ID, e.Msg = node.ZooKeeperName, "", "SIGKILL zookeeper on "+host+" ("+mode+")"
	return e
}

func zkStart(s float64, host string) Event {
	e := ev(s, KindStart, node.ZooKeeperName, "", "host", host)
	e.Proc, e.ID, e.Msg = node.ZooKeeperName, "", "start zookeeper on "+host
	return e
}

// zkLeads is the monitor seeing the server on host lead (mode "leader")
// or serve standalone (mode "standalone"); host "" is no server leading.
func zkLeads(s float64, host, mode string) Event {
	e := ev(s, KindZKLeader, node.ZooKeeperName, "", "host", host, "mode", mode)
	e.Proc, e.ID, e.Msg = "", "", "ZooKeeper "+mode+": "+host
	if host == "" {
		e.Kind, e.Msg = KindZKNoLeader, "no ZooKeeper server leads"
	}
	return e
}

// The roles' log lines.

func submitted(s float64, c, first, last string) Event {
	return ev(s, KindSubmitted, "client", c, "first", first, "last", last)
}

func done(s float64, w, task string) Event { return ev(s, KindCompleted, "worker", w, "task", task) }

func result(s float64, c, task, res string) Event {
	return ev(s, KindResult, "client", c, "task", task, "result", res)
}

func elected(s float64, m, session string) Event {
	return ev(s, KindElected, "master", m, "session", session, "write", "create-master")
}

func assigned(s float64, m, session, task, w string) Event {
	return ev(s, KindAssigned, "master", m, "session", session, "task", task, "worker", w, "write", "assign")
}

// scene is a hand-built run: what newObservation gets from the runner.
type scene struct {
	evs      []Event
	procs    []*Proc
	samples  []AppSample
	open     []string
	err      error
	handover []handover
	tick     time.Duration
	session  time.Duration
}

// observe builds the observation of sc; the run ends a second after its
// last event.
func (sc scene) observe() *observation {
	evs := slices.Clone(sc.evs)
	sortEvents(evs)
	res := &Result{Start: at(0), End: at(1), Events: evs, Procs: sc.procs, Err: sc.err,
		Samples: &Samples{App: sc.samples}}
	if len(evs) > 0 {
		res.End = evs[len(evs)-1].At.Add(time.Second)
	}
	r := &run{timing: timing{tick: sc.tick, session: sc.session}, handover: sc.handover}
	return newObservation(res, r, sc.open)
}

// plus is evs and more, in a new slice.
func plus(evs []Event, more ...Event) []Event { return slices.Concat(evs, more) }

// drop is evs without the events of kind about task.
func drop(evs []Event, kind Kind, task string) []Event {
	return slices.DeleteFunc(slices.Clone(evs), func(e Event) bool { return e.Kind == kind && e.Task == task })
}

// healthy is a run where nothing went wrong: master m1 leads in session s1,
// client c1 submits c1-1 and c1-2, worker w1 completes both and c1 sees
// both results.
func healthy() []Event {
	return []Event{
		started(0, "master", "m1"), elected(0.1, "m1", "s1"),
		started(0.2, "worker", "w1"),
		started(0.3, "client", "c1"), submitted(0.4, "c1", "c1-1", "c1-2"),
		assigned(0.5, "m1", "s1", "c1-1", "w1"), assigned(0.5, "m1", "s1", "c1-2", "w1"),
		done(1, "w1", "c1-1"), result(1.1, "c1", "c1-1", "ok w1"),
		done(2, "w1", "c1-2"), result(2.1, "c1", "c1-2", "ok w1"),
	}
}

// proc is the Proc of role-id on vm1, started at s.
func proc(role, id string, s float64) *Proc {
	return &Proc{Role: role, ID: id, Host: "vm1", Started: at(s)}
}

// TestObservationOwner: a completion or a result belongs to the latest
// submission of its name made by a client instance started before it, so
// a client restarted with the same id may reuse a name.
func TestObservationOwner(t *testing.T) {
	o := scene{evs: []Event{
		started(0, "client", "c1"), submitted(0.1, "c1", "c1-1", "c1-2"),
		done(1, "w1", "c1-1"), result(1.1, "c1", "c1-1", "ok w1"),
		signalled(2, "client", "c1", "SIGKILL"),
		started(3, "client", "c1"), submitted(3.1, "c1", "c1-1", "c1-1"),
		done(4, "w1", "c1-1"), done(4.5, "w1", "c1-2"),
	}}.observe()
	if len(o.tasks) != 3 || len(o.byName["c1-1"]) != 2 {
		t.Fatalf("tasks %d, c1-1 submitted %d times; want 3 and 2", len(o.tasks), len(o.byName["c1-1"]))
	}
	first, again := o.byName["c1-1"][0], o.byName["c1-1"][1]
	if !first.since.Equal(at(0)) || !again.since.Equal(at(3)) {
		t.Errorf("instance starts %v and %v, want t+0 and t+3", first.since, again.since)
	}
	if len(first.done) != 1 || !first.done[0].At.Equal(at(1)) || len(first.results) != 1 {
		t.Errorf("first c1-1: done %v, results %v; want the completion at t+1 and one result", first.done, first.results)
	}
	if len(again.done) != 1 || !again.done[0].At.Equal(at(4)) || len(again.results) != 0 {
		t.Errorf("second c1-1: done %v, results %v; want the completion at t+4 and no result", again.done, again.results)
	}
	if s := o.byName["c1-2"][0]; len(s.done) != 1 {
		t.Errorf("c1-2 done %d times, want once", len(s.done))
	}
	if s := o.owner("c1-1", at(-1)); s != nil {
		t.Errorf("an event before any instance started has owner %+v, want none", s)
	}
}

// TestObservationTaskRange expands a submitted line's first and last task.
func TestObservationTaskRange(t *testing.T) {
	for _, c := range []struct {
		first, last string
		want        []string
	}{
		{"c1-1", "c1-3", []string{"c1-1", "c1-2", "c1-3"}},
		{"vm3-c1-9", "vm3-c1-10", []string{"vm3-c1-9", "vm3-c1-10"}},
		{"c1-4", "c1-4", []string{"c1-4"}},
		{"c1-3", "c1-1", nil},
		{"c1-1", "c2-3", nil},
		{"", "c1-3", nil},
		{"c1-x", "c1-3", nil},
	} {
		if got := taskRange(c.first, c.last); !slices.Equal(got, c.want) {
			t.Errorf("taskRange(%q, %q) = %q, want %q", c.first, c.last, got, c.want)
		}
	}
}
