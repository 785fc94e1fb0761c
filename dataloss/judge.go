package dataloss

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"zkctl/history"
	"zkctl/ops"
	"zkctl/txnlog"
)

// Evidence is what the judge reads after a run: the writes, every
// server's transaction logs, their merge, the final state each serving
// server returned after a sync, and the faults.
type Evidence struct {
	Root       string
	Start      int64 // the zxid before the run's root was created: older txns are not the run's
	End        int64 // the zxid every server reported at the end (0: the history's end)
	Writes     []Write
	Logs       []history.ServerLog // every server's, read after the run
	History    *history.History    // nil when the merge failed
	HistoryErr error               // the merge's error: servers that disagree on a zxid, a gap
	Final      []FinalState        // one per server; Err when it could not be read
	Faults     []ops.Record
}

// FinalState is the znodes under the run's root as one server returned
// them after a sync.
type FinalState struct {
	Server string
	Paths  map[string]bool
	Err    string // the server was not serving, or the read failed
}

// Lost is an acknowledged write the judge could not find where it must be.
type Lost struct {
	Write
	Zxid       int64    `json:"zxid,omitempty"`        // where some server's log still holds it
	HeldBy     []string `json:"held_by,omitempty"`     // the servers whose logs hold it
	NotHeldBy  []string `json:"not_held_by,omitempty"` // the servers whose logs do not
	MissingOn  []string `json:"missing_on,omitempty"`  // the servers whose final state lacks it (a delete: holds it again)
	FaultAfter string   `json:"fault_after,omitempty"` // the first fault after its acknowledgement
	Why        string   `json:"why"`                   // which check missed it
}

// Judgement is the judge's finding.
type Judgement struct {
	Verdicts []history.Verdict `json:"verdicts"`
	Lost     []Lost            `json:"lost,omitempty"`
}

// Passed says whether every check held.
func (j Judgement) Passed() bool {
	for _, v := range j.Verdicts {
		if !v.OK {
			return false
		}
	}
	return true
}

// Judge runs every check on ev.
func Judge(ev Evidence) Judgement {
	var j Judgement
	acked := ackedWrites(ev.Writes)
	where := locate(ev.Logs)
	add := func(v history.Verdict, lost []Lost) {
		j.Verdicts = append(j.Verdicts, v)
		for _, l := range lost {
			j.Lost = append(j.Lost, describeLost(l, where, ev))
		}
	}
	add(agree(ev))
	add(inHistory(ev, acked))
	add(logsReachEnd(ev, acked, where))
	add(inFinalState(ev, acked))
	add(noneBack(ev, acked))
	j.Lost = mergeLost(j.Lost)
	return j
}

// ackedWrites are the acknowledged writes, in order.
func ackedWrites(ws []Write) []Write {
	var out []Write
	for _, w := range ws {
		if !w.Acked.IsZero() {
			out = append(out, w)
		}
	}
	return out
}

// site is where the servers' logs hold one write of a path.
type site struct {
	zxid   int64
	holder []string
}

// locate indexes every server's logs by op and path: "create /p" → the
// zxid and the servers holding it (committed or not).
func locate(logs []history.ServerLog) map[string]*site {
	out := map[string]*site{}
	for _, l := range logs {
		for _, f := range l.Files {
			for _, t := range f.Txns {
				var op string
				switch {
				case t.Type.IsCreate():
					op = "create"
				case t.Type.IsDelete():
					op = "delete"
				default:
					continue
				}
				k := op + " " + t.Path
				s := out[k]
				if s == nil {
					s = &site{zxid: t.Zxid}
					out[k] = s
				}
				if !slices.Contains(s.holder, l.Server) {
					s.holder = append(s.holder, l.Server)
				}
			}
		}
	}
	return out
}

