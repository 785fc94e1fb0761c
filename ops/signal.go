package ops

import (
	"context"
	"fmt"
	"syscall"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/node"
)

// Signal sends Signal to every live instance of Role on Host (every role
// when Role is ""), or only to instance ID; Role zookeeper is the server.
// TERM waits for the exit and KILLs after a grace period.
type Signal struct {
	Role, Host, ID string
	Signal         syscall.Signal
}

// Title implements Op.
func (s Signal) Title() string {
	what := s.Role
	if what == "" {
		what = "every role"
	}
	if s.ID != "" {
		what += " " + s.ID
	}
	return fmt.Sprintf("SIG%s %s on %s", node.SignalName(s.Signal), what, s.Host)
}

// Run implements Op.
func (s Signal) Run(ctx context.Context, c *controller.Cluster) (Record, error) {
	rec := begin(s, KindSignal, s.Host, s.Role, s.ID)
	rec.Signal = "SIG" + node.SignalName(s.Signal)
	h, err := host(c, s.Host)
	if err != nil {
		return rec.done(nil, err)
	}
	if s.Role == node.ZooKeeperName {
		p, err := c.SignalServerOn(ctx, h, s.Signal)
		return rec.done([]node.Proc{p}, err)
	}
	procs, err := c.SignalRolesOn(ctx, h, s.Role, s.ID, s.Signal)
	return rec.done(procs, err)
}

// host looks name up in the inventory.
func host(c *controller.Cluster, name string) (inventory.Host, error) {
	hs, err := c.Hosts(name)
	if err != nil {
		return inventory.Host{}, err
	}
	return hs[0], nil
}
