package ops

import (
	"context"
	"syscall"

	"zkctl/controller"
	"zkctl/node"
)

// StopServer stops the ZooKeeper server on Host: TERM, then KILL after a
// grace period; it returns once the server is gone.
type StopServer struct{ Host string }

// Title implements Op.
func (s StopServer) Title() string { return "stop zookeeper on " + s.Host }

// Run implements Op.
func (s StopServer) Run(ctx context.Context, c *controller.Cluster) (Record, error) {
	rec := begin(s, KindStopServer, s.Host, node.ZooKeeperName, "")
	rec.Signal = "SIGTERM"
	h, err := host(c, s.Host)
	if err != nil {
		return rec.done(nil, err)
	}
	p, err := c.SignalServerOn(ctx, h, syscall.SIGTERM)
	return rec.done([]node.Proc{p}, err)
}
