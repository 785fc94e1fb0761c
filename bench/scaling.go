package bench

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"zkctl/ops"
	"zkctl/roles"
)

// ScalingResult is how long one master took to assign pre-queued tasks to
// idle workers.
type ScalingResult struct {
	Tasks      int           `json:"tasks"`
	Workers    int           `json:"workers"`
	Took       time.Duration `json:"took_ns"`        // from starting the master to the last assignment seen
	UsPerTask  float64       `json:"us_per_task"`    // Took / Tasks
	FirstAfter time.Duration `json:"first_after_ns"` // from starting the master to the first assignment seen
	// LoopUsPerTask is (Took - FirstAfter) / (Tasks - 1): the assignment
	// loop alone, without the master's start (session, election, resync).
	LoopUsPerTask float64 `json:"loop_us_per_task"`
	// ElectedAfter is from starting the master to its election (/master
	// written); Takeover from the election to the last assignment.
	ElectedAfter time.Duration `json:"elected_after_ns"`
	Takeover     time.Duration `json:"takeover_ns"`
	// FromZooKeeper is set when the master's log did not tell the time of
	// the last assignment and Took comes from polling ZooKeeper (±250 ms).
	FromZooKeeper bool `json:"from_zookeeper,omitempty"`
}

// AssignScaling queues n tasks, registers workers fake workers (znodes that
// run nothing, kept alive by a session of the bench), starts a master in
// this process and times it until every task is assigned (the children of
// /workers/* add up to n). It leaves the ensemble empty again.
func AssignScaling(ctx context.Context, cfg roles.Config, n, workers int) (ScalingResult, error) {
	res := ScalingResult{Tasks: n, Workers: workers}
	conn, err := roles.Dial(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("scaling: %w", err)
	}
	defer conn.Close()
	defer func() { _ = wipeApp(conn) }()
	acl := roles.ACL(cfg.Auth)
	if err := queueTasks(conn, acl, "bench-q", n, "0"); err != nil {
		return res, fmt.Errorf("scaling: %w", err)
	}
	alive, err := roles.Dial(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("scaling: %w", err)
	}
	defer alive.Close()
	if _, err := registerFakeWorkers(conn, alive, acl, "bench-idle-", workers); err != nil {
		return res, fmt.Errorf("scaling: %w", err)
	}

	mctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	// The master's log says when each assignment succeeded ("write"=
	// "assign", one line per write): that times the last one without
	// loading ZooKeeper with polls. ZooKeeper's own count, read every
	// 250 ms, is the ground truth and the fallback.
	counter := newWriteCounter("assign", n)
	mcfg := cfg
	mcfg.ID = "bench-master"
	mcfg.Logger = slog.New(counter)
	wg.Add(1)
	start := time.Now()
	go func() { defer wg.Done(); _ = roles.RunMaster(mctx, mcfg) }()
	timeout := 30*time.Second + time.Duration(n)*time.Millisecond
	var zkSeen time.Time
	lastZK := start
	err = ops.Poll(ctx, 5*time.Millisecond, timeout, fmt.Sprintf("%d assignments", n), func() (bool, error) {
		_, logged := counter.reached()
		if !logged && time.Since(lastZK) < 250*time.Millisecond {
			return false, nil
		}
		lastZK = time.Now()
		c, err := countAssigned(conn)
		if err == nil && c.assigned >= n {
			zkSeen = time.Now()
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return res, fmt.Errorf("scaling: %w", err)
	}
	if last, ok := counter.reached(); ok {
		res.Took = last.Sub(start)
	} else {
		res.Took, res.FromZooKeeper = zkSeen.Sub(start), true
	}
	if first := counter.first(); !first.IsZero() {
		res.FirstAfter = first.Sub(start)
	}
	if el := counter.elected(); !el.IsZero() {
		res.ElectedAfter = el.Sub(start)
		res.Takeover = res.Took - res.ElectedAfter
	}
	res.UsPerTask = float64(res.Took.Microseconds()) / float64(n)
	if res.FirstAfter > 0 && n > 1 {
		res.LoopUsPerTask = round1(float64((res.Took - res.FirstAfter).Microseconds()) / float64(n-1))
	}
	stop()
	wg.Wait()
	return res, nil
}
