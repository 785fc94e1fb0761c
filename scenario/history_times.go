package scenario

import (
	"fmt"
	"strings"
	"time"

	"zkctl/history"
	"zkctl/roles/protocol"
	"zkctl/txnlog"
)

// HistoryTiming is an interval measured on the history's transaction times.
type HistoryTiming struct {
	What string
	D    time.Duration
	How  string // which clocks, and the correction applied
}

// Each transaction carries the time of the leader that committed it. An
// interval between two transactions of one epoch (one leader) needs no
// clock sync; one that crosses a leader change, or that starts at the
// controller's fault time, is corrected by the leaders' clock offsets to
// this machine, which the agents measured (controller.Cluster.ClockOffset), and
// says so.

// historyTimings measures, for every worker the master reported gone (its
// /workers/<w> deleted), the time from its session's end to the last move
// back of its tasks, and from the scenario's fault on it to that move.
func historyTimings(h *history.History, res *Result, offsets map[string]time.Duration) []HistoryTiming {
	closed := map[int64]txnlog.Txn{} // session → its closeSession
	var out []HistoryTiming
	for _, e := range h.Txns {
		t := e.Txn
		if t.Type == txnlog.TypeCloseSession {
			closed[t.Session] = t
			continue
		}
		w, ok := workerRemoved(t)
		if !ok {
			continue
		}
		if end, ok := sessionEnd(h, closed, w); ok {
			d, how := txnInterval(end, t, res, offsets)
			out = append(out, HistoryTiming{What: fmt.Sprintf("worker %s's session ended → its tasks moved back (zxid %s → %s)",
				w, txnlog.FormatZxid(end.Zxid), txnlog.FormatZxid(t.Zxid)), D: d, How: how})
		}
		off, leader := leaderOffset(res, t.Time, offsets)
		if f, ok := faultOn(res, w, t.Time.Add(-off)); ok {
			out = append(out, HistoryTiming{What: fmt.Sprintf("%s → %s's tasks moved back (zxid %s)", f.Msg, w, txnlog.FormatZxid(t.Zxid)),
				D: t.Time.Add(-off).Sub(f.At), How: fmt.Sprintf("from the controller's clock to the leader's (%s), corrected by its measured offset %+v", leader, off.Round(time.Microsecond))})
		}
	}
	return out
}

// workerRemoved tells whether t deletes a worker's /workers/<w> (the end
// of a move back), and which worker.
func workerRemoved(t txnlog.Txn) (string, bool) {
	ops := []txnlog.Txn{t}
	if t.Type == txnlog.TypeMulti {
		ops = t.Ops
	}
	for _, op := range ops {
		if op.Type.IsDelete() && strings.HasPrefix(op.Path, protocol.WorkersPath+"/") && strings.Count(op.Path, "/") == 2 {
			return strings.TrimPrefix(op.Path, protocol.WorkersPath+"/"), !t.Failed()
		}
	}
	return "", false
}

// sessionEnd is the closeSession of worker w's session.
func sessionEnd(h *history.History, closed map[int64]txnlog.Txn, w string) (txnlog.Txn, bool) {
	for s, in := range h.Sessions {
		if in.Role == "worker" && in.ID == w {
			t, ok := closed[s]
			return t, ok
		}
	}
	return txnlog.Txn{}, false
}

// faultOn is the scenario's fault that ended worker w: the last before
// the move back at (on the controller's clock) that was a signal to it,
// or a fault of its host (a crash, a freeze, a cut, a degradation; not
// the heal or clear that ends one, nor a fault of its server alone).
func faultOn(res *Result, w string, at time.Time) (Event, bool) {
	var host string
	for _, p := range res.Procs {
		if p.Role == "worker" && (p.ID == w || strings.HasPrefix(w, p.ID+".")) {
			host = p.Host
		}
	}
	var last Event
	found := false
	for _, e := range res.Events {
		if !e.At.Before(at) {
			break
		}
		onHost := e.Host == host && e.Attrs["fault"] != "heal" && (e.Role == "" || e.Attrs["fault"] == "partition")
		if e.Kind == KindFault && (e.Role == "worker" && e.ID == w || onHost) {
			last, found = e, true
		}
	}
	return last, found
}

// txnInterval is b's time minus a's: exact within an epoch, corrected by
// the leaders' offsets across one.
func txnInterval(a, b txnlog.Txn, res *Result, offsets map[string]time.Duration) (time.Duration, string) {
	if history.Epoch(a.Zxid) == history.Epoch(b.Zxid) {
		return b.Time.Sub(a.Time), fmt.Sprintf("transaction times of one epoch (%d): one leader's clock, no sync needed", history.Epoch(a.Zxid))
	}
	offA, la := leaderOffset(res, a.Time, offsets)
	offB, lb := leaderOffset(res, b.Time, offsets)
	return b.Time.Add(-offB).Sub(a.Time.Add(-offA)), fmt.Sprintf("crosses a leader change (epoch %d → %d): corrected by the leaders' measured offsets (%s %+v, %s %+v)",
		history.Epoch(a.Zxid), history.Epoch(b.Zxid), la, offA.Round(time.Microsecond), lb, offB.Round(time.Microsecond))
}

// leaderOffset is the clock offset of the server the monitor saw leading
// at t (its srvr samples), and that server's name.
func leaderOffset(res *Result, t time.Time, offsets map[string]time.Duration) (time.Duration, string) {
	leader := "?"
	if res.Samples != nil {
		for _, s := range res.Samples.Server {
			if s.At.After(t) {
				break
			}
			for i, m := range s.Modes {
				if m == "leader" || m == "standalone" {
					leader = res.Samples.Servers[i]
				}
			}
		}
	}
	return offsets[leader], leader
}
