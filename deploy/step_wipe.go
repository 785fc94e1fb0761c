package deploy

import (
	"context"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node/agent"
)

// wipeStep asks the agent to stop every role and the server and to wipe
// ZooKeeper's data (`zkctl node reset`).
type wipeStep struct{}

func (wipeStep) Title() string { return "reset" }

func (wipeStep) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	if _, err := call(ctx, c, h, t, agent.Reset{}); err != nil {
		return err
	}
	c.UI.Host(h.Name, "stopped, data wiped")
	return nil
}
