package scenario

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"zkctl/roles/protocol"
)

// observation is everything a run observed, for the checks to judge.
type observation struct {
	res    *Result
	run    *run
	tick   time.Duration // a completion logged within a tick of a fault was written before it
	open   []string      // znodes left over at the end (see openZnodes)
	done   []Event       // completions, by time
	tasks  []*submission // every task a client submitted
	byName map[string][]*submission
	skip   bool // the expectation being judged found nothing to judge (notJudged)
}

// notJudged is an expectation's answer when the run gave it nothing to
// judge (a worker that held no task when its session ended has nothing
// to move): the check is reported not judged, with why, neither passed
// nor failed.
func (o *observation) notJudged(why string) (bool, string) {
	o.skip = true
	return false, why
}

// submission is one task as one client instance submitted it. A client
// restarted with the same id may use a name again once its predecessor's
// task is gone, so a name alone does not identify a task: a completion or a
// result belongs to the latest submission of its name before it.
type submission struct {
	task, client string
	since        time.Time // the client instance's start: nothing of it happened before
	done         []Event   // worker completions
	results      []Event   // the client's result lines
}

func newObservation(res *Result, r *run, open []string) *observation {
	o := &observation{res: res, run: r, tick: r.timing.tick, open: open, done: filter(res.Events, KindCompleted),
		byName: map[string][]*submission{}}
	for _, e := range filter(res.Events, KindSubmitted) {
		since := o.instanceStart(e)
		for _, t := range taskRange(e.Attrs["first"], e.Attrs["last"]) {
			s := &submission{task: t, client: e.ID, since: since}
			o.tasks = append(o.tasks, s)
			o.byName[t] = append(o.byName[t], s)
		}
	}
	for _, e := range o.done {
		if s := o.owner(e.Task, e.At); s != nil {
			s.done = append(s.done, e)
		}
	}
	for _, e := range filter(res.Events, KindResult) {
		if s := o.owner(e.Task, e.At); s != nil {
			s.results = append(s.results, e)
		}
	}
	return o
}

// instanceStart is when the client instance that logged e was started.
func (o *observation) instanceStart(e Event) time.Time {
	var at time.Time
	for _, s := range o.res.Events {
		if s.Kind == KindStart && s.Proc == e.Proc && s.Host == e.Host && !s.At.After(e.At) {
			at = s.At
		}
	}
	return at
}

// owner is the submission of task name that an event at t belongs to.
func (o *observation) owner(name string, t time.Time) *submission {
	var best *submission
	for _, s := range o.byName[name] {
		if !s.since.After(t) && (best == nil || s.since.After(best.since)) {
			best = s
		}
	}
	return best
}

// taskRange expands the "first" and "last" of a client's submitted line
// ("c1-1", "c1-25") into every task name between them.
func taskRange(first, last string) []string {
	c1, a, ok1 := protocol.ParseTaskName(first)
	c2, b, ok2 := protocol.ParseTaskName(last)
	if !ok1 || !ok2 || c1 != c2 || b < a {
		return nil
	}
	out := make([]string, 0, b-a+1)
	for k := a; k <= b; k++ {
		out = append(out, protocol.TaskName(c1, k))
	}
	return out
}

// rel formats t relative to the start of the run: "t+3.21s".
func (o *observation) rel(t time.Time) string { return rel(o.res.Start, t) }

func rel(start, t time.Time) string { return fmt.Sprintf("t+%.2fs", t.Sub(start).Seconds()) }

// judge runs the invariants that hold in every scenario, then the
// scenario's own expectations.
func judge(o *observation) []Check {
	var checks []Check
	if sc := o.res.Scenario; sc == nil || !sc.NoTasks {
		checks = append(exactlyOnce(o), oneMaster(o), noFencedWrites(o), noOrphans(o))
	}
	for _, e := range o.run.expects {
		if e.stopped {
			checks = append(checks, Check{Name: e.name, Skipped: "the run stopped before the steps it judges ran", reads: e.reads})
			continue
		}
		o.skip = false
		ok, detail := e.judge(o)
		if o.skip {
			checks = append(checks, Check{Name: e.name, Skipped: detail, reads: e.reads})
			continue
		}
		checks = append(checks, Check{Name: e.name, OK: ok, Detail: detail, reads: e.reads})
	}
	return checks
}