// agree: the merge found no two servers holding different transactions
// at one zxid, and no gap.
func agree(ev Evidence) (history.Verdict, []Lost) {
	v := history.Verdict{Name: "servers agree on every zxid"}
	if ev.HistoryErr != nil {
		v.Detail = ev.HistoryErr.Error()
		return v, nil
	}
	v.OK, v.Judged = true, len(ev.History.Txns)
	v.Detail = fmt.Sprintf("%d committed transactions merged from %d servers' logs, %s to %s", len(ev.History.Txns), len(ev.Logs),
		txnlog.FormatZxid(ev.History.Start), txnlog.FormatZxid(ev.History.End))
	return v, nil
}

// inHistory: every acknowledged write is a committed transaction of the
// merged history.
func inHistory(ev Evidence, acked []Write) (history.Verdict, []Lost) {
	v := history.Verdict{Name: "every acknowledged write is in the merged history"}
	if ev.History == nil {
		v.Detail = "no merged history to look in"
		return v, nil
	}
	committed := map[string]bool{}
	for _, t := range ev.History.Txns {
		switch {
		case t.Type.IsCreate():
			committed["create "+t.Path] = true
		case t.Type.IsDelete():
			committed["delete "+t.Path] = true
		}
	}
	var lost []Lost
	for _, w := range acked {
		if !committed[w.Op+" "+w.Path] {
			lost = append(lost, Lost{Write: w, Why: "not committed in the merged history"})
		}
	}
	v.Judged = len(acked)
	v.OK = len(lost) == 0
	v.Detail = fmt.Sprintf("%d of %d acknowledged writes missing", len(lost), len(acked))
	return v, lost
}

// logsReachEnd: after the run every server serves at one zxid, so every
// server's log must reach the history's last zxid; a server whose log
// stops short lost the acknowledged writes after its end.
func logsReachEnd(ev Evidence, acked []Write, where map[string]*site) (history.Verdict, []Lost) {
	v := history.Verdict{Name: "every server's log reaches the end of the history"}
	if ev.History == nil {
		v.Detail = "no merged history"
		return v, nil
	}
	end := ev.History.End
	if ev.End != 0 {
		end = ev.End
	}
	var short []string
	var lost []Lost
	for _, l := range ev.Logs {
		last := lastZxid(l)
		if last >= end {
			continue
		}
		short = append(short, fmt.Sprintf("%s's log ends at %s", l.Server, txnlog.FormatZxid(last)))
		for _, w := range acked {
			if s := where[w.Op+" "+w.Path]; s != nil && s.zxid > last && s.zxid <= end {
				lost = append(lost, Lost{Write: w, Why: l.Server + "'s log ends before it"})
			}
		}
	}
	v.Judged, v.OK = len(ev.Logs), len(short) == 0
	v.Detail = fmt.Sprintf("every server reported %s at the end", txnlog.FormatZxid(end))
	if len(short) > 0 {
		v.Detail += "; " + strings.Join(short, "; ")
	}
	return v, lost
}

func lastZxid(l history.ServerLog) int64 {
	var last int64
	for _, f := range l.Files {
		if n := len(f.Txns); n > 0 {
			last = max(last, f.Txns[n-1].Zxid)
		}
	}
	return last
}

// expected is the znodes the writes must leave under the root: every
// acknowledged create whose znode no delete was sent for (a delete that
// got no answer may have taken effect), and those an acknowledged delete
// removed.
func expected(writes []Write) (present, deleted map[string]bool) {
	present, deleted = map[string]bool{}, map[string]bool{}
	for _, w := range writes {
		switch {
		case w.Op == "create" && !w.Acked.IsZero():
			present[w.Path] = true
		case w.Op == "delete":
			delete(present, w.Path)
			if !w.Acked.IsZero() {
				deleted[w.Path] = true
			}
		}
	}
	return present, deleted
}

