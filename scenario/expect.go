package scenario

// The building blocks of the scenarios' own expectations (see catalog.go):
// each judges one statement from the observation and explains its answer.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// completionsIn returns the completions logged in (from, to).
func (o *observation) completionsIn(from, to time.Time) []Event {
	var out []Event
	for _, e := range o.done {
		if e.At.After(from) && e.At.Before(to) {
			out = append(out, e)
		}
	}
	return out
}

// noProgress: no task completed between from (plus a tick, for writes
// that were on their way) and to.
func (o *observation) noProgress(from, to time.Time, fromWhat, toWhat string) (bool, string) {
	if to.Before(from) {
		return false, fmt.Sprintf("%s (%s) before %s (%s)", toWhat, o.rel(to), fromWhat, o.rel(from))
	}
	got := o.completionsIn(from.Add(o.tick), to)
	if len(got) > 0 {
		return false, fmt.Sprintf("%d tasks completed between %s (%s) and %s (%s), the first %s by %s at %s",
			len(got), fromWhat, o.rel(from), toWhat, o.rel(to), got[0].Task, got[0].ID, o.rel(got[0].At))
	}
	return true, fmt.Sprintf("no task completed in the %.2fs from when %s (%s) to when %s (%s)",
		to.Sub(from).Seconds(), fromWhat, o.rel(from), toWhat, o.rel(to))
}

// resumed: tasks complete after the restart e.
func (o *observation) resumed(e Event) (bool, string) {
	got := o.completionsIn(e.At, o.res.End)
	if len(got) == 0 {
		return false, "no task completed after " + e.Msg
	}
	return true, fmt.Sprintf("the first task completed %.2fs after %s (%s), %d after it",
		got[0].At.Sub(e.At).Seconds(), e.Msg, o.rel(e.At), len(got))
}

// answered counts the monitor's reads that ZooKeeper answered in (from, to).
func (o *observation) answered(from, to time.Time) int {
	n := 0
	for _, s := range o.res.Samples.App {
		if s.OK && s.At.After(from.Add(o.tick)) && s.At.Before(to) {
			n++
		}
	}
	return n
}

// completedBy counts the tasks process p completed.
func (o *observation) completedBy(p *Proc) int {
	n := 0
	for _, e := range o.done {
		if e.Proc == p.Name() {
			n++
		}
	}
	return n
}

// electedAfter is the first election logged after t.
func (o *observation) electedAfter(t time.Time) (Event, bool) {
	for _, e := range o.res.Events {
		if e.Kind == KindElected && e.At.After(t) {
			return e, true
		}
	}
	return Event{}, false
}

// newMaster: after fault f, p is the next master elected.
func (o *observation) newMaster(f Event, p *Proc) (bool, string) {
	e, ok := o.electedAfter(f.At)
	switch {
	case !ok:
		return false, "no master elected after " + f.Msg
	case e.Proc != p.Name():
		return false, fmt.Sprintf("%s was elected after %s, not %s", e.ID, f.Msg, p.ID)
	}
	return true, fmt.Sprintf("%s elected %.2fs after %s (%s)", p.ID, e.At.Sub(f.At).Seconds(), f.Msg, o.rel(f.At))
}

// noElection: no master was elected after t.
func (o *observation) noElection(t time.Time) (bool, string) {
	if e, ok := o.electedAfter(t); ok {
		return false, fmt.Sprintf("%s was elected at %s", e.ID, o.rel(e.At))
	}
	return true, "no master elected after " + o.rel(t)
}

// reassigned: the master reported dead worker p gone after fault f, moved
// its tasks back, and other workers completed each of them.
func (o *observation) reassigned(p *Proc, f Event) (bool, string) {
	var gone *Event
	for _, e := range o.res.Events {
		if e.Kind == KindWorkerGone && e.Worker == p.ID && e.At.After(f.At) {
			gone = &e
			break
		}
	}
	if gone == nil {
		return false, "the master never reported " + p.ID + " gone"
	}
	var lost []string
	by := map[string]bool{}
	for _, e := range filter(o.res.Events, KindMovedBack) {
		if e.Worker != p.ID {
			continue
		}
		s := o.owner(e.Task, e.At)
		if s == nil || len(s.done) != 1 || s.done[0].Proc == p.Name() {
			lost = append(lost, e.Task)
		} else {
			by[s.done[0].ID] = true
		}
	}
	if gone.N == 0 && len(lost) == 0 {
		if held := o.heldWhen(p, gone.At); len(held) > 0 {
			return false, fmt.Sprintf("0 tasks moved back, though %s held %s", p.ID, strings.Join(held, ", "))
		}
		return o.notJudged(fmt.Sprintf("%s held no task when the master reported it gone (%s): nothing to move", p.ID, o.rel(gone.At)))
	}
	if len(lost) > 0 {
		return false, fmt.Sprintf("%d tasks moved back, %d not completed once by another worker", gone.N, len(lost)) + problems(lost)
	}
	return true, fmt.Sprintf("%d tasks moved back %.2fs after the %s (%s), all completed once by %s",
		gone.N, gone.At.Sub(f.At).Seconds(), f.Msg, o.rel(f.At), strings.Join(slices.Sorted(maps.Keys(by)), ", "))
}

