package scenario

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// verdict is what a check must conclude on a hand-built run.
type verdict struct {
	name    string
	sc      scene
	ok      bool
	detail  string
	skipped string // why the check is not judged; such a case neither passes nor fails
}

// testCheck judges every case with check and compares name, verdict and
// detail. A table must hold a case the check passes and one it fails: a
// check that cannot fail is a defect.
func testCheck(t *testing.T, name string, check func(*observation) Check, cases []verdict) {
	t.Helper()
	var passes, fails bool
	for _, c := range cases {
		passes, fails = passes || c.ok, fails || !c.ok && c.skipped == ""
		t.Run(c.name, func(t *testing.T) {
			got := check(c.sc.observe())
			if got.Name != name || got.OK != c.ok || got.Detail != c.detail || got.Skipped != c.skipped {
				t.Errorf("got  %q ok=%v %q not judged %q\nwant %q ok=%v %q not judged %q",
					got.Name, got.OK, got.Detail, got.Skipped, name, c.ok, c.detail, c.skipped)
			}
		})
	}
	if !passes || !fails {
		t.Errorf("%q: the table needs a case that passes and one that fails", name)
	}
}

func TestCheckEveryTaskCompletedOnce(t *testing.T) {
	killed := &Proc{Role: "worker", ID: "w1", Host: "vm1", Killed: true}
	alive := &Proc{Role: "worker", ID: "w1", Host: "vm1"}
	testCheck(t, "every task completed exactly once", func(o *observation) Check { return exactlyOnce(o)[0] }, []verdict{
		{name: "healthy", sc: scene{evs: healthy()}, ok: true,
			detail: "2 tasks submitted, 2 completion lines, 0 results dropped by the fence of a move"},
		{name: "a dropped result is no failure", sc: scene{evs: plus(healthy(), ev(1.5, KindDropped, "worker", "w1", "task", "c1-2"))}, ok: true,
			detail: "2 tasks submitted, 2 completion lines, 1 results dropped by the fence of a move"},
		{name: "completed by a SIGKILLed worker before it logged",
			sc: scene{evs: drop(healthy(), KindCompleted, "c1-2"), procs: []*Proc{killed}}, ok: true,
			detail: "2 tasks submitted, 1 completion lines, 0 results dropped by the fence of a move, " +
				"1 completed by a worker SIGKILLed before it could log (its result names it)"},
		{name: "the result names the killed worker's new registration",
			sc: scene{evs: plus(drop(drop(healthy(), KindCompleted, "c1-2"), KindResult, "c1-2"), result(2.1, "c1", "c1-2", "ok w1.2")),
				procs: []*Proc{killed}}, ok: true,
			detail: "2 tasks submitted, 1 completion lines, 0 results dropped by the fence of a move, " +
				"1 completed by a worker SIGKILLed before it could log (its result names it)"},
		{name: "completed by a worker whose session ended before the answer",
			sc: scene{evs: plus(drop(healthy(), KindCompleted, "c1-2"), ev(1.9, KindUnanswered, "worker", "w1", "task", "c1-2")), procs: []*Proc{alive}}, ok: true,
			detail: "2 tasks submitted, 1 completion lines, 0 results dropped by the fence of a move, " +
				"1 completed by a worker whose session ended before the write was answered (it logged so; its result names it)"},
		{name: "a client restarted with the same id reuses a name", sc: scene{evs: plus(healthy(),
			signalled(3, "client", "c1", "SIGKILL"), started(4, "client", "c1"), submitted(4.1, "c1", "c1-1", "c1-1"),
			done(5, "w1", "c1-1"), result(5.1, "c1", "c1-1", "ok w1"))}, ok: true,
			detail: "3 tasks submitted, 3 completion lines, 0 results dropped by the fence of a move"},

		{name: "nothing submitted", sc: scene{}, ok: false, detail: "no client logged a submission"},
		{name: "nothing submitted before the run stopped", sc: scene{err: errors.New("waited 30s for master m1 elected")},
			skipped: "the run stopped before any client logged a submission"},
		{name: "completions but no submission", sc: scene{evs: slices.DeleteFunc(healthy(), func(e Event) bool { return e.Kind == KindSubmitted })}, ok: false,
			detail: "no client logged a submission: c1-1 completed but never submitted; c1-2 completed but never submitted"},
		{name: "completed twice", sc: scene{evs: plus(healthy(), done(1.5, "w2", "c1-1"))}, ok: false,
			detail: "2 tasks submitted, 3 completion lines, 0 results dropped by the fence of a move: c1-1 completed 2 times"},
		{name: "never completed", sc: scene{evs: drop(healthy(), KindCompleted, "c1-2"), procs: []*Proc{alive}}, ok: false,
			detail: "2 tasks submitted, 1 completion lines, 0 results dropped by the fence of a move: c1-2 completed 0 times"},
		{name: "the result names another worker than the killed one",
			sc: scene{evs: plus(drop(drop(healthy(), KindCompleted, "c1-2"), KindResult, "c1-2"), result(2.1, "c1", "c1-2", "ok w2")),
				procs: []*Proc{killed}}, ok: false,
			detail: "2 tasks submitted, 1 completion lines, 0 results dropped by the fence of a move: c1-2 completed 0 times"},
		{name: "an unanswered write by another worker than the result names",
			sc: scene{evs: plus(drop(healthy(), KindCompleted, "c1-2"), ev(1.9, KindUnanswered, "worker", "w2", "task", "c1-2")), procs: []*Proc{alive}}, ok: false,
			detail: "2 tasks submitted, 1 completion lines, 0 results dropped by the fence of a move: c1-2 completed 0 times"},
		{name: "completed but never submitted", sc: scene{evs: plus(healthy(), done(3, "w1", "c1-9"))}, ok: false,
			detail: "2 tasks submitted, 3 completion lines, 0 results dropped by the fence of a move: c1-9 completed but never submitted"},
		{name: "completed before its client started", sc: scene{evs: plus(drop(healthy(), KindCompleted, "c1-1"), done(0.25, "w1", "c1-1"))}, ok: false,
			detail: "2 tasks submitted, 2 completion lines, 0 results dropped by the fence of a move: " +
				"c1-1 completed 0 times; c1-1 completed but never submitted"},
	})
}