// aborted tells whether the run stopped before its end.
func (o *observation) aborted() bool { return o.res.Err != nil }

// exactlyOnce: every submitted task has exactly one worker completion, and
// its client saw its result (or, for a killed client, left it for its
// successor), naming the worker that completed it.
func exactlyOnce(o *observation) []Check {
	handed := map[*submission]bool{}
	for _, h := range o.run.handover {
		for _, t := range h.tasks {
			if s := o.owner(t, h.at); s != nil {
				handed[s] = true
			}
		}
	}
	var bad, unseen []string
	inferred, unanswered := 0, 0
	for _, s := range o.tasks {
		t := s.task
		n := len(s.done)
		switch {
		case n > 0:
		case o.diedBeforeLogging(s.results):
			n, inferred = 1, inferred+1
		case o.unansweredBy(t, s.results):
			n, unanswered = 1, unanswered+1
		}
		if n != 1 {
			bad = append(bad, fmt.Sprintf("%s completed %d times", t, n))
		}
		switch {
		case len(s.results) == 0 && !handed[s]:
			unseen = append(unseen, t+" never reached its client")
		case len(s.results) > 1:
			unseen = append(unseen, fmt.Sprintf("%s reached its client %d times", t, len(s.results)))
		case len(s.results) == 1 && len(s.done) == 1 && s.results[0].Attrs["result"] != protocol.OKResult(s.done[0].ID):
			unseen = append(unseen, fmt.Sprintf("%s: client got %q, but %s completed it", t, s.results[0].Attrs["result"], s.done[0].ID))
		}
	}
	for _, e := range o.done {
		if o.owner(e.Task, e.At) == nil {
			bad = append(bad, e.Task+" completed but never submitted")
		}
	}
	if len(o.tasks) == 0 && o.aborted() {
		why := "the run stopped before any client logged a submission"
		return []Check{{Name: "every task completed exactly once", Skipped: why, reads: reads("worker", "client")},
			{Name: "every result reached its client", Skipped: why, reads: reads("worker", "client")}}
	}
	c1 := Check{Name: "every task completed exactly once", OK: len(bad) == 0 && len(o.tasks) > 0, reads: reads("worker", "client")}
	c1.Detail = fmt.Sprintf("%d tasks submitted, %d completion lines, %d results dropped by the fence of a move",
		len(o.tasks), len(o.done), len(filter(o.res.Events, KindDropped)))
	if inferred > 0 {
		c1.Detail += fmt.Sprintf(", %d completed by a worker SIGKILLed before it could log (its result names it)", inferred)
	}
	if unanswered > 0 {
		c1.Detail += fmt.Sprintf(", %d completed by a worker whose session ended before the write was answered (it logged so; its result names it)", unanswered)
	}
	if len(o.tasks) == 0 {
		c1.Detail = "no client logged a submission"
	}
	c1.Detail += problems(bad)
	c2 := Check{Name: "every result reached its client", OK: len(unseen) == 0 && len(o.tasks) > 0, reads: reads("worker", "client")}
	c2.Detail = fmt.Sprintf("%d results seen by clients", len(filter(o.res.Events, KindResult)))
	if len(handed) > 0 {
		c2.Detail += fmt.Sprintf(", %d left by a killed client for its successor", len(handed))
	}
	c2.Detail += problems(unseen)
	return []Check{c1, c2}
}

