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

// stopAll stops every role and server on every host, keeping data and logs.
func (c *cluster) stopAll(ctx context.Context) error {
	return c.runPhases(ctx, c.stopPhases())
}

// StopAll stops every role and server on every host, keeping data and logs.
func StopAll(ctx context.Context, c *controller.Cluster) error {
	return (&cluster{c}).stopAll(ctx)
}