func TestCheckEveryResultReachedItsClient(t *testing.T) {
	handed := []handover{{client: "c1", tasks: []string{"c1-2"}, at: at(2.5)}}
	tooEarly := []handover{{client: "c1", tasks: []string{"c1-2"}, at: at(0.1)}}
	noResult := drop(healthy(), KindResult, "c1-2")
	testCheck(t, "every result reached its client", func(o *observation) Check { return exactlyOnce(o)[1] }, []verdict{
		{name: "healthy", sc: scene{evs: healthy()}, ok: true, detail: "2 results seen by clients"},
		{name: "left by a killed client for its successor", sc: scene{evs: noResult, handover: handed}, ok: true,
			detail: "1 results seen by clients, 1 left by a killed client for its successor"},

		{name: "nothing submitted", sc: scene{}, ok: false, detail: "0 results seen by clients"},
		{name: "never reached its client", sc: scene{evs: noResult}, ok: false,
			detail: "1 results seen by clients: c1-2 never reached its client"},
		{name: "a handover listed before the client started excuses nothing", sc: scene{evs: noResult, handover: tooEarly}, ok: false,
			detail: "1 results seen by clients: c1-2 never reached its client"},
		{name: "reached its client twice", sc: scene{evs: plus(healthy(), result(2.2, "c1", "c1-2", "ok w1"))}, ok: false,
			detail: "3 results seen by clients: c1-2 reached its client 2 times"},
		{name: "names another worker", sc: scene{evs: plus(noResult, result(2.1, "c1", "c1-2", "ok w2"))}, ok: false,
			detail: `2 results seen by clients: c1-2: client got "ok w2", but w1 completed it`},
		{name: "an error result for a completed task", sc: scene{evs: plus(noResult, result(2.1, "c1", "c1-2", "error: exit status 1"))}, ok: false,
			detail: `2 results seen by clients: c1-2: client got "error: exit status 1", but w1 completed it`},
	})
}

func TestCheckOneMaster(t *testing.T) {
	failover := plus(healthy(), signalled(3, "master", "m1", "SIGKILL"), elected(3.5, "m2", "s2"))
	good := []AppSample{
		{At: at(1), OK: true, Checked: true, Consistent: true},
		{At: at(2), OK: false},
		{At: at(3.2), OK: true, Checked: false, Consistent: false}, // /election changed during the read
		{At: at(4), OK: true, Checked: true, Consistent: true},
	}
	lateLog := ev(1.2, KindAssigned, "master", "m1", "session", "s1", "task", "c1-2", "write", "assign", "sent", "0.9")
	testCheck(t, "never two masters at once", oneMaster, []verdict{
		{name: "healthy", sc: scene{evs: healthy()}, ok: true,
			detail: "1 term (m1 t+0.10s–t+0.50s), none overlapping; /master sampled 0 times, always the lowest candidate's"},
		{name: "failover, sampled", sc: scene{evs: failover, samples: good}, ok: true,
			detail: "2 terms (m1 t+0.10s–t+0.50s, m2 t+3.50s–t+3.50s), none overlapping; /master sampled 2 times, always the lowest candidate's"},
		{name: "a write sent before the new election and logged after", sc: scene{evs: plus(healthy(), elected(1, "m2", "s2"), lateLog)}, ok: true,
			detail: "2 terms (m1 t+0.10s–t+0.90s, m2 t+1.00s–t+1.00s), none overlapping; /master sampled 0 times, always the lowest candidate's"},
		{name: "elected again in the same session", sc: scene{evs: plus(healthy(), elected(1, "m1", "s1"), assigned(1.5, "m1", "s1", "c1-2", "w1"))}, ok: true,
			detail: "2 terms (m1 t+0.10s–t+0.50s, m1 t+1.00s–t+1.50s), none overlapping; /master sampled 0 times, always the lowest candidate's"},

		{name: "no master", sc: scene{evs: drop(healthy(), KindElected, "")}, ok: false,
			detail: "no master logged its election: no term to judge"},
		{name: "no master before the run stopped", sc: scene{evs: drop(healthy(), KindElected, ""), err: errors.New("waited 30s for master m1 elected")},
			skipped: "the run stopped before any master logged its election"},
		{name: "the old master writes after the new one is elected",
			sc: scene{evs: plus(healthy(), elected(1, "m2", "s2"), assigned(1.5, "m1", "s1", "c1-2", "w1"))}, ok: false,
			detail: "2 terms, 0 bad samples of 0: m1 sent a write at t+1.50s after m2 was elected at t+1.00s"},
		{name: "/master not the lowest candidate's",
			sc: scene{evs: healthy(), samples: append(slices.Clone(good), AppSample{At: at(1.5), OK: true, Checked: true})}, ok: false,
			detail: "1 term, 1 bad samples of 3: at t+1.50s /master did not belong to the lowest candidate"},
	})
}

