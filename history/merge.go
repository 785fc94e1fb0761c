package history

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"zkctl/txnlog"
)

// ServerLog is what one server's data dir holds: its log files, in zxid
// order.
type ServerLog struct {
	Server   string // the inventory name of the server's host
	Observer bool   // an observer logs what it learns but acknowledges nothing
	Files    []*txnlog.File
}

// Entry is one transaction of the history and the servers whose logs hold it.
type Entry struct {
	txnlog.Txn
	HeldBy []string `json:"held_by"`
}

// History is the ensemble's committed history.
type History struct {
	Txns    []Entry // committed, by zxid
	Start   int64   // the first zxid any server holds (older logs may be purged)
	End     int64   // the last committed zxid
	Dropped []Entry // proposals no quorum acknowledged, by zxid
	Notes   []string
	// Sessions names the role instance behind each session that showed
	// itself in the history (see Instance).
	Sessions map[int64]Instance
}

// Epoch is the epoch of a zxid: the leader's term that proposed it.
func Epoch(zxid int64) int64 { return int64(uint64(zxid) >> 32) }

// Counter is a zxid's position within its epoch, from 1.
func Counter(zxid int64) int64 { return zxid & 0xffffffff }

// Merge builds the committed history from every server's logs; voters is
// the number of voting servers (the quorum is voters/2+1). A zxid held by
// some server's log is committed when
//
//  1. a quorum of voting servers holds it (Zab commits a proposal once a
//     quorum has logged and acknowledged it; an observer's copy counts for
//     rule 3 only), or
//  2. a committed zxid of the same epoch follows it (a leader commits in
//     zxid order), or
//  3. a server holds it and its log goes on into a later epoch without
//     skipping a zxid that rules 1 and 2 commit: a server logs a new epoch
//     only after synchronizing with its leader, which truncates what the
//     leader does not hold, and the new leader's initial history is
//     committed when its epoch is established. A log that skips committed
//     zxids was synchronized by a snapshot, which truncates nothing, so it
//     proves nothing (and rule 2 then extends rule 3 back through its epoch).
//
// Rule 3 matters when the old leader's last proposals reached the new
// leader but fewer than a quorum of the logs that are left (the followers
// that logged them in the new leader's sync may have been wiped, or purged
// their logs since); without it they would wrongly be dropped. Every other
// zxid is a proposal no quorum acknowledged: it is dropped and listed in
// History.Dropped, with a note. Errors: two servers holding different
// transactions at one zxid, servers whose logs neither overlap nor follow
// one another, and committed zxids missing within an epoch (a gap no server
// fills) — each naming the zxids and servers.
func Merge(logs []ServerLog, voters int) (*History, error) {
	if voters < 1 {
		return nil, fmt.Errorf("history: %d voters", voters)
	}
	h := &History{}
	held, order, err := collect(logs, h)
	if err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("history: no server's log holds a transaction")
	}
	if err := checkOverlap(logs, held); err != nil {
		return nil, err
	}
	committed := commit(logs, held, order, voters/2+1)
	h.Txns = make([]Entry, 0, len(order))
	for _, z := range order {
		e := *held[z]
		slices.Sort(e.HeldBy)
		if committed[z] {
			h.Txns = append(h.Txns, e)
		} else {
			h.Dropped = append(h.Dropped, e)
		}
	}
	if len(h.Txns) == 0 {
		return nil, fmt.Errorf("history: no transaction is held by a quorum of %d of %d servers", voters/2+1, voters)
	}
	if err := checkGaps(h.Txns); err != nil {
		return nil, err
	}
	h.Start, h.End = order[0], h.Txns[len(h.Txns)-1].Zxid
	h.Notes = append(h.Notes, fmt.Sprintf("the history starts at %s, the first zxid a server's log still holds", txnlog.FormatZxid(h.Start)))
	h.noteDropped()
	h.Sessions = sessions(h.Txns)
	return h, nil
}

// noteDropped adds a note for each dropped proposal.
func (h *History) noteDropped() {
	for _, d := range h.Dropped {
		why := "a proposal of an old epoch that no quorum acknowledged"
		if Epoch(d.Zxid) == Epoch(h.End) {
			why = "not held by a quorum yet: in flight, or never to be committed"
		}
		h.Notes = append(h.Notes, fmt.Sprintf("dropped %s (%s, held by %s only): %s",
			txnlog.FormatZxid(d.Zxid), d.Type, strings.Join(d.HeldBy, ", "), why))
	}
}

// collect gathers every server's transactions by zxid, refusing two
// different transactions at one zxid.
func collect(logs []ServerLog, h *History) (map[int64]*Entry, []int64, error) {
	n := 0
	for _, l := range logs {
		for _, f := range l.Files {
			n = max(n, len(f.Txns))
		}
	}
	held := make(map[int64]*Entry, n)
	order := make([]int64, 0, n)
	for _, l := range logs {
		for _, f := range l.Files {
			if f.Torn != "" {
				h.Notes = append(h.Notes, fmt.Sprintf("%s: %s: %s", l.Server, f.Name, f.Torn))
			}
			for _, t := range f.Txns {
				e, ok := held[t.Zxid]
				if !ok {
					held[t.Zxid] = &Entry{Txn: t, HeldBy: []string{l.Server}}
					order = append(order, t.Zxid)
					continue
				}
				if !same(&e.Txn, &t) {
					return nil, nil, fmt.Errorf("history: zxid %s: %s holds %s, %s holds %s",
						txnlog.FormatZxid(t.Zxid), e.HeldBy[0], describe(&e.Txn), l.Server, describe(&t))
				}
				if !slices.Contains(e.HeldBy, l.Server) {
					e.HeldBy = append(e.HeldBy, l.Server)
				}
			}
		}
	}
	slices.Sort(order)
	return held, order, nil
}

