package watch

import (
	"time"

	"zkctl/roles/protocol"
)

// Event is one observation of the cluster, as a collector makes it: a
// listing of a znode's children read with a watch, a znode's data, a round
// of srvr polls, a host's network faults, the view's own session changing
// state, or the clock. Apply folds events into a State.
type Event interface{ when() time.Time }

// Tick advances the clock: the time since the last change and the rates.
type Tick struct{ At time.Time }

// SessionState is the state of the view's own ZooKeeper session.
type SessionState string

// The states a session goes through.
const (
	SessionConnecting   SessionState = "connecting"
	SessionConnected    SessionState = "connected"
	SessionDisconnected SessionState = "disconnected"
	SessionExpired      SessionState = "expired"
)

// SessionChanged is a state change of the view's session, with the server
// it is connected to and its id (zero while it has none).
type SessionChanged struct {
	At     time.Time
	State  SessionState
	Server string
	ID     int64
}

// ServerObs is what one server answered to srvr.
type ServerObs struct {
	Host    string
	Mode    string // leader, follower, observer, standalone; down (no answer); error (not serving)
	Zxid    int64
	Conns   int
	Version string
	Err     string
}

// ServersPolled is one round of srvr polls, every server in it.
type ServersPolled struct {
	At      time.Time
	Servers []ServerObs
}

// Fault is one active network fault on a host, as its agent reads it back.
type Fault struct {
	Kind    string    // "partition", "degrade 3"
	Detail  string    // "10.0.0.12 both", "loss 20% via nft numgen (all traffic)"
	Expires time.Time // zero: until healed
}

// FaultsRead is the network faults active on one host; Err when its agent
// could not say.
type FaultsRead struct {
	At     time.Time
	Host   string
	Faults []Fault
	Err    string
}

// CandidatesListed is the children of /election.
type CandidatesListed struct {
	At    time.Time
	Nodes []string
}

// MasterRead is /master: nil when absent; Bad when its data is not the
// protocol's JSON.
type MasterRead struct {
	At   time.Time
	Info *protocol.MasterInfo
	Bad  string
}

// WorkersListed is the children of /workers.
type WorkersListed struct {
	At    time.Time
	Names []string
}

// AliveListed is the children of /workers_eph.
type AliveListed struct {
	At    time.Time
	Names []string
}

// CapacityRead is the data of /workers_eph/<w>: the tasks w runs at once.
type CapacityRead struct {
	At       time.Time
	Worker   string
	Capacity int
}

// AssignmentsListed is one listing of /workers/<w>: how many tasks are
// assigned and the folder's child version (every create and delete of a
// child adds one), and whether w was alive right after. Gone: /workers/<w>
// no longer exists.
type AssignmentsListed struct {
	At       time.Time
	Worker   string
	Count    int
	Cversion int32
	Alive    bool
	Gone     bool
}

// TasksListed is one listing of /tasks: the count and the child version.
type TasksListed struct {
	At       time.Time
	Count    int
	Cversion int32
}

// ResultsListed is the number of children of /results.
type ResultsListed struct {
	At    time.Time
	Count int
}

// WatchFailed is a read of path that failed for a reason other than the
// connection (an ACL, say); the collector retries.
type WatchFailed struct {
	At   time.Time
	Path string
	Err  string
}

func (e Tick) when() time.Time              { return e.At }
func (e SessionChanged) when() time.Time    { return e.At }
func (e ServersPolled) when() time.Time     { return e.At }
func (e FaultsRead) when() time.Time        { return e.At }
func (e CandidatesListed) when() time.Time  { return e.At }
func (e MasterRead) when() time.Time        { return e.At }
func (e WorkersListed) when() time.Time     { return e.At }
func (e AliveListed) when() time.Time       { return e.At }
func (e CapacityRead) when() time.Time      { return e.At }
func (e AssignmentsListed) when() time.Time { return e.At }
func (e TasksListed) when() time.Time       { return e.At }
func (e ResultsListed) when() time.Time     { return e.At }
func (e WatchFailed) when() time.Time       { return e.At }
