package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"zkctl/history/txnlog"
	"zkctl/node"
	"zkctl/node/wire"
	"zkctl/schema"
)

// The calls on the host's processes, logs and clock. Signals travel by the
// short name node.ParseSignal reads.

// Info asks for the architecture, Java and ZooKeeper (Home: a ZooKeeper
// home to check, "" for Debian's package). It runs as root.
type Info struct {
	Home string `json:"home,omitempty"`
}

// StartServer starts the host's ZooKeeper server (a no-op where it runs).
type StartServer struct{}

// SignalServer signals the host's ZooKeeper server; TERM waits for the
// exit and KILLs after 5 s.
type SignalServer struct {
	Signal string `json:"signal"`
}

// TxnLogs asks for the server's transaction logs (<dir>/data/version-2/log.*),
// decoded on the host.
type TxnLogs struct{}

// TxnLogFiles are the decoded transaction log files in zxid order, each a
// history/txnlog.File in JSON, decoded by whoever merges them (the
// controller does not depend on the history packages); none when the
// server never wrote one.
type TxnLogFiles struct {
	Files []json.RawMessage `json:"files"`
}

// ServerConfig asks how the server's configuration in force compares with
// Config's (nil: the host's node.json): what a restart would apply.
type ServerConfig struct {
	Config *node.Config `json:"config,omitempty"`
}

// Status asks for the host's server and processes.
type Status struct{}

// Reset stops everything, archives the logs, wipes the data and renders
// the configuration again.
type Reset struct{}

// Stop stops every role and then the server, keeping data and logs.
type Stop struct{}

// Done is the answer of a call that returns nothing.
type Done struct{}

// Memory asks for the memory of process Name ("<role>-<id>").
type Memory struct {
	Name string `json:"name"`
}

// ReadLog asks for the whole log of process Name.
type ReadLog struct {
	Name string `json:"name"`
}

// Log is a log's content.
type Log struct {
	Data []byte `json:"data"`
}

// Clock asks for the host's time.
type Clock struct{}

// Time is a host's clock.
type Time struct {
	UnixNano int64 `json:"unix_nano"`
}

// SignalHost signals every process the agent started, server and roles, at once.
type SignalHost struct {
	Signal string `json:"signal"`
}

// StartRoles starts Count instances of Role, the first with ID when set,
// each with Args (the role's own flags).
type StartRoles struct {
	Role  string   `json:"role"`
	Count int      `json:"count"`
	ID    string   `json:"id,omitempty"`
	Args  []string `json:"args,omitempty"`
}

// SignalRoles signals every live instance of Role ("" every role), or
// only instance ID; TERM waits for the exit and KILLs after 5 s.
type SignalRoles struct {
	Role   string `json:"role"`
	ID     string `json:"id,omitempty"`
	Signal string `json:"signal"`
}

func (Info) Call() string         { return "info" }
func (StartServer) Call() string  { return "zk start" }
func (SignalServer) Call() string { return "zk signal" }
func (TxnLogs) Call() string      { return "zk txnlog" }
func (ServerConfig) Call() string { return "zk config" }
func (Status) Call() string       { return "status" }
func (Reset) Call() string        { return "reset" }
func (Stop) Call() string         { return "stop" }
func (Memory) Call() string       { return "mem" }
func (ReadLog) Call() string      { return "log" }
func (Clock) Call() string        { return "clock" }
func (SignalHost) Call() string   { return "signal-host" }
func (StartRoles) Call() string   { return "roles start" }
func (SignalRoles) Call() string  { return "roles signal" }

func layout(dir string) node.Layout { return node.Layout{Dir: dir} }

// signal reads a signal's name; a bad one is a bad request.
func signal(name string) (syscall.Signal, error) {
	sig, err := node.ParseSignal(name)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", wire.ErrBadRequest, err)
	}
	return sig, nil
}

// Serve detects the architecture, Java and ZooKeeper.
func (q Info) Serve(context.Context, string) (node.Info, error) { return node.HostInfo(q.Home), nil }

