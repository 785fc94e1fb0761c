// Package bench measures zkctl's task system against the ZooKeeper ensemble
// it runs on (`zkctl bench`): the ensemble's raw write limit, the task
// pipeline's throughput and its cost in transactions, the master's
// assignment cost at 1,000 and 10,000 tasks, failover and reassignment
// latency of real role processes, and the master's memory.
//
// Throughput is judged as a ratio inside one run (the raw writes per second
// over the tasks per second: what a task costs the ensemble in raw
// single-op writes), so that a noisy machine still gives a stable verdict. Transactions are counted from the
// leader's zxid, not assumed.
package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/controller"
	"zkctl/node"
	"zkctl/roles"
)

// The phases of a run, in the order they run.
const (
	PhaseRaw      = "raw"
	PhasePipeline = "pipeline"
	PhaseScaling  = "scaling"
	PhaseFailover = "failover"
	PhaseMemory   = "memory"
)

// AllPhases lists every phase in the order they run.
func AllPhases() []string {
	return []string{PhaseRaw, PhasePipeline, PhaseScaling, PhaseFailover, PhaseMemory}
}

// Target is the ensemble under test.
type Target struct {
	// Roles is the configuration of the bench's sessions and in-process
	// roles: servers, session timeout, auth, logger.
	Roles    roles.Config
	TickTime time.Duration
	// Cluster starts and kills role processes on the inventory's hosts
	// (failover, memory); nil skips those phases.
	Cluster *controller.Cluster
}

// Options shape a run. The zero value of each field has a usable default.
type Options struct {
	Duration          time.Duration `json:"duration_ns"`        // each throughput phase (raw, pipeline); default 10s
	Workers           int           `json:"workers"`            // pipeline workers; default 8
	Clients           int           `json:"clients"`            // pipeline clients; default 4
	Window            int           `json:"window"`             // tasks each pipeline client keeps in flight; default 32
	WorkerConcurrency int           `json:"worker_concurrency"` // tasks each pipeline worker runs at once; default 4
	RawSessions       int           `json:"raw_sessions"`       // raw-limit sessions; default 16
	RawPerSession     int           `json:"raw_per_session"`    // raw-limit requests in flight per session; default 8
	Rounds            int           `json:"rounds"`             // raw/pipeline alternations; default 1 per 2.5s of Duration, at most 4
	Repeats           int           `json:"repeats"`            // failover repetitions; default 5
	Phases            []string      `json:"phases"`             // default AllPhases()
	Progress          io.Writer     `json:"-"`                  // phase headers and samples; nil prints nothing
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	def(&o.Workers, 8)
	def(&o.Clients, 4)
	def(&o.Window, 32)
	def(&o.WorkerConcurrency, 4)
	def(&o.RawSessions, 16)
	def(&o.RawPerSession, 8)
	def(&o.Repeats, 5)
	def(&o.Rounds, min(max(int(o.Duration/(2500*time.Millisecond)), 1), 4))
	if len(o.Phases) == 0 {
		o.Phases = AllPhases()
	}
	return o
}

// CheckPhases reports an unknown phase name.
func CheckPhases(names []string) error {
	for _, n := range names {
		if !slices.Contains(AllPhases(), n) {
			return fmt.Errorf("unknown phase %q: want %s", n, strings.Join(AllPhases(), ", "))
		}
	}
	return nil
}