func TestCheckNoFencedWrites(t *testing.T) {
	refused := ev(2.5, KindFenced, "master", "m1", "session", "s1")
	down := ev(2.6, KindStepDown, "master", "m1", "msg", "fenced: session expired, stepping down", "fenced", "true")
	testCheck(t, "no write by a fenced master", noFencedWrites, []verdict{
		{name: "healthy", sc: scene{evs: healthy()}, ok: true,
			detail: "0 terms ended by the fence or a newer master, no write sent after; 0 writes refused by the fence"},
		{name: "fenced, stepped down, a backup leads", sc: scene{evs: plus(healthy(), refused, down, elected(3, "m2", "s2"))}, ok: true,
			detail: "1 term ended by the fence or a newer master, no write sent after; 1 write refused by the fence"},
		{name: "a write sent before the new election and logged after", sc: scene{evs: plus(healthy(), elected(3, "m2", "s2"),
			ev(3.2, KindAssigned, "master", "m1", "session", "s1", "task", "c1-2", "write", "assign", "sent", "2.9"))}, ok: true,
			detail: "1 term ended by the fence or a newer master, no write sent after; 0 writes refused by the fence"},
		{name: "the fenced master writes again in a new session", sc: scene{evs: plus(healthy(), down,
			elected(4, "m1", "s3"), assigned(4.5, "m1", "s3", "c1-2", "w1"))}, ok: true,
			detail: "1 term ended by the fence or a newer master, no write sent after; 0 writes refused by the fence"},

		{name: "a write after a refused one", sc: scene{evs: plus(healthy(), refused, assigned(3, "m1", "s1", "c1-2", "w1"))}, ok: false,
			detail: "1 writes by fenced masters: m1 wrote assign (sent t+3.00s) after being fenced at t+2.50s"},
		{name: "a write after the step-down for the fence", sc: scene{evs: plus(healthy(), down, assigned(3, "m1", "s1", "c1-2", "w1"))}, ok: false,
			detail: "1 writes by fenced masters: m1 wrote assign (sent t+3.00s) after being fenced at t+2.60s"},
		{name: "a write after a newer master was elected", sc: scene{evs: plus(healthy(), elected(1, "m2", "s2"), assigned(1.5, "m1", "s1", "c1-2", "w1"))}, ok: false,
			detail: "1 writes by fenced masters: m1 wrote assign (sent t+1.50s) after m2 was elected at t+1.00s"},
	})
}

func TestCheckNoOrphans(t *testing.T) {
	var many []string
	for i := 1; i <= 10; i++ {
		many = append(many, fmt.Sprintf("/tasks/c1-%d", i))
	}
	failed := errors.New("waited 30s for 5 tasks done")
	testCheck(t, "no orphan znodes", noOrphans, []verdict{
		{name: "empty", sc: scene{evs: healthy(), open: []string{}}, ok: true,
			detail: "/tasks, /data, /results empty and no assignment under /workers/* at the end"},
		{name: "none listed", sc: scene{evs: healthy()}, ok: true,
			detail: "/tasks, /data, /results empty and no assignment under /workers/* at the end"},

		{name: "left over", sc: scene{evs: healthy(), open: []string{"/workers/w1/c1-3", "/tasks/c1-3", "/results/c1-2"}}, ok: false,
			detail: "3 left: /results/c1-2; /tasks/c1-3; /workers/w1/c1-3"},
		{name: "many left over", sc: scene{evs: healthy(), open: many}, ok: false,
			detail: "10 left: /tasks/c1-1; /tasks/c1-10; /tasks/c1-2; /tasks/c1-3; /tasks/c1-4; /tasks/c1-5; /tasks/c1-6; /tasks/c1-7; … 2 more"},
		{name: "the scenario did not finish", sc: scene{evs: healthy(), err: failed},
			skipped: "the run stopped before its clients finished: no end state to judge"},
	})
}

// TestCheckJudge: judge runs the invariants, then the scenario's own
// expectations, each with its verdict.
func TestCheckJudge(t *testing.T) {
	o := scene{evs: healthy(), open: []string{}}.observe()
	o.run.expects = []expectation{
		{name: "holds", judge: func(*observation) (bool, string) { return true, "fine" }},
		{name: "breaks", judge: func(*observation) (bool, string) { return false, "broken" }},
		{name: "stated after the run stopped", judge: func(*observation) (bool, string) { return true, "reads as a pass" }, stopped: true},
	}
	var got []string
	for _, c := range judge(o) {
		got = append(got, fmt.Sprintf("%s=%v%s", c.Name, c.OK, c.Skipped))
	}
	want := []string{"every task completed exactly once=true", "every result reached its client=true",
		"never two masters at once=true", "no write by a fenced master=true", "no orphan znodes=true",
		"holds=true", "breaks=false", "stated after the run stopped=falsethe run stopped before the steps it judges ran"}
	if !slices.Equal(got, want) {
		t.Errorf("judge:\n got %q\nwant %q", got, want)
	}
}

// expectCase is what one of a scenario's expectations (expect.go) must
// conclude on a hand-built run.
type expectCase struct {
	name      string
	sc        scene
	judge     func(o *observation) (bool, string)
	ok        bool
	detail    string
	notJudged bool // the judge found nothing to judge (detail is why)
}

// testExpect is testCheck for the expectations.
func testExpect(t *testing.T, cases []expectCase) {
	t.Helper()
	var passes, fails bool
	for _, c := range cases {
		passes, fails = passes || c.ok, fails || !c.ok && !c.notJudged
		t.Run(c.name, func(t *testing.T) {
			o := c.sc.observe()
			ok, detail := c.judge(o)
			if ok != c.ok || detail != c.detail || o.skip != c.notJudged {
				t.Errorf("got  ok=%v %q not judged %v\nwant ok=%v %q not judged %v", ok, detail, o.skip, c.ok, c.detail, c.notJudged)
			}
		})
	}
	if !passes || !fails {
		t.Errorf("the table needs a case that passes and one that fails")
	}
}

