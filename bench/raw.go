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
	"zkctl/roles"
)

// rawRoot is the parent of the raw-limit phase's znodes; it exists only
// while the phase runs.
const rawRoot = "/zkctl-bench"

// RawOptions shape the raw-limit load.
type RawOptions struct {
	Sessions   int `json:"sessions"`    // ZooKeeper sessions
	PerSession int `json:"per_session"` // goroutines per session, one request each in flight
}

// RawResult is the ensemble's write ceiling: many sessions, each with many
// requests in flight, creating and deleting small znodes.
type RawResult struct {
	WritesPerS float64       `json:"writes_per_s"`
	Writes     int64         `json:"writes"`    // creates + deletes in the measured windows
	Window     time.Duration `json:"window_ns"` // measured windows, added up
	// ZxidTxns is the leader's zxid counter over the measured windows: it
	// must match Writes (one transaction per create or delete).
	ZxidTxns int64      `json:"zxid_txns"`
	Options  RawOptions `json:"options"`
}

// rawLoad is the raw-limit load generator: o.Sessions sessions, each with
// o.PerSession goroutines that loop create + delete of their own znode
// under /zkctl-bench while it runs.
type rawLoad struct {
	cfg   roles.Config
	o     RawOptions
	setup *zk.Conn
	conns []*zk.Conn
}

func startRaw(ctx context.Context, cfg roles.Config, o RawOptions) (*rawLoad, error) {
	setup, err := roles.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("raw: %w", err)
	}
	l := &rawLoad{cfg: cfg, o: o, setup: setup}
	if _, err := setup.Create(rawRoot, nil, 0, roles.ACL(cfg.Auth)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		setup.Close()
		return nil, fmt.Errorf("raw: create %s: %w", rawRoot, err)
	}
	for i := range o.Sessions {
		c := cfg
		c.ID = fmt.Sprintf("bench-raw-%d", i)
		conn, err := roles.Dial(ctx, c)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("raw: session %d: %w", i, err)
		}
		l.conns = append(l.conns, conn)
	}
	return l, nil
}

// close ends the sessions and removes /zkctl-bench.
func (l *rawLoad) close() {
	closeAll(l.conns)
	removeTree(l.setup, rawRoot)
	l.setup.Close()
}

// run loads the ensemble for ramp + d and returns the writes done in the
// last d (the measured window) and its exact length, and the leader's zxid
// at its start and end (zero when srvr did not answer).
func (l *rawLoad) run(ctx context.Context, ramp, d time.Duration) (writes int64, window time.Duration, z0, z1 zxid, err error) {
	var (
		count   atomic.Int64
		stop    atomic.Bool
		errOnce sync.Once
		runErr  error
		wg      sync.WaitGroup
	)
	acl := roles.ACL(l.cfg.Auth)
	data := []byte("x")
	for s, conn := range l.conns {
		for g := range l.o.PerSession {
			p := fmt.Sprintf("%s/s%d-g%d", rawRoot, s, g)
			wg.Add(1)
			go func() {
				defer wg.Done()
				fail := func(err error) {
					errOnce.Do(func() { runErr = fmt.Errorf("raw: %s: %w", p, err) })
					stop.Store(true)
				}
				// A lost connection is waited out (the same call again
				// every 50 ms while the load runs); a create or delete
				// that finds the work done by a lost try goes on.
				waitOut := retry.Policy{Delay: 50 * time.Millisecond,
					Retryable: func(err error) bool { return roles.IsConnErr(err) && !stop.Load() }}
				for !stop.Load() {
					err := waitOut.Do(ctx, func(int) error { _, err := conn.Create(p, data, 0, acl); return err })
					switch {
					case err == nil:
						count.Add(1)
					case stop.Load() || ctx.Err() != nil:
						return
					case !errors.Is(err, zk.ErrNodeExists):
						fail(err)
						return
					}
					err = waitOut.Do(ctx, func(int) error { return conn.Delete(p, -1) })
					switch {
					case err == nil:
						count.Add(1)
					case stop.Load() || ctx.Err() != nil:
						return
					case !errors.Is(err, zk.ErrNoNode):
						fail(err)
						return
					}
				}
			}()
		}
	}
	err = retry.Sleep(ctx, ramp)
	if err == nil {
		z0, _ = leaderZxid(l.cfg)
		w0, t0 := count.Load(), time.Now()
		err = retry.Sleep(ctx, d)
		writes, window = count.Load()-w0, time.Since(t0)
		z1, _ = leaderZxid(l.cfg)
	}
	stop.Store(true)
	wg.Wait()
	if err == nil {
		err = runErr
	}
	return writes, window, z0, z1, err
}

// Raw measures the raw write limit alone for d, after a warm-up of warm.
func Raw(ctx context.Context, cfg roles.Config, o RawOptions, warm, d time.Duration) (RawResult, error) {
	res := RawResult{Options: o}
	l, err := startRaw(ctx, cfg, o)
	if err != nil {
		return res, err
	}
	defer l.close()
	if _, _, _, _, err := l.run(ctx, 0, warm); err != nil {
		return res, err
	}
	if err := res.add(l.run(ctx, 100*time.Millisecond, d)); err != nil {
		return res, err
	}
	return res, nil
}

// add accounts for one measured window.
func (r *RawResult) add(writes int64, window time.Duration, z0, z1 zxid, err error) error {
	if err != nil {
		return err
	}
	r.Writes += writes
	r.Window += window
	r.WritesPerS = float64(r.Writes) / r.Window.Seconds()
	if n, err := txnsBetween(z0, z1); err == nil && z0 != 0 && z1 != 0 {
		r.ZxidTxns += n
	}
	return nil
}

func closeAll(conns []*zk.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// removeTree deletes p and its children, ignoring what is already gone.
func removeTree(conn *zk.Conn, p string) {
	kids, _, err := conn.Children(p)
	if err != nil {
		return
	}
	var ops []any
	for _, k := range kids {
		ops = append(ops, &zk.DeleteRequest{Path: p + "/" + k, Version: -1})
	}
	_ = multiBatches(conn, ops, 4, zk.ErrNoNode)
	_ = conn.Delete(p, -1)
}