// same tells whether two servers' copies of a zxid are one transaction.
// The operations of a failed multi are compared by number only: ZooKeeper
// may log them relabeled as errors on one server and not on another (see
// txnlog's relabeled).
func same(a, b *txnlog.Txn) bool {
	if a.Session != b.Session || a.Cxid != b.Cxid || a.Type != b.Type || !a.Time.Equal(b.Time) ||
		a.Path != b.Path || string(a.Data) != string(b.Data) || a.Err != b.Err || len(a.Ops) != len(b.Ops) {
		return false
	}
	if a.Failed() || b.Failed() {
		return a.Failed() == b.Failed()
	}
	for i := range a.Ops {
		x, y := &a.Ops[i], &b.Ops[i]
		if x.Type != y.Type || x.Path != y.Path || string(x.Data) != string(y.Data) {
			return false
		}
	}
	return true
}

// describe names a transaction in an error message.
func describe(t *txnlog.Txn) string {
	s := fmt.Sprintf("%s by session %#x", t.Type, t.Session)
	if t.Path != "" {
		s += " on " + t.Path
	}
	return s
}

// span is the range of zxids one server holds.
type span struct {
	server      string
	first, last int64
}

// checkOverlap refuses servers whose logs neither overlap nor follow one
// another: the union of their zxid ranges must be one range, where a range
// that starts a new epoch at counter 1 follows any earlier one.
func checkOverlap(logs []ServerLog, held map[int64]*Entry) error {
	var spans []span
	for _, l := range logs {
		s := span{server: l.Server, first: -1}
		for _, f := range l.Files {
			for _, t := range f.Txns {
				if s.first < 0 || t.Zxid < s.first {
					s.first = t.Zxid
				}
				s.last = max(s.last, t.Zxid)
			}
		}
		if s.first >= 0 {
			spans = append(spans, s)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].first < spans[j].first })
	reach := spans[0]
	for _, s := range spans[1:] {
		follows := s.first <= reach.last+1 || Counter(s.first) == 1 && Epoch(s.first) > Epoch(reach.last)
		if !follows {
			return fmt.Errorf("history: the servers' logs do not overlap: %s holds up to %s, %s holds from %s, and no log holds what lies between",
				reach.server, txnlog.FormatZxid(reach.last), s.server, txnlog.FormatZxid(s.first))
		}
		if s.last > reach.last {
			reach = s
		}
	}
	return nil
}

// commit decides which held zxids are committed: held by a quorum, or
// followed by a committed zxid of their epoch, or held by a server whose
// log goes on into a later epoch without skipping a committed zxid.
func commit(logs []ServerLog, held map[int64]*Entry, order []int64, quorum int) map[int64]bool {
	observer := map[string]bool{}
	for _, l := range logs {
		observer[l.Server] = l.Observer
	}
	committed := map[int64]bool{}
	for _, z := range order {
		acks := 0
		for _, s := range held[z].HeldBy {
			if !observer[s] {
				acks++
			}
		}
		if acks >= quorum {
			committed[z] = true
		}
	}
	inOrder(order, committed)
	byQuorum := make(map[int64]bool, len(committed))
	for z := range committed {
		byQuorum[z] = true
	}
	for _, l := range logs {
		zs := serverZxids(l)
		for i := 0; i+1 < len(zs); i++ {
			if Epoch(zs[i+1]) > Epoch(zs[i]) && !skips(order, byQuorum, zs[i], zs[i+1]) {
				committed[zs[i]] = true
			}
		}
	}
	inOrder(order, committed)
	return committed
}

// inOrder marks committed every zxid before a committed one of its epoch.
func inOrder(order []int64, committed map[int64]bool) {
	later := map[int64]bool{} // epochs with a committed zxid after the one at hand
	for i := len(order) - 1; i >= 0; i-- {
		z := order[i]
		if later[Epoch(z)] {
			committed[z] = true
		}
		if committed[z] {
			later[Epoch(z)] = true
		}
	}
}

// serverZxids lists the zxids one server holds, in order.
func serverZxids(l ServerLog) []int64 {
	var zs []int64
	for _, f := range l.Files {
		for _, t := range f.Txns {
			zs = append(zs, t.Zxid)
		}
	}
	slices.Sort(zs)
	return slices.Compact(zs)
}

// skips tells whether a committed zxid lies strictly between a and b.
func skips(order []int64, committed map[int64]bool, a, b int64) bool {
	i, _ := slices.BinarySearch(order, a+1)
	for ; i < len(order) && order[i] < b; i++ {
		if committed[order[i]] {
			return true
		}
	}
	return false
}

// checkGaps refuses a committed history with a missing counter within an
// epoch: from the epoch's first counter (1, except for the epoch the
// history starts in) to its last committed one.
func checkGaps(txns []Entry) error {
	var gaps []string
	for i, e := range txns {
		var from int64
		switch {
		case i == 0:
			continue
		case Epoch(e.Zxid) == Epoch(txns[i-1].Zxid):
			from = txns[i-1].Zxid + 1
		default:
			from = Epoch(e.Zxid)<<32 | 1
		}
		if e.Zxid > from {
			gaps = append(gaps, zxidRange(from, e.Zxid-1))
		}
	}
	if len(gaps) > 0 {
		return fmt.Errorf("history: committed zxids that no server's log holds: %s", strings.Join(gaps, ", "))
	}
	return nil
}

func zxidRange(a, b int64) string {
	if a == b {
		return txnlog.FormatZxid(a)
	}
	return txnlog.FormatZxid(a) + ".." + txnlog.FormatZxid(b)
}
