package dataloss

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/history"
	"zkctl/ops"
	"zkctl/txnlog"
)

// Options tune one run.
type Options struct {
	// Seed drives every random choice of the run (the timing of the
	// faults); 0 runs the schedule as upstream's test does, without
	// jitter.
	Seed int64
	// Interval is the pause between two writes (10 ms when zero).
	Interval time.Duration
	// Logf, when set, gets a line for each step.
	Logf func(format string, args ...any)
}

// Result is one run of a schedule.
type Result struct {
	Schedule  string        `json:"schedule"`
	Version   string        `json:"version"` // the servers' own, from srvr
	Seed      int64         `json:"seed"`
	Window    Window        `json:"window"`
	Judgement Judgement     `json:"judgement"`
	Writes    int           `json:"writes"`
	Acked     int           `json:"acked"`
	Took      time.Duration `json:"took"`
	Faults    []ops.Record  `json:"-"`
	Err       error         `json:"-"`               // the schedule could not be carried out
	Error     string        `json:"error,omitempty"` // Err, in the JSON
}

// Passed says whether the schedule ran and the judge found nothing.
func (r Result) Passed() bool { return r.Err == nil && r.Judgement.Passed() }

// Window is whether the faults landed in the bug's window, from what the
// servers reported and logged.
type Window struct {
	Landed bool     `json:"landed"`
	Notes  []string `json:"notes"`
}

// run is one run in progress: what a schedule's steps act on.
type run struct {
	e      *ensemble
	w      *writer
	rng    *rand.Rand
	seed   int64
	window Window
	logf   func(format string, args ...any)
}

func (r *run) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.window.Notes = append(r.window.Notes, s)
	r.logf("%s", s)
}

// jitter is a random pause in [0, upTo) for a seeded run, none for seed 0.
func (r *run) jitter(upTo time.Duration) time.Duration {
	if r.seed == 0 || upTo <= 0 {
		return 0
	}
	return time.Duration(r.rng.Int64N(int64(upTo)))
}

// Run carries out schedule s on c's ensemble while a client writes, then
// brings every server back, reads the final state from each and every
// server's transaction log, and judges.
func Run(ctx context.Context, c *controller.Cluster, s Schedule, o Options) Result {
	start := time.Now()
	res := Result{Schedule: s.Name, Seed: o.Seed}
	e, err := newEnsemble(c)
	if err == nil && len(e.servers) != s.Servers {
		err = fmt.Errorf("dataloss: %s needs %d servers, the inventory has %d", s.Name, s.Servers, len(e.servers))
	}
	if err != nil {
		res.Err = err
		return res
	}
	r := &run{e: e, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)), seed: o.Seed, logf: o.Logf}
	if r.logf == nil {
		r.logf = func(string, ...any) {}
	}
	ev, err := r.carryOut(ctx, s, o)
	res.Window, res.Faults = r.window, e.journal.Records()
	res.Writes = len(ev.Writes)
	res.Acked = len(ackedWrites(ev.Writes))
	res.Version = e.status(e.names()[0]).Version
	if err != nil {
		res.Err, res.Error = err, err.Error()
	} else {
		ev.Faults = res.Faults
		res.Judgement = Judge(ev)
	}
	res.Took = time.Since(start)
	return res
}

// carryOut runs the schedule under the writer and gathers the evidence.
func (r *run) carryOut(ctx context.Context, s Schedule, o Options) (Evidence, error) {
	e := r.e
	if err := e.startDown(ctx); err != nil {
		return Evidence{}, err
	}
	if err := e.waitAllServing(ctx); err != nil {
		return Evidence{}, err
	}
	conn, err := e.connect(ctx, e.servers)
	if err != nil {
		return Evidence{}, err
	}
	root := fmt.Sprintf("/zkctl-dataloss/%s-%d-%d", s.Name, o.Seed, time.Now().UnixMilli())
	if err := ensureRoot(conn, root); err != nil {
		conn.Close()
		return Evidence{}, err
	}
	_, st, err := conn.Exists(root)
	if err != nil || st == nil {
		conn.Close()
		return Evidence{}, fmt.Errorf("read %s back: %v", root, err)
	}
	start := st.Czxid - 1 // the run's transactions begin with its root
	interval := o.Interval
	if interval <= 0 {
		interval = 10 * time.Millisecond
	}
	r.w = newWriter(conn, root, interval)
	go r.w.run()
	schedErr := s.run(ctx, r)
	r.w.resume()
	ev, err := r.finish(ctx, root, start)
	conn.Close()
	if schedErr != nil {
		return ev, fmt.Errorf("%s: %w", s.Name, schedErr)
	}
	return ev, err
}

