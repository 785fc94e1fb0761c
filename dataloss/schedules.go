package dataloss

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/history"
	"zkctl/node"
	"zkctl/txnlog"
)

// Schedule is one sequence of faults aimed at a bug's window, after an
// upstream regression test.
type Schedule struct {
	Name     string
	Upstream string // the upstream test it follows
	Bugs     string // the bugs whose window it aims at
	Window   string // the window, in words
	Servers  int    // the ensemble size it needs
	run      func(ctx context.Context, r *run) error
}

// Catalog is every schedule, by name.
var Catalog = []Schedule{staleDiffSync, diffSyncCrash}

// Lookup finds the schedules named; none named is all of them.
func Lookup(names []string) ([]Schedule, error) {
	if len(names) == 0 {
		return Catalog, nil
	}
	var out []Schedule
	for _, n := range names {
		i := slices.IndexFunc(Catalog, func(s Schedule) bool { return s.Name == n })
		if i < 0 {
			var known []string
			for _, s := range Catalog {
				known = append(known, s.Name)
			}
			return nil, fmt.Errorf("dataloss: no schedule %q (known: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, Catalog[i])
	}
	return out, nil
}

// burst is how many writes a schedule waits for where upstream's test
// makes ten: the servers' zxid must move past them.
const burst = 10

var staleDiffSync = Schedule{
	Name:     "stale-diff-sync",
	Upstream: "QuorumSyncTest.testStaleDiffSync (apache/zookeeper, added with ZOOKEEPER-4925)",
	Bugs:     "ZOOKEEPER-4925 (3.9.3; fixed in 3.9.4)",
	Window: "a stale follower F1 takes the transactions it missed by a DIFF sync (3.9.3 applies them " +
		"without adding them to its committedLog: a hole), then leads while a staler F2 syncs from it by DIFF: " +
		"F2 never gets the hole's transactions",
	Servers: 5,
	run:     runStaleDiffSync,
}

// runStaleDiffSync: stop F2; writes; stop F1; writes (the hole); start
// F1 (DIFF sync); more writes; every server at one zxid; stop the leader
// (F1, the highest id of the rest, wins the tie); start F2. The writes
// come in bursts, as upstream's do, until F2 is started: F2's gap then
// stays far within what a DIFF can carry (the leader's committedLog, 500
// transactions by default), however long a stop or a start takes on a
// loaded machine; with writes all along, a slow start made it a SNAP.
func runStaleDiffSync(ctx context.Context, r *run) error {
	e := r.e
	r.w.pause()
	leader, err := e.leader(ctx)
	if err != nil {
		return err
	}
	followers := e.byID(others(e.names(), leader))
	f1, f2 := followers[0], followers[1]
	r.note("leader %s; F1 = %s (the highest id of the followers), F2 = %s", leader, f1, f2)
	f2At, err := r.stopAndWrite(ctx, leader, f2)
	if err != nil {
		return err
	}
	holeFrom, err := r.stopAndWrite(ctx, leader, f1)
	if err != nil {
		return err
	}
	holeTo := e.status(leader).Zxid
	if err := e.start(ctx, f1); err != nil {
		return err
	}
	st, err := e.waitServing(ctx, f1)
	if err != nil {
		return err
	}
	sync1 := r.lastSync(ctx, f1)
	r.note("F1 %s serves at %s after %s; it reported %s before its stop, the leader %s at its start", f1, txnlog.FormatZxid(st.Zxid), sync1,
		txnlog.FormatZxid(holeFrom), txnlog.FormatZxid(holeTo))
	time.Sleep(r.jitter(e.timing.Tick()))
	if err := r.burst(ctx, leader, st.Zxid); err != nil {
		return err
	}
	if err := e.waitSameZxid(ctx, others(e.names(), f2)); err != nil {
		return err
	}
	if err := e.stop(ctx, leader); err != nil {
		return err
	}
	if err := e.start(ctx, f2); err != nil {
		return err
	}
	r.w.resume()
	st2, err := e.waitServing(ctx, f2)
	if err != nil {
		return err
	}
	now, err := e.leader(ctx)
	if err != nil {
		return err
	}
	sync2 := r.lastSync(ctx, f2)
	r.note("after %s stopped, %s leads; F2 %s (stopped at %s) serves at %s after %s", leader, now, f2,
		txnlog.FormatZxid(f2At), txnlog.FormatZxid(st2.Zxid), sync2)
	r.window.Landed = strings.HasPrefix(sync1, "DIFF") && now == f1 && strings.HasPrefix(sync2, "DIFF")
	return nil
}

// stopAndWrite stops victim, then writes a burst past the zxid victim
// reported just before its stop; it returns that zxid.
func (r *run) stopAndWrite(ctx context.Context, leader, victim string) (int64, error) {
	at := r.e.status(victim).Zxid
	if err := r.e.stop(ctx, victim); err != nil {
		return 0, err
	}
	return at, r.burst(ctx, leader, at)
}

// burst lets the paused writer write until the leader's zxid has moved
// burst transactions past z, and pauses it again.
func (r *run) burst(ctx context.Context, leader string, z int64) error {
	r.w.resume()
	defer r.w.pause()
	return r.e.waitZxidPast(ctx, leader, z, burst)
}

var diffSyncCrash = Schedule{
	Name:     "diff-sync-crash",
	Upstream: "DIFFSyncTest.testTxnLoss_FailToPersistAndCommitTxns (apache/zookeeper, added with ZOOKEEPER-4785)",
	Bugs:     "ZOOKEEPER-4785, ZOOKEEPER-4646, ZOOKEEPER-4643 (3.8.0; all fixed by 3.9.3)",
	Window: "a stale follower S0 has ACKed NEWLEADER of a DIFF sync (its currentEpoch is the new one) " +
		"but has not yet persisted the transactions it took; the leader dies then, and S0, with the newer " +
		"epoch, leads and truncates the servers that hold them",
	Servers: 3,
	run:     runDiffSyncCrash,
}

// runDiffSyncCrash: stop S0; writes (S0 behind); stop S1 (no quorum);
// start S0 (DIFF sync with the leader); SIGKILL the leader as soon as S0
// reports serving; start S1 (S0 leads, its epoch newer); the old leader
// comes back in the run's end. A seeded run makes S0 miss between 10 and
// 400 transactions (a longer DIFF to persist), waits up to a tick more
// before the crash, and crashes either the leader (upstream's order) or
// S0 itself (ZOOKEEPER-4646: a follower crashing after its NEWLEADER ACK),
// in which case the leader is stopped too and S0 restarts with S1.
func runDiffSyncCrash(ctx context.Context, r *run) error {
	e := r.e
	leader, err := e.leader(ctx)
	if err != nil {
		return err
	}
	rest := others(e.names(), leader)
	s0, s1 := rest[0], rest[1]
	behind, victim := burst, leader
	if r.seed != 0 {
		if r.rng.IntN(2) == 1 {
			s0, s1 = s1, s0
		}
		behind = 10 + r.rng.IntN(391)
		if r.rng.IntN(2) == 1 {
			victim = s0
		}
	}
	r.note("leader %s; S0 = %s, S1 = %s; S0 misses %d transactions; the crash hits %s", leader, s0, s1, behind, victim)
	s0At := e.status(s0).Zxid
	if err := e.stop(ctx, s0); err != nil {
		return err
	}
	if err := e.waitZxidPast(ctx, leader, s0At, behind); err != nil {
		return err
	}
	missedTo := e.status(leader).Zxid
	if err := e.stop(ctx, s1); err != nil {
		return err
	}
	if err := e.start(ctx, s0); err != nil {
		return err
	}
	st, err := e.waitServing(ctx, s0)
	if err != nil {
		return err
	}
	served := time.Now()
	time.Sleep(r.jitter(e.timing.Tick()))
	if err := e.kill(ctx, victim); err != nil {
		return err
	}
	gap := time.Since(served)
	held := r.logHolds(ctx, s0, s0At+1, missedTo)
	sync0 := r.lastSync(ctx, s0)
	r.note("S0 %s served at %s after %s (it had %s, the leader %s); %s was SIGKILLed %v after S0 reported serving; S0's log then held %s of the zxids it had missed",
		s0, txnlog.FormatZxid(st.Zxid), sync0, txnlog.FormatZxid(s0At), txnlog.FormatZxid(missedTo), victim,
		gap.Round(time.Millisecond), held)
	if victim == s0 {
		if err := e.stop(ctx, leader); err != nil {
			return err
		}
		if err := e.start(ctx, s0); err != nil {
			return err
		}
	}
	if err := e.start(ctx, s1); err != nil {
		return err
	}
	if _, err := e.waitServing(ctx, s1); err != nil {
		return err
	}
	now, err := e.leader(ctx)
	if err != nil {
		return err
	}
	r.note("after the crash %s leads", now)
	if strings.HasPrefix(sync0, "DIFF") && now == s0 && victim != s0 {
		r.note("S0 leads with the memory of its DIFF sync (it was not restarted): on 3.9.3 that is ZOOKEEPER-4925's window too, " +
			"its committedLog's hole spreading to the servers that sync from it")
	}
	r.window.Landed = strings.HasPrefix(sync0, "DIFF") && now == s0 && !strings.HasPrefix(held, "all")
	return nil
}

// others is names without x.
func others(names []string, x string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == x })
}

