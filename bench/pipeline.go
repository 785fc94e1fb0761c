package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/ops"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// PipelineOptions shape the task pipeline.
type PipelineOptions struct {
	Workers     int `json:"workers"`     // in-process workers
	Concurrency int `json:"concurrency"` // tasks each worker runs at once
	Clients     int `json:"clients"`     // in-process clients, one session each
	Window      int `json:"window"`      // tasks each client keeps in flight
}

// PipelineResult is the task system's throughput and its cost in ZooKeeper
// transactions.
type PipelineResult struct {
	TasksPerS   float64       `json:"tasks_per_s"`
	TxnsPerTask float64       `json:"txns_per_task"`
	Tasks       int64         `json:"tasks"`     // completed in the measured windows
	Window      time.Duration `json:"window_ns"` // measured windows, added up
	AllTasks    int64         `json:"all_tasks"` // submitted and completed, ramps and drains included
	Txns        int64         `json:"txns"`      // the leader's zxid counter over all_tasks
	// RequestsPerTask and PacketsOutPerTask are the client packets the
	// servers received (requests and pings) and sent (replies and watch
	// events) per task, all roles together (4lw mntr): the read and watch
	// traffic that shares the machine with the writes.
	RequestsPerTask   float64         `json:"requests_per_task"`
	PacketsOutPerTask float64         `json:"packets_out_per_task"`
	LatencyP50        time.Duration   `json:"latency_p50_ns"`
	LatencyP99        time.Duration   `json:"latency_p99_ns"`
	Options           PipelineOptions `json:"options"`

	lat      *latencies
	received int64
	sent     int64
}

// pipeLoad is one master, o.Workers workers and o.Clients clients in this
// process, each with its own session, as the roles package runs them.
type pipeLoad struct {
	cfg     roles.Config
	o       PipelineOptions
	conn    *zk.Conn // the bench's own session
	clients []*zk.Conn
	seq     []atomic.Int64 // per client: last task number
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// startPipeline starts the roles and waits until the master leads and every
// worker is registered. The ensemble must hold no other roles or tasks.
func startPipeline(ctx context.Context, cfg roles.Config, o PipelineOptions) (*pipeLoad, error) {
	conn, err := roles.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	rctx, stop := context.WithCancel(ctx)
	cfg.Logger = quiet(cfg.Logger)
	p := &pipeLoad{cfg: cfg, o: o, conn: conn, stop: stop, seq: make([]atomic.Int64, o.Clients)}
	run := func(fn func() error) {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); _ = fn() }()
	}
	mcfg := cfg
	mcfg.ID = "bench-master"
	run(func() error { return roles.RunMaster(rctx, mcfg) })
	for i := range o.Workers {
		wcfg := cfg
		wcfg.ID = fmt.Sprintf("bench-w%02d", i)
		run(func() error { return roles.RunWorker(rctx, wcfg, o.Concurrency) })
	}
	for i := range o.Clients {
		ccfg := cfg
		ccfg.ID = fmt.Sprintf("bench-c%d", i)
		c, err := roles.Dial(ctx, ccfg)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("pipeline: client %d: %w", i, err)
		}
		p.clients = append(p.clients, c)
	}
	err = ops.Poll(ctx, 20*time.Millisecond, 30*time.Second, "master and workers", func() (bool, error) {
		s, err := readApp(conn)
		return s.master && s.live == o.Workers && s.workers == o.Workers, err
	})
	if err != nil {
		p.close()
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return p, nil
}

// close stops the roles and removes what they left.
func (p *pipeLoad) close() {
	closeAll(p.clients)
	p.stop()
	p.wg.Wait()
	_ = wipeApp(p.conn)
	p.conn.Close()
}