func TestCheckExpectNoProgress(t *testing.T) {
	window := func(o *observation) (bool, string) {
		return o.noProgress(at(2), at(4), "the worker was killed", "a new worker started")
	}
	backwards := func(o *observation) (bool, string) {
		return o.noProgress(at(4), at(2), "the worker was killed", "a new worker started")
	}
	testExpect(t, []expectCase{
		{name: "nothing in the window", sc: scene{evs: []Event{done(1, "w1", "c1-1"), done(2, "w1", "c1-2"), done(4, "w2", "c1-3")}},
			judge: window, ok: true,
			detail: "no task completed in the 2.00s from when the worker was killed (t+2.00s) to when a new worker started (t+4.00s)"},
		{name: "a completion within a tick of the fault was on its way", sc: scene{evs: []Event{done(2.05, "w1", "c1-2")}, tick: 100 * time.Millisecond},
			judge: window, ok: true,
			detail: "no task completed in the 2.00s from when the worker was killed (t+2.00s) to when a new worker started (t+4.00s)"},

		{name: "a completion in the window", sc: scene{evs: []Event{done(1, "w1", "c1-1"), done(3, "w1", "c1-2"), done(3.5, "w1", "c1-3")}},
			judge: window, ok: false,
			detail: "2 tasks completed between the worker was killed (t+2.00s) and a new worker started (t+4.00s), the first c1-2 by w1 at t+3.00s"},
		{name: "a completion past the tick", sc: scene{evs: []Event{done(2.2, "w1", "c1-2")}, tick: 100 * time.Millisecond},
			judge: window, ok: false,
			detail: "1 tasks completed between the worker was killed (t+2.00s) and a new worker started (t+4.00s), the first c1-2 by w1 at t+2.20s"},
		{name: "the window ends before it starts", sc: scene{}, judge: backwards, ok: false,
			detail: "a new worker started (t+2.00s) before the worker was killed (t+4.00s)"},
	})
}

func TestCheckExpectResumed(t *testing.T) {
	back := zkStart(3, "vm2")
	resumed := func(o *observation) (bool, string) { return o.resumed(back) }
	testExpect(t, []expectCase{
		{name: "completions after the restart", sc: scene{evs: []Event{done(1, "w1", "c1-1"), back, done(4, "w1", "c1-2"), done(5, "w1", "c1-3")}},
			judge: resumed, ok: true, detail: "the first task completed 1.00s after start zookeeper on vm2 (t+3.00s), 2 after it"},
		{name: "completions only before", sc: scene{evs: []Event{done(1, "w1", "c1-1"), back}},
			judge: resumed, ok: false, detail: "no task completed after start zookeeper on vm2"},
	})
}

func TestCheckExpectAnswered(t *testing.T) {
	samples := []AppSample{{At: at(2.05), OK: true}, {At: at(3), OK: false}, {At: at(3.5), OK: true}, {At: at(5), OK: true}}
	o := scene{samples: samples, tick: 100 * time.Millisecond}.observe()
	if n := o.answered(at(2), at(4)); n != 1 {
		t.Errorf("answered %d reads, want 1 (the one within a tick of the start and the unanswered one do not count)", n)
	}
	if n := o.answered(at(4.5), at(6)); n != 1 {
		t.Errorf("answered %d reads after t+4.5, want 1", n)
	}
}

func TestCheckExpectNewMaster(t *testing.T) {
	term := signalled(2, "master", "m1", "SIGTERM")
	backup := proc("master", "m2", 0)
	newMaster := func(o *observation) (bool, string) { return o.newMaster(term, backup) }
	testExpect(t, []expectCase{
		{name: "the backup is elected", sc: scene{evs: plus(healthy(), term, elected(2.5, "m2", "s2"))},
			judge: newMaster, ok: true, detail: "m2 elected 0.50s after SIGTERM master m1 (t+2.00s)"},

		{name: "no one is elected", sc: scene{evs: plus(healthy(), term)},
			judge: newMaster, ok: false, detail: "no master elected after SIGTERM master m1"},
		{name: "another master is elected first", sc: scene{evs: plus(healthy(), term, elected(2.5, "m3", "s3"), elected(3, "m2", "s2"))},
			judge: newMaster, ok: false, detail: "m3 was elected after SIGTERM master m1, not m2"},
	})
}

func TestCheckExpectNoElection(t *testing.T) {
	noElection := func(o *observation) (bool, string) { return o.noElection(at(2)) }
	testExpect(t, []expectCase{
		{name: "only before", sc: scene{evs: healthy()}, judge: noElection, ok: true, detail: "no master elected after t+2.00s"},
		{name: "an election after", sc: scene{evs: plus(healthy(), elected(3, "m2", "s2"))},
			judge: noElection, ok: false, detail: "m2 was elected at t+3.00s"},
	})
}

