package deploy

import (
	"context"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// startServerStep starts the host's ZooKeeper server (a no-op where it
// runs) and says its pid and log.
type startServerStep struct{}

func (startServerStep) Title() string { return "start zookeeper" }

func (startServerStep) Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error {
	return c.startZooKeeper(ctx, h, t)
}

func (c *cluster) startZooKeeper(ctx context.Context, h inventory.Host, _ transport.Transport) error {
	p, err := c.StartServerOn(ctx, h)
	if err == nil {
		c.UI.Host(h.Name, "zookeeper pid %d, log %s", p.PID, p.Log)
	}
	return err
}

// StartZooKeeper starts the server on each host (a no-op where it runs).
func StartZooKeeper(ctx context.Context, c *controller.Cluster, hosts []inventory.Host) error {
	return c.Each(ctx, hosts, (&cluster{c}).startZooKeeper)
}