// finish brings every server back, lets the writer make a few more
// writes, stops it, and gathers the evidence.
func (r *run) finish(ctx context.Context, root string, start int64) (Evidence, error) {
	e := r.e
	ev := Evidence{Root: root, Start: start}
	err := e.startDown(ctx)
	if err == nil {
		err = e.waitAllServing(ctx)
	}
	if err == nil {
		err = r.w.waitAcked(ctx, 5, e.timing.Wait())
	}
	ev.Writes = r.w.finish()
	if err != nil {
		return ev, err
	}
	if err := e.waitSameZxid(ctx, e.names()); err != nil {
		return ev, err
	}
	ev.End = e.status(e.names()[0]).Zxid
	ev.Final = readFinal(ctx, e, root)
	return gatherLogs(ctx, e.c, e.servers, ev)
}

// gatherLogs reads every server's transaction logs into ev, from
// ev.Start on, and merges them. The logs of earlier runs on the same
// ensemble are not this run's to judge (and autopurge, which runs at every
// server start, may have left only parts of them).
func gatherLogs(ctx context.Context, c *controller.Cluster, servers []inventory.Host, ev Evidence) (Evidence, error) {
	names, files, err := c.TxnLogs(ctx, servers)
	if err != nil {
		return ev, err
	}
	if ev.Logs, err = history.DecodeLogs(names, files); err != nil {
		return ev, err
	}
	trimBefore(ev.Logs, ev.Start)
	ev.History, ev.HistoryErr = history.Merge(ev.Logs, len(servers))
	return ev, nil
}

// trimBefore drops the transactions up to zxid start from every log, and
// the files left empty.
func trimBefore(logs []history.ServerLog, start int64) {
	for i := range logs {
		var keep []*txnlog.File
		for _, f := range logs[i].Files {
			n := 0
			for n < len(f.Txns) && f.Txns[n].Zxid <= start {
				n++
			}
			if n < len(f.Txns) {
				f.Txns = f.Txns[n:]
				keep = append(keep, f)
			}
		}
		logs[i].Files = keep
	}
}

// readFinal reads the znodes under root from each server alone, after a
// sync.
func readFinal(ctx context.Context, e *ensemble, root string) []FinalState {
	out := make([]FinalState, len(e.servers))
	for i, h := range e.servers {
		out[i] = FinalState{Server: h.Name}
		paths, err := readFrom(ctx, e.c, h, root)
		if err != nil {
			out[i].Err = err.Error()
			continue
		}
		out[i].Paths = paths
	}
	return out
}

func readFrom(ctx context.Context, c *controller.Cluster, h inventory.Host, root string) (map[string]bool, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := c.Connect(cctx, []inventory.Host{h})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.Sync(root); err != nil {
		return nil, fmt.Errorf("sync %s: %w", root, err)
	}
	kids, _, err := conn.Children(root)
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", root, err)
	}
	paths := make(map[string]bool, len(kids))
	for _, k := range kids {
		paths[root+"/"+k] = true
	}
	return paths, nil
}

// byID sorts names by their servers' myid, highest first (the order of
// upstream's QuorumSyncTest, where the highest id wins a tied election).
func (e *ensemble) byID(names []string) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int { return e.host(b).ID - e.host(a).ID })
	return out
}
