package ops

import (
	"context"
	"fmt"

	"zkctl/controller"
	"zkctl/node"
	"zkctl/roles"
)

// Start starts Count instances (default 1) of a role of the registry on
// Host, the first with ID when it is set; Options are the role's own knobs.
// Role zookeeper is StartServer.
type Start struct {
	Role, Host string
	Count      int
	ID         string
	Options    roles.Options
}

// Title implements Op.
func (s Start) Title() string {
	if s.ID != "" {
		return fmt.Sprintf("start %s %s on %s", s.Role, s.ID, s.Host)
	}
	return fmt.Sprintf("start %s on %s", s.Role, s.Host)
}

// Run implements Op.
func (s Start) Run(ctx context.Context, c *controller.Cluster) (Record, error) {
	if s.Role == node.ZooKeeperName {
		return StartServer{Host: s.Host}.Run(ctx, c)
	}
	rec := begin(s, KindStart, s.Host, s.Role, s.ID)
	role, err := roles.Lookup(s.Role)
	if err != nil {
		return rec.done(nil, err)
	}
	h, err := host(c, s.Host)
	if err != nil {
		return rec.done(nil, err)
	}
	procs, err := c.StartRolesOn(ctx, h, role.Name, max(s.Count, 1), s.ID, role.Args(s.Options))
	return rec.done(procs, err)
}
