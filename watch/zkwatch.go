package watch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/roles/protocol"
	"zkctl/zksession"
)

// relistGap is the shortest time between two listings of a folder that
// may be large (/tasks, /results, a worker's assignments): a watch that
// fires during a burst of changes is answered by one listing of them all,
// so a folder of 10,000 tasks is not listed per task. The small znodes
// (/master, /election, the workers) are read again at once.
const relistGap = 200 * time.Millisecond

// retryGap is the wait before a read that failed (no connection, no
// quorum) is tried again.
const retryGap = 500 * time.Millisecond

// zkWatcher follows the protocol's znodes with watches on one session.
// The client library keeps the session: it reconnects by itself, moves to
// another server when one goes, re-arms the watches on the new
// connection, and opens a new session when the old one expired; the
// watches of an expired session end with EventNotWatching, and the loops
// below read again.
type zkWatcher struct {
	conn *zk.Conn
	emit func(Event)
}

// watchZooKeeper follows the znodes until ctx ends.
func watchZooKeeper(ctx context.Context, cfg SessionConfig, emit func(Event)) {
	var cp atomic.Pointer[zk.Conn]
	onEvent := func(ev zk.Event) {
		if ev.Type != zk.EventSession {
			return
		}
		if st, ok := sessionStates[ev.State]; ok {
			var id int64
			if c := cp.Load(); c != nil && st == SessionConnected {
				id = c.SessionID()
			}
			emit(SessionChanged{At: time.Now(), State: st, Server: ev.Server, ID: id})
		}
	}
	conn, _, err := zk.Connect(cfg.Servers, cfg.Timeout, zk.WithEventCallback(onEvent),
		zk.WithLogger(quiet{}), zksession.Through(cfg.Dialer))
	if err != nil { // only a malformed server list
		emit(WatchFailed{At: time.Now(), Path: "/", Err: err.Error()})
		return
	}
	cp.Store(conn)
	defer conn.Close()
	w := &zkWatcher{conn: conn, emit: emit}
	var wg sync.WaitGroup
	for _, f := range []func(context.Context){w.election, w.master, w.workers, w.alive, w.tasks, w.results} {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	<-ctx.Done()
	conn.Close()
	wg.Wait()
}

var sessionStates = map[zk.State]SessionState{
	zk.StateConnecting:   SessionConnecting,
	zk.StateHasSession:   SessionConnected,
	zk.StateDisconnected: SessionDisconnected,
	zk.StateExpired:      SessionExpired,
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// read is one read of a znode that leaves a watch: the channel on which
// the watch fires, or done when there is nothing more to follow.
type read func() (ch <-chan zk.Event, done bool, err error)

// follow repeats r each time its watch fires, at most every gap, until
// ctx ends or r is done. Failures are retried after retryGap; one that is
// not about the connection is reported, once while it lasts.
func (w *zkWatcher) follow(ctx context.Context, path string, gap time.Duration, r read) {
	said := "" // the failure last reported, so that a lasting one is said once
	for ctx.Err() == nil {
		start := time.Now()
		ch, done, err := r()
		switch {
		case done:
			return
		case err != nil:
			if ctx.Err() == nil && !connErr(err) && err.Error() != said {
				said = err.Error()
				w.emit(WatchFailed{At: time.Now(), Path: path, Err: said})
			}
			sleep(ctx, retryGap)
			continue
		}
		said = ""
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		sleep(ctx, gap-time.Since(start))
	}
}

// connErr tells a failure of the session or connection, which the client
// library mends by itself, from one of the request.
func connErr(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrSessionExpired) ||
		errors.Is(err, zk.ErrNoServer) || errors.Is(err, zk.ErrClosing) || errors.Is(err, zk.ErrSessionMoved)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// children reads path's children with a watch and hands them to got; a
// missing path counts as empty, and its creation is watched for.
func (w *zkWatcher) children(path string, got func(kids []string, st *zk.Stat)) read {
	return func() (<-chan zk.Event, bool, error) {
		kids, st, ch, err := w.conn.ChildrenW(path)
		if errors.Is(err, zk.ErrNoNode) {
			got(nil, &zk.Stat{})
			var ok bool
			ok, _, ch, err = w.conn.ExistsW(path)
			if err == nil && ok { // created meanwhile: list it now
				return closedEvents(), false, nil
			}
		} else if err == nil {
			got(kids, st)
		}
		return ch, false, err
	}
}

func (w *zkWatcher) election(ctx context.Context) {
	w.follow(ctx, protocol.ElectionPath, 0, w.children(protocol.ElectionPath, func(kids []string, _ *zk.Stat) {
		w.emit(CandidatesListed{At: time.Now(), Nodes: kids})
	}))
}

func (w *zkWatcher) tasks(ctx context.Context) {
	w.follow(ctx, protocol.TasksPath, relistGap, w.children(protocol.TasksPath, func(kids []string, st *zk.Stat) {
		w.emit(TasksListed{At: time.Now(), Count: len(kids), Cversion: st.Cversion})
	}))
}

func (w *zkWatcher) results(ctx context.Context) {
	w.follow(ctx, protocol.ResultsPath, relistGap, w.children(protocol.ResultsPath, func(kids []string, _ *zk.Stat) {
		w.emit(ResultsListed{At: time.Now(), Count: len(kids)})
	}))
}

// master follows /master's data, or its creation while it is absent.
func (w *zkWatcher) master(ctx context.Context) {
	w.follow(ctx, protocol.MasterPath, 0, func() (<-chan zk.Event, bool, error) {
		data, _, ch, err := w.conn.GetW(protocol.MasterPath)
		if errors.Is(err, zk.ErrNoNode) {
			var ok bool
			ok, _, ch, err = w.conn.ExistsW(protocol.MasterPath)
			if err == nil && ok { // created meanwhile: read it now
				return closedEvents(), false, nil
			}
			if err == nil {
				w.emit(MasterRead{At: time.Now()})
			}
			return ch, false, err
		}
		if err == nil {
			ev := MasterRead{At: time.Now()}
			if m, perr := protocol.ParseMasterInfo(data); perr != nil {
				ev.Bad = perr.Error()
			} else {
				ev.Info = &m
			}
			w.emit(ev)
		}
		return ch, false, err
	})
}

func closedEvents() <-chan zk.Event {
	ch := make(chan zk.Event)
	close(ch)
	return ch
}

// workers follows /workers and, for each worker in it, its assignments.
func (w *zkWatcher) workers(ctx context.Context) {
	each := newFollowers(ctx)
	defer each.stop()
	w.follow(ctx, protocol.WorkersPath, 0, w.children(protocol.WorkersPath, func(kids []string, _ *zk.Stat) {
		w.emit(WorkersListed{At: time.Now(), Names: kids})
		each.keep(kids, w.assignments)
	}))
}

// assignments follows /workers/<name> until it is deleted. After each
// listing it checks that the worker is alive, so that the model can tell
// completions from tasks moved back.
func (w *zkWatcher) assignments(ctx context.Context, name string) {
	p := protocol.Worker(name)
	w.follow(ctx, p, relistGap, func() (<-chan zk.Event, bool, error) {
		kids, st, ch, err := w.conn.ChildrenW(p)
		if errors.Is(err, zk.ErrNoNode) {
			w.emit(AssignmentsListed{At: time.Now(), Worker: name, Gone: true})
			return nil, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		alive, _, err := w.conn.Exists(protocol.WorkerAlive(name))
		if err != nil {
			return nil, false, err
		}
		w.emit(AssignmentsListed{At: time.Now(), Worker: name, Count: len(kids), Cversion: st.Cversion, Alive: alive})
		return ch, false, nil
	})
}

// alive follows /workers_eph and each live worker's capacity.
func (w *zkWatcher) alive(ctx context.Context) {
	each := newFollowers(ctx)
	defer each.stop()
	w.follow(ctx, protocol.WorkersEphPath, 0, w.children(protocol.WorkersEphPath, func(kids []string, _ *zk.Stat) {
		w.emit(AliveListed{At: time.Now(), Names: kids})
		each.keep(kids, w.capacity)
	}))
}

// capacity follows /workers_eph/<name>'s data until it is deleted.
func (w *zkWatcher) capacity(ctx context.Context, name string) {
	p := protocol.WorkerAlive(name)
	w.follow(ctx, p, 0, func() (<-chan zk.Event, bool, error) {
		data, _, ch, err := w.conn.GetW(p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil, true, nil
		}
		if err == nil {
			w.emit(CapacityRead{At: time.Now(), Worker: name, Capacity: protocol.ParseCapacity(data)})
		}
		return ch, false, err
	})
}

// followers runs one loop per name of a listing, started when the name
// appears and stopped when it goes.
type followers struct {
	ctx     context.Context
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
	wg      sync.WaitGroup
}

func newFollowers(ctx context.Context) *followers {
	return &followers{ctx: ctx, cancels: map[string]context.CancelFunc{}}
}

// keep runs f for every name not yet followed and stops those not in names.
func (f *followers) keep(names []string, run func(context.Context, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
		if _, ok := f.cancels[n]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(f.ctx)
		f.cancels[n] = cancel
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			run(ctx, n)
			f.mu.Lock()
			defer f.mu.Unlock()
			if ctx.Err() == nil { // ended by itself: a later listing may restart it
				delete(f.cancels, n)
			}
			cancel()
		}()
	}
	for n, cancel := range f.cancels {
		if !in[n] {
			cancel()
			delete(f.cancels, n)
		}
	}
}

// stop ends every loop and waits for them.
func (f *followers) stop() {
	f.mu.Lock()
	for _, cancel := range f.cancels {
		cancel()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
