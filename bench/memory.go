package bench

import (
	"context"
	"fmt"
	"time"

	"zkctl/controller"
	"zkctl/ops"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// MemoryResult is the memory of a master process that handled n tasks.
type MemoryResult struct {
	Tasks    int     `json:"tasks"`
	Host     string  `json:"host"`
	PID      int     `json:"pid"`
	PeakMB   float64 `json:"peak_mb"`     // VmHWM, MiB
	RSSMB    float64 `json:"rss_mb"`      // VmRSS at the end, MiB
	Assign   float64 `json:"assign_s"`    // idle workers appear → all n assigned (real process, with logging)
	MoveBack float64 `json:"move_back_s"` // their session closes → all n pending again
}

// MasterMemory starts a real master process on host with n pending tasks,
// lets it assign them all to `workers` fake workers, kills those workers
// (their session closes) so that it moves all n back to pending, and then
// reads its peak resident size (VmHWM of /proc/PID/status, over the host's
// transport).
func MasterMemory(ctx context.Context, c *controller.Cluster, cfg roles.Config, host string, n, workers int) (MemoryResult, error) {
	res := MemoryResult{Tasks: n, Host: host}
	conn, err := roles.Dial(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	defer conn.Close()
	j := ops.NewJournal(c)
	defer func() {
		j.StopAll(context.WithoutCancel(ctx))
		_ = wipeApp(conn)
	}()
	acl := roles.ACL(cfg.Auth)
	if err := queueTasks(conn, acl, "bench-m", n, "0"); err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	p, err := startOne(ctx, j, "master", host)
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	res.PID = p.PID
	wait := 60*time.Second + time.Duration(n)*time.Millisecond
	err = ops.Poll(ctx, 20*time.Millisecond, wait, "the master's /master",
		ops.MasterIs(conn, func(m protocol.MasterInfo) bool { return m.PID == p.PID }))
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}

	alive, err := roles.Dial(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	defer alive.Close()
	start := time.Now()
	if _, err := registerFakeWorkers(conn, alive, acl, "bench-mem-", workers); err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	err = ops.Poll(ctx, 50*time.Millisecond, wait, fmt.Sprintf("%d assignments", n), func() (bool, error) {
		c, err := countAssigned(conn)
		return c.assigned >= n, err
	})
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	res.Assign = round3(time.Since(start).Seconds())
	start = time.Now()
	alive.Close()
	err = ops.Poll(ctx, 50*time.Millisecond, wait, fmt.Sprintf("%d tasks moved back", n), func() (bool, error) {
		c, err := countAssigned(conn)
		return c.workers == 0 && c.assigned == 0, err
	})
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	res.MoveBack = round3(time.Since(start).Seconds())
	hs, err := c.Hosts(host)
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	m, err := c.MemoryOf(ctx, hs[0], p.Name)
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	res.PeakMB = round3(float64(m.PeakKB) / 1024)
	res.RSSMB = round3(float64(m.RSSKB) / 1024)
	return res, nil
}
