// Package watch is `zkctl watch`: a live view of the ensemble, the
// election, the workers' load, the task flow and the network faults. It
// owns three parts kept apart: the collectors (collect.go, zkwatch.go),
// which read the cluster through a Source — ZooKeeper watches on the
// protocol's znodes, srvr polls, the agents' fault status — and turn what
// they see into Events; the state model (this file), a pure fold of
// Events into a State that also says, as timestamped Lines, what changed;
// and the renderers, full screen (render.go, tui.go, with Bubble Tea and
// Lip Gloss) or one line per change (plain). It reads the znode protocol
// only (roles/protocol), so it shows roles played by any program. Its one
// tie to the controller is cluster.go.
package watch

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"zkctl/roles/protocol"
)

// Line is one change, as the event list and the plain output show it.
type Line struct {
	At   time.Time
	Kind string // session, zk, fault, master, election, worker, reassign, tasks, error
	Text string
}

// String is the plain output's form: "15:04:05.000 master    vm2-m2 elected …".
func (l Line) String() string {
	return fmt.Sprintf("%s %-8s %s", l.At.Format("15:04:05.000"), l.Kind, l.Text)
}

// maxEvents is how many of the last changes a State keeps.
const maxEvents = 50

// State is the cluster as the view knows it. The zero value is not ready:
// use NewState.
type State struct {
	Now     time.Time
	Session Session
	Servers []ServerState
	Leader  string // the host whose server leads ("" when none)
	Quorum  bool   // some server serves
	// QuorumLost is when the last server stopped serving (zero while one serves).
	QuorumLost time.Time
	Faults     map[string]HostFaults

	Master        *protocol.MasterInfo
	MasterBad     string    // /master holds something that is not the protocol's JSON
	MasterChanged time.Time // when the master last changed (zero: not seen yet)
	masterSeen    bool
	Candidates    []protocol.Candidate
	candSeen      bool

	Workers map[string]*Worker

	Tasks, Results int // children of /tasks and /results
	tasksCv        int32
	tasksSeen      bool
	Submitted      Series // tasks created per second
	Completed      Series // tasks finished per second
	lastCounts     string

	Events []Line // the last maxEvents lines, oldest first
}

// Session is the view's own ZooKeeper session.
type Session struct {
	State  SessionState
	Server string
	ID     int64
	Since  time.Time
}

// ServerState is one server as the last srvr poll saw it.
type ServerState struct {
	ServerObs
	Since time.Time // when its mode last changed
}

// HostFaults is one host's active network faults.
type HostFaults struct {
	Faults []Fault
	Err    string
}

// Worker is one worker: registered under /workers, alive under
// /workers_eph, or both.
type Worker struct {
	Name       string
	Registered bool
	Alive      bool
	Capacity   int // 1 unless it publishes {"capacity": C}
	Assigned   int
	Done       Series // its completions per second
	cv         int32
	seen       bool // a listing of /workers/<w> has been read
}

// NewState is the state before any event, for the servers of hosts.
func NewState(now time.Time, hosts []string) *State {
	s := &State{Now: now, Faults: map[string]HostFaults{}, Workers: map[string]*Worker{},
		Session: Session{State: SessionConnecting, Since: now}}
	for _, h := range hosts {
		s.Servers = append(s.Servers, ServerState{ServerObs: ServerObs{Host: h, Mode: "?"}, Since: now})
	}
	s.advance()
	return s
}

