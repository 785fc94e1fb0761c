package scenario

import (
	"fmt"
	"sort"
	"time"

	"zkctl/node"
)

// Metrics are the times and rates a run measured.
type Metrics struct {
	Submitted, Completed, Dropped int      // tasks; Completed counts each done task once
	Failovers                     []Timing // the leading master failed → a master elected
	Reassigns                     []Timing // a worker failed → the master moved its tasks back
	Elections                     []Timing // the ZooKeeper leader was lost → a server leads again
	PerSecond                     float64  // completions per second, first submission to last completion
	Pause                         Pause    // the longest time without a completion
	Split                         []Share  // completions per worker
}

// Timing is the time from a fault to what answered it.
type Timing struct {
	Fault string // what was done
	Then  string // what followed, or why nothing did
	D     time.Duration
	OK    bool // something followed; D is valid
}

// Pause is a stretch of time without any completion.
type Pause struct {
	From, To time.Time
	After    string // the fault it followed, if any
}

// D is the length of the pause.
func (p Pause) D() time.Duration { return p.To.Sub(p.From) }

// Share is how many tasks one worker completed.
type Share struct {
	Worker string
	Tasks  int
}

// measure derives the metrics from what was observed.
func measure(o *observation) Metrics {
	m := Metrics{Submitted: len(o.tasks), Completed: completed(o), Dropped: len(filter(o.res.Events, KindDropped))}
	m.Failovers = failovers(o)
	m.Reassigns = reassigns(o)
	m.Elections = elections(o)
	m.PerSecond = perSecond(o)
	m.Pause = longestPause(o)
	m.Split = split(o)
	return m
}

// completed counts the submitted tasks that were done: a worker logged it,
// or its result names a worker killed before it could log.
func completed(o *observation) int {
	n := 0
	for _, s := range o.tasks {
		if len(s.done) > 0 || o.diedBeforeLogging(s.results) || o.unansweredBy(s.task, s.results) {
			n++
		}
	}
	return n
}

// failovers: for each signal that stopped the leading master, the time
// until another master was elected.
func failovers(o *observation) []Timing {
	ts := terms(o.res.Events)
	var out []Timing
	for _, f := range filter(o.res.Events, KindFault) {
		hit := f.Role == "master" && endsProcess(f) && leading(ts, f)
		if !hit && (f.Attrs["fault"] == "partition" || f.Attrs["fault"] == "degrade") {
			hit = leadingOn(ts, f)
		}
		if !hit {
			continue
		}
		t := Timing{Fault: f.Msg, Then: "no master elected"}
		if e, ok := o.electedAfter(f.At); ok {
			t.Then, t.D, t.OK = e.ID+" elected", e.At.Sub(f.At), true
		}
		out = append(out, t)
	}
	return out
}

// leading tells whether the master that fault f hit held a term then.
func leading(ts []*term, f Event) bool {
	for _, t := range ts {
		if t.Proc == f.Proc && t.Elected.Before(f.At) && (t.End.IsZero() || !t.End.Before(f.At)) {
			return true
		}
	}
	return false
}

// nextHeal is when the network fault f was healed (the end of the run if
// it never was).
func nextHeal(evs []Event, f Event) time.Time {
	for _, e := range evs {
		if e.Kind == KindFault && e.Attrs["fault"] == "heal" && e.At.After(f.At) && (e.Host == f.Host || e.Host == "") {
			return e.At
		}
	}
	return time.Now().Add(time.Hour)
}

// leadingOn tells whether a master on the host that network fault f hit
// held a term then.
func leadingOn(ts []*term, f Event) bool {
	for _, t := range ts {
		if t.Host == f.Host && t.Elected.Before(f.At) && (t.End.IsZero() || !t.End.Before(f.At)) {
			return true
		}
	}
	return false
}

