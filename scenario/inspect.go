package scenario

// What the scripts and the runner read directly: a server's mode and
// connections (srvr), and the application's znodes through the monitor's
// ZooKeeper session.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// serverMode asks host's server for its mode.
func (r *run) serverMode(host string) string {
	h, _ := r.c.Inv.Host(host)
	return r.c.QueryServer(h, time.Second).Mode
}

// roles waits until one server leads and every other one follows, and
// returns them.
func (r *run) roles() (leader string, followers []string) {
	r.waitFor("a leader and all followers", holds(func() bool {
		leader, followers = "", nil
		for _, s := range r.servers {
			switch r.serverMode(s) {
			case "leader", "standalone":
				leader = s
			case "follower":
				followers = append(followers, s)
			}
		}
		return leader != "" && len(followers) == len(r.servers)-1
	}))
	return leader, followers
}

// assigned counts the tasks assigned to worker p now.
func (r *run) assigned(p *Proc) int {
	kids, _, err := r.mon.conn.Children(protocol.Worker(p.ID))
	if err != nil {
		return 0
	}
	return len(kids)
}

// sessions maps every ephemeral znode of the roles (election candidates,
// /master, live workers) to the session that owns it.
func (r *run) sessions() map[string]int64 {
	out := map[string]int64{}
	if !r.ok() {
		return out
	}
	for _, dir := range []string{protocol.ElectionPath, protocol.WorkersEphPath} {
		var kids []string
		err := r.observe(func() (err error) { kids, _, err = r.mon.conn.Children(dir); return err })
		if err != nil {
			r.fail(fmt.Errorf("list %s: %w", dir, err))
			return out
		}
		for _, k := range kids {
			if ok, st, err := r.mon.conn.Exists(dir + "/" + k); err == nil && ok {
				out[dir+"/"+k] = st.EphemeralOwner
			}
		}
	}
	if ok, st, err := r.mon.conn.Exists(protocol.MasterPath); err == nil && ok {
		out[protocol.MasterPath] = st.EphemeralOwner
	}
	return out
}

// observe runs a read of the observer's session, again while it fails
// because the connection dropped (a fault moments before can leave the
// observer reconnecting to another server).
func (r *run) observe(read func() error) error {
	return retry.Policy{Attempts: 10, Delay: 100 * time.Millisecond, Factor: 2, Max: time.Second,
		Retryable: roles.IsConnErr}.Do(r.ctx, func(int) error { return read() })
}

// leftResults lists the results waiting in /results for client id's tasks.
func (r *run) leftResults(id string) []string {
	var kids []string
	err := r.observe(func() (err error) { kids, _, err = r.mon.conn.Children(protocol.ResultsPath); return err })
	if err != nil {
		r.fail(fmt.Errorf("list %s: %w", protocol.ResultsPath, err))
		return nil
	}
	var out []string
	for _, k := range kids {
		if c, _, ok := protocol.ParseTaskName(k); ok && c == id {
			out = append(out, k)
		}
	}
	return sortTaskNames(out)
}

// connections reads srvr's connection count of every server now.
func (r *run) connections() string {
	var parts []string
	for _, s := range r.servers {
		h, _ := r.c.Inv.Host(s)
		st := r.c.QueryServer(h, time.Second)
		parts = append(parts, fmt.Sprintf("%s %s %d", s, st.Mode, st.Connections))
	}
	return strings.Join(parts, ", ")
}

// openZnodes lists what is left under /tasks, /data, /results and every
// /workers/<w>: the orphans, once every client has finished.
func openZnodes(conn *zk.Conn) ([]string, error) {
	var out []string
	for _, dir := range []string{protocol.TasksPath, protocol.DataPath, protocol.ResultsPath} {
		kids, _, err := conn.Children(dir)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, k := range kids {
			out = append(out, dir+"/"+k)
		}
	}
	workers, _, err := conn.Children(protocol.WorkersPath)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", protocol.WorkersPath, err)
	}
	for _, w := range workers {
		kids, _, err := conn.Children(protocol.Worker(w))
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return nil, fmt.Errorf("list %s: %w", protocol.Worker(w), err)
		}
		for _, k := range kids {
			out = append(out, protocol.Assignment(w, k))
		}
	}
	return out, nil
}

// busiest returns the server among hosts with the most client connections.
func (r *run) busiest(hosts []string) string {
	best, most := "", -1
	for _, s := range hosts {
		h, _ := r.c.Inv.Host(s)
		if n := r.c.QueryServer(h, time.Second).Connections; n > most {
			best, most = s, n
		}
	}
	return best
}

// workerOnFollower returns a worker of ws whose host runs one of the
// followers and no master; the run fails when there is none.
func (r *run) workerOnFollower(ws []*Proc, followers []string) *Proc {
	for _, w := range ws {
		if slices.Contains(followers, w.Host) && !r.runsMaster(w.Host) {
			return w
		}
	}
	r.fail(fmt.Errorf("no worker runs on a follower's host (followers %v)", followers))
	return &Proc{}
}

// runsMaster tells whether a master the scenario started runs on host.
func (r *run) runsMaster(host string) bool {
	for _, p := range r.procs() {
		if p.Role == "master" && p.Host == host && p.Ended.IsZero() {
			return true
		}
	}
	return false
}

// busyWorkerOnFollower starts the placement's roles with a client that
// submits tasks, waits until 5 are done, and returns a worker that runs on
// a ZooKeeper follower's host and no master's: the target of the scenarios
// that fault a worker's host.
func (r *run) busyWorkerOnFollower(tasks int) *Proc {
	r.startMasters()
	ws := r.startWorkers()
	r.startClients(tasks)
	r.waitDone(5)
	_, followers := r.roles()
	return r.workerOnFollower(ws, followers)
}