func TestCheckExpectReassigned(t *testing.T) {
	kill := signalled(2, "worker", "w1", "SIGKILL")
	w1 := proc("worker", "w1", 0.2)
	base := []Event{
		started(0, "master", "m1"), elected(0.1, "m1", "s1"), started(0.2, "worker", "w1"), started(0.25, "worker", "w2"),
		started(0.3, "client", "c1"), submitted(0.4, "c1", "c1-1", "c1-3"),
		done(1, "w1", "c1-1"), kill,
		ev(3, KindMovedBack, "master", "m1", "task", "c1-2", "worker", "w1"),
		ev(3, KindMovedBack, "master", "m1", "task", "c1-3", "worker", "w1"),
	}
	gone := ev(3, KindWorkerGone, "master", "m1", "worker", "w1", "tasks", "2")
	reassigned := func(o *observation) (bool, string) { return o.reassigned(w1, kill) }
	testExpect(t, []expectCase{
		{name: "moved back and completed by another worker", sc: scene{evs: plus(base, gone, done(4, "w2", "c1-2"), done(4.5, "w2", "c1-3"))},
			judge: reassigned, ok: true, detail: "2 tasks moved back 1.00s after the SIGKILL worker w1 (t+2.00s), all completed once by w2"},

		{name: "never reported gone", sc: scene{evs: plus(base, done(4, "w2", "c1-2"), done(4.5, "w2", "c1-3"))},
			judge: reassigned, ok: false, detail: "the master never reported w1 gone"},
		{name: "reported gone only before the fault", sc: scene{evs: plus(base, ev(1.5, KindWorkerGone, "master", "m1", "worker", "w1", "tasks", "2"),
			done(4, "w2", "c1-2"), done(4.5, "w2", "c1-3"))},
			judge: reassigned, ok: false, detail: "the master never reported w1 gone"},
		{name: "a moved task never completed", sc: scene{evs: plus(base, gone, done(4, "w2", "c1-2"))},
			judge: reassigned, ok: false, detail: "2 tasks moved back, 1 not completed once by another worker: c1-3"},
		{name: "a moved task completed by the dead worker", sc: scene{evs: plus(base, gone, done(4, "w2", "c1-2"), done(4.5, "w1", "c1-3"))},
			judge: reassigned, ok: false, detail: "2 tasks moved back, 1 not completed once by another worker: c1-3"},
		{name: "a moved task completed twice", sc: scene{evs: plus(base, gone, done(4, "w2", "c1-2"), done(4.5, "w2", "c1-3"), done(4.6, "w3", "c1-3"))},
			judge: reassigned, ok: false, detail: "2 tasks moved back, 1 not completed once by another worker: c1-3"},
		{name: "gone with no task to move", sc: scene{evs: plus(base[:8], ev(3, KindWorkerGone, "master", "m1", "worker", "w1", "tasks", "0"))},
			judge: reassigned, notJudged: true, detail: "w1 held no task when the master reported it gone (t+3.00s): nothing to move"},
		{name: "gone holding tasks, none moved", sc: scene{evs: plus(base[:8], assigned(0.5, "m1", "s1", "c1-2", "w1"),
			ev(3, KindWorkerGone, "master", "m1", "worker", "w1", "tasks", "0"))},
			judge: reassigned, ok: false, detail: "0 tasks moved back, though w1 held c1-2"},
	})
}

// splitDone is the events first, then n1 completions by w1 and n2 by w2.
func splitDone(first []Event, n1, n2 int) []Event {
	out := slices.Clone(first)
	for i := range n1 + n2 {
		w := "w1"
		if i >= n1 {
			w = "w2"
		}
		out = append(out, done(float64(i+1), w, fmt.Sprintf("c1-%d", i+1)))
	}
	return out
}

func TestCheckExpectBalanced(t *testing.T) {
	ws := []*Proc{proc("worker", "w1", 0), proc("worker", "w2", 0)}
	split := func(n1, n2 int) []Event { return splitDone(nil, n1, n2) }
	balanced := func(o *observation) (bool, string) { return o.balanced(ws) }
	testExpect(t, []expectCase{
		{name: "even", sc: scene{evs: split(3, 3)}, judge: balanced, ok: true,
			detail: "split of 6 tasks: w1 3 (50%), w2 3 (50%); each at least half of a fair share (3) wanted"},
		{name: "uneven but each has half a fair share", sc: scene{evs: split(4, 2)}, judge: balanced, ok: true,
			detail: "split of 6 tasks: w1 4 (67%), w2 2 (33%); each at least half of a fair share (3) wanted"},

		{name: "nothing completed", sc: scene{}, judge: balanced, ok: false, detail: "no task completed"},
		{name: "one worker short of half a fair share", sc: scene{evs: split(5, 1)}, judge: balanced, ok: false,
			detail: "split of 6 tasks: w1 5 (83%), w2 1 (17%); each at least half of a fair share (3) wanted"},
		{name: "one worker did nothing", sc: scene{evs: split(2, 0)}, judge: balanced, ok: false,
			detail: "split of 2 tasks: w1 2 (100%), w2 0 (0%); each at least half of a fair share (1) wanted"},
	})
}

// TestCheckExpectBalancedByCapacity: a worker that logged capacity 3 owes
// three times the share of one that logged none (capacity 1).
func TestCheckExpectBalancedByCapacity(t *testing.T) {
	ws := []*Proc{proc("worker", "w1", 0), proc("worker", "w2", 0)}
	registered := []Event{ev(0.1, KindRegistered, "worker", "w1"), ev(0.2, KindRegistered, "worker", "w2", "capacity", "3")}
	split := func(n1, n2 int) []Event { return splitDone(registered, n1, n2) }
	balanced := func(o *observation) (bool, string) { return o.balanced(ws) }
	testExpect(t, []expectCase{
		{name: "by capacity", sc: scene{evs: split(2, 6)}, judge: balanced, ok: true,
			detail: "split of 8 tasks: w1 2 (25%, capacity 1, fair share 2), w2 6 (75%, capacity 3, fair share 6); each at least half of its fair share by capacity wanted"},
		{name: "even split starves the larger worker's share", sc: scene{evs: split(6, 2)}, judge: balanced, ok: false,
			detail: "split of 8 tasks: w1 6 (75%, capacity 1, fair share 2), w2 2 (25%, capacity 3, fair share 6); each at least half of its fair share by capacity wanted"},
	})
}

