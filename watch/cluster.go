package watch

import (
	"context"
	"errors"
	"time"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/node"
)

// This file is the view's one tie to the controller: everything else in
// the package reads the cluster through Source.

// FromCluster reads the cluster through the controller c: the servers of
// its inventory, its ZooKeeper dialer (SSH tunnels behind jump hosts), and
// the hosts' agents for their network faults.
func FromCluster(c *deploy.Cluster) Source { return clusterSource{c} }

type clusterSource struct{ c *deploy.Cluster }

func (s clusterSource) Servers() []string { return s.c.Inv.HostNames() }

func (s clusterSource) Session() SessionConfig {
	return SessionConfig{Servers: s.c.Inv.Servers(), Timeout: s.c.Inv.Cluster.SessionTimeout,
		Dialer: s.c.ZKDialer(s.c.Inv.Hosts)}
}

func (s clusterSource) FourLetter(host, cmd string, timeout time.Duration) (string, error) {
	h, _ := s.c.Inv.Host(host)
	return node.FourLetterVia(s.c.ZKDialer([]inventory.Host{h}), h.ClientAddr(), cmd, timeout)
}

// FaultHosts are the hosts that status asks for faults: all but those on
// loopback (inventory.Host.CheckNetFaults, which may resolve a name).
func (s clusterSource) FaultHosts() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []string
	for _, h := range s.c.Inv.Hosts {
		if !errors.Is(h.CheckNetFaults(ctx), inventory.ErrLoopback) {
			out = append(out, h.Name)
		}
	}
	return out
}

func (s clusterSource) NetFaults(ctx context.Context, host string) ([]Fault, error) {
	h, _ := s.c.Inv.Host(host)
	st, err := s.c.NetStatusOn(ctx, h)
	if err != nil {
		return nil, err
	}
	var out []Fault
	for _, r := range deploy.NetRows(host, st) {
		out = append(out, Fault{Kind: r.Fault, Detail: r.Detail, Expires: r.ExpiresAt})
	}
	return out, nil
}