// run lets every client keep o.Window zero-duration tasks in flight for
// ramp + d, then stops submitting and waits for the tasks in flight. It
// counts the tasks completed in the last d (the measured window) and, from
// the leader's zxid and the servers' packet counters read while the
// pipeline is idle before and after, the cost of every task of the run.
func (p *pipeLoad) run(ctx context.Context, ramp, d time.Duration, res *PipelineResult) error {
	z0, err := settledZxid(ctx, p.cfg)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	pk0 := serverPackets(p.cfg)
	acl := roles.ACL(p.cfg.Auth)
	if res.lat == nil {
		res.lat = newLatencies()
	}
	var (
		done    atomic.Int64
		stop    atomic.Bool
		errOnce sync.Once
		runErr  error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { runErr = err })
		stop.Store(true)
	}
	for c, cc := range p.clients {
		for range p.o.Window {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					name := protocol.TaskName(fmt.Sprintf("bench-c%d", c), int(p.seq[c].Add(1)))
					tasks, err := roles.Submit(ctx, cc, acl, []string{name}, "0")
					if err != nil {
						fail(err)
						return
					}
					err = roles.Wait(ctx, cc, tasks, func(r roles.Result) {
						if ok, why := protocol.ParseResult(r.Value); !ok {
							fail(fmt.Errorf("task %s: %s", r.Task, why))
						}
						res.lat.add(r.Latency)
					})
					if err != nil {
						fail(err)
						return
					}
					done.Add(1)
				}
			}()
		}
	}
	err = retry.Sleep(ctx, ramp)
	if err == nil {
		n0, t0 := done.Load(), time.Now()
		err = retry.Sleep(ctx, d)
		res.Tasks += done.Load() - n0
		res.Window += time.Since(t0)
	}
	stop.Store(true)
	wg.Wait()
	if err == nil {
		err = runErr
	}
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	z1, err := settledZxid(ctx, p.cfg)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	txns, err := txnsBetween(z0, z1)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	pk1 := serverPackets(p.cfg)
	res.AllTasks += done.Load()
	res.Txns += txns
	res.received += pk1.received - pk0.received
	res.sent += pk1.sent - pk0.sent
	res.finish()
	return nil
}

// finish computes the figures from the counts.
func (r *PipelineResult) finish() {
	if r.AllTasks == 0 || r.Window <= 0 {
		return
	}
	r.TasksPerS = float64(r.Tasks) / r.Window.Seconds()
	r.TxnsPerTask = float64(r.Txns) / float64(r.AllTasks)
	r.RequestsPerTask = round3(float64(r.received) / float64(r.AllTasks))
	r.PacketsOutPerTask = round3(float64(r.sent) / float64(r.AllTasks))
	r.LatencyP50, r.LatencyP99 = r.lat.quantile(0.5), r.lat.quantile(0.99)
}

// pipelineRamp is how long the pipeline runs before its measured window:
// enough for the clients' windows to fill.
const pipelineRamp = 500 * time.Millisecond

// Pipeline measures the task pipeline alone: a warm-up of warm, then d.
func Pipeline(ctx context.Context, cfg roles.Config, o PipelineOptions, warm, d time.Duration) (PipelineResult, error) {
	res := PipelineResult{Options: o}
	p, err := startPipeline(ctx, cfg, o)
	if err != nil {
		return res, err
	}
	defer p.close()
	if warm > 0 {
		var discard PipelineResult
		if err := p.run(ctx, 0, warm, &discard); err != nil {
			return res, err
		}
	}
	if err := p.run(ctx, pipelineRamp, d, &res); err != nil {
		return res, err
	}
	if res.AllTasks == 0 {
		return res, errors.New("pipeline: no task completed")
	}
	return res, nil
}

// Throughput measures the raw limit and the task pipeline interleaved:
// rounds × (raw for d/rounds, pipeline for d/rounds), after a warm-up of
// each, so that a machine whose load changes over the run (other jobs,
// JIT, GC) weighs on both alike and their ratio stays stable.
func Throughput(ctx context.Context, cfg roles.Config, ro RawOptions, po PipelineOptions, warm, d time.Duration, rounds int,
	progress func(string)) (RawResult, PipelineResult, error) {
	raw, pipe := RawResult{Options: ro}, PipelineResult{Options: po}
	rl, err := startRaw(ctx, cfg, ro)
	if err != nil {
		return raw, pipe, err
	}
	defer rl.close()
	pl, err := startPipeline(ctx, cfg, po)
	if err != nil {
		return raw, pipe, err
	}
	defer pl.close()
	if _, _, _, _, err := rl.run(ctx, 0, warm); err != nil {
		return raw, pipe, err
	}
	var discard PipelineResult
	if err := pl.run(ctx, 0, warm, &discard); err != nil {
		return raw, pipe, err
	}
	slice := d / time.Duration(max(rounds, 1))
	for i := range max(rounds, 1) {
		w0, t0 := raw.Writes, raw.Window
		if err := raw.add(rl.run(ctx, 100*time.Millisecond, slice)); err != nil {
			return raw, pipe, err
		}
		n0, p0 := pipe.Tasks, pipe.Window
		if err := pl.run(ctx, pipelineRamp, slice, &pipe); err != nil {
			return raw, pipe, err
		}
		progress(fmt.Sprintf("round %d/%d: raw %.0f writes/s, pipeline %.0f tasks/s", i+1, max(rounds, 1),
			float64(raw.Writes-w0)/(raw.Window-t0).Seconds(), float64(pipe.Tasks-n0)/(pipe.Window-p0).Seconds()))
	}
	if pipe.AllTasks == 0 {
		return raw, pipe, errors.New("pipeline: no task completed")
	}
	return raw, pipe, nil
}