// Apply folds ev into s and returns the changes it made, as lines; they
// are also appended to s.Events (except the task counts, which the view
// shows in place).
func Apply(s *State, ev Event) []Line {
	if at := ev.when(); at.After(s.Now) {
		s.Now = at
	}
	s.advance()
	var out []Line
	add := func(kind, format string, args ...any) {
		out = append(out, Line{At: ev.when(), Kind: kind, Text: fmt.Sprintf(format, args...)})
	}
	switch e := ev.(type) {
	case Tick:
	case SessionChanged:
		s.applySession(e, add)
	case ServersPolled:
		s.applyServers(e, add)
	case FaultsRead:
		s.applyFaults(e, add)
	case CandidatesListed:
		s.applyCandidates(e, add)
	case MasterRead:
		s.applyMaster(e, add)
	case WorkersListed:
		s.applyWorkers(e, add)
	case AliveListed:
		s.applyAlive(e, add)
	case CapacityRead:
		if w, ok := s.Workers[e.Worker]; ok {
			w.Capacity = max(e.Capacity, 1)
		}
	case AssignmentsListed:
		s.applyAssignments(e, add)
	case TasksListed:
		s.applyTasks(e)
	case ResultsListed:
		s.Results = e.Count
	case WatchFailed:
		add("error", "read %s: %s", e.Path, e.Err)
	}
	s.Events = append(s.Events, out...)
	if n := len(s.Events) - maxEvents; n > 0 {
		s.Events = slices.Delete(s.Events, 0, n)
	}
	if c := s.countsLine(); c != s.lastCounts && s.tasksSeen {
		s.lastCounts = c
		out = append(out, Line{At: ev.when(), Kind: "tasks", Text: c})
	}
	return out
}

// advance moves every rate series to s.Now.
func (s *State) advance() {
	s.Submitted.advance(s.Now)
	s.Completed.advance(s.Now)
	for _, w := range s.Workers {
		w.Done.advance(s.Now)
	}
}

type adder func(kind, format string, args ...any)

func (s *State) applySession(e SessionChanged, add adder) {
	prev := s.Session
	if e.State != SessionConnected && e.ID == 0 {
		e.ID = prev.ID
	}
	s.Session = Session{State: e.State, Server: e.Server, ID: e.ID, Since: e.At}
	switch {
	case e.State == SessionConnected && prev.ID != 0 && e.ID != prev.ID:
		add("session", "new session 0x%x on %s (the previous one, 0x%x, expired)", e.ID, e.Server, prev.ID)
	case e.State == SessionConnected && prev.ID == e.ID && prev.Server != e.Server && prev.Server != "":
		add("session", "session 0x%x moved from %s to %s", e.ID, prev.Server, e.Server)
	case e.State == SessionConnected && prev.State != SessionConnected:
		add("session", "connected to %s (session 0x%x)", e.Server, e.ID)
	case e.State == SessionDisconnected && prev.State == SessionConnected:
		add("session", "disconnected from %s; reconnecting", prev.Server)
	case e.State == SessionExpired:
		add("session", "session 0x%x expired; opening a new one", prev.ID)
	}
	if e.State == SessionConnected {
		s.Session.Server = e.Server
	} else {
		s.Session.Server = prev.Server
	}
}

// serving reports whether a server in mode answers clients.
func serving(mode string) bool {
	switch mode {
	case "leader", "follower", "observer", "standalone", "read-only":
		return true
	}
	return false
}

func (s *State) applyServers(e ServersPolled, add adder) {
	byHost := map[string]ServerObs{}
	for _, o := range e.Servers {
		byHost[o.Host] = o
	}
	leader, quorum := "", false
	for i := range s.Servers {
		sv := &s.Servers[i]
		o, ok := byHost[sv.Host]
		if !ok {
			continue
		}
		if o.Mode != sv.Mode {
			if sv.Mode != "?" {
				add("zk", "%s: %s → %s%s", sv.Host, sv.Mode, o.Mode, errSuffix(o))
			}
			sv.Since = e.At
		}
		sv.ServerObs = o
		if o.Mode == "leader" || o.Mode == "standalone" {
			leader = o.Host
		}
		quorum = quorum || serving(o.Mode)
	}
	s.applyQuorum(e.At, quorum, add)
	if leader != s.Leader {
		switch {
		case leader == "":
			add("zk", "no server leads")
		case s.Leader == "":
			add("zk", "leader: %s", leader)
		default:
			add("zk", "leader changed: %s → %s", s.Leader, leader)
		}
		s.Leader = leader
	}
}

