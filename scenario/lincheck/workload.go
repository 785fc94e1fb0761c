package lincheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/zksession"
)

// Defaults of Config.
const (
	DefaultOps            = 400
	DefaultDuration       = 30 * time.Second
	DefaultOpTimeout      = 3 * time.Second
	DefaultSessionTimeout = 4 * time.Second
	DefaultPath           = "/zkctl-lincheck"
)

// initialData is the znode's data as the workload creates it; written data
// are "c<client>-<n>", so no write produces it.
const initialData = "init"

// Config is a workload. Zero fields take the defaults.
type Config struct {
	// Servers are client endpoints (host:port); client i connects to
	// Servers[i % len(Servers)] alone, so clients spread over the servers.
	Servers []string
	// Clients is the number of clients (default: two per server, at least 3).
	Clients int
	// Ops bounds the number of operations; Duration bounds the run. The
	// operations are paced to spread over Duration.
	Ops      int
	Duration time.Duration
	// Path is the znode, (re)created at the start (default DefaultPath);
	// its parent is created when missing.
	Path string
	// OpTimeout: an operation not answered by then is indeterminate, and
	// its client reconnects with a new session.
	OpTimeout      time.Duration
	SessionTimeout time.Duration
	// Seed seeds the random choices (0: the time).
	Seed   int64
	Logger *slog.Logger
	// Dialer reaches the servers (roles.Config.Dialer); nil = directly.
	Dialer zk.Dialer
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Servers) == 0 {
		return c, errors.New("lincheck: no servers")
	}
	if c.Clients <= 0 {
		c.Clients = max(2*len(c.Servers), 3)
	}
	if c.Ops <= 0 {
		c.Ops = DefaultOps
	}
	if c.Duration <= 0 {
		c.Duration = DefaultDuration
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if !strings.HasPrefix(c.Path, "/") || c.Path == "/" || strings.HasSuffix(c.Path, "/") {
		return c, fmt.Errorf("lincheck: path %q: want an absolute znode path other than /", c.Path)
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = DefaultOpTimeout
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Run creates the znode, runs the workload while nem (nil: none) injects
// faults, and returns the recorded history. The workload stops when Ops
// operations were issued, Duration passed or ctx ended; then nem's context
// ends and Run waits for it to heal and return. An error means no history
// could be recorded (no server answered within Duration to create the
// znode).
//
// A client issues an operation only once it has a session: an operation
// sent into a broken connection can only end indeterminate and proves
// nothing, while each one makes the check costlier. So while a client's
// server is down or cut off, that client waits; an operation it had in
// flight when the fault struck is the one that ends indeterminate.
func Run(ctx context.Context, cfg Config, nem Nemesis) (*History, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &History{Path: cfg.Path, Initial: Value{Data: initialData}}
	if err := setup(ctx, cfg, &h.Initial); err != nil {
		return nil, err
	}
	rec := &recorder{}
	h.Start = time.Now()
	runCtx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	nemDone := startNemesis(runCtx, nem, h, rec)
	runClients(runCtx, cfg, h.Start, rec)
	h.Elapsed = time.Since(h.Start)
	stop()
	<-nemDone
	h.Ops, h.Faults = rec.ops, rec.faults
	cfg.Logger.Info("lincheck workload done", "ops", len(h.Ops), "faults", len(h.Faults), "elapsed", h.Elapsed)
	return h, nil
}

// recorder collects operations and faults from every goroutine.
type recorder struct {
	mu     sync.Mutex
	ops    []Op
	faults []Fault
}

func (r *recorder) op(op Op) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

func (r *recorder) fault(f Fault) {
	r.mu.Lock()
	r.faults = append(r.faults, f)
	r.mu.Unlock()
}

func startNemesis(ctx context.Context, nem Nemesis, h *History, rec *recorder) <-chan struct{} {
	done := make(chan struct{})
	if nem == nil {
		close(done)
		return done
	}
	h.Nemesis = nem.Name()
	go func() {
		defer close(done) // also when Run exits its goroutine (a test's FailNow)
		nem.Run(ctx, rec.fault)
	}()
	return done
}

func runClients(ctx context.Context, cfg Config, start time.Time, rec *recorder) {
	var budget atomic.Int64
	budget.Store(int64(cfg.Ops))
	// each client waits on average pace between operations, so that Ops
	// spread over Duration
	pace := cfg.Duration * time.Duration(cfg.Clients) / time.Duration(cfg.Ops)
	var wg sync.WaitGroup
	for i := 0; i < cfg.Clients; i++ {
		c := &client{id: i, server: cfg.Servers[i%len(cfg.Servers)], cfg: cfg, start: start,
			rng: rand.New(rand.NewSource(cfg.Seed + int64(i)))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.loop(ctx, &budget, pace, rec)
		}()
	}
	wg.Wait()
}

// setup (re)creates the znode through any server and records its state.
func setup(ctx context.Context, cfg Config, initial *Value) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	conn, err := connect(ctx, cfg, cfg.Servers)
	if err != nil {
		return fmt.Errorf("lincheck: create %s: %w", cfg.Path, err)
	}
	defer conn.Close()
	if err := createParents(conn, cfg.Path); err != nil {
		return fmt.Errorf("lincheck: create parents of %s: %w", cfg.Path, err)
	}
	if err := conn.Delete(cfg.Path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("lincheck: delete old %s: %w", cfg.Path, err)
	}
	if _, err := conn.Create(cfg.Path, []byte(initialData), 0, zk.WorldACL(zk.PermAll)); err != nil {
		return fmt.Errorf("lincheck: create %s: %w", cfg.Path, err)
	}
	data, st, err := conn.Get(cfg.Path)
	if err != nil {
		return fmt.Errorf("lincheck: read new %s: %w", cfg.Path, err)
	}
	*initial = Value{Data: string(data), Version: st.Version}
	return nil
}

func createParents(conn *zk.Conn, path string) error {
	parts := strings.Split(path, "/")
	for i := 2; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		if _, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return err
		}
	}
	return nil
}

// connect opens a session with servers and waits until it is established
// or ctx ends.
func connect(ctx context.Context, cfg Config, servers []string) (*zk.Conn, error) {
	conn, _, err := zk.Connect(servers, cfg.SessionTimeout, zk.WithLogger(zksession.Logger{Log: cfg.Logger}), zksession.Through(cfg.Dialer))
	if err != nil {
		return nil, fmt.Errorf("connect to %v: %w", servers, err)
	}
	if !waitSession(ctx, conn, 0) {
		conn.Close()
		return nil, fmt.Errorf("connect to %v: %w", servers, ctx.Err())
	}
	return conn, nil
}

// waitSession waits until conn has a session, for at most d (0: no limit)
// and until ctx ends; it tells whether conn has one.
func waitSession(ctx context.Context, conn *zk.Conn, d time.Duration) bool {
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for conn.State() != zk.StateHasSession {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}
