package deploy

import (
	"context"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// startServerStep starts the host's ZooKeeper server (a no-op where it
// runs) and says its pid and log.
type startServerStep struct{}

func (startServerStep) Title() string { return "start zookeeper" }

func (startServerStep) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	return c.startZooKeeper(ctx, h, t)
}

// zooKeeperUp asks the agent to start the server (a no-op where it runs).
func (c *Cluster) zooKeeperUp(ctx context.Context, h inventory.Host, t transport.Transport) (node.Proc, error) {
	var p node.Proc
	if err := c.AgentJSON(ctx, h, t, &p, "zk", "start"); err != nil {
		return p, stepError(h, "start zookeeper", err)
	}
	return p, nil
}

func (c *Cluster) startZooKeeper(ctx context.Context, h inventory.Host, t transport.Transport) error {
	p, err := c.zooKeeperUp(ctx, h, t)
	if err == nil {
		c.UI.Host(h.Name, "zookeeper pid %d, log %s", p.PID, p.Log)
	}
	return err
}

// StartZooKeeper starts the server on each host (a no-op where it runs).
func (c *Cluster) StartZooKeeper(ctx context.Context, hosts []inventory.Host) error {
	return c.Each(ctx, hosts, c.startZooKeeper)
}
