package deploy

import (
	"context"
	"strings"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// serverDown reports a host whose ZooKeeper server process is not running
// (never started, stopped, crashed, or gone with a reboot of the host): the
// hosts `zkctl start zookeeper` starts.
func serverDown(st node.Status) bool { return st.ZooKeeper.State == node.StateDead }

// StartDownServers starts the server on every host where it is down (after
// a reboot: every host), then waits for quorum. It returns the servers it
// started; a host it cannot ask fails it before anything is started.
func (c *Cluster) StartDownServers(ctx context.Context) ([]node.Proc, error) {
	servers := c.Inv.ServerHosts() // a role-only host has no server to start
	sts, err := c.Statuses(ctx, servers)
	if err != nil {
		return nil, err
	}
	var down []inventory.Host
	for _, h := range servers {
		if serverDown(sts[h.Name]) {
			down = append(down, h)
		}
	}
	var started []node.Proc
	if len(down) == 0 {
		c.UI.Phase("every server runs")
	} else {
		c.UI.Phase("start ZooKeeper on %s", strings.Join(names(down), ", "))
		procs := make([]node.Proc, len(down))
		err := c.Each(ctx, down, func(ctx context.Context, h inventory.Host, _ transport.Transport) error {
			p, err := c.StartServerOn(ctx, h)
			if err == nil {
				c.UI.Host(h.Name, "zookeeper pid %d, log %s", p.PID, p.Log)
				procs[indexOf(down, h.Name)] = p
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		started = procs
	}
	c.UI.Phase("wait for quorum")
	return started, c.WaitQuorum(ctx, servers, QuorumTimeout)
}
