package deploy

import (
	"context"
	"syscall"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/node/netfault"
	"zkctl/node/wire"
)

// The node agent's process calls, one method each. They are the only way
// the controller starts or signals a process; package ops builds the
// operations of the CLI, the scenarios and the bench on them.

// StartServerOn asks the agent on h to start its ZooKeeper server (a no-op
// where it runs) and returns the server's process.
func (c *Cluster) StartServerOn(ctx context.Context, h inventory.Host) (node.Proc, error) {
	return callOn(ctx, c, h, "start zookeeper", wire.StartServer{})
}

// SignalServerOn sends sig to the ZooKeeper server on h; TERM waits for the
// exit (and KILLs after a grace period).
func (c *Cluster) SignalServerOn(ctx context.Context, h inventory.Host, sig syscall.Signal) (node.Proc, error) {
	return callOn(ctx, c, h, "kill zookeeper", wire.SignalServer{Signal: node.SignalName(sig)})
}

// StartRolesOn starts n instances of role on h, the first with id when id
// is set, passing args (the role's own flags) to each.
func (c *Cluster) StartRolesOn(ctx context.Context, h inventory.Host, role string, n int, id string, args []string) ([]node.Proc, error) {
	return callOn(ctx, c, h, "start "+role, wire.StartRoles{Role: role, Count: max(n, 1), ID: id, Args: args})
}

// SignalRolesOn sends sig to every live instance of role on h (every role
// when role is ""), or only to instance id.
func (c *Cluster) SignalRolesOn(ctx context.Context, h inventory.Host, role, id string, sig syscall.Signal) ([]node.Proc, error) {
	return callOn(ctx, c, h, "kill "+role, wire.SignalRoles{Role: role, ID: id, Signal: node.SignalName(sig)})
}

// MemoryOf asks the agent on h for the memory of process name ("<role>-<id>").
func (c *Cluster) MemoryOf(ctx context.Context, h inventory.Host, name string) (node.Memory, error) {
	return callOn(ctx, c, h, "memory of "+name, wire.Memory{Name: name})
}

// ReadLog asks the agent on h for the whole log of process name.
func (c *Cluster) ReadLog(ctx context.Context, h inventory.Host, name string) ([]byte, error) {
	l, err := callOn(ctx, c, h, "read log of "+name, wire.ReadLog{Name: name})
	return l.Data, err
}

// SignalHostOn sends sig at once to every process the agent started on h
// (its server and roles) and returns them.
func (c *Cluster) SignalHostOn(ctx context.Context, h inventory.Host, sig syscall.Signal) ([]node.Proc, error) {
	return callOn(ctx, c, h, "SIG"+node.SignalName(sig)+" every process", wire.SignalHost{Signal: node.SignalName(sig)})
}

// ClockOffset measures how far h's clock is ahead of this machine's: the
// agent's time minus the midpoint of the call (`zkctl node clock`), with
// the call's round trip as its uncertainty.
func (c *Cluster) ClockOffset(ctx context.Context, h inventory.Host) (offset, rtt time.Duration, err error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	remote, err := call(ctx, c, h, t, wire.Clock{})
	t1 := time.Now()
	if err != nil {
		return 0, 0, stepError(h, "clock", err)
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	return time.Unix(0, remote.UnixNano).Sub(mid), t1.Sub(t0), nil
}

// The agent's network fault calls (`zkctl node net …`, package netfault).

// ControllerAddrOn is the address h sees the controller connect from: the
// local end of the SSH connection (behind jump hosts, the innermost hop's),
// or 127.0.0.1 for a local host. Network
// faults exempt it, so the controller never cuts itself off.
func (c *Cluster) ControllerAddrOn(ctx context.Context, h inventory.Host) (string, error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return "", err
	}
	if s, ok := t.(*transport.SSH); ok {
		return s.ControllerAddr(ctx)
	}
	return "127.0.0.1", nil
}

// PartitionOn asks the agent on h to cut its traffic with spec.Peers.
func (c *Cluster) PartitionOn(ctx context.Context, h inventory.Host, spec netfault.PartitionSpec) ([]netfault.Cut, error) {
	return callOn(ctx, c, h, "partition", wire.Partition{Spec: spec})
}

// DegradeOn asks the agent on h for a degradation of its outbound traffic.
func (c *Cluster) DegradeOn(ctx context.Context, h inventory.Host, spec netfault.DegradeSpec) (netfault.Degradation, error) {
	return callOn(ctx, c, h, "degrade", wire.Degrade{Spec: spec})
}

// ClearDegradationsOn removes every degradation on h (partitions stay) and
// returns their ids.
func (c *Cluster) ClearDegradationsOn(ctx context.Context, h inventory.Host) ([]int, error) {
	out, err := callOn(ctx, c, h, "degrade --clear", wire.ClearDegradations{})
	return out.Cleared, err
}

// HealOn removes every partition and degradation zkctl made on h.
func (c *Cluster) HealOn(ctx context.Context, h inventory.Host) (netfault.Healed, error) {
	return callOn(ctx, c, h, "heal", wire.Heal{})
}

// NetStatusOn reads back the partitions and degradations active on h.
func (c *Cluster) NetStatusOn(ctx context.Context, h inventory.Host) (netfault.Status, error) {
	return callOn(ctx, c, h, "net status", wire.NetStatus{})
}