// diedBeforeLogging tells whether a task without a completion line was
// completed by a worker that the scenario SIGKILLed: its client saw a
// result naming that worker.
func (o *observation) diedBeforeLogging(results []Event) bool {
	if len(results) != 1 {
		return false
	}
	ok, w := protocol.ParseResult(results[0].Attrs["result"])
	if !ok {
		return false
	}
	for _, p := range o.res.Procs {
		if p.Role == "worker" && p.Killed && (w == p.ID || strings.HasPrefix(w, p.ID+".")) {
			return true
		}
	}
	return false
}

// unansweredBy tells whether a task without a completion line was
// completed by a worker that logged its result's write unanswered (its
// session ended first): its client saw one result, naming that worker.
func (o *observation) unansweredBy(task string, results []Event) bool {
	if len(results) != 1 {
		return false
	}
	ok, w := protocol.ParseResult(results[0].Attrs["result"])
	if !ok {
		return false
	}
	for _, e := range filter(o.res.Events, KindUnanswered) {
		if e.Task == task && e.ID == w {
			return true
		}
	}
	return false
}

// problems formats the first few problems of a check.
func problems(list []string) string {
	if len(list) == 0 {
		return ""
	}
	sort.Strings(list)
	if len(list) > 8 {
		list = append(list[:8:8], fmt.Sprintf("… %d more", len(list)-8))
	}
	return ": " + strings.Join(list, "; ")
}

// term is one master's time at the head: from its election to the sending
// of its last successful write, within one ZooKeeper session.
type term struct {
	Proc, ID, Host, Session string
	Elected, LastWrite      time.Time
	End                     time.Time // step-down, exit or the signal that ended it; zero if it led to the end
	EndWhy                  string
	Writes                  int
}

// terms reads the masters' terms from the events.
func terms(evs []Event) []*term {
	var out []*term
	cur := map[string]*term{} // by proc+session
	for _, e := range evs {
		if e.Role != "master" {
			continue
		}
		key := e.Proc + " " + e.Session
		switch {
		case e.Kind == KindElected:
			t := &term{Proc: e.Proc, ID: e.ID, Host: e.Host, Session: e.Session, Elected: e.At}
			cur[key] = t
			out = append(out, t)
		case e.Kind == KindStepDown || e.Kind == KindStopped || endsProcess(e):
			for _, t := range out {
				if t.Proc == e.Proc && t.End.IsZero() {
					t.End, t.EndWhy = e.At, e.Msg
				}
			}
		}
		if t := cur[key]; t != nil && e.isWrite() {
			t.Writes++
			if w := e.writeTime(); w.After(t.LastWrite) {
				t.LastWrite = w
			}
		}
	}
	return out
}

// endsProcess tells whether e is a signal that stops a process from acting.
func endsProcess(e Event) bool {
	if e.Kind != KindFault {
		return false
	}
	switch e.Attrs["signal"] {
	case "SIGKILL", "SIGTERM", "SIGSTOP", "SIGINT":
		return true
	}
	return false
}

// oneMaster: the masters' terms (election to the sending of the last
// successful write) never overlap, and
// whenever sampled, /master belonged to the lowest election candidate.
func oneMaster(o *observation) Check {
	const name = "never two masters at once"
	ts := terms(o.res.Events)
	if len(ts) == 0 && o.aborted() {
		return Check{Name: name, Skipped: "the run stopped before any master logged its election", reads: reads("master")}
	}
	if len(ts) == 0 {
		return Check{Name: name, Detail: "no master logged its election: no term to judge", reads: reads("master")}
	}
	var overlaps, names []string
	for i, t := range ts {
		names = append(names, fmt.Sprintf("%s %s–%s", t.ID, o.rel(t.Elected), o.rel(t.LastWrite)))
		for _, later := range ts[i+1:] {
			if later.Session != t.Session && t.LastWrite.After(later.Elected) {
				overlaps = append(overlaps, fmt.Sprintf("%s sent a write at %s after %s was elected at %s",
					t.ID, o.rel(t.LastWrite), later.ID, o.rel(later.Elected)))
			}
		}
	}
	checked, bad := 0, 0
	for _, s := range o.res.Samples.App {
		if s.OK && s.Checked {
			checked++
			if !s.Consistent {
				bad++
				overlaps = append(overlaps, fmt.Sprintf("at %s /master did not belong to the lowest candidate", o.rel(s.At)))
			}
		}
	}
	detail := fmt.Sprintf("%s (%s), none overlapping; /master sampled %d times, always the lowest candidate's",
		plural(len(ts), "term"), strings.Join(names, ", "), checked)
	if len(overlaps) > 0 {
		detail = fmt.Sprintf("%s, %d bad samples of %d", plural(len(ts), "term"), bad, checked) + problems(overlaps)
	}
	return Check{Name: name, OK: len(overlaps) == 0, Detail: detail, reads: reads("master")}
}

