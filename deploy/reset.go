package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/schema"
	"zkctl/zksession"
)

// resetPhases is what reset does, in order: on every host, stop and wipe
// under a configuration naming servers as the ensemble; start the servers;
// wait for quorum; create the base znodes.
func (c *cluster) resetPhases(servers []inventory.Host) []phase {
	return []phase{
		{header: fmt.Sprintf("stop roles and ZooKeeper, wipe data on %d hosts", len(c.Inv.Hosts)),
			hosts: c.Inv.Hosts, steps: []step{configStep{servers: servers}, wipeStep{}}},
		{header: "start ZooKeeper on " + strings.Join(names(servers), ", "),
			hosts: servers, steps: []step{startServerStep{}}},
		{header: "wait for quorum",
			run: func(ctx context.Context, c *cluster) error {
				return WaitQuorum(ctx, c.Cluster, servers, QuorumTimeout)
			}},
		{header: "create base znodes",
			run: func(ctx context.Context, c *cluster) error { return c.createBase(ctx, servers) }},
	}
}

// Reset stops every role and server, wipes data, starts the full ensemble
// (every host but the role-only ones), waits for quorum and creates the
// base znodes.
func Reset(ctx context.Context, cc *controller.Cluster) error {
	c := &cluster{cc}
	return ResetServers(ctx, c.Cluster, c.Inv.ServerHosts())
}

// ResetServers is Reset with an ensemble made of servers only (one server
// is a standalone ZooKeeper); the other hosts are stopped and wiped too.
func ResetServers(ctx context.Context, cc *controller.Cluster, servers []inventory.Host) error {
	c := &cluster{cc}
	return c.runPhases(ctx, c.resetPhases(servers))
}

func names(hosts []inventory.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}

// BaseConnectTimeout bounds how long createBase, run once the ensemble has
// quorum, waits for the controller's session.
const BaseConnectTimeout = 30 * time.Second

// createBase creates the protocol's top-level znodes.
func (c *cluster) createBase(ctx context.Context, servers []inventory.Host) error {
	cctx, cancel := context.WithTimeout(ctx, BaseConnectTimeout)
	conn, err := c.Connect(cctx, servers)
	cancel()
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the ensemble has quorum, but no server answered this machine within %v: "+
			"its client ports are out of reach from here (open them, or set tunnel = true in [ssh]): %w", BaseConnectTimeout, err)
	}
	if err != nil {
		return fmt.Errorf("connect to ZooKeeper: %w", err)
	}
	defer conn.Close()
	auth, _ := zksession.ReadAuth(c.Inv.Cluster.AuthFile)
	if err := zksession.EnsureBase(conn, zksession.ACL(auth)); err != nil {
		return fmt.Errorf("create base znodes: %w", err)
	}
	if err := zksession.ProtectRoot(conn, auth); err != nil {
		return err
	}
	c.UI.Printf("created %s", strings.Join(schema.BasePaths(), " "))
	return nil
}
