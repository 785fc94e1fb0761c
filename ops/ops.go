// Package ops holds the operations on a cluster: start a role, signal it,
// start and stop a ZooKeeper server (and, as faults are added, crash,
// freeze, thaw, partition, heal, degrade), one type a file. Each has a
// Title and a Run that acts through the controller (package controller:
// the transport and the node agent) and returns a Record of what it did, on
// which host and processes, and when. The CLI (`zkctl start`, `kill`), the
// scenarios and the bench act on the cluster only through these, so a
// fault is injected the same way wherever it comes from.
//
// Journal keeps the records of a run and the processes it started, so
// that whoever ran the operations can stop what is left; the waits in
// wait.go are the conditions on the znode protocol those callers wait for.
//
// ops imports deploy, node and roles; nothing below it imports ops.
package ops

import (
	"context"
	"time"

	"zkctl/controller"
	"zkctl/node"
)

// Op is one operation on the cluster.
type Op interface {
	// Title says what the operation does, e.g. "SIGKILL master vm1-m1 on vm1".
	Title() string
	// Run performs it. The record is filled in as far as it got, also on
	// failure.
	Run(ctx context.Context, c *controller.Cluster) (Record, error)
}

// Kind says what sort of operation a Record is of.
type Kind string

// The kinds of operations.
const (
	KindStart       Kind = "start"        // role processes started
	KindSignal      Kind = "signal"       // a signal sent to role processes or a server
	KindStartServer Kind = "start-server" // a ZooKeeper server started
	KindStopServer  Kind = "stop-server"  // a ZooKeeper server stopped (TERM, then KILL)
)

// Record is what an operation did: the scenario timeline shows one per
// operation, and the bench times them.
type Record struct {
	Title  string
	Kind   Kind
	Host   string      // inventory name
	Role   string      // master, worker, client or zookeeper
	ID     string      // the instance, when one was named
	Signal string      // "SIGKILL", for signals
	Procs  []node.Proc // the processes acted on, as the agent reported them after
	Notes  []HostNote  // what a network fault applied, host by host
	Start  time.Time   // when the call began
	End    time.Time   // when it returned: the effect is in place by then
}

// HostNote is one line of what an operation did on one host, e.g. what a
// partition cut there or which knobs of a degradation were applied.
type HostNote struct {
	Host, Msg string
}

// Took is how long the call took.
func (r Record) Took() time.Duration { return r.End.Sub(r.Start) }

// begin starts a record of op.
func begin(op Op, kind Kind, host, role, id string) Record {
	return Record{Title: op.Title(), Kind: kind, Host: host, Role: role, ID: id, Start: time.Now()}
}

// done ends r with procs and returns it with err.
func (r Record) done(procs []node.Proc, err error) (Record, error) {
	r.Procs, r.End = procs, time.Now()
	return r, err
}
