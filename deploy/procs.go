package deploy

import (
	"context"
	"fmt"
	"strconv"
	"syscall"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// StartOptions are the knobs of `zkctl start`.
type StartOptions struct {
	Count       int    // instances to start
	Concurrency int    // worker: tasks at once
	ID          string // id of the (first) instance; "" = random
	Tasks       int    // client: tasks to submit
	Duration    string // client: task duration
}

// StartRole starts role (zookeeper, master, worker or client) on host and
// returns the processes started.
func (c *Cluster) StartRole(ctx context.Context, role, hostName string, o StartOptions) ([]node.Proc, error) {
	h, t, err := c.hostTransport(ctx, hostName)
	if err != nil {
		return nil, err
	}
	if role == node.ZooKeeperName {
		p, err := c.zooKeeperUp(ctx, h, t)
		if err != nil {
			return nil, err
		}
		return []node.Proc{p}, nil
	}
	args := []string{"roles", "start", role, "-n", strconv.Itoa(max(o.Count, 1))}
	if o.ID != "" {
		args = append(args, "--id", o.ID)
	}
	if role == "worker" && o.Concurrency > 0 {
		args = append(args, "--", "-c", strconv.Itoa(o.Concurrency))
	}
	if role == "client" {
		args = append(args, "--", "-n", strconv.Itoa(max(o.Tasks, 1)))
		if o.Duration != "" {
			args = append(args, "-d", o.Duration)
		}
	}
	var procs []node.Proc
	if err := c.AgentJSON(ctx, h, t, &procs, args...); err != nil {
		return nil, stepError(h, "start "+role, err)
	}
	return procs, nil
}

// KillRole signals every instance of role on host, or only instance id.
func (c *Cluster) KillRole(ctx context.Context, role, hostName string, sig syscall.Signal, id string) ([]node.Proc, error) {
	h, t, err := c.hostTransport(ctx, hostName)
	if err != nil {
		return nil, err
	}
	sigName := node.SignalName(sig)
	if role == node.ZooKeeperName {
		var p node.Proc
		if err := c.AgentJSON(ctx, h, t, &p, "zk", "signal", "-s", sigName); err != nil {
			return nil, stepError(h, "kill zookeeper", err)
		}
		return []node.Proc{p}, nil
	}
	args := []string{"roles", "signal", role, "-s", sigName}
	if id != "" {
		args = append(args, "--id", id)
	}
	var procs []node.Proc
	if err := c.AgentJSON(ctx, h, t, &procs, args...); err != nil {
		return nil, stepError(h, "kill "+role, err)
	}
	return procs, nil
}

// hostTransport returns the named host and its connection.
func (c *Cluster) hostTransport(ctx context.Context, name string) (inventory.Host, transport.Transport, error) {
	h, ok := c.Inv.Host(name)
	if !ok {
		return h, nil, fmt.Errorf("unknown host %q: the inventory has %v", name, c.Inv.HostNames())
	}
	t, err := c.Transport(ctx, h)
	return h, t, err
}
