package scenario

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/node"
	"zkctl/roles/protocol"
)

// Sampling periods of the monitor. After a fault on a server it polls srvr
// faster for a while, so that a leader election is timed closely.
const (
	serverPeriod = 100 * time.Millisecond
	fastPeriod   = 20 * time.Millisecond
	appPeriod    = 100 * time.Millisecond
	srvrTimeout  = time.Second
)

// Samples is what the monitor saw of ZooKeeper while a scenario ran.
type Samples struct {
	Servers []string       // host names, the order of Modes and Conns
	Server  []ServerSample // srvr of every server
	App     []AppSample    // the application's znodes
}

// ServerSample is one round of srvr over the ensemble.
type ServerSample struct {
	At    time.Time
	Modes []string // leader, follower, standalone, down, error (not serving)
	Conns []int
}

// AppSample is one read of the application's znodes; OK is false when
// ZooKeeper did not answer.
type AppSample struct {
	At     time.Time
	OK     bool
	Open   int    // children of /tasks
	Done   int    // tasks seen in /tasks and gone since
	Master string // id in /master, "" if none
	// Checked is true when /election did not change during the read, so
	// that Consistent means: /master is absent or owned by the session of
	// the lowest election candidate (the one master there may be).
	Checked, Consistent bool
}

// monitor samples the ensemble (srvr, directly) and the application (with
// its own ZooKeeper session) until stopped.
type monitor struct {
	c       *controller.Cluster
	servers []inventory.Host
	conn    *zk.Conn
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu        sync.Mutex
	samples   Samples
	events    []Event // ZooKeeper leader changes
	leader    string  // "" = none
	fastUntil time.Time
	seen      map[string]bool
	last      AppSample
	modes     []string
}

// startMonitor connects to servers, within bound, and starts sampling.
func startMonitor(ctx context.Context, c *controller.Cluster, servers []inventory.Host, bound time.Duration) (*monitor, error) {
	dctx, cancel := context.WithTimeout(ctx, bound)
	conn, err := c.Connect(dctx, servers)
	cancel()
	if err != nil {
		return nil, err
	}
	ctx, cancel = context.WithCancel(ctx)
	m := &monitor{c: c, servers: servers, conn: conn, cancel: cancel, seen: map[string]bool{}, leader: "?"}
	for _, h := range servers {
		m.samples.Servers = append(m.samples.Servers, h.Name)
	}
	m.wg.Add(2)
	go m.loop(ctx, m.pollServers, func() time.Duration { return m.serverPeriod() })
	go m.loop(ctx, m.pollApp, func() time.Duration { return appPeriod })
	return m, nil
}

// stop ends sampling, closes the session and returns what was seen.
func (m *monitor) stop() (*Samples, []Event) {
	m.cancel()
	m.conn.Close()
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.samples
	return &s, m.events
}

func (m *monitor) loop(ctx context.Context, poll func(), period func() time.Duration) {
	defer m.wg.Done()
	for ctx.Err() == nil {
		next := time.Now().Add(period())
		poll()
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(next)):
		}
	}
}

// fast makes srvr polling fast for d.
func (m *monitor) fast(d time.Duration) {
	m.mu.Lock()
	m.fastUntil = time.Now().Add(d)
	m.mu.Unlock()
}

func (m *monitor) serverPeriod() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Now().Before(m.fastUntil) {
		return fastPeriod
	}
	return serverPeriod
}

// pollServers asks every server srvr in parallel and notes leader changes.
func (m *monitor) pollServers() {
	s := ServerSample{At: time.Now(), Modes: make([]string, len(m.servers)), Conns: make([]int, len(m.servers))}
	var wg sync.WaitGroup
	for i, h := range m.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := m.c.QueryServer(h, srvrTimeout)
			s.Modes[i], s.Conns[i] = st.Mode, st.Connections
		}()
	}
	wg.Wait()
	leader, how := "", ""
	for i, mode := range s.Modes {
		if mode == "leader" || mode == "standalone" {
			leader, how = m.servers[i].Name, mode
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples.Server = append(m.samples.Server, s)
	m.modes = s.Modes
	if leader == m.leader {
		return
	}
	m.leader = leader
	e := Event{At: s.At, Role: node.ZooKeeperName, Kind: KindZKLeader, Host: leader,
		Msg: "ZooKeeper " + how + ": " + leader, Attrs: map[string]string{"mode": how}}
	if leader == "" {
		e.Kind, e.Msg = KindZKNoLeader, "no ZooKeeper server leads"
	}
	m.events = append(m.events, e)
}

// pollApp lists /tasks and checks /master against the election.
func (m *monitor) pollApp() {
	var s AppSample
	kids, _, err := m.conn.Children(protocol.TasksPath)
	if err == nil {
		s.Master, s.Checked, s.Consistent, err = readMaster(m.conn)
	}
	// The time of the answer, not of the question: a read asked while no
	// server serves waits in the client's queue and is answered only after
	// a server comes back.
	s.At = time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		s.OK, s.Done, s.Open = false, m.last.Done, m.last.Open
		m.samples.App = append(m.samples.App, s)
		return
	}
	s.OK, s.Open = true, len(kids)
	present := make(map[string]bool, len(kids))
	for _, t := range kids {
		present[t] = true
		m.seen[t] = true
	}
	for t := range m.seen {
		if !present[t] {
			s.Done++
		}
	}
	m.last = s
	m.samples.App = append(m.samples.App, s)
}

// readMaster reads /master and the lowest election candidate. checked is
// false when the election changed during the reads (the sample says
// nothing); consistent is true when /master is absent or belongs to the
// session of the lowest candidate.
func readMaster(conn *zk.Conn) (id string, checked, consistent bool, err error) {
	kids, before, err := conn.Children(protocol.ElectionPath)
	if err != nil {
		return "", false, false, err
	}
	var leadOwner int64
	if sorted, _ := protocol.SortCandidates(kids); len(sorted) > 0 {
		ok, st, err := conn.Exists(protocol.Election(sorted[0].Node))
		if err != nil {
			return "", false, false, err
		}
		if ok {
			leadOwner = st.EphemeralOwner
		}
	}
	data, mst, err := conn.Get(protocol.MasterPath)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		mst = nil
	case err != nil:
		return "", false, false, err
	default:
		if info, perr := protocol.ParseMasterInfo(data); perr == nil {
			id = info.ID
		}
	}
	_, after, err := conn.Exists(protocol.ElectionPath)
	if err != nil {
		return "", false, false, err
	}
	checked = before.Pzxid == after.Pzxid
	consistent = mst == nil || mst.EphemeralOwner == leadOwner
	return id, checked, consistent, nil
}

// notServingSince tells whether a srvr sample taken after t found host's
// server not serving (neither leader, follower nor standalone).
func (m *monitor) notServingSince(host string, t time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := -1
	for k, h := range m.samples.Servers {
		if h == host {
			i = k
		}
	}
	for k := len(m.samples.Server) - 1; k >= 0 && i >= 0; k-- {
		s := m.samples.Server[k]
		if !s.At.After(t) {
			break
		}
		if !serving(s.Modes[i]) {
			return true
		}
	}
	return false
}

func serving(mode string) bool { return mode == "leader" || mode == "follower" || mode == "standalone" }

// status is the monitor's latest view, for waits and the progress line.
type status struct {
	Done, Open int
	Master     string
	OK         bool
	Modes      []string
	Leader     string
}

func (m *monitor) status() status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return status{Done: m.last.Done, Open: m.last.Open, Master: m.last.Master, OK: m.last.OK,
		Modes: append([]string(nil), m.modes...), Leader: m.leader}
}
