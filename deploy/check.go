package deploy

import (
	"context"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// preflightHost is the part of `zkctl check` that decides a deploy: what
// the host's agent finds (run_as's way to dir, the ports, the disk).
func (c *Cluster) preflightHost(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo) error {
	return nil
}
