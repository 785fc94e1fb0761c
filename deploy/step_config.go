package deploy

import (
	"bytes"
	"context"
	"encoding/json"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/roles"
)

// configStep writes the host's conf/node.json (and conf/auth) for an
// ensemble of servers; nil servers means every host of the inventory.
type configStep struct{ servers []inventory.Host }

func (configStep) Title() string { return "write conf/node.json" }

func (s configStep) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	servers := s.servers
	if servers == nil {
		servers = c.Inv.ServerHosts()
	}
	return c.writeNodeConfig(ctx, h, t, c.NodeConfig(h, servers))
}

// NodeConfig is the node configuration of host h in an ensemble of servers.
func (c *Cluster) NodeConfig(h inventory.Host, servers []inventory.Host) *node.Config {
	nc := &node.Config{
		Host: h.Name, Dir: h.Dir, MyID: h.ID, Address: h.Address, ClientPort: h.ClientPort,
		TickTime: c.Inv.Cluster.TickTime, SessionTimeout: c.Inv.Cluster.SessionTimeout,
		ZooKeeperHome: c.zooKeeperHome(h),
	}
	if c.Inv.Cluster.AuthFile != "" {
		nc.AuthFile = node.Layout{Dir: h.Dir}.AuthFile()
	}
	for _, s := range servers {
		nc.Servers = append(nc.Servers, node.Server{ID: s.ID, Host: s.Name, Address: s.Address,
			ClientPort: s.ClientPort, PeerPort: s.PeerPort, ElectionPort: s.ElectionPort, Observer: s.Observer})
	}
	nc.Roles = c.roleCommands(h, nc) // [roles.*] (step_app.go)
	return nc
}

func (c *Cluster) writeNodeConfig(ctx context.Context, h inventory.Host, t transport.Transport, nc *node.Config) error {
	if c.Inv.Cluster.AuthFile != "" {
		secret, err := roles.ReadAuth(c.Inv.Cluster.AuthFile)
		if err != nil {
			return stepError(h, "read auth_file", err)
		}
		if err := writeIfChanged(ctx, t, nc.AuthFile, []byte(secret+"\n"), 0o600); err != nil {
			return stepError(h, "write conf/auth", err)
		}
	}
	data, err := nodeConfigJSON(nc)
	if err != nil {
		return err
	}
	if err := writeIfChanged(ctx, t, node.Layout{Dir: h.Dir}.ConfigFile(), data, 0o644); err != nil {
		return stepError(h, "write conf/node.json", err)
	}
	return nil
}

// writeIfChanged writes data atomically unless the file already holds it.
func writeIfChanged(ctx context.Context, t transport.Transport, path string, data []byte, mode uint32) error {
	if old, err := t.ReadFile(ctx, path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return t.WriteFile(ctx, path, data, mode)
}

// nodeConfigJSON is conf/node.json as deploy writes it.
func nodeConfigJSON(nc *node.Config) ([]byte, error) {
	data, err := json.MarshalIndent(nc, "", "  ")
	return append(data, '\n'), err
}
