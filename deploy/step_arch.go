package deploy

import (
	"context"
	"fmt"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// archStep refuses a binary built for another architecture than the
// host's, saying how to build the right one.
type archStep struct{ s *hostDeploy }

func (archStep) Title() string { return "check architecture" }

func (a archStep) Run(_ context.Context, _ *cluster, _ inventory.Host, _ transport.Transport) error {
	probe, bin := a.s.probe, a.s.bin
	if probe.arch == bin.arch {
		return nil
	}
	return fmt.Errorf("host is %s (uname -m %q) but %s is %s: build one for the host (GOARCH=%s go build ./cmd/zkctl) and pass --binary PATH",
		probe.arch, probe.uname, bin.path, bin.arch, probe.arch)
}