// syncLine matches the lines in which a learner says how it syncs.
var syncLine = regexp.MustCompile(`Getting a diff from the leader (0x[0-9a-f]+)|Getting a snapshot from leader (0x[0-9a-f]+)|Truncating log to get in sync with the leader (0x[0-9a-f]+)`)

// lastSync is how name's last sync went, from its own log: "DIFF to
// 0x…", "SNAP at 0x…", "TRUNC to 0x…", or "an unknown sync".
func (r *run) lastSync(ctx context.Context, name string) string {
	data, err := r.e.c.ReadLog(ctx, r.e.host(name), node.ZooKeeperName)
	if err != nil {
		return "an unknown sync (" + err.Error() + ")"
	}
	m := syncLine.FindAllStringSubmatch(string(data), -1)
	if len(m) == 0 {
		return "an unknown sync (no sync line in its log)"
	}
	last := m[len(m)-1]
	switch {
	case last[1] != "":
		return "DIFF to " + last[1]
	case last[2] != "":
		return "SNAP at " + last[2]
	default:
		return "TRUNC to " + last[3]
	}
}

// logHolds says how many of the zxids from..to name's transaction log
// holds now: "all N", "none of N" or "K of N".
func (r *run) logHolds(ctx context.Context, name string, from, to int64) string {
	names, files, err := r.e.c.TxnLogs(ctx, []inventory.Host{r.e.host(name)})
	if err != nil {
		return "(unread: " + err.Error() + ")"
	}
	logs, err := history.DecodeLogs(names, files)
	if err != nil {
		return "(unread: " + err.Error() + ")"
	}
	n, k := int(to-from+1), 0
	for _, f := range logs[0].Files {
		for _, t := range f.Txns {
			if t.Zxid >= from && t.Zxid <= to {
				k++
			}
		}
	}
	switch {
	case n <= 0:
		return "nothing to hold"
	case k >= n:
		return fmt.Sprintf("all %d", n)
	case k == 0:
		return fmt.Sprintf("none of %d", n)
	}
	return fmt.Sprintf("%d of %d", k, n)
}