func TestCheckExpectAssignedBy(t *testing.T) {
	late, backup := proc("client", "c2", 3), proc("master", "m2", 0)
	base := []Event{
		started(0, "master", "m1"), elected(0.1, "m1", "s1"), started(0.2, "master", "m2"),
		started(3, "client", "c2"), submitted(3.1, "c2", "c2-1", "c2-2"), elected(3.5, "m2", "s2"),
	}
	earlier := []Event{started(0.3, "client", "c2"), submitted(0.4, "c2", "c2-1", "c2-1"),
		assigned(0.5, "m1", "s1", "c2-1", "w1"), signalled(1, "client", "c2", "SIGKILL")}
	assignedBy := func(o *observation) (bool, string) { return o.assignedBy(late, backup) }
	testExpect(t, []expectCase{
		{name: "all by the new master", sc: scene{evs: plus(base, assigned(4, "m2", "s2", "c2-1", "w1"), assigned(4, "m2", "s2", "c2-2", "w1"))},
			judge: assignedBy, ok: true, detail: "all 2 tasks of c2 (started t+3.00s) were assigned by m2"},
		{name: "an earlier instance's task does not count", sc: scene{evs: slices.Concat(earlier, base,
			[]Event{assigned(4, "m2", "s2", "c2-1", "w1"), assigned(4, "m2", "s2", "c2-2", "w1")})},
			judge: assignedBy, ok: true, detail: "all 2 tasks of c2 (started t+3.00s) were assigned by m2"},

		{name: "submitted nothing", sc: scene{evs: base[:4]}, judge: assignedBy, ok: false, detail: "c2 submitted nothing"},
		{name: "first assigned by the old master", sc: scene{evs: plus(base, assigned(3.2, "m1", "s1", "c2-2", "w1"),
			assigned(4, "m2", "s2", "c2-1", "w1"), assigned(4, "m2", "s2", "c2-2", "w1"))},
			judge: assignedBy, ok: false, detail: "1 of 2 tasks of c2: c2-2 assigned by m1"},
		{name: "never assigned", sc: scene{evs: plus(base, assigned(4, "m2", "s2", "c2-1", "w1"))},
			judge: assignedBy, ok: false, detail: "1 of 2 tasks of c2: c2-2 never assigned"},
	})
}

func TestCheckExpectFenced(t *testing.T) {
	m1 := proc("master", "m1", 0)
	stop := signalled(2, "master", "m1", "SIGSTOP")
	stop.Took = 100 * time.Millisecond
	down := ev(5, KindStepDown, "master", "m1", "msg", "fenced: session expired, stepping down", "writes_fenced", "1", "fenced", "true")
	lagged := plus(healthy(), stop, elected(3, "m2", "s2"), ev(5, KindFenced, "master", "m1", "session", "s1"))
	fenced := func(o *observation) (bool, string) { return o.fenced(m1, stop) }
	testExpect(t, []expectCase{
		{name: "no write after the stop, stepped down", sc: scene{evs: plus(lagged, down)}, judge: fenced, ok: true,
			detail: `m1 (session s1) wrote 0 times after SIGSTOP master m1; once running it logged "fenced: session expired, stepping down" at t+5.00s (writes refused by the fence: 1)`},
		{name: "a write sent while the signal was on its way", sc: scene{evs: plus(lagged, down,
			ev(5.1, KindAssigned, "master", "m1", "session", "s1", "task", "c1-2", "write", "assign", "sent", "2.05"))}, judge: fenced, ok: true,
			detail: `m1 (session s1) wrote 0 times after SIGSTOP master m1; once running it logged "fenced: session expired, stepping down" at t+5.00s (writes refused by the fence: 1)`},

		{name: "not leading", sc: scene{evs: []Event{started(0, "master", "m1"), stop}}, judge: fenced, ok: false,
			detail: "m1 was not leading when it was stopped"},
		{name: "its term ended before the stop", sc: scene{evs: plus(healthy(), ev(1.5, KindStepDown, "master", "m1", "msg", "stepping down"), stop)},
			judge: fenced, ok: false, detail: "m1 was not leading when it was stopped"},
		{name: "wrote after the stop", sc: scene{evs: plus(lagged, down, assigned(5.5, "m1", "s1", "c1-2", "w1"))}, judge: fenced, ok: false,
			detail: `m1 (session s1) wrote 1 times after SIGSTOP master m1; once running it logged "fenced: session expired, stepping down" at t+5.00s (writes refused by the fence: 1)`},
		{name: "never stepped down", sc: scene{evs: lagged}, judge: fenced, ok: false,
			detail: "m1 (session s1) wrote 0 times after SIGSTOP master m1 and never stepped down"},
	})
}

func TestCheckExpectRejoined(t *testing.T) {
	m1 := proc("master", "m1", 0)
	cont := signalled(6, "master", "m1", "SIGCONT")
	rejoined := func(o *observation) (bool, string) { return o.rejoined(m1, cont) }
	before := ev(0, KindJoined, "master", "m1", "node", "/election/m1_0000000001")
	testExpect(t, []expectCase{
		{name: "joined again", sc: scene{evs: []Event{before, cont, ev(7, KindJoined, "master", "m1", "node", "/election/m1_0000000003")}},
			judge: rejoined, ok: true, detail: "m1 joined the election again 1.00s after SIGCONT master m1, as /election/m1_0000000003"},

		{name: "joined only before", sc: scene{evs: []Event{before, cont}}, judge: rejoined, ok: false,
			detail: "m1 did not join the election again after SIGCONT master m1"},
		{name: "another master joined", sc: scene{evs: []Event{before, cont, ev(7, KindJoined, "master", "m2", "node", "/election/m2_0000000003")}},
			judge: rejoined, ok: false, detail: "m1 did not join the election again after SIGCONT master m1"},
	})
}