// holdings walks the events before t that change what worker p holds:
// the tasks assigned to its registration that it has neither completed
// nor seen moved back. step runs after each such event, with what p holds
// then.
func (o *observation) holdings(p *Proc, t time.Time, step func(e Event, held map[string]bool)) {
	held := map[string]bool{}
	for _, e := range o.res.Events {
		if !e.At.Before(t) {
			return
		}
		switch {
		case e.Kind == KindAssigned && e.Worker == p.ID:
			held[e.Task] = true
		case e.Kind == KindCompleted && e.Proc == p.Name(),
			e.Kind == KindMovedBack && e.Worker == p.ID && held[e.Task]:
			delete(held, e.Task)
		default:
			continue
		}
		step(e, held)
	}
}

// heldWhen lists the tasks worker p held just before t (holdings).
func (o *observation) heldWhen(p *Proc, t time.Time) []string {
	var held map[string]bool
	o.holdings(p, t, func(_ Event, now map[string]bool) { held = now })
	return slices.Sorted(maps.Keys(held))
}

// balanced: each worker completed at least half of its fair share, the
// share of its capacity (the tasks it runs at once, as it logged when it
// registered; 1 when it logged none) in the workers' total.
func (o *observation) balanced(ws []*Proc) (bool, string) {
	total := len(o.done)
	if total == 0 || len(ws) == 0 {
		return false, "no task completed"
	}
	caps, sum, alike := make([]int, len(ws)), 0, true
	for i, w := range ws {
		caps[i] = o.capacity(w)
		sum += caps[i]
		alike = alike && caps[i] == caps[0]
	}
	ok := true
	var parts []string
	for i, w := range ws {
		n := o.completedBy(w)
		fair := float64(total) * float64(caps[i]) / float64(sum)
		part := fmt.Sprintf("%s %d (%.0f%%)", w.ID, n, 100*float64(n)/float64(total))
		if !alike {
			part = fmt.Sprintf("%s %d (%.0f%%, capacity %d, fair share %.0f)", w.ID, n, 100*float64(n)/float64(total), caps[i], fair)
		}
		parts = append(parts, part)
		if float64(n) < fair/2 {
			ok = false
		}
	}
	want := fmt.Sprintf("each at least half of a fair share (%.0f) wanted", float64(total)/float64(len(ws)))
	if !alike {
		want = "each at least half of its fair share by capacity wanted"
	}
	return ok, fmt.Sprintf("split of %d tasks: %s; %s", total, strings.Join(parts, ", "), want)
}

// capacity is the capacity worker p logged when it registered (the first
// registration after it started), or 1.
func (o *observation) capacity(p *Proc) int {
	for _, e := range o.res.Events {
		if e.Kind == KindRegistered && e.Proc == p.Name() {
			if c, err := strconv.Atoi(e.Attrs["capacity"]); err == nil && c >= 1 {
				return c
			}
			return 1
		}
	}
	return 1
}

// assignedBy: every task client c submitted was first assigned by master m.
func (o *observation) assignedBy(c, m *Proc) (bool, string) {
	first := map[*submission]Event{}
	mine := 0
	for _, s := range o.tasks {
		if s.client == c.ID && !s.since.Before(c.Started) {
			mine++
			first[s] = Event{}
		}
	}
	if mine == 0 {
		return false, c.ID + " submitted nothing"
	}
	for _, e := range filter(o.res.Events, KindAssigned) {
		if s := o.owner(e.Task, e.At); s != nil {
			if f, ok := first[s]; ok && f.At.IsZero() {
				first[s] = e
			}
		}
	}
	var wrong []string
	for s, e := range first {
		switch {
		case e.At.IsZero():
			wrong = append(wrong, s.task+" never assigned")
		case e.Proc != m.Name():
			wrong = append(wrong, fmt.Sprintf("%s assigned by %s", s.task, e.ID))
		}
	}
	if len(wrong) > 0 {
		return false, fmt.Sprintf("%d of %d tasks of %s", len(wrong), mine, c.ID) + problems(wrong)
	}
	return true, fmt.Sprintf("all %d tasks of %s (started %s) were assigned by %s", mine, c.ID, o.rel(c.Started), m.ID)
}

