package agent

import (
	"context"

	"zkctl/node"
)

// Preflight asks what a deploy needs of the host, before anything is
// changed on it (`zkctl check`, and deploy's preflight step): whether
// RunAs can reach dir (Owned: deploy makes dir RunAs's own), who holds
// Ports, the free disk under dir, and Java and ZooKeeper (Home: a
// ZooKeeper home to check, "" for Debian's package) with ZooKeeper's
// version. It only looks, and runs as root where the login allows: its
// name starts with "info" (wire.AsRoot), so it may read every folder's
// mode and every process's sockets.
type Preflight struct {
	RunAs string `json:"run_as"`
	Owned bool   `json:"owned"`
	Ports []int  `json:"ports"`
	Home  string `json:"home,omitempty"`
}

// PreflightReport is Preflight's answer.
type PreflightReport struct {
	node.Preflight
	Install          node.Install `json:"install"`
	ZooKeeperVersion string       `json:"zookeeper_version,omitempty"`
}

func (Preflight) Call() string { return "info preflight" }

// Serve gathers the facts; judging them is the controller's.
func (q Preflight) Serve(_ context.Context, dir string) (PreflightReport, error) {
	p, err := node.CheckPreflight(dir, q.RunAs, q.Owned, q.Ports)
	if err != nil {
		return PreflightReport{}, err
	}
	in := node.Detect(q.Home)
	return PreflightReport{Preflight: p, Install: in, ZooKeeperVersion: node.ZooKeeperVersion(in)}, nil
}