// Report is the outcome of a run. The figures' JSON keys are the names the
// issue and BENCHMARKS.md use; a figure whose phase did not run is absent.
type Report struct {
	RawWritesPerS      float64 `json:"raw_writes_per_s,omitempty"`
	TasksPerS          float64 `json:"tasks_per_s,omitempty"`
	TxnsPerTask        float64 `json:"txns_per_task,omitempty"`
	RawWritesPerTask   float64 `json:"raw_writes_per_task,omitempty"`
	AssignUsPerTask1k  float64 `json:"assign_us_per_task_1k,omitempty"`
	AssignUsPerTask10k float64 `json:"assign_us_per_task_10k,omitempty"`
	// BacklogTakeover10kS is the 10k run's time from the master's election
	// (its /master written) to its last assignment.
	BacklogTakeover10kS float64 `json:"backlog_takeover_10k_s,omitempty"`
	FailoverSigkillS    float64 `json:"failover_sigkill_s,omitempty"` // median
	FailoverSigkillMax  float64 `json:"failover_sigkill_max_s,omitempty"`
	FailoverSigtermS    float64 `json:"failover_sigterm_s,omitempty"` // median
	FailoverSigtermMax  float64 `json:"failover_sigterm_max_s,omitempty"`
	ReassignS           float64 `json:"reassign_s,omitempty"` // median
	ReassignMax         float64 `json:"reassign_max_s,omitempty"`
	MasterRSSMB10k      float64 `json:"master_rss_mb_10k,omitempty"`

	SessionTimeoutS float64  `json:"session_timeout_s"`
	TickTimeS       float64  `json:"tick_time_s"`
	Checks          []Check  `json:"checks"`
	Skipped         []string `json:"skipped,omitempty"` // phases not run, and why

	Raw        *RawResult      `json:"raw,omitempty"`
	Pipeline   *PipelineResult `json:"pipeline,omitempty"`
	Scaling1k  *ScalingResult  `json:"scaling_1k,omitempty"`
	Scaling10k *ScalingResult  `json:"scaling_10k,omitempty"`
	// Scaling1kRuns is µs per task of each 1k run; Scaling1k is the median.
	Scaling1kRuns []float64       `json:"scaling_1k_runs_us,omitempty"`
	Failover      *FailoverResult `json:"failover,omitempty"`
	Memory        *MemoryResult   `json:"memory,omitempty"`

	Machine Machine       `json:"machine"`
	Servers []string      `json:"servers"`
	Options Options       `json:"options"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Check is one figure against its target.
type Check struct {
	Figure string  `json:"figure"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
	Note   string  `json:"note,omitempty"`
}

// Failed lists the checks that missed their target.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// Run runs the selected phases against an ensemble that holds no roles and
// no tasks (a fresh `zkctl reset`), and leaves it that way. A phase that
// fails ends the run with its error; the report holds what was measured.
func Run(ctx context.Context, tg Target, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := CheckPhases(o.Phases); err != nil {
		return nil, err
	}
	cfg := tg.Roles
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = roles.DefaultSessionTimeout
	}
	out := o.Progress
	if out == nil {
		out = io.Discard
	}
	r := &Report{SessionTimeoutS: cfg.SessionTimeout.Seconds(), TickTimeS: tg.TickTime.Seconds(),
		Machine: ReadMachine(), Servers: cfg.Servers, Options: o}
	start := time.Now()
	defer func() {
		r.Elapsed = time.Since(start)
		r.Machine.LoadEnd = loadAvg()
		r.check()
	}()

	conn, err := roles.Dial(ctx, cfg)
	if err != nil {
		return r, fmt.Errorf("connect to ZooKeeper %v: %w", cfg.Servers, err)
	}
	defer conn.Close()
	if err := roles.EnsureBase(conn, roles.ACL(cfg.Auth)); err != nil {
		return r, err
	}
	if err := checkIdle(conn); err != nil {
		return r, err
	}
	rn := &runner{tg: tg, cfg: cfg, o: o, r: r, out: out}
	want := func(p string) bool { return slices.Contains(o.Phases, p) }
	if err := rn.throughput(ctx, want(PhaseRaw), want(PhasePipeline)); err != nil {
		return r, err
	}
	for _, ph := range []struct {
		name string
		run  func(context.Context) error
	}{{PhaseScaling, rn.scaling}, {PhaseFailover, rn.failover}, {PhaseMemory, rn.memory}} {
		if !want(ph.name) {
			continue
		}
		if err := ph.run(ctx); err != nil {
			return r, err
		}
	}
	return r, nil
}

// runner runs the phases of one Run into its report.
type runner struct {
	tg  Target
	cfg roles.Config
	o   Options
	r   *Report
	out io.Writer
}

func (rn *runner) say(format string, args ...any) { fmt.Fprintf(rn.out, format+"\n", args...) }

