package controller

import (
	"context"
	"syscall"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/node/agent"
	"zkctl/node/netfault"
)

// The node agent's process calls, one method each. They are the only way
// the controller starts or signals a process; package ops builds the
// operations of the CLI, the scenarios and the bench on them.

// StartServerOn asks the agent on h to start its ZooKeeper server (a no-op
// where it runs) and returns the server's process.
func (c *Cluster) StartServerOn(ctx context.Context, h inventory.Host) (node.Proc, error) {
	return Call(ctx, c, h, "start zookeeper", agent.StartServer{})
}

// SignalServerOn sends sig to the ZooKeeper server on h; TERM waits for the
// exit (and KILLs after a grace period).
func (c *Cluster) SignalServerOn(ctx context.Context, h inventory.Host, sig syscall.Signal) (node.Proc, error) {
	return Call(ctx, c, h, "kill zookeeper", agent.SignalServer{Signal: node.SignalName(sig)})
}

// StartRolesOn starts n instances of role on h, the first with id when id
// is set, passing args (the role's own flags) to each.
func (c *Cluster) StartRolesOn(ctx context.Context, h inventory.Host, role string, n int, id string, args []string) ([]node.Proc, error) {
	return Call(ctx, c, h, "start "+role, agent.StartRoles{Role: role, Count: max(n, 1), ID: id, Args: args})
}

// SignalRolesOn sends sig to every live instance of role on h (every role
// when role is ""), or only to instance id.
func (c *Cluster) SignalRolesOn(ctx context.Context, h inventory.Host, role, id string, sig syscall.Signal) ([]node.Proc, error) {
	return Call(ctx, c, h, "kill "+role, agent.SignalRoles{Role: role, ID: id, Signal: node.SignalName(sig)})
}

// MemoryOf asks the agent on h for the memory of process name ("<role>-<id>").
func (c *Cluster) MemoryOf(ctx context.Context, h inventory.Host, name string) (node.Memory, error) {
	return Call(ctx, c, h, "memory of "+name, agent.Memory{Name: name})
}

// ReadLog asks the agent on h for the whole log of process name.
func (c *Cluster) ReadLog(ctx context.Context, h inventory.Host, name string) ([]byte, error) {
	l, err := Call(ctx, c, h, "read log of "+name, agent.ReadLog{Name: name})
	return l.Data, err
}

// SignalHostOn sends sig at once to every process the agent started on h
// (its server and roles) and returns them.
func (c *Cluster) SignalHostOn(ctx context.Context, h inventory.Host, sig syscall.Signal) ([]node.Proc, error) {
	return Call(ctx, c, h, "SIG"+node.SignalName(sig)+" every process", agent.SignalHost{Signal: node.SignalName(sig)})
}

// ClockOffset measures how far h's clock is ahead of this machine's: the
// agent's time minus the midpoint of the call (`zkctl node clock`), with
// the call's round trip as its uncertainty.
func (c *Cluster) ClockOffset(ctx context.Context, h inventory.Host) (offset, rtt time.Duration, err error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return 0, 0, err
	}
	offset, rtt, err = ClockOffsetBy(func() (agent.Time, error) { return CallOn(ctx, c, h, t, agent.Clock{}) })
	return offset, rtt, StepError(h, "clock", err)
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
	return Call(ctx, c, h, "partition", spec)
}

// HealOn removes every partition and degradation zkctl made on h.
func (c *Cluster) HealOn(ctx context.Context, h inventory.Host) (netfault.Healed, error) {
	return Call(ctx, c, h, "heal", netfault.HealRequest{})
}

// NetReadyOn asks h's agent whether it can make network faults (nft, tc,
// the privilege: NetStatusOn answers, or says why not), once per Cluster:
// a yes holds for the Cluster's life, so that each of a scenario's many
// faults costs one call on the host, not two.
func (c *Cluster) NetReadyOn(ctx context.Context, h inventory.Host) error {
	c.mu.Lock()
	ready := c.netReady[h.Name]
	c.mu.Unlock()
	if ready {
		return nil
	}
	if _, err := c.NetStatusOn(ctx, h); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.netReady == nil {
		c.netReady = map[string]bool{}
	}
	c.netReady[h.Name] = true
	return nil
}

// NetStatusOn reads back the partitions and degradations active on h.
func (c *Cluster) NetStatusOn(ctx context.Context, h inventory.Host) (netfault.Status, error) {
	return Call(ctx, c, h, "net status", netfault.StatusRequest{})
}

// ClockOffsetBy measures how far a host's clock is ahead of this
// machine's with one Clock call made by do: the host's time minus the
// midpoint of the call, with the round trip as its uncertainty. deploy's check and
// the history judge (ClockOffset) measure the same way.
func ClockOffsetBy(do func() (agent.Time, error)) (offset, rtt time.Duration, err error) {
	t0 := time.Now()
	remote, err := do()
	t1 := time.Now()
	if err != nil {
		return 0, 0, err
	}
	return time.Unix(0, remote.UnixNano).Sub(t0.Add(t1.Sub(t0) / 2)), t1.Sub(t0), nil
}
