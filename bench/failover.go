package bench

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/controller"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// FailoverResult holds the failover and reassignment latencies measured on
// real role processes.
type FailoverResult struct {
	SigKill  Spread `json:"sigkill"`  // leader master SIGKILL → a new /master
	SigTerm  Spread `json:"sigterm"`  // leader master SIGTERM → a new /master
	Reassign Spread `json:"reassign"` // worker SIGKILL → its tasks assigned to another worker
	// KillCall is the median time of the kill request itself (the
	// controller's agent round trip), which every sample includes: the
	// clock starts before the request, since the exact moment the signal
	// lands is not known to the controller.
	KillCall time.Duration `json:"kill_call_ns"`
}

// Failover measures, reps times each, on processes that the cluster starts
// on its hosts: SIGKILL then SIGTERM of the leading master (a standby on
// another host takes over), then SIGKILL of a worker holding tasks (the
// master moves them to the surviving worker). progress reports each sample.
func Failover(ctx context.Context, c *controller.Cluster, cfg roles.Config, reps int, progress func(string)) (FailoverResult, error) {
	var res FailoverResult
	hosts := c.Inv.HostNames()
	conn, err := roles.Dial(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("failover: %w", err)
	}
	defer conn.Close()
	j := ops.NewJournal(c)
	defer func() {
		j.StopAll(context.WithoutCancel(ctx))
		_ = wipeApp(conn)
	}()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch := watchMaster(wctx, conn)

	wait := 10*cfg.SessionTimeout + 10*time.Second
	var calls []time.Duration
	// Two candidates on different hosts: the first leads.
	for _, h := range []string{hosts[0], hosts[1%len(hosts)]} {
		if _, err := startOne(ctx, j, "master", h); err != nil {
			return res, fmt.Errorf("failover: %w", err)
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		var samples []time.Duration
		for r := range reps {
			if err := ops.Poll(ctx, 10*time.Millisecond, wait, "2 election candidates", ops.Candidates(conn, 2)); err != nil {
				return res, fmt.Errorf("failover: %w", err)
			}
			var cur masterObs
			err := ops.Poll(ctx, 10*time.Millisecond, wait, "a master", func() (bool, error) {
				cur = watch.current()
				return cur.info != nil, watch.failed()
			})
			if err != nil {
				return res, fmt.Errorf("failover: %w", err)
			}
			p, ok := j.ByPID(cur.info.PID)
			if !ok {
				return res, fmt.Errorf("failover: /master is pid %d on %s, not a master the bench started", cur.info.PID, cur.info.Host)
			}
			from := watch.mark()
			t0 := time.Now()
			if err := signalOne(ctx, j, p, sig); err != nil {
				return res, fmt.Errorf("failover: %w", err)
			}
			call := time.Since(t0)
			calls = append(calls, call)
			next, err := watch.waitFrom(ctx, from, wait, "a new master", func(o masterObs) bool {
				return o.info != nil && o.info.PID != p.PID
			})
			if err != nil {
				return res, fmt.Errorf("failover after SIG%s: %w", node.SignalName(sig), err)
			}
			d := next.at.Sub(t0)
			samples = append(samples, d)
			progress(fmt.Sprintf("SIG%s master %d/%d: %s → %s in %v (kill request %v)", node.SignalName(sig), r+1, reps,
				p.ID, next.info.ID, d.Round(time.Millisecond), call.Round(time.Millisecond)))
			if _, err := startOne(ctx, j, "master", p.Host); err != nil {
				return res, fmt.Errorf("failover: %w", err)
			}
		}
		if sig == syscall.SIGKILL {
			res.SigKill = spread(samples)
		} else {
			res.SigTerm = spread(samples)
		}
	}

	samples, err := reassign(ctx, conn, cfg, j, hosts, reps, wait, progress, &calls)
	if err != nil {
		return res, err
	}
	res.Reassign = spread(samples)
	res.KillCall = quantile(calls, 0.5)
	return res, nil
}

// reassign measures worker SIGKILL → its tasks assigned elsewhere. A
// survivor worker stays; each repetition starts a victim, gives it tasks
// (two long tasks: the least-loaded victim gets at least one) and kills it.
func reassign(ctx context.Context, conn *zk.Conn, cfg roles.Config, j *ops.Journal, hosts []string, reps int,
	wait time.Duration, progress func(string), calls *[]time.Duration) ([]time.Duration, error) {
	acl := roles.ACL(cfg.Auth)
	survivor, err := startOne(ctx, j, "worker", hosts[len(hosts)-1])
	if err != nil {
		return nil, fmt.Errorf("reassign: %w", err)
	}
	if err := ops.Poll(ctx, 10*time.Millisecond, wait, "worker "+survivor.ID, ops.WorkerAlive(conn, survivor.ID)); err != nil {
		return nil, fmt.Errorf("reassign: %w", err)
	}
	var samples []time.Duration
	for r := range reps {
		victim, err := startOne(ctx, j, "worker", hosts[r%len(hosts)])
		if err != nil {
			return nil, fmt.Errorf("reassign: %w", err)
		}
		if err := ops.Poll(ctx, 10*time.Millisecond, wait, "worker "+victim.ID, ops.WorkerAlive(conn, victim.ID)); err != nil {
			return nil, fmt.Errorf("reassign: %w", err)
		}
		names := []string{fmt.Sprintf("bench-fo%d-0", r), fmt.Sprintf("bench-fo%d-1", r)}
		if _, err := roles.Submit(ctx, conn, acl, names, protocol.FormatPayload(protocol.MaxTaskSeconds*time.Second)); err != nil {
			return nil, fmt.Errorf("reassign: %w", err)
		}
		var mine []string
		err = ops.Poll(ctx, 10*time.Millisecond, wait, "the tasks to be assigned", func() (bool, error) {
			mine = mine[:0]
			for _, t := range names {
				data, _, err := conn.Get(protocol.Task(t))
				if err != nil || len(data) == 0 {
					return false, err
				}
				if string(data) == victim.ID {
					mine = append(mine, t)
				}
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("reassign: %w", err)
		}
		if len(mine) == 0 {
			return nil, fmt.Errorf("reassign: the master gave worker %s none of %v", victim.ID, names)
		}
		t0 := time.Now()
		if err := signalOne(ctx, j, victim, syscall.SIGKILL); err != nil {
			return nil, fmt.Errorf("reassign: %w", err)
		}
		call := time.Since(t0)
		*calls = append(*calls, call)
		var to []string
		err = ops.Poll(ctx, 5*time.Millisecond, wait, "the tasks of the killed worker to move", func() (bool, error) {
			to = to[:0]
			for _, t := range mine {
				data, _, err := conn.Get(protocol.Task(t))
				if err != nil {
					return false, err
				}
				if len(data) == 0 || string(data) == victim.ID {
					return false, nil
				}
				to = append(to, string(data))
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("reassign: %w", err)
		}
		d := time.Since(t0)
		samples = append(samples, d)
		slices.Sort(to)
		progress(fmt.Sprintf("SIGKILL worker %d/%d: %d tasks of %s → %v in %v (kill request %v)", r+1, reps, len(mine), victim.ID,
			slices.Compact(to), d.Round(time.Millisecond), call.Round(time.Millisecond)))
	}
	return samples, nil
}