func (rn *runner) phase(format string, args ...any) { rn.say("==> "+format, args...) }

func (rn *runner) progress(s string) { rn.say("%s", s) }

// throughput runs the raw and pipeline phases, interleaved when both run.
func (rn *runner) throughput(ctx context.Context, wantRaw, wantPipe bool) error {
	o, r := rn.o, rn.r
	ro := RawOptions{Sessions: o.RawSessions, PerSession: o.RawPerSession}
	po := PipelineOptions{Workers: o.Workers, Concurrency: o.WorkerConcurrency, Clients: o.Clients, Window: o.Window}
	warm := warmUp(o.Duration)
	if wantRaw {
		rn.phase("raw write limit: %d sessions × %d requests in flight, create+delete of small znodes", ro.Sessions, ro.PerSession)
	}
	if wantPipe {
		rn.phase("task pipeline: 1 master, %d workers (-c %d), %d clients × %d tasks in flight, zero-duration tasks",
			po.Workers, po.Concurrency, po.Clients, po.Window)
	}
	var raw *RawResult
	var pipe *PipelineResult
	switch {
	case wantRaw && wantPipe:
		rn.phase("interleaved: %v of each after a %v warm-up, in %d rounds", o.Duration, warm, o.Rounds)
		rr, pr, err := Throughput(ctx, rn.cfg, ro, po, warm, o.Duration, o.Rounds, rn.progress)
		if err != nil {
			return err
		}
		raw, pipe = &rr, &pr
	case wantRaw:
		rr, err := Raw(ctx, rn.cfg, ro, warm, o.Duration)
		if err != nil {
			return err
		}
		raw = &rr
	case wantPipe:
		pr, err := Pipeline(ctx, rn.cfg, po, warm, o.Duration)
		if err != nil {
			return err
		}
		pipe = &pr
	}
	if raw != nil {
		r.Raw, r.RawWritesPerS = raw, round1(raw.WritesPerS)
		rn.say("raw_writes_per_s = %.0f (%d writes in %v; the zxid counted %d txns)", raw.WritesPerS, raw.Writes,
			raw.Window.Round(time.Millisecond), raw.ZxidTxns)
	}
	if pipe != nil {
		r.Pipeline, r.TasksPerS, r.TxnsPerTask = pipe, round1(pipe.TasksPerS), round3(pipe.TxnsPerTask)
		rn.say("tasks_per_s = %.0f, txns_per_task = %.3f (%d txns for %d tasks); per task %.1f requests and %.1f replies+events; latency p50 %v p99 %v",
			pipe.TasksPerS, pipe.TxnsPerTask, pipe.Txns, pipe.AllTasks, pipe.RequestsPerTask, pipe.PacketsOutPerTask,
			pipe.LatencyP50.Round(time.Millisecond), pipe.LatencyP99.Round(time.Millisecond))
	}
	if raw != nil && pipe != nil && pipe.TasksPerS > 0 {
		r.RawWritesPerTask = round3(raw.WritesPerS / pipe.TasksPerS)
		rn.say("raw_writes_per_task = %.0f / %.0f = %.3f", raw.WritesPerS, pipe.TasksPerS, r.RawWritesPerTask)
	}
	return nil
}

// scaling times the master on 1k and 10k pre-queued tasks. 1k runs bracket
// the 10k run and their median counts, so that a change of the machine's
// load during the long 10k run does not decide the ratio alone.
func (rn *runner) scaling(ctx context.Context) error {
	const workers = 50
	r := rn.r
	var runs1k []ScalingResult
	for _, n := range []int{1000, 1000, 10000, 1000} {
		rn.phase("master scaling: %d pre-queued tasks, %d idle workers", n, workers)
		s, err := AssignScaling(ctx, rn.cfg, n, workers)
		if err != nil {
			return err
		}
		rn.say("%d tasks assigned in %v: %.1f µs per task; the first after %v, then %.1f µs per task", n,
			s.Took.Round(time.Millisecond), s.UsPerTask, s.FirstAfter.Round(time.Millisecond), s.LoopUsPerTask)
		if n == 1000 {
			runs1k = append(runs1k, s)
		} else {
			r.Scaling10k, r.AssignUsPerTask10k = &s, round1(s.UsPerTask)
			r.BacklogTakeover10kS = round3(s.Takeover.Seconds())
			rn.say("backlog_takeover_10k_s = %.3f (from the election after %v to the last assignment)", r.BacklogTakeover10kS,
				s.ElectedAfter.Round(time.Millisecond))
		}
	}
	for _, s := range runs1k {
		r.Scaling1kRuns = append(r.Scaling1kRuns, round1(s.UsPerTask))
	}
	slices.SortFunc(runs1k, func(a, b ScalingResult) int { return cmp.Compare(a.UsPerTask, b.UsPerTask) })
	med := runs1k[len(runs1k)/2]
	r.Scaling1k, r.AssignUsPerTask1k = &med, round1(med.UsPerTask)
	return nil
}

