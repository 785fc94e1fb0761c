package deploy

import (
	"context"
	"strconv"
	"syscall"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/node/netfault"
)

// The node agent's process calls, one method each. They are the only way
// the controller starts or signals a process; package ops builds the
// operations of the CLI, the scenarios and the bench on them.

// StartServerOn asks the agent on h to start its ZooKeeper server (a no-op
// where it runs) and returns the server's process.
func (c *Cluster) StartServerOn(ctx context.Context, h inventory.Host) (node.Proc, error) {
	var p node.Proc
	err := c.agentCall(ctx, h, "start zookeeper", &p, "zk", "start")
	return p, err
}

// SignalServerOn sends sig to the ZooKeeper server on h; TERM waits for the
// exit (and KILLs after a grace period).
func (c *Cluster) SignalServerOn(ctx context.Context, h inventory.Host, sig syscall.Signal) (node.Proc, error) {
	var p node.Proc
	err := c.agentCall(ctx, h, "kill zookeeper", &p, "zk", "signal", "-s", node.SignalName(sig))
	return p, err
}

// StartRolesOn starts n instances of role on h, the first with id when id
// is set, passing args (the role's own flags) to each.
func (c *Cluster) StartRolesOn(ctx context.Context, h inventory.Host, role string, n int, id string, args []string) ([]node.Proc, error) {
	argv := []string{"roles", "start", role, "-n", strconv.Itoa(max(n, 1))}
	if id != "" {
		argv = append(argv, "--id", id)
	}
	if len(args) > 0 {
		argv = append(append(argv, "--"), args...)
	}
	var procs []node.Proc
	err := c.agentCall(ctx, h, "start "+role, &procs, argv...)
	return procs, err
}

// SignalRolesOn sends sig to every live instance of role on h (every role
// when role is ""), or only to instance id.
func (c *Cluster) SignalRolesOn(ctx context.Context, h inventory.Host, role, id string, sig syscall.Signal) ([]node.Proc, error) {
	argv := []string{"roles", "signal", role, "-s", node.SignalName(sig)}
	if id != "" {
		argv = append(argv, "--id", id)
	}
	var procs []node.Proc
	err := c.agentCall(ctx, h, "kill "+role, &procs, argv...)
	return procs, err
}

// agentCall runs the agent on h and decodes its JSON answer into v; a
// failure is a HostError of step.
func (c *Cluster) agentCall(ctx context.Context, h inventory.Host, step string, v any, args ...string) error {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return err
	}
	return stepError(h, step, c.AgentJSON(ctx, h, t, v, args...))
}

// MemoryOf asks the agent on h for the memory of process name ("<role>-<id>").
func (c *Cluster) MemoryOf(ctx context.Context, h inventory.Host, name string) (node.Memory, error) {
	var m node.Memory
	err := c.agentCall(ctx, h, "memory of "+name, &m, "mem", name)
	return m, err
}

// ReadLog asks the agent on h for the whole log of process name.
func (c *Cluster) ReadLog(ctx context.Context, h inventory.Host, name string) ([]byte, error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return nil, err
	}
	out, err := c.Agent(ctx, h, t, "log", name)
	return out, stepError(h, "read log of "+name, err)
}

// SignalHostOn sends sig at once to every process the agent started on h
// (its server and roles) and returns them.
func (c *Cluster) SignalHostOn(ctx context.Context, h inventory.Host, sig syscall.Signal) ([]node.Proc, error) {
	var procs []node.Proc
	err := c.agentCall(ctx, h, "SIG"+node.SignalName(sig)+" every process", &procs, "signal-host", "-s", node.SignalName(sig))
	return procs, err
}

// ClockOffset measures how far h's clock is ahead of this machine's: the
// agent's time minus the midpoint of the call (`zkctl node clock`), with
// the call's round trip as its uncertainty.
func (c *Cluster) ClockOffset(ctx context.Context, h inventory.Host) (offset, rtt time.Duration, err error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return 0, 0, err
	}
	var remote struct {
		UnixNano int64 `json:"unix_nano"`
	}
	t0 := time.Now()
	err = c.AgentJSON(ctx, h, t, &remote, "clock")
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

// exemptArgs are the agent flags of ex.
func exemptArgs(ex netfault.Exempt) []string {
	argv := []string{"--ssh-port", strconv.Itoa(ex.SSHPort)}
	for _, a := range ex.Controller {
		argv = append(argv, "--controller", a)
	}
	return argv
}

// PartitionOn asks the agent on h to cut its traffic with spec.Peers.
func (c *Cluster) PartitionOn(ctx context.Context, h inventory.Host, spec netfault.PartitionSpec) ([]netfault.Cut, error) {
	argv := []string{"net", "partition", "--for", spec.For.String()}
	for _, p := range spec.Peers {
		argv = append(argv, "--peer", p)
	}
	if spec.OneWay {
		argv = append(argv, "--oneway")
	}
	var cuts []netfault.Cut
	err := c.agentCall(ctx, h, "partition", &cuts, append(argv, exemptArgs(spec.Exempt)...)...)
	return cuts, err
}

// DegradeOn asks the agent on h for a degradation of its outbound traffic.
func (c *Cluster) DegradeOn(ctx context.Context, h inventory.Host, spec netfault.DegradeSpec) (netfault.Degradation, error) {
	argv := []string{"net", "degrade", "--for", spec.For.String()}
	for _, p := range spec.Peers {
		argv = append(argv, "--peer", p)
	}
	if spec.Delay > 0 {
		argv = append(argv, "--delay", spec.Delay.String())
	}
	if spec.Loss > 0 {
		argv = append(argv, "--loss", strconv.FormatFloat(spec.Loss, 'f', -1, 64)+"%")
	}
	if spec.Rate > 0 {
		argv = append(argv, "--rate", netfault.FormatRate(spec.Rate))
	}
	var d netfault.Degradation
	err := c.agentCall(ctx, h, "degrade", &d, append(argv, exemptArgs(spec.Exempt)...)...)
	return d, err
}

// ClearDegradationsOn removes every degradation on h (partitions stay) and
// returns their ids.
func (c *Cluster) ClearDegradationsOn(ctx context.Context, h inventory.Host) ([]int, error) {
	var out struct {
		Cleared []int `json:"cleared"`
	}
	err := c.agentCall(ctx, h, "degrade --clear", &out, "net", "degrade", "--clear")
	return out.Cleared, err
}

// HealOn removes every partition and degradation zkctl made on h.
func (c *Cluster) HealOn(ctx context.Context, h inventory.Host) (netfault.Healed, error) {
	var res netfault.Healed
	err := c.agentCall(ctx, h, "heal", &res, "net", "heal")
	return res, err
}

// NetStatusOn reads back the partitions and degradations active on h.
func (c *Cluster) NetStatusOn(ctx context.Context, h inventory.Host) (netfault.Status, error) {
	var st netfault.Status
	err := c.agentCall(ctx, h, "net status", &st, "net", "status")
	return st, err
}
