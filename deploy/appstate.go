package deploy

import (
	"errors"
	"fmt"
	"sort"

	"github.com/go-zookeeper/zk"

	"zkctl/schema"
)

// AppState is the task system as ZooKeeper holds it, for `zkctl status`.
type AppState struct {
	Master     *schema.MasterInfo `json:"master"`
	Candidates int                `json:"candidates"`
	Workers    []WorkerState      `json:"workers"`
	Pending    int                `json:"pending"`  // submitted, not assigned
	Assigned   int                `json:"assigned"` // assigned, not finished
	Results    int                `json:"results"`  // finished, not yet collected
}

// WorkerState is one worker, its load and, while it is alive, its
// capacity (the tasks it runs at once; 1 when it publishes none).
type WorkerState struct {
	ID       string `json:"id"`
	Alive    bool   `json:"alive"`
	Capacity int    `json:"capacity,omitempty"`
	Assigned int    `json:"assigned"`
}

// readAppState reads the protocol's znodes: one listing per folder, one
// listing per worker and one read per live worker, no per-task reads.
func readAppState(conn *zk.Conn) (*AppState, error) {
	s := &AppState{}
	if data, _, err := conn.Get(schema.MasterPath); err == nil {
		if m, err := schema.ParseMasterInfo(data); err == nil {
			s.Master = &m
		}
	} else if !errors.Is(err, zk.ErrNoNode) {
		return nil, fmt.Errorf("read %s: %w", schema.MasterPath, err)
	}
	counts := map[string]*int{schema.ElectionPath: &s.Candidates, schema.ResultsPath: &s.Results}
	var tasks int
	counts[schema.TasksPath] = &tasks
	for p, n := range counts {
		kids, err := children(conn, p)
		if err != nil {
			return nil, err
		}
		*n = len(kids)
	}
	alive, err := children(conn, schema.WorkersEphPath)
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for _, w := range alive {
		live[w] = true
	}
	workers, err := children(conn, schema.WorkersPath)
	if err != nil {
		return nil, err
	}
	sort.Strings(workers)
	for _, w := range workers {
		kids, err := children(conn, schema.WorkersPath+"/"+w)
		if err != nil {
			return nil, err
		}
		ws := WorkerState{ID: w, Alive: live[w], Assigned: len(kids)}
		if ws.Alive {
			if ws.Capacity, err = capacity(conn, w); err != nil {
				return nil, err
			}
		}
		s.Workers = append(s.Workers, ws)
		s.Assigned += len(kids)
	}
	s.Pending = max(tasks-s.Assigned, 0)
	return s, nil
}

func children(conn *zk.Conn, p string) ([]string, error) {
	kids, _, err := conn.Children(p)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	return kids, nil
}

// capacity reads live worker w's capacity from /workers_eph/<w>; 0 when it
// went meanwhile.
func capacity(conn *zk.Conn, w string) (int, error) {
	p := schema.WorkersEphPath + "/" + w
	data, _, err := conn.Get(p)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("read %s: %w", p, err)
	}
	return schema.ParseCapacity(data), nil
}