func TestCheckExpectZKElected(t *testing.T) {
	kill := zkKill(2, "vm1", "leader")
	zkElected := func(o *observation) (bool, string) { return o.zkElected(kill) }
	testExpect(t, []expectCase{
		{name: "another server leads", sc: scene{evs: []Event{zkLeads(0, "vm1", "leader"), kill, zkLeads(2.1, "", ""), zkLeads(2.4, "vm2", "leader")}},
			judge: zkElected, ok: true, detail: "vm2 leads 0.40s after SIGKILL zookeeper on vm1 (leader) (srvr polled every 20ms)"},

		{name: "no server leads again", sc: scene{evs: []Event{zkLeads(0, "vm1", "leader"), kill, zkLeads(2.1, "", "")}},
			judge: zkElected, ok: false, detail: "no other server became leader after SIGKILL zookeeper on vm1 (leader)"},
		{name: "only the killed server leads again", sc: scene{evs: []Event{zkLeads(0, "vm2", "leader"), kill, zkLeads(5, "vm1", "leader")}},
			judge: zkElected, ok: false, detail: "no other server became leader after SIGKILL zookeeper on vm1 (leader)"},
	})
}

func TestCheckExpectCleanedUp(t *testing.T) {
	again := proc("client", "c1", 5)
	left := []string{"c1-3", "c1-4"}
	cleaned := func(n string) Event { return ev(5.2, KindCleaned, "client", "c1", "results", n, "next", "5") }
	restart := []Event{started(0, "client", "c1"), signalled(3, "client", "c1", "SIGKILL"), started(5, "client", "c1")}
	cleanedUp := func(left []string) func(o *observation) (bool, string) {
		return func(o *observation) (bool, string) { return o.cleanedUp(again, left) }
	}
	testExpect(t, []expectCase{
		{name: "removed what was left", sc: scene{evs: plus(restart, cleaned("2")), open: []string{}}, judge: cleanedUp(left), ok: true,
			detail: "the killed client left 2 results (c1-3 … c1-4); the restarted one removed 2 with their data and numbered on from 5"},

		{name: "nothing was left", sc: scene{evs: plus(restart, cleaned("0"))}, judge: cleanedUp(nil), ok: false,
			detail: "the killed client left no result behind, so nothing was there to clean up"},
		{name: "no removal reported", sc: scene{evs: restart}, judge: cleanedUp(left), ok: false,
			detail: "the killed client left 2 results; the restarted one did not report removing them"},
		{name: "a removal by an earlier instance", sc: scene{evs: plus(restart, ev(1, KindCleaned, "client", "c1", "results", "2"))},
			judge: cleanedUp(left), ok: false, detail: "the killed client left 2 results; the restarted one did not report removing them"},
		{name: "removed fewer", sc: scene{evs: plus(restart, cleaned("1"))}, judge: cleanedUp(left), ok: false,
			detail: "the killed client left 2 results (c1-3 … c1-4); the restarted one removed 1 with their data and numbered on from 5"},
		{name: "one still there at the end", sc: scene{evs: plus(restart, cleaned("2")), open: []string{"/results/c1-4"}}, judge: cleanedUp(left), ok: false,
			detail: "the killed client left 2 results (c1-3 … c1-4); the restarted one removed 2 with their data and numbered on from 5"},
	})
}

func TestCheckExpectSameSessions(t *testing.T) {
	before := map[string]int64{"/master": 1, "/workers_alive/w1": 2}
	same := func(before, after map[string]int64) func(*observation) (bool, string) {
		return func(*observation) (bool, string) { return sameSessions(before, after) }
	}
	testExpect(t, []expectCase{
		{name: "kept", judge: same(before, map[string]int64{"/master": 1, "/workers_alive/w1": 2, "/workers_alive/w2": 4}), ok: true,
			detail: "all 2 ephemeral znodes (election candidates, /master, live workers) kept their sessions"},

		{name: "nothing seen before", judge: same(nil, before), ok: false, detail: "no ephemeral znode was seen before the fault"},
		{name: "another session owns one", judge: same(before, map[string]int64{"/master": 3, "/workers_alive/w1": 2}), ok: false,
			detail: "1 of 2 ephemeral znodes lost their session: /master"},
		{name: "one is gone", judge: same(before, map[string]int64{"/master": 1}), ok: false,
			detail: "1 of 2 ephemeral znodes lost their session: /workers_alive/w1"},
	})
}

