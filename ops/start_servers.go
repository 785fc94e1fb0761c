package ops

import (
	"context"

	"zkctl/deploy"
	"zkctl/node"
)

// StartServers starts the ZooKeeper server on every host where it is down
// and waits for quorum: how an ensemble comes back after its hosts
// rebooted. Procs are the servers it started (none when all ran).
type StartServers struct{}

// Title implements Op.
func (StartServers) Title() string { return "start every zookeeper that is down" }

// Run implements Op.
func (s StartServers) Run(ctx context.Context, c *deploy.Cluster) (Record, error) {
	rec := begin(s, KindStartServer, "", node.ZooKeeperName, "")
	procs, err := c.StartDownServers(ctx)
	return rec.done(procs, err)
}
