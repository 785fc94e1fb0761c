package controller

import (
	"context"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/node/agent"
)

// Statuses asks every host's agent for its status, in parallel. Hosts that
// cannot be reached are missing from the map and reported in the error.
func (c *Cluster) Statuses(ctx context.Context, hosts []inventory.Host) (map[string]node.Status, error) {
	out := make(map[string]node.Status, len(hosts))
	ch := make(chan node.Status, len(hosts))
	err := c.Each(ctx, hosts, func(ctx context.Context, h inventory.Host, t transport.Transport) error {
		st, err := CallOn(ctx, c, h, t, agent.Status{})
		if err != nil {
			return StepError(h, "status", err)
		}
		st.Host = h.Name
		ch <- st
		return nil
	})
	close(ch)
	for st := range ch {
		out[st.Host] = st
	}
	return out, err
}
