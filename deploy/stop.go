package deploy

import "context"

// stopPhases is what stop does: stop every role and server on every host,
// keeping data and logs. Its header is the caller's (`zkctl stop` prints
// one; test clean-ups print none).
func (c *Cluster) stopPhases() []phase {
	return []phase{
		{hosts: c.Inv.Hosts, steps: []step{stopStep{}}},
	}
}

// StopAll stops every role and server on every host, keeping data and logs.
func (c *Cluster) StopAll(ctx context.Context) error {
	return c.runPhases(ctx, c.stopPhases())
}