// failover measures master failover and worker reassignment on processes.
func (rn *runner) failover(ctx context.Context) error {
	r := rn.r
	if rn.tg.Cluster == nil {
		r.Skipped = append(r.Skipped, PhaseFailover+": needs an inventory to start role processes")
		return nil
	}
	rn.phase("failover: %d × SIGKILL and SIGTERM of the leading master, %d × SIGKILL of a worker (session timeout %v, tick %v)",
		rn.o.Repeats, rn.o.Repeats, rn.cfg.SessionTimeout, rn.tg.TickTime)
	f, err := Failover(ctx, rn.tg.Cluster, rn.cfg, rn.o.Repeats, rn.progress)
	if err != nil {
		return err
	}
	r.Failover = &f
	r.FailoverSigkillS, r.FailoverSigkillMax = f.SigKill.Median, f.SigKill.Max
	r.FailoverSigtermS, r.FailoverSigtermMax = f.SigTerm.Median, f.SigTerm.Max
	r.ReassignS, r.ReassignMax = f.Reassign.Median, f.Reassign.Max
	rn.say("kill request (agent round trip, inside every sample): median %v", f.KillCall.Round(time.Millisecond))
	return nil
}

// memory reads the peak RSS of a master process with 10k tasks.
func (rn *runner) memory(ctx context.Context) error {
	r := rn.r
	if rn.tg.Cluster == nil {
		r.Skipped = append(r.Skipped, PhaseMemory+": needs an inventory to start a master process")
		return nil
	}
	host := rn.tg.Cluster.Inv.Hosts[0].Name
	rn.phase("master memory: a master process on %s with 10000 tasks", host)
	m, err := MasterMemory(ctx, rn.tg.Cluster, rn.cfg, host, 10000, 50)
	if err != nil {
		return err
	}
	r.Memory, r.MasterRSSMB10k = &m, m.PeakMB
	rn.say("peak RSS (VmHWM) %.1f MiB, now %.1f MiB; assigned 10000 in %.2fs, moved them back in %.2fs",
		m.PeakMB, m.RSSMB, m.Assign, m.MoveBack)
	return nil
}

// warmUp is the raw phase's warm-up before its measured window.
func warmUp(d time.Duration) time.Duration { return min(max(d/5, 500*time.Millisecond), 2*time.Second) }

// checkIdle refuses an ensemble where roles run or tasks wait: the bench
// would measure them too, and it clears the task znodes when it ends.
func checkIdle(conn *zk.Conn) error {
	s, err := readApp(conn)
	if err != nil {
		return err
	}
	if !s.empty() {
		return fmt.Errorf("bench needs an idle ensemble but found %s: stop the roles and run `zkctl reset -y`", s)
	}
	return nil
}

