package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy/inventory"
	"zkctl/node"
	"zkctl/zksession"
)

// SessionConfig is how a ZooKeeper client run by the controller itself
// (submit, status, scenarios, bench) reaches servers: their client
// addresses, the inventory's session timeout and auth, through SSH tunnels
// where they are needed (ZKDialer).
func (c *Cluster) SessionConfig(servers []inventory.Host) (zksession.Config, error) {
	auth, err := zksession.ReadAuth(c.Inv.Cluster.AuthFile)
	if err != nil {
		return zksession.Config{}, err
	}
	eps := make([]string, len(servers))
	for i, h := range servers {
		eps[i] = h.ClientAddr()
	}
	return zksession.Config{Servers: eps, SessionTimeout: c.Inv.Cluster.SessionTimeout, Auth: auth, Logger: c.Log,
		Dialer: c.ZKDialer(servers)}, nil
}

// Connect opens a ZooKeeper session to the ensemble from the controller and
// waits until it is established.
func (c *Cluster) Connect(ctx context.Context, servers []inventory.Host) (*zk.Conn, error) {
	cfg, err := c.SessionConfig(servers)
	if err != nil {
		return nil, err
	}
	return zksession.Dial(ctx, cfg, nil)
}

// ZKDialer is how the controller reaches the client ports of servers: nil
// when every port is reached directly (local hosts, tunnel = false), else
// a dialer that goes through the host's SSH connection (Transport.Dial)
// where the inventory says so (tunnel = true, a jump host). Where it is
// silent, the port is tried directly first and tunneled only when it is
// out of reach (timed out, no route): a refusal means ZooKeeper is down
// there, which no tunnel mends.
func (c *Cluster) ZKDialer(servers []inventory.Host) zk.Dialer {
	byAddr := map[string]inventory.Host{}
	for _, h := range servers {
		if !h.IsLocal() && h.SSH.Tunnel != inventory.TunnelNever {
			byAddr[h.ClientAddr()] = h
		}
	}
	if len(byAddr) == 0 {
		return nil
	}
	return func(network, addr string, timeout time.Duration) (net.Conn, error) {
		h, ok := byAddr[addr]
		if !ok {
			return net.DialTimeout(network, addr, timeout)
		}
		if h.SSH.Tunnel == inventory.TunnelAuto {
			conn, err := net.DialTimeout(network, addr, timeout)
			if err == nil || !outOfReach(err) {
				return conn, err
			}
			c.Log.Debug("client port out of reach, tunneling", "host", h.Name, "addr", addr, "err", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), max(timeout, minTunnelTimeout))
		defer cancel()
		t, err := c.Transport(ctx, h)
		if err != nil {
			return nil, err
		}
		return t.Dial(ctx, addr)
	}
}

// minTunnelTimeout bounds opening a tunnel, an SSH login included when the
// host has no connection yet (the client library allows a direct dial 1 s).
const minTunnelTimeout = 3 * time.Second

// outOfReach reports a dial error that a tunnel may get around: no answer,
// or no route to the address.
func outOfReach(err error) bool {
	var ne net.Error
	return (errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// QueryServer asks h's server for srvr from this machine, through the
// tunnel ZKDialer chooses for it.
func (c *Cluster) QueryServer(h inventory.Host, timeout time.Duration) node.ServerStatus {
	return node.QueryServerVia(c.ZKDialer([]inventory.Host{h}), h.ClientAddr(), timeout)
}

// WithConn runs fn with a ZooKeeper session to the whole ensemble.
func (c *Cluster) WithConn(ctx context.Context, fn func(*zk.Conn) error) error {
	conn, err := c.Connect(ctx, c.Inv.ServerHosts())
	if err != nil {
		return fmt.Errorf("connect to ZooKeeper %v: %w", c.Inv.Servers(), err)
	}
	defer conn.Close()
	return fn(conn)
}
