// Package agent is the node agent's side of the controller–agent wire: one
// handler per call of package node/wire, and Serve, which decodes a
// request, runs its handler and answers. The `zkctl node …` subcommands
// for people debugging a host call the same handlers.
//
// Adding an agent call: a request/response pair in node/wire (calls.go),
// a handler here (one method of Agent and one line in handlers), and a
// client method in the controller.
//
// agent imports node, node/netfault, node/wire, history/txnlog (the
// transaction logs are decoded on the host) and the role names of package
// schema; nothing of the controller.
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
	"zkctl/node/netfault"
	"zkctl/node/wire"
	"zkctl/schema"
)

// Agent runs the calls on the host whose zkctl folder is Dir.
type Agent struct{ Dir string }

// Serve answers one request envelope.
func (a Agent) Serve(ctx context.Context, envelope []byte) wire.Response {
	var env wire.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return wire.Answer(nil, fmt.Errorf("%w: %v", wire.ErrBadRequest, err))
	}
	h, ok := handlers()[env.Call]
	if !ok {
		return wire.Answer(nil, fmt.Errorf("%w: unknown call %q", wire.ErrBadRequest, env.Call))
	}
	return wire.Answer(h(ctx, a, env.Args))
}

type handler func(ctx context.Context, a Agent, args json.RawMessage) (any, error)

// handlers maps each call to its handler.
func handlers() map[string]handler {
	return map[string]handler{
		wire.Info{}.Call():              handle(Agent.Info),
		wire.StartServer{}.Call():       handle(Agent.StartServer),
		wire.SignalServer{}.Call():      handle(Agent.SignalServer),
		wire.TxnLogs{}.Call():           handle(Agent.TxnLogs),
		wire.ServerConfig{}.Call():      handle(Agent.ServerConfig),
		wire.Status{}.Call():            handle(Agent.Status),
		wire.Reset{}.Call():             handle(Agent.Reset),
		wire.Stop{}.Call():              handle(Agent.Stop),
		wire.Memory{}.Call():            handle(Agent.Memory),
		wire.ReadLog{}.Call():           handle(Agent.ReadLog),
		wire.Clock{}.Call():             handle(Agent.Clock),
		wire.SignalHost{}.Call():        handle(Agent.SignalHost),
		wire.StartRoles{}.Call():        handle(Agent.StartRoles),
		wire.SignalRoles{}.Call():       handle(Agent.SignalRoles),
		wire.Partition{}.Call():         handle(Agent.Partition),
		wire.Degrade{}.Call():           handle(Agent.Degrade),
		wire.ClearDegradations{}.Call(): handle(Agent.ClearDegradations),
		wire.Heal{}.Call():              handle(Agent.Heal),
		wire.NetStatus{}.Call():         handle(Agent.NetStatus),
	}
}

// handle decodes a call's arguments for fn.
func handle[Q wire.Request[R], R any](fn func(Agent, context.Context, Q) (R, error)) handler {
	return func(ctx context.Context, a Agent, args json.RawMessage) (any, error) {
		var q Q
		if err := json.Unmarshal(args, &q); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", wire.ErrBadRequest, q.Call(), err)
		}
		return fn(a, ctx, q)
	}
}

func (a Agent) layout() node.Layout           { return node.Layout{Dir: a.Dir} }
func (a Agent) config() (*node.Config, error) { return node.LoadConfig(a.Dir) }
func (a Agent) net() netfault.Host            { return netfault.Host{Dir: a.Dir} }
func signal(name string) (syscall.Signal, error) {
	sig, err := node.ParseSignal(name)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", wire.ErrBadRequest, err)
	}
	return sig, nil
}

// Info detects the architecture, Java and ZooKeeper.
func (a Agent) Info(_ context.Context, q wire.Info) (node.Info, error) {
	return node.HostInfo(q.Home), nil
}

// StartServer starts the ZooKeeper server.
func (a Agent) StartServer(context.Context, wire.StartServer) (node.Proc, error) {
	c, err := a.config()
	if err != nil {
		return node.Proc{}, err
	}
	return node.StartZooKeeper(c)
}

// SignalServer signals the ZooKeeper server; TERM KILLs after 5 s.
func (a Agent) SignalServer(_ context.Context, q wire.SignalServer) (node.Proc, error) {
	sig, err := signal(q.Signal)
	if err != nil {
		return node.Proc{}, err
	}
	return node.SignalZooKeeper(a.layout(), sig, 5*time.Second)
}