// noFencedWrites: once a master is fenced (a write refused, a step-down, or
// a newer master elected), it writes nothing more in that session.
func noFencedWrites(o *observation) Check {
	ts := terms(o.res.Events)
	var bad []string
	fencedTerms := 0
	for i, t := range ts {
		fence, why := o.fenceOf(t, ts[i+1:])
		if fence.IsZero() {
			continue
		}
		fencedTerms++
		for _, e := range o.res.Events {
			if e.Proc == t.Proc && e.Session == t.Session && e.isWrite() && e.writeTime().After(fence) {
				bad = append(bad, fmt.Sprintf("%s wrote %s (sent %s) after %s at %s", t.ID, e.Write, o.rel(e.writeTime()), why, o.rel(fence)))
			}
		}
	}
	refused := len(filter(o.res.Events, KindFenced))
	detail := fmt.Sprintf("%s ended by the fence or a newer master, no write sent after; %s refused by the fence",
		plural(fencedTerms, "term"), plural(refused, "write"))
	if len(bad) > 0 {
		detail = fmt.Sprintf("%d writes by fenced masters", len(bad)) + problems(bad)
	}
	return Check{Name: "no write by a fenced master", OK: len(bad) == 0, Detail: detail, reads: reads("master")}
}

// fenceOf is when term t lost the right to write: its first refused write,
// its step-down for a fence, or the election of a newer master.
func (o *observation) fenceOf(t *term, later []*term) (time.Time, string) {
	var at time.Time
	why := ""
	take := func(ts time.Time, w string) {
		if !ts.IsZero() && (at.IsZero() || ts.Before(at)) {
			at, why = ts, w
		}
	}
	for _, e := range o.res.Events {
		if e.Proc != t.Proc || e.At.Before(t.Elected) {
			continue
		}
		if e.Kind == KindFenced && e.Session == t.Session || e.Kind == KindStepDown && e.Attrs["fenced"] == "true" {
			take(e.At, "being fenced")
			break
		}
	}
	for _, l := range later {
		if l.Session != t.Session {
			take(l.Elected, l.ID+" was elected")
			break
		}
	}
	return at, why
}

// noOrphans: once the clients finished, /tasks, /data and /results are
// empty and no worker has an assignment left.
func noOrphans(o *observation) Check {
	if o.open == nil && o.aborted() {
		return Check{Name: "no orphan znodes", Skipped: "the run stopped before its clients finished: no end state to judge", reads: reads()}
	}
	if len(o.open) == 0 {
		return Check{Name: "no orphan znodes", OK: true, Detail: "/tasks, /data, /results empty and no assignment under /workers/* at the end", reads: reads()}
	}
	return Check{Name: "no orphan znodes", OK: false, Detail: fmt.Sprintf("%d left", len(o.open)) + problems(o.open), reads: reads()}
}

// plural formats a count of things: "1 term", "2 terms".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sortTaskNames orders task names <client>-<n> by client, then numerically.
func sortTaskNames(names []string) []string {
	slices.SortFunc(names, func(a, b string) int {
		ca, na, oka := protocol.ParseTaskName(a)
		cb, nb, okb := protocol.ParseTaskName(b)
		if oka && okb && ca == cb {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	return names
}