// Serve starts the ZooKeeper server.
func (StartServer) Serve(_ context.Context, dir string) (node.Proc, error) {
	c, err := node.LoadConfig(dir)
	if err != nil {
		return node.Proc{}, err
	}
	return node.StartZooKeeper(c)
}

// Serve signals the ZooKeeper server.
func (q SignalServer) Serve(_ context.Context, dir string) (node.Proc, error) {
	sig, err := signal(q.Signal)
	if err != nil {
		return node.Proc{}, err
	}
	return node.SignalZooKeeper(layout(dir), sig, 5*time.Second)
}

// Serve decodes every transaction log of the server, in zxid order.
func (TxnLogs) Serve(_ context.Context, dir string) (TxnLogFiles, error) {
	out := TxnLogFiles{Files: []json.RawMessage{}}
	files, err := txnlog.LogFiles(layout(dir).Data())
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	for _, path := range files {
		f, err := txnlog.ReadFile(path)
		if err != nil {
			return out, err
		}
		data, err := json.Marshal(f)
		if err != nil {
			return out, err
		}
		out.Files = append(out.Files, data)
	}
	return out, nil
}

// Serve reports the server and every role process.
func (Status) Serve(_ context.Context, dir string) (node.Status, error) {
	c, err := node.LoadConfig(dir)
	if err != nil {
		return node.Status{}, err
	}
	return node.HostStatus(c)
}

// Serve stops everything, archives the logs and wipes the data.
func (Reset) Serve(_ context.Context, dir string) (Done, error) {
	c, err := node.LoadConfig(dir)
	if err != nil {
		return Done{}, err
	}
	return Done{}, node.Reset(c)
}

// Serve stops every role and the server.
func (Stop) Serve(_ context.Context, dir string) (Done, error) {
	c, err := node.LoadConfig(dir)
	if err != nil {
		return Done{}, err
	}
	return Done{}, node.StopAll(c)
}

// Serve reads a process's memory.
func (q Memory) Serve(_ context.Context, dir string) (node.Memory, error) {
	return node.ProcMemory(layout(dir), q.Name)
}

// Serve reads a process's whole log.
func (q ReadLog) Serve(_ context.Context, dir string) (Log, error) {
	data, err := node.ReadLog(layout(dir), q.Name)
	return Log{Data: data}, err
}

// Serve reads this host's time.
func (Clock) Serve(context.Context, string) (Time, error) {
	return Time{UnixNano: time.Now().UnixNano()}, nil
}

// Serve signals every process the agent started, at once.
func (q SignalHost) Serve(_ context.Context, dir string) ([]node.Proc, error) {
	sig, err := signal(q.Signal)
	if err != nil {
		return nil, err
	}
	procs, err := node.SignalHost(layout(dir), sig)
	return orEmpty(procs), err
}

// Serve starts instances of a role.
func (q StartRoles) Serve(_ context.Context, dir string) ([]node.Proc, error) {
	if err := schema.CheckRole(q.Role); err != nil {
		return nil, fmt.Errorf("%w: %v", wire.ErrBadRequest, err)
	}
	c, err := node.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	return node.StartRoles(c, q.Role, q.Count, q.ID, q.Args)
}

// Serve signals the instances of a role.
func (q SignalRoles) Serve(_ context.Context, dir string) ([]node.Proc, error) {
	sig, err := signal(q.Signal)
	if err != nil {
		return nil, err
	}
	c, err := node.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	procs, err := node.SignalRoles(c, q.Role, q.ID, sig, 5*time.Second)
	return orEmpty(procs), err
}

func orEmpty(procs []node.Proc) []node.Proc {
	if procs == nil {
		return []node.Proc{}
	}
	return procs
}

// Serve compares the server's configuration in force with the one given
// (the host's node.json when none is).
func (q ServerConfig) Serve(_ context.Context, dir string) (node.ConfigState, error) {
	c := q.Config
	if c == nil {
		var err error
		if c, err = node.LoadConfig(dir); err != nil {
			return node.ConfigState{}, err
		}
	}
	if c.Dir != dir {
		return node.ConfigState{}, fmt.Errorf("%w: a configuration for %s sent to the agent of %s", wire.ErrBadRequest, c.Dir, dir)
	}
	return node.ServerConfigState(c)
}