// fenced: the term p held when stopped wrote nothing after the stop, and p
// stepped down once it ran again.
func (o *observation) fenced(p *Proc, stop Event) (bool, string) {
	var t *term
	for _, x := range terms(o.res.Events) {
		if x.Proc == p.Name() && x.Elected.Before(stop.At) && !x.End.Before(stop.At) {
			t = x
		}
	}
	if t == nil {
		return false, p.ID + " was not leading when it was stopped"
	}
	writes := 0
	for _, e := range o.res.Events {
		if e.Proc == t.Proc && e.Session == t.Session && e.isWrite() && e.writeTime().After(stop.End()) {
			writes++
		}
	}
	var down *Event
	for _, e := range o.res.Events {
		if e.Proc == p.Name() && e.Kind == KindStepDown && e.At.After(stop.At) {
			down = &e
			break
		}
	}
	if down == nil {
		return false, fmt.Sprintf("%s (session %s) wrote %d times after %s and never stepped down", p.ID, t.Session, writes, stop.Msg)
	}
	return writes == 0, fmt.Sprintf("%s (session %s) wrote %d times after %s; once running it logged %q at %s (writes refused by the fence: %s)",
		p.ID, t.Session, writes, stop.Msg, down.Msg, o.rel(down.At), orDash(down.Attrs["writes_fenced"]))
}

// rejoined: p joined the election again after e.
func (o *observation) rejoined(p *Proc, e Event) (bool, string) {
	for _, x := range filter(o.res.Events, KindJoined) {
		if x.Proc == p.Name() && x.At.After(e.At) {
			return true, fmt.Sprintf("%s joined the election again %.2fs after %s, as %s", p.ID, x.At.Sub(e.At).Seconds(), e.Msg, x.Attrs["node"])
		}
	}
	return false, p.ID + " did not join the election again after " + e.Msg
}

// zkElected: another server leads after the leader was killed.
func (o *observation) zkElected(kill Event) (bool, string) {
	for _, e := range filter(o.res.Events, KindZKLeader) {
		if e.At.After(kill.At) && e.Host != kill.Host {
			return true, fmt.Sprintf("%s leads %.2fs after %s (srvr polled every %v)", e.Host, e.At.Sub(kill.At).Seconds(), kill.Msg, fastPeriod)
		}
	}
	return false, "no other server became leader after " + kill.Msg
}

// cleanedUp: a client restarted with the id of a killed one removed the
// results it left (left, listed before the restart).
func (o *observation) cleanedUp(again *Proc, left []string) (bool, string) {
	if len(left) == 0 {
		return false, "the killed client left no result behind, so nothing was there to clean up"
	}
	leftover := 0
	for _, z := range o.open {
		for _, t := range left {
			if strings.HasSuffix(z, "/"+t) {
				leftover++
			}
		}
	}
	for _, e := range filter(o.res.Events, KindCleaned) {
		if e.Proc == again.Name() && !e.At.Before(again.Started) {
			ok := e.N == len(left) && leftover == 0
			return ok, fmt.Sprintf("the killed client left %d results (%s … %s); the restarted one removed %d with their data and numbered on from %s",
				len(left), left[0], left[len(left)-1], e.N, orDash(e.Attrs["next"]))
		}
	}
	return false, fmt.Sprintf("the killed client left %d results; the restarted one did not report removing them", len(left))
}

// sameSessions: every ephemeral znode seen before is there after, owned by
// the same session.
func sameSessions(before, after map[string]int64) (bool, string) {
	if len(before) == 0 {
		return false, "no ephemeral znode was seen before the fault"
	}
	var lost []string
	for p, owner := range before {
		if after[p] != owner {
			lost = append(lost, p)
		}
	}
	if len(lost) > 0 {
		return false, fmt.Sprintf("%d of %d ephemeral znodes lost their session", len(lost), len(before)) + problems(lost)
	}
	return true, fmt.Sprintf("all %d ephemeral znodes (election candidates, /master, live workers) kept their sessions", len(before))
}
