package deploy

import (
	"context"

	"zkctl/controller"
)

// stopPhases is what stop does: stop every role and server on every host,
// keeping data and logs. Its header is the caller's (`zkctl stop` prints
// one; test clean-ups print none).
func (c *cluster) stopPhases() []phase {
	return []phase{
		{hosts: c.Inv.Hosts, steps: []step{stopStep{}}},
	}
}

// StopAll stops every role and server on every host, keeping data and logs.
func StopAll(ctx context.Context, c *controller.Cluster) error {
	d := &cluster{c}
	return d.runPhases(ctx, d.stopPhases())
}
