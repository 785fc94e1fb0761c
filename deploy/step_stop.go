package deploy

import (
	"context"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node/agent"
)

// stopStep asks the agent to stop every role and the server, keeping data
// and logs.
type stopStep struct{}

func (stopStep) Title() string { return "stop" }

func (stopStep) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	_, err := call(ctx, c, h, t, agent.Stop{})
	return err
}