// inFinalState: every acknowledged create not deleted is in the final
// state of every server.
func inFinalState(ev Evidence, acked []Write) (history.Verdict, []Lost) {
	v := history.Verdict{Name: "every acknowledged write is in every server's final state"}
	present, _ := expected(ev.Writes)
	byPath := map[string]Write{}
	for _, w := range acked {
		byPath[w.Path] = w
	}
	missing := map[string][]string{}
	var unread []string
	for _, fs := range ev.Final {
		if fs.Err != "" {
			unread = append(unread, fs.Server+": "+fs.Err)
			continue
		}
		v.Judged++
		for p := range present {
			if !fs.Paths[p] {
				missing[p] = append(missing[p], fs.Server)
			}
		}
	}
	lost := lostOf(missing, byPath, "missing from a server's final state")
	v.OK = len(missing) == 0 && v.Judged > 0
	v.Detail = fmt.Sprintf("%d znodes expected on each of %d servers read; %d missing somewhere", len(present), v.Judged, len(missing))
	if len(unread) > 0 {
		v.Detail += "; not read: " + strings.Join(unread, "; ")
	}
	return v, lost
}

// noneBack: no znode whose delete was acknowledged (a completed task) is
// in any server's final state.
func noneBack(ev Evidence, acked []Write) (history.Verdict, []Lost) {
	v := history.Verdict{Name: "no acknowledged delete comes back"}
	_, deleted := expected(ev.Writes)
	byPath := map[string]Write{}
	for _, w := range acked {
		if w.Op == "delete" {
			byPath[w.Path] = w
		}
	}
	back := map[string][]string{}
	for _, fs := range ev.Final {
		if fs.Err != "" {
			continue
		}
		v.Judged++
		for p := range deleted {
			if fs.Paths[p] {
				back[p] = append(back[p], fs.Server)
			}
		}
	}
	v.OK = len(back) == 0 && v.Judged > 0
	v.Detail = fmt.Sprintf("%d acknowledged deletes; %d came back", len(deleted), len(back))
	return v, lostOf(back, byPath, "deleted, yet back in a server's final state")
}

func lostOf(on map[string][]string, byPath map[string]Write, why string) []Lost {
	var out []Lost
	for p, servers := range on {
		slices.Sort(servers)
		out = append(out, Lost{Write: byPath[p], MissingOn: servers, Why: why})
	}
	return out
}

// describeLost fills in where the logs hold l and the fault after it.
func describeLost(l Lost, where map[string]*site, ev Evidence) Lost {
	var all []string
	for _, sl := range ev.Logs {
		all = append(all, sl.Server)
	}
	if s := where[l.Op+" "+l.Path]; s != nil {
		l.Zxid, l.HeldBy = s.zxid, slices.Sorted(slices.Values(s.holder))
	}
	for _, n := range all {
		if !slices.Contains(l.HeldBy, n) {
			l.NotHeldBy = append(l.NotHeldBy, n)
		}
	}
	l.FaultAfter = faultAfter(ev.Faults, l.Acked)
	return l
}

// faultAfter names the first fault that began after t, and when.
func faultAfter(faults []ops.Record, t time.Time) string {
	for _, f := range faults {
		if f.Start.After(t) {
			return fmt.Sprintf("%s (%v after the acknowledgement)", f.Title, f.Start.Sub(t).Round(time.Millisecond))
		}
	}
	return "none"
}

// mergeLost keeps one entry per write (the checks that missed it joined),
// in the order of the writes.
func mergeLost(ls []Lost) []Lost {
	byKey := map[string]*Lost{}
	var keys []string
	for _, l := range ls {
		k := l.Op + " " + l.Path
		if e, ok := byKey[k]; ok {
			if !strings.Contains(e.Why, l.Why) {
				e.Why += "; " + l.Why
			}
			e.MissingOn = slices.Compact(slices.Sorted(slices.Values(append(e.MissingOn, l.MissingOn...))))
			continue
		}
		l := l
		byKey[k] = &l
		keys = append(keys, k)
	}
	out := make([]Lost, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Sent.Before(out[b].Sent) })
	return out
}