// check fills in Checks from the figures measured.
func (r *Report) check() {
	r.Checks = nil
	add := func(fig string, v float64, target string, pass bool, note string) {
		r.Checks = append(r.Checks, Check{Figure: fig, Value: v, Target: target, Pass: pass, Note: note})
	}
	if r.RawWritesPerS > 0 {
		add("raw_writes_per_s", r.RawWritesPerS, "-", true, "the ceiling")
	}
	if r.TasksPerS > 0 {
		add("tasks_per_s", r.TasksPerS, "-", true, "")
		add("txns_per_task", r.TxnsPerTask, "<= 4", r.TxnsPerTask <= 4, "")
	}
	if r.RawWritesPerTask > 0 {
		add("raw_writes_per_task", r.RawWritesPerTask, "<= 2", r.RawWritesPerTask <= 2, "raw_writes_per_s / tasks_per_s")
	}
	if r.AssignUsPerTask1k > 0 {
		add("assign_us_per_task_1k", r.AssignUsPerTask1k, "-", true, fmt.Sprintf("median of %v", r.Scaling1kRuns))
	}
	if r.AssignUsPerTask10k > 0 {
		note := "from the master's start"
		if r.AssignUsPerTask1k > 0 {
			note += fmt.Sprintf("; %.2f × 1k", r.AssignUsPerTask10k/r.AssignUsPerTask1k)
		}
		add("assign_us_per_task_10k", r.AssignUsPerTask10k, "<= 100", r.AssignUsPerTask10k <= 100, note)
	}
	if r.BacklogTakeover10kS > 0 {
		add("backlog_takeover_10k_s", r.BacklogTakeover10kS, "<= 1", r.BacklogTakeover10kS <= 1, "election to the last assignment")
	}
	expiry := r.SessionTimeoutS + r.TickTimeS + 0.3
	if r.Failover != nil {
		add("failover_sigkill_s", r.FailoverSigkillS, fmt.Sprintf("<= %.1f (timeout + tick + 0.3)", expiry),
			r.FailoverSigkillS <= expiry, fmt.Sprintf("max %.3f", r.FailoverSigkillMax))
		add("failover_sigterm_s", r.FailoverSigtermS, "<= 0.3", r.FailoverSigtermS <= 0.3,
			fmt.Sprintf("max %.3f", r.FailoverSigtermMax))
		add("reassign_s", r.ReassignS, fmt.Sprintf("<= %.1f (timeout + tick + 0.3)", expiry),
			r.ReassignS <= expiry, fmt.Sprintf("max %.3f", r.ReassignMax))
	}
	if r.MasterRSSMB10k > 0 {
		add("master_rss_mb_10k", r.MasterRSSMB10k, "<= 64", r.MasterRSSMB10k <= 64, "VmHWM, MiB")
	}
}

// PrintTable writes the checks as a table: figure, value, target, verdict.
func (r *Report) PrintTable(w io.Writer) {
	fmt.Fprintf(w, "session timeout %v, tick %v\n%s\n", secs(r.SessionTimeoutS), secs(r.TickTimeS), r.Machine)
	rows := make([][]string, 0, len(r.Checks))
	for _, c := range r.Checks {
		verdict := "PASS"
		if !c.Pass {
			verdict = "FAIL"
		}
		if c.Target == "-" {
			verdict = "-"
		}
		rows = append(rows, []string{c.Figure, formatValue(c.Value), c.Target, verdict, c.Note})
	}
	controller.Table(w, []string{"FIGURE", "VALUE", "TARGET", "VERDICT", "NOTE"}, rows)
	for _, s := range r.Skipped {
		fmt.Fprintln(w, "skipped:", s)
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func formatValue(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// Machine describes where the bench ran.
type Machine struct {
	CPUs     int     `json:"cpus"`
	MemoryGB float64 `json:"memory_gib"`
	CPU      string  `json:"cpu"`
	OS       string  `json:"os"`
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15 minute load
	// averages when the run began and ended: other work on the machine.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

func (m Machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %.1f GiB; load average %s at the start, %s at the end", m.CPUs, m.CPU, m.MemoryGB, m.LoadStart, m.LoadEnd)
}

// ReadMachine reads the CPU count, the memory and the CPU model of this
// machine (Linux /proc; fields stay empty elsewhere).
func ReadMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, LoadStart: loadAvg()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb := node.ParseKB(string(data))["MemTotal"]; kb > 0 {
			m.MemoryGB = float64(int64(float64(kb)/1024/1024*10+0.5)) / 10
		}
	}
	return m
}

// loadAvg is the first three fields of /proc/loadavg, "" elsewhere.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
