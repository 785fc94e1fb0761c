package deploy

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy/inventory"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// RoleConfig is the roles' configuration for a process run by the controller
// itself (submit, scenarios, bench), connected to servers.
func (c *Cluster) RoleConfig(id string, servers []inventory.Host) (roles.Config, error) {
	auth, err := roles.ReadAuth(c.Inv.Cluster.AuthFile)
	if err != nil {
		return roles.Config{}, err
	}
	eps := make([]string, len(servers))
	for i, h := range servers {
		eps[i] = h.ClientAddr()
	}
	host, _ := os.Hostname()
	return roles.Config{Servers: eps, SessionTimeout: c.Inv.Cluster.SessionTimeout, ID: id, Host: host, Auth: auth, Logger: c.Log}, nil
}

// Connect opens a ZooKeeper session to the ensemble from the controller and
// waits until it is established.
func (c *Cluster) Connect(ctx context.Context, servers []inventory.Host) (*zk.Conn, error) {
	cfg, err := c.RoleConfig("zkctl", servers)
	if err != nil {
		return nil, err
	}
	return roles.Dial(ctx, cfg)
}

// CreateBase creates the protocol's top-level znodes.
func (c *Cluster) CreateBase(ctx context.Context, servers []inventory.Host) error {
	conn, err := c.Connect(ctx, servers)
	if err != nil {
		return fmt.Errorf("connect to ZooKeeper: %w", err)
	}
	defer conn.Close()
	auth, _ := roles.ReadAuth(c.Inv.Cluster.AuthFile)
	if err := roles.EnsureBase(conn, roles.ACL(auth)); err != nil {
		return fmt.Errorf("create base znodes: %w", err)
	}
	if err := roles.ProtectRoot(conn, auth); err != nil {
		return err
	}
	c.UI.Printf("created %s", strings.Join(protocol.BasePaths(), " "))
	return nil
}