// TestCheckHelpers covers the formatting the checks share.
func TestCheckHelpers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{problems(nil), ""},
		{problems([]string{"b", "a"}), ": a; b"},
		{plural(0, "term"), "0 terms"},
		{plural(1, "term"), "1 term"},
		{plural(2, "write"), "2 writes"},
		{orDash(""), "-"},
		{orDash("3"), "3"},
		{fmt.Sprint(sortTaskNames([]string{"c2-1", "c1-10", "c1-9", "odd", "c1-1"})), "[c1-1 c1-9 c1-10 c2-1 odd]"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestCandidateOf: election nodes, protected or not, name their master.
func TestCandidateOf(t *testing.T) {
	for path, want := range map[string]string{
		"/election/_c_9f15c1a3a5da71cb3ecaa880c5984b8f-vm2-m2_0000000001": "vm2-m2",
		"/election/vm1-m1_0000000003":                                     "vm1-m1",
		"/workers_eph/vm1-w1":                                             "",
		"/election/garbage":                                               "",
	} {
		if got := candidateOf(path); got != want {
			t.Errorf("candidateOf(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestCheckExpectStall: a degradation is judged by the stall it caused
// while the worker held a task. An idle worker shows nothing (the CI run
// where the backlog was done before the cut); a stall past the session
// timeout must move the worker's tasks; one below it must not report the
// worker gone.
func TestCheckExpectStall(t *testing.T) {
	w := proc("worker", "w2", 0)
	deg := Event{At: at(10), Took: 2 * time.Second, Kind: KindFault, Msg: "degrade vm3: loss 100%"}
	clear := Event{At: at(18), Kind: KindFault, Msg: "clear the degradations of vm3"}
	sub := []Event{started(1, "client", "c1"), submitted(2, "c1", "c1-1", "c1-60")}
	busy := plus(sub,
		assigned(9, "m1", "s1", "c1-1", "w2"), done(9.2, "w2", "c1-1"),
		assigned(9.3, "m1", "s1", "c1-2", "w2"), assigned(9.4, "m1", "s1", "c1-3", "w2"),
	)
	gone := ev(15, KindWorkerGone, "master", "m1", "worker", "w2", "tasks", "2")
	moved := []Event{
		ev(15, KindMovedBack, "master", "m1", "task", "c1-2", "worker", "w2"),
		ev(15, KindMovedBack, "master", "m1", "task", "c1-3", "worker", "w2"),
		done(16, "w1", "c1-2"), done(16.2, "w1", "c1-3"),
	}
	steady := plus(sub, assigned(9, "m1", "s1", "c1-1", "w2"))
	for i := range 50 { // a completion and a new task every 0.2 s, past the clear
		s := 9.2 + 0.2*float64(i)
		steady = append(steady, done(s, "w2", fmt.Sprintf("c1-%d", i+1)), assigned(s+0.01, "m1", "s1", fmt.Sprintf("c1-%d", i+2), "w2"))
	}
	past := func(o *observation) (bool, string) { return o.judgeStall(w, deg, clear, true) }
	below := func(o *observation) (bool, string) { return o.judgeStall(w, deg, clear, false) }
	what := "degrade vm3: loss 100% (-); longest stall of w2's completions while it held a task "
	testExpect(t, []expectCase{
		{name: "stuck past the session timeout, tasks moved", sc: scene{session: 3 * time.Second, evs: plus(busy, plus(moved, gone)...)},
			judge: past, ok: true, detail: what + "5.00s (session timeout 3s): 2 tasks moved back 5.00s after the degrade vm3: loss 100% (t+10.00s), all completed once by w1"},
		{name: "idle through the cut", sc: scene{session: 3 * time.Second, evs: plus(sub, assigned(9, "m1", "s1", "c1-1", "w2"), done(9.2, "w2", "c1-1"),
			ev(15, KindWorkerGone, "master", "m1", "worker", "w2", "tasks", "0"))},
			judge: past, notJudged: true, detail: what + "0.00s (session timeout 3s): w2 held no task when the master reported it gone (t+15.00s): nothing to move"},
		{name: "idle through a mild degradation", sc: scene{session: 3 * time.Second, evs: plus(sub, assigned(9, "m1", "s1", "c1-1", "w2"), done(9.2, "w2", "c1-1"))},
			judge: below, notJudged: true, detail: what + "0.00s (session timeout 3s): it held no task during the degradation, so it shows nothing"},
		{name: "stuck but never reported gone", sc: scene{session: 3 * time.Second, evs: busy},
			judge: past, ok: false, detail: what + "8.00s (session timeout 3s): the master never reported w2 gone"},
		{name: "completing steadily below the timeout", sc: scene{session: 3 * time.Second, evs: steady},
			judge: below, ok: true, detail: what + "0.19s (session timeout 3s): no failover"},
		{name: "a cut that never stalled the worker", sc: scene{session: 3 * time.Second, evs: steady},
			judge: past, ok: false, detail: what + "0.19s (session timeout 3s): the master never reported w2 gone"},
		{name: "below the timeout, yet reported gone", sc: scene{session: 3 * time.Second, evs: plus(steady, ev(12, KindWorkerGone, "master", "m1", "worker", "w2", "tasks", "1"))},
			judge: below, ok: false, detail: what + "0.19s (session timeout 3s), yet the master reported it gone at t+12.00s"},
	})
}

// TestCheckExpectElectedDuring: a long cut must make another master lead
// before the heal. ZooKeeper's /master, as sampled, is the evidence; the
// new master's own log line may come just after the heal began (seen in a
// demo run: 10 ms after).
func TestCheckExpectElectedDuring(t *testing.T) {
	cut := Event{At: at(10), Kind: KindFault, Msg: "partition vm2"}
	heal := Event{At: at(16), Kind: KindFault, Msg: "heal vm2"}
	pairs := [][2]Event{{cut, heal}}
	sample := func(s float64, master string) AppSample { return AppSample{At: at(s), OK: true, Master: master} }
	samples := func(masters ...string) []AppSample { // one sample a second from t+8
		var out []AppSample
		for i, m := range masters {
			out = append(out, sample(8+float64(i), m))
		}
		return out
	}
	lateLine := []Event{elected(16.01, "m1", "s3")}
	during := func(o *observation) (bool, string) { return o.electedDuring(pairs) }
	testExpect(t, []expectCase{
		{name: "/master changed during the cut, the line came after the heal",
			sc:    scene{evs: lateLine, samples: samples("m2", "m2", "m2", "m2", "m2", "", "m1", "m1", "m1", "m1")},
			judge: during, ok: true, detail: "elected: m1 in /master 4.00s after the cut at t+10.00s"},
		{name: "/master unchanged until the heal",
			sc:    scene{evs: lateLine, samples: samples("m2", "m2", "m2", "m2", "m2", "m2", "m2", "m2", "m2", "m1")},
			judge: during, ok: false, detail: "no master elected during the cut t+10.00s–t+16.00s"},
		{name: "no samples, the line during the cut",
			sc:    scene{evs: []Event{elected(13, "m1", "s3")}},
			judge: during, ok: true, detail: "elected: m1 3.00s after the cut at t+10.00s"},
		{name: "no cut made", sc: scene{evs: lateLine},
			judge: func(o *observation) (bool, string) { return o.electedDuring(nil) }, ok: false, detail: "no long cut was made"},
	})
}
