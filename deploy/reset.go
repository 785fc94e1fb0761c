package deploy

import (
	"context"
	"fmt"
	"strings"

	"zkctl/deploy/inventory"
)

// resetPhases is what reset does, in order: on every host, stop and wipe
// under a configuration naming servers as the ensemble; start the servers;
// wait for quorum; create the base znodes.
func (c *Cluster) resetPhases(servers []inventory.Host) []phase {
	return []phase{
		{header: fmt.Sprintf("stop roles and ZooKeeper, wipe data on %d hosts", len(c.Inv.Hosts)),
			hosts: c.Inv.Hosts, steps: []step{configStep{servers: servers}, wipeStep{}}},
		{header: "start ZooKeeper on " + strings.Join(names(servers), ", "),
			hosts: servers, steps: []step{startServerStep{}}},
		{header: "wait for quorum",
			run: func(ctx context.Context, c *Cluster) error { return c.WaitQuorum(ctx, servers, QuorumTimeout) }},
		{header: "create base znodes",
			run: func(ctx context.Context, c *Cluster) error { return c.CreateBase(ctx, servers) }},
	}
}

// Reset stops every role and server, wipes data, starts the full ensemble
// (every host but the role-only ones), waits for quorum and creates the
// base znodes.
func (c *Cluster) Reset(ctx context.Context) error {
	return c.ResetServers(ctx, c.Inv.ServerHosts())
}

// ResetServers is Reset with an ensemble made of servers only (one server
// is a standalone ZooKeeper); the other hosts are stopped and wiped too.
func (c *Cluster) ResetServers(ctx context.Context, servers []inventory.Host) error {
	return c.runPhases(ctx, c.resetPhases(servers))
}

func names(hosts []inventory.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}
