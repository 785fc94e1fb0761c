package scenario

import (
	"slices"
	"testing"
	"time"
)

// sec is s seconds as a duration.
func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// testTimings compares what timings derives from each case's events.
func testTimings(t *testing.T, timings func(*observation) []Timing, cases []struct {
	name string
	evs  []Event
	want []Timing
}) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := timings(scene{evs: c.evs}.observe()); !slices.Equal(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestMeasureFailovers(t *testing.T) {
	term := signalled(3, "master", "m1", "SIGTERM")
	testTimings(t, failovers, []struct {
		name string
		evs  []Event
		want []Timing
	}{
		{"the leader ended, the backup elected", plus(healthy(), term, elected(3.5, "m2", "s2")),
			[]Timing{{Fault: "SIGTERM master m1", Then: "m2 elected", D: sec(0.5), OK: true}}},
		{"the leader stopped", plus(healthy(), signalled(3, "master", "m1", "SIGSTOP"), elected(5, "m2", "s2")),
			[]Timing{{Fault: "SIGSTOP master m1", Then: "m2 elected", D: sec(2), OK: true}}},
		{"two failovers", plus(healthy(), signalled(3, "master", "m1", "SIGKILL"), elected(3.5, "m2", "s2"),
			started(4, "master", "m1"), signalled(6, "master", "m2", "SIGKILL"), elected(6.25, "m1", "s3")),
			[]Timing{{Fault: "SIGKILL master m1", Then: "m2 elected", D: sec(0.5), OK: true},
				{Fault: "SIGKILL master m2", Then: "m1 elected", D: sec(0.25), OK: true}}},
		{"no master elected after", plus(healthy(), term),
			[]Timing{{Fault: "SIGTERM master m1", Then: "no master elected"}}},
		{"a backup ended is no failover", plus(healthy(), signalled(3, "master", "m2", "SIGKILL")), nil},
		{"SIGCONT is no failover", plus(healthy(), signalled(3, "master", "m1", "SIGCONT")), nil},
		{"a leader that had stepped down", plus(healthy(), ev(2, KindStepDown, "master", "m1", "msg", "stepping down"), term), nil},
	})
}

func TestMeasureReassigns(t *testing.T) {
	kill := signalled(2, "worker", "w1", "SIGKILL")
	gone := func(n string) Event { return ev(3, KindWorkerGone, "master", "m1", "worker", "w1", "tasks", n) }
	moved := []Event{ev(3, KindMovedBack, "master", "m1", "task", "c1-2", "worker", "w1"),
		ev(3, KindMovedBack, "master", "m1", "task", "c1-3", "worker", "w1")}
	before := assigned(0.5, "m1", "s1", "c1-3", "w1")
	again := []Event{assigned(3.2, "m1", "s1", "c1-2", "w2"), assigned(3.5, "m1", "s1", "c1-3", "w2")}
	testTimings(t, reassigns, []struct {
		name string
		evs  []Event
		want []Timing
	}{
		{"moved back and assigned again", slices.Concat([]Event{before, kill, gone("2")}, moved, again),
			[]Timing{{Fault: "SIGKILL worker w1", Then: "2 tasks moved back after 1.00s, all assigned again", D: sec(1.5), OK: true}}},
		{"SIGTERM too", slices.Concat([]Event{signalled(2, "worker", "w1", "SIGTERM"), gone("2")}, moved, again),
			[]Timing{{Fault: "SIGTERM worker w1", Then: "2 tasks moved back after 1.00s, all assigned again", D: sec(1.5), OK: true}}},
		{"nothing to move", []Event{kill, gone("0")},
			[]Timing{{Fault: "SIGKILL worker w1", Then: "0 tasks moved back after 1.00s", D: sec(1), OK: true}}},
		{"never reported gone", slices.Concat([]Event{kill}, moved, again),
			[]Timing{{Fault: "SIGKILL worker w1", Then: "never reported gone"}}},
		{"one never assigned again", slices.Concat([]Event{before, kill, gone("2")}, moved, again[:1]),
			[]Timing{{Fault: "SIGKILL worker w1", Then: "2 tasks moved back after 1.00s, 1 never assigned again", D: sec(1.2)}}},
		{"SIGSTOP is not timed", []Event{signalled(2, "worker", "w1", "SIGSTOP"), gone("0")}, nil},
		{"a master's failure is not timed", []Event{signalled(2, "master", "m1", "SIGKILL")}, nil},
	})
}

func TestMeasureElections(t *testing.T) {
	testTimings(t, elections, []struct {
		name string
		evs  []Event
		want []Timing
	}{
		{"the leader killed, another leads",
			[]Event{zkLeads(0, "vm1", "leader"), zkKill(2, "vm1", "leader"), zkLeads(2.1, "", ""), zkLeads(2.5, "vm2", "leader"), zkStart(5, "vm1")},
			[]Timing{{Fault: "SIGKILL zookeeper on vm1 (leader)", Then: "vm2 leads", D: sec(0.5), OK: true}}},
		{"a follower killed", []Event{zkLeads(0, "vm1", "leader"), zkKill(2, "vm2", "follower"), zkStart(5, "vm2")}, nil},
		{"the leader killed, nothing after", []Event{zkLeads(0, "vm1", "leader"), zkKill(2, "vm1", "leader")},
			[]Timing{{Fault: "SIGKILL zookeeper on vm1 (leader)", Then: "no server led again"}}},
		{"quorum lost until a restart", []Event{zkLeads(0, "vm1", "leader"), zkKill(2, "vm2", "follower"), zkKill(2.1, "vm1", "leader"),
			zkLeads(2.2, "", ""), zkStart(5, "vm1"), zkStart(5.1, "vm2"), zkLeads(6, "vm1", "leader")},
			[]Timing{{Fault: "SIGKILL zookeeper on vm1 (leader)", Then: "no leader until start zookeeper on vm1"},
				{Fault: "start zookeeper on vm1", Then: "vm1 leads", D: sec(1), OK: true}}},
		{"standalone down until its restart", []Event{zkLeads(0, "vm1", "standalone"), zkKill(2, "vm1", "standalone"),
			zkLeads(2.1, "", ""), zkStart(5, "vm1"), zkLeads(6, "vm1", "standalone")},
			[]Timing{{Fault: "SIGKILL zookeeper on vm1 (standalone)", Then: "no leader until start zookeeper on vm1"},
				{Fault: "start zookeeper on vm1", Then: "vm1 serves (standalone)", D: sec(1), OK: true}}},
	})
}

func TestMeasureRates(t *testing.T) {
	evs := plus(healthy(), done(3, "w2", "c1-1"), ev(2.5, KindDropped, "worker", "w2", "task", "c1-1"),
		signalled(4, "worker", "w1", "SIGKILL"), done(6, "w2", "c1-2"), done(6.4, "w1.2", "c1-2"))
	m := measure(scene{evs: evs, session: 2 * time.Second}.observe())
	want := Metrics{Submitted: 2, Completed: 2, Dropped: 1, PerSecond: 5 / 6.0,
		Pause: Pause{From: at(3), To: at(6), After: "SIGKILL worker w1"},
		Split: []Share{{"w1", 2}, {"w1.2", 1}, {"w2", 2}}}
	if m.Submitted != want.Submitted || m.Completed != want.Completed || m.Dropped != want.Dropped {
		t.Errorf("counts %d/%d/%d, want %d/%d/%d", m.Submitted, m.Completed, m.Dropped, want.Submitted, want.Completed, want.Dropped)
	}
	if d := m.PerSecond - want.PerSecond; d > 1e-9 || d < -1e-9 {
		t.Errorf("per second %v, want %v", m.PerSecond, want.PerSecond)
	}
	if m.Pause != want.Pause {
		t.Errorf("pause %+v, want %+v", m.Pause, want.Pause)
	}
	if !slices.Equal(m.Split, want.Split) {
		t.Errorf("split %+v, want %+v", m.Split, want.Split)
	}
}

func TestMeasurePause(t *testing.T) {
	for _, c := range []struct {
		name    string
		evs     []Event
		session time.Duration
		want    Pause
	}{
		{"no completion", nil, 0, Pause{}},
		{"one completion", []Event{done(1, "w1", "c1-1")}, 0, Pause{}},
		{"after no fault", []Event{done(1, "w1", "c1-1"), done(2, "w1", "c1-2"), done(5, "w1", "c1-3"), done(5.5, "w1", "c1-4")}, 0,
			Pause{From: at(2), To: at(5)}},
		{"a fault within", []Event{done(1, "w1", "c1-1"), done(2, "w1", "c1-2"), signalled(3, "worker", "w1", "SIGKILL"), done(5, "w2", "c1-3")}, 0,
			Pause{From: at(2), To: at(5), After: "SIGKILL worker w1"}},
		{"a fault a session before", []Event{done(1, "w1", "c1-1"), signalled(1.5, "worker", "w1", "SIGKILL"), done(2, "w1", "c1-2"), done(5, "w2", "c1-3")},
			2 * time.Second, Pause{From: at(2), To: at(5), After: "SIGKILL worker w1"}},
		{"a fault longer before", []Event{signalled(0.5, "worker", "w1", "SIGKILL"), done(1, "w1", "c1-1"), done(2, "w1", "c1-2"), done(5, "w2", "c1-3")},
			time.Second, Pause{From: at(2), To: at(5)}},
		{"a fault after", []Event{done(1, "w1", "c1-1"), done(2, "w1", "c1-2"), done(5, "w2", "c1-3"), signalled(5.5, "worker", "w1", "SIGKILL")}, 0,
			Pause{From: at(2), To: at(5)}},
	} {
		if got := longestPause(scene{evs: c.evs, session: c.session}.observe()); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestMeasurePerSecond(t *testing.T) {
	for _, c := range []struct {
		name string
		evs  []Event
		want float64
	}{
		{"healthy", healthy(), 2 / 1.6},
		{"no submission", drop(healthy(), KindSubmitted, ""), 0},
		{"no completion", drop(drop(healthy(), KindCompleted, "c1-1"), KindCompleted, "c1-2"), 0},
		{"completed no later than submitted", []Event{done(1, "w1", "c1-1"), submitted(1, "c1", "c1-1", "c1-1")}, 0},
	} {
		if got := perSecond(scene{evs: c.evs}.observe()); got-c.want > 1e-9 || c.want-got > 1e-9 {
			t.Errorf("%s: %v per second, want %v", c.name, got, c.want)
		}
	}
}

// TestMeasureCompleted counts each submitted task done once, including one
// whose worker was SIGKILLed before it could log (its result names it).
func TestMeasureCompleted(t *testing.T) {
	unlogged := drop(healthy(), KindCompleted, "c1-2")
	for _, c := range []struct {
		name   string
		evs    []Event
		killed bool
		want   int
	}{
		{"healthy", healthy(), false, 2},
		{"completed twice counts once", plus(healthy(), done(3, "w2", "c1-1")), false, 2},
		{"not logged by a SIGKILLed worker", unlogged, true, 2},
		{"not logged by a live worker", unlogged, false, 1},
		{"not submitted", plus(healthy(), done(3, "w1", "c1-9")), false, 2},
	} {
		w1 := &Proc{Role: "worker", ID: "w1", Host: "vm1", Killed: c.killed}
		if got := completed(scene{evs: c.evs, procs: []*Proc{w1}}.observe()); got != c.want {
			t.Errorf("%s: %d completed, want %d", c.name, got, c.want)
		}
	}
}