// TxnLogs decodes every transaction log of the server
// (<dir>/data/version-2/log.*), in zxid order; none when it never wrote one.
func (a Agent) TxnLogs(context.Context, wire.TxnLogs) (wire.TxnLogFiles, error) {
	out := wire.TxnLogFiles{Files: []json.RawMessage{}}
	files, err := txnlog.LogFiles(a.layout().Data())
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

// ServerConfig compares the server's configuration in force with the
// one given (the host's node.json when none is).
func (a Agent) ServerConfig(_ context.Context, q wire.ServerConfig) (node.ConfigState, error) {
	c := q.Config
	if c == nil {
		var err error
		if c, err = a.config(); err != nil {
			return node.ConfigState{}, err
		}
	}
	if c.Dir != a.Dir {
		return node.ConfigState{}, fmt.Errorf("%w: config for dir %s sent to the agent of %s", wire.ErrBadRequest, c.Dir, a.Dir)
	}
	return node.ServerConfigState(c)
}

// Status reports the server and every role process.
func (a Agent) Status(context.Context, wire.Status) (node.Status, error) {
	c, err := a.config()
	if err != nil {
		return node.Status{}, err
	}
	return node.HostStatus(c)
}

// Reset stops everything, archives the logs and wipes the data.
func (a Agent) Reset(context.Context, wire.Reset) (wire.Done, error) {
	c, err := a.config()
	if err != nil {
		return wire.Done{}, err
	}
	return wire.Done{}, node.Reset(c)
}

// Stop stops every role and the server.
func (a Agent) Stop(context.Context, wire.Stop) (wire.Done, error) {
	c, err := a.config()
	if err != nil {
		return wire.Done{}, err
	}
	return wire.Done{}, node.StopAll(c)
}

// Memory reads a process's memory.
func (a Agent) Memory(_ context.Context, q wire.Memory) (node.Memory, error) {
	return node.ProcMemory(a.layout(), q.Name)
}

// ReadLog reads a process's whole log.
func (a Agent) ReadLog(_ context.Context, q wire.ReadLog) (wire.Log, error) {
	data, err := node.ReadLog(a.layout(), q.Name)
	return wire.Log{Data: data}, err
}

// Clock reads this host's time.
func (a Agent) Clock(context.Context, wire.Clock) (wire.Time, error) {
	return wire.Time{UnixNano: time.Now().UnixNano()}, nil
}

// SignalHost signals every process the agent started, at once.
func (a Agent) SignalHost(_ context.Context, q wire.SignalHost) ([]node.Proc, error) {
	sig, err := signal(q.Signal)
	if err != nil {
		return nil, err
	}
	procs, err := node.SignalHost(a.layout(), sig)
	return orEmpty(procs), err
}

// StartRoles starts instances of a role of the registry.
func (a Agent) StartRoles(_ context.Context, q wire.StartRoles) ([]node.Proc, error) {
	if err := schema.CheckRole(q.Role); err != nil {
		return nil, fmt.Errorf("%w: %v", wire.ErrBadRequest, err)
	}
	c, err := a.config()
	if err != nil {
		return nil, err
	}
	return node.StartRoles(c, q.Role, q.Count, q.ID, q.Args)
}

// SignalRoles signals the instances of a role; TERM KILLs after 5 s.
func (a Agent) SignalRoles(_ context.Context, q wire.SignalRoles) ([]node.Proc, error) {
	sig, err := signal(q.Signal)
	if err != nil {
		return nil, err
	}
	c, err := a.config()
	if err != nil {
		return nil, err
	}
	procs, err := node.SignalRoles(c, q.Role, q.ID, sig, 5*time.Second)
	return orEmpty(procs), err
}

// Partition cuts this host's traffic with the spec's peers.
func (a Agent) Partition(ctx context.Context, q wire.Partition) ([]netfault.Cut, error) {
	return a.net().Partition(ctx, q.Spec)
}

// Degrade degrades this host's outbound traffic.
func (a Agent) Degrade(ctx context.Context, q wire.Degrade) (netfault.Degradation, error) {
	return a.net().Degrade(ctx, q.Spec)
}

// ClearDegradations removes every degradation.
func (a Agent) ClearDegradations(ctx context.Context, _ wire.ClearDegradations) (wire.Cleared, error) {
	ids, err := a.net().ClearDegradations(ctx)
	return wire.Cleared{Cleared: ids}, err
}

// Heal removes every partition and degradation.
func (a Agent) Heal(ctx context.Context, _ wire.Heal) (netfault.Healed, error) {
	return a.net().Heal(ctx)
}

// NetStatus reads back the partitions and degradations.
func (a Agent) NetStatus(ctx context.Context, _ wire.NetStatus) (netfault.Status, error) {
	return a.net().Status(ctx)
}

func orEmpty(procs []node.Proc) []node.Proc {
	if procs == nil {
		return []node.Proc{}
	}
	return procs
}