// reassigns: for each worker killed, the time until the master had moved
// its tasks back and assigned every one of them again.
func reassigns(o *observation) []Timing {
	var out []Timing
	for _, f := range filter(o.res.Events, KindFault) {
		if f.Role == "worker" && (f.Attrs["signal"] == "SIGKILL" || f.Attrs["signal"] == "SIGTERM") {
			out = append(out, reassignment(o.res.Events, f))
		}
		if f.Attrs["fault"] != "partition" && f.Attrs["fault"] != "degrade" {
			continue
		}
		// A network fault on a worker's host counts when the master
		// reported the worker gone.
		for _, p := range o.res.Procs {
			if p.Role == "worker" && p.Host == f.Host && p.Started.Before(f.At) && (p.Ended.IsZero() || p.Ended.After(f.At)) {
				if t := reassignment(o.res.Events, Event{At: f.At, ID: p.ID, Msg: f.Msg}); t.OK && f.At.Add(t.D).Before(nextHeal(o.res.Events, f)) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// reassignment times the master's answer to the failure f of a worker.
func reassignment(evs []Event, f Event) Timing {
	t := Timing{Fault: f.Msg, Then: "never reported gone"}
	var gone *Event
	for _, e := range evs {
		if e.Kind == KindWorkerGone && e.Worker == f.ID && e.At.After(f.At) {
			gone = &e
			break
		}
	}
	if gone == nil {
		return t
	}
	t.Then, t.D, t.OK = fmt.Sprintf("%d tasks moved back after %s", gone.N, seconds(gone.At.Sub(f.At))), gone.At.Sub(f.At), true
	pending := map[string]bool{}
	for _, e := range evs {
		switch {
		case e.Kind == KindMovedBack && e.Worker == f.ID && e.At.After(f.At):
			pending[e.Task] = true
		case e.Kind == KindAssigned && pending[e.Task]:
			delete(pending, e.Task)
			if d := e.At.Sub(f.At); d > t.D {
				t.D = d
			}
		}
	}
	if len(pending) > 0 {
		t.Then += fmt.Sprintf(", %d never assigned again", len(pending))
		t.OK = false
	} else if gone.N > 0 {
		t.Then += ", all assigned again"
	}
	return t
}

// elections: for each loss of the ZooKeeper leader (the leader killed, or
// servers started while none led), the time until a server led again. A
// loss that only a restart ends is "none" and the restart is timed.
func elections(o *observation) []Timing {
	var out []Timing
	leaderNow := ""
	for i, e := range o.res.Events {
		switch e.Kind {
		case KindZKLeader:
			leaderNow = e.Host
		case KindZKNoLeader:
			leaderNow = ""
		}
		lost := e.Kind == KindFault && e.Role == node.ZooKeeperName &&
			(e.Attrs["mode"] == "leader" || e.Attrs["mode"] == "standalone")
		restarted := e.Kind == KindStart && e.Role == node.ZooKeeperName && leaderNow == "" && !restartedBefore(o.res.Events[:i])
		if lost || restarted {
			out = append(out, nextLeader(o.res.Events[i+1:], e, lost))
		}
	}
	return out
}

// nextLeader times from e to the next server that leads; after a kill, a
// restart of a server first means no election happened without it.
func nextLeader(after []Event, e Event, killed bool) Timing {
	t := Timing{Fault: e.Msg, Then: "no server led again"}
	for _, l := range after {
		switch {
		case killed && l.Kind == KindStart && l.Role == node.ZooKeeperName:
			t.Then = "no leader until " + l.Msg
			return t
		case l.Kind == KindZKLeader && (!killed || l.Host != e.Host):
			t.Then, t.D, t.OK = l.Host+" leads", l.At.Sub(e.At), true
			if l.Attrs["mode"] == "standalone" {
				t.Then = l.Host + " serves (standalone)"
			}
			return t
		}
	}
	return t
}

// restartedBefore tells whether a server start is already being timed:
// another start since the last time a server led.
func restartedBefore(evs []Event) bool {
	for i := len(evs) - 1; i >= 0; i-- {
		switch {
		case evs[i].Kind == KindZKLeader:
			return false
		case evs[i].Kind == KindStart && evs[i].Role == node.ZooKeeperName:
			return true
		}
	}
	return false
}

// perSecond is the completions per second from the first submission to the
// last completion.
func perSecond(o *observation) float64 {
	subs := filter(o.res.Events, KindSubmitted)
	if len(subs) == 0 || len(o.done) == 0 {
		return 0
	}
	span := o.done[len(o.done)-1].At.Sub(subs[0].At).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(len(o.done)) / span
}

// longestPause is the longest gap between two completions, with the fault
// that started it when one came just before or within it.
func longestPause(o *observation) Pause {
	var p Pause
	for i := 1; i < len(o.done); i++ {
		if gap := o.done[i].At.Sub(o.done[i-1].At); gap > p.D() {
			p = Pause{From: o.done[i-1].At, To: o.done[i].At}
		}
	}
	if p.D() == 0 {
		return p
	}
	for _, f := range filter(o.res.Events, KindFault) {
		if f.At.Before(p.To) && f.At.After(p.From.Add(-o.run.timing.session)) {
			p.After = f.Msg
		}
	}
	return p
}

// split counts the completions per worker process.
func split(o *observation) []Share {
	count := map[string]int{}
	for _, e := range o.done {
		count[e.ID]++
	}
	var out []Share
	for w, n := range count {
		out = append(out, Share{Worker: w, Tasks: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Worker < out[j].Worker })
	return out
}