func errSuffix(o ServerObs) string {
	if o.Mode == "error" && o.Err != "" {
		return " (" + firstLine(o.Err) + ")"
	}
	return ""
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func (s *State) applyQuorum(at time.Time, quorum bool, add adder) {
	switch {
	case !quorum && (s.Quorum || s.QuorumLost.IsZero()):
		if s.Quorum {
			add("zk", "quorum lost: no server serves")
		}
		s.QuorumLost = at
	case quorum && !s.Quorum && !s.QuorumLost.IsZero():
		add("zk", "quorum back after %s", fmtDur(at.Sub(s.QuorumLost)))
	}
	if quorum {
		s.QuorumLost = time.Time{}
	}
	s.Quorum = quorum
}

func (s *State) applyFaults(e FaultsRead, add adder) {
	prev := s.Faults[e.Host]
	s.Faults[e.Host] = HostFaults{Faults: e.Faults, Err: e.Err}
	if e.Err != "" {
		if prev.Err != e.Err {
			add("fault", "%s: network faults unknown: %s", e.Host, e.Err)
		}
		return
	}
	for _, f := range e.Faults {
		if !hasFault(prev.Faults, f) {
			add("fault", "%s: %s %s applied (%s)", e.Host, f.Kind, f.Detail, expiry(f, e.At))
		}
	}
	for _, f := range prev.Faults {
		if !hasFault(e.Faults, f) {
			how := "healed"
			if !f.Expires.IsZero() && !e.At.Before(f.Expires.Add(-time.Second)) {
				how = "expired"
			}
			add("fault", "%s: %s %s %s", e.Host, f.Kind, f.Detail, how)
		}
	}
}

func hasFault(fs []Fault, f Fault) bool {
	for _, g := range fs {
		if g.Kind == f.Kind && g.Detail == f.Detail {
			return true
		}
	}
	return false
}

// expiry says when f ends, seen at now.
func expiry(f Fault, now time.Time) string {
	if f.Expires.IsZero() {
		return "until healed"
	}
	return fmt.Sprintf("expires %s, in %s", f.Expires.Format(time.TimeOnly), fmtDur(f.Expires.Sub(now)))
}

func (s *State) applyCandidates(e CandidatesListed, add adder) {
	sorted, _ := protocol.SortCandidates(e.Nodes)
	prev := s.Candidates
	s.Candidates = sorted
	if !s.candSeen {
		s.candSeen = true
		add("election", "candidates: %s", candidateList(sorted))
		return
	}
	for i, c := range prev {
		if !hasCandidate(sorted, c.Node) {
			lead := ""
			if i == 0 {
				lead = "leading "
			}
			add("election", "%scandidate %s left (its session ended)", lead, c.Name)
		}
	}
	for i, c := range sorted {
		if !hasCandidate(prev, c.Node) {
			add("election", "candidate %s joined (position %d of %d)", c.Name, i+1, len(sorted))
		}
	}
}

func hasCandidate(cs []protocol.Candidate, node string) bool {
	for _, c := range cs {
		if c.Node == node {
			return true
		}
	}
	return false
}

func candidateList(cs []protocol.Candidate) string {
	if len(cs) == 0 {
		return "none"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, " > ")
}

func (s *State) applyMaster(e MasterRead, add adder) {
	prev := masterID(s.Master)
	s.MasterBad = e.Bad
	if e.Bad != "" {
		add("master", "/master is not the protocol's JSON: %s", e.Bad)
	}
	s.Master = e.Info
	now := masterID(e.Info)
	if s.masterSeen && now == prev {
		return
	}
	switch {
	case !s.masterSeen && now == "":
		add("master", "no master")
	case !s.masterSeen:
		add("master", "%s leads (%s)", now, masterDetail(e.Info))
	case now == "":
		add("master", "master %s gone: no master", prev)
	case prev == "":
		add("master", "%s elected (%s) after %s without a master", now, masterDetail(e.Info), fmtDur(e.At.Sub(s.MasterChanged)))
	default:
		add("master", "%s elected (%s), replacing %s", now, masterDetail(e.Info), prev)
	}
	s.masterSeen = true
	s.MasterChanged = e.At
}

func masterID(m *protocol.MasterInfo) string {
	if m == nil {
		return ""
	}
	return m.ID
}

func masterDetail(m *protocol.MasterInfo) string {
	return fmt.Sprintf("host %s, pid %d", m.Host, m.PID)
}

// worker returns the named worker, adding it when new.
func (s *State) worker(name string) *Worker {
	w, ok := s.Workers[name]
	if !ok {
		w = &Worker{Name: name, Capacity: 1}
		w.Done.advance(s.Now)
		s.Workers[name] = w
	}
	return w
}

// applyWorkers notes who is registered. The master deletes a gone
// worker's folder only once it has moved all its tasks back, so those
// still counted on it then were moved back.
func (s *State) applyWorkers(e WorkersListed, add adder) {
	in := map[string]bool{}
	for _, n := range e.Names {
		in[n] = true
		s.worker(n).Registered = true
	}
	for name, w := range s.Workers {
		if in[name] || !w.Registered {
			continue
		}
		if w.Assigned > 0 && !w.Alive {
			add("reassign", "%s of %s moved back to pending", tasksN(w.Assigned), name)
		}
		w.Registered, w.Assigned, w.seen = false, 0, false
		s.forgetIfGone(w)
	}
}

// tasksN is "1 task", "3 tasks".
func tasksN(n int) string {
	if n == 1 {
		return "1 task"
	}
	return fmt.Sprintf("%d tasks", n)
}

func (s *State) applyAlive(e AliveListed, add adder) {
	in := map[string]bool{}
	for _, n := range e.Names {
		in[n] = true
		w := s.worker(n)
		if !w.Alive {
			add("worker", "%s alive", n)
		}
		w.Alive = true
	}
	for name, w := range s.Workers {
		if w.Alive && !in[name] {
			w.Alive = false
			add("worker", "%s gone (its session ended), %s assigned", name, tasksN(w.Assigned))
			s.forgetIfGone(w)
		}
	}
}

// forgetIfGone drops a worker that is neither registered nor alive.
func (s *State) forgetIfGone(w *Worker) {
	if !w.Registered && !w.Alive {
		delete(s.Workers, w.Name)
	}
}

// applyAssignments counts what left /workers/<w> since the last listing:
// a child version counts every create and delete, so deletes are
// (Δcversion − Δcount)/2. A task leaves a live worker when it completes;
// it leaves a gone one when the master moves it back.
//
// A listing of a worker the state does not know (any more) is late: its
// folder's loop starts only after /workers listed it, so the worker has
// gone since.
func (s *State) applyAssignments(e AssignmentsListed, add adder) {
	w, ok := s.Workers[e.Worker]
	if !ok {
		return
	}
	left := 0
	switch {
	case e.Gone:
		left = w.Assigned
	case w.seen && e.Cversion >= w.cv:
		left = max((int(e.Cversion-w.cv)-(e.Count-w.Assigned))/2, 0)
	}
	switch {
	case left > 0 && e.Alive:
		w.Done.Add(e.At, left) // the total comes from /tasks
	case left > 0:
		add("reassign", "%s of %s moved back to pending", tasksN(left), e.Worker)
	}
	w.Assigned, w.cv, w.seen = e.Count, e.Cversion, !e.Gone
	if e.Gone {
		w.Registered = false
		s.forgetIfGone(w)
	}
}

// applyTasks counts the tasks created and deleted since the last listing
// of /tasks from its child version: a task is deleted only when it
// completes.
func (s *State) applyTasks(e TasksListed) {
	if s.tasksSeen && e.Cversion >= s.tasksCv {
		dv, dn := int(e.Cversion-s.tasksCv), e.Count-s.Tasks
		s.Submitted.Add(e.At, max((dv+dn)/2, 0))
		s.Completed.Add(e.At, max((dv-dn)/2, 0))
	}
	s.Tasks, s.tasksCv, s.tasksSeen = e.Count, e.Cversion, true
}

// Assigned is the number of tasks assigned to a worker.
func (s *State) Assigned() int {
	n := 0
	for _, w := range s.Workers {
		n += w.Assigned
	}
	return n
}

// Pending is the number of submitted tasks not assigned.
func (s *State) Pending() int { return max(s.Tasks-s.Assigned(), 0) }

func (s *State) countsLine() string {
	return fmt.Sprintf("%d pending, %d assigned, %d results waiting", s.Pending(), s.Assigned(), s.Results)
}

// WorkerNames lists the workers, sorted.
func (s *State) WorkerNames() []string {
	names := make([]string, 0, len(s.Workers))
	for n := range s.Workers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fmtDur rounds d for people: 850ms, 2.1s, 1m05s.
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
