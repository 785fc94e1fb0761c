package ops

import (
	"context"

	"zkctl/controller"
	"zkctl/node"
)

// StartServer starts the ZooKeeper server on Host (nothing happens where it
// already runs). It does not wait for the server to join a quorum.
type StartServer struct{ Host string }

// Title implements Op.
func (s StartServer) Title() string { return "start zookeeper on " + s.Host }

// Run implements Op.
func (s StartServer) Run(ctx context.Context, c *controller.Cluster) (Record, error) {
	rec := begin(s, KindStartServer, s.Host, node.ZooKeeperName, "")
	h, err := host(c, s.Host)
	if err != nil {
		return rec.done(nil, err)
	}
	p, err := c.StartServerOn(ctx, h)
	return rec.done([]node.Proc{p}, err)
}
