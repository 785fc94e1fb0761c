package deploy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// QuorumTimeout bounds how long reset waits for the ensemble to form.
const QuorumTimeout = 90 * time.Second

// Reset stops every role and server, wipes data, starts the full ensemble,
// waits for one leader and N-1 followers and creates the base znodes.
func (c *Cluster) Reset(ctx context.Context) error {
	return c.ResetServers(ctx, c.Inv.Hosts)
}

// ResetServers is Reset with an ensemble made of servers only (one server
// is a standalone ZooKeeper); the other hosts are stopped and wiped too.
func (c *Cluster) ResetServers(ctx context.Context, servers []inventory.Host) error {
	c.UI.Phase("stop roles and ZooKeeper, wipe data on %d hosts", len(c.Inv.Hosts))
	err := c.Each(ctx, c.Inv.Hosts, func(ctx context.Context, h inventory.Host, t transport.Transport) error {
		if err := c.writeNodeConfig(ctx, h, t, c.NodeConfig(h, servers)); err != nil {
			return err
		}
		if _, err := c.Agent(ctx, h, t, "reset"); err != nil {
			return stepError(h, "reset", err)
		}
		c.UI.Host(h.Name, "stopped, data wiped")
		return nil
	})
	if err != nil {
		return err
	}
	c.UI.Phase("start ZooKeeper on %s", strings.Join(names(servers), ", "))
	if err := c.Each(ctx, servers, c.startZooKeeper); err != nil {
		return err
	}
	c.UI.Phase("wait for quorum")
	if err := c.WaitQuorum(ctx, servers, QuorumTimeout); err != nil {
		return err
	}
	c.UI.Phase("create base znodes")
	return c.CreateBase(ctx, servers)
}

// StopAll stops every role and server on every host, keeping data and logs.
func (c *Cluster) StopAll(ctx context.Context) error {
	return c.Each(ctx, c.Inv.Hosts, func(ctx context.Context, h inventory.Host, t transport.Transport) error {
		_, err := c.Agent(ctx, h, t, "stop")
		return stepError(h, "stop", err)
	})
}

func names(hosts []inventory.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}

// zooKeeperUp asks the agent to start the server (a no-op where it runs).
func (c *Cluster) zooKeeperUp(ctx context.Context, h inventory.Host, t transport.Transport) (node.Proc, error) {
	var p node.Proc
	if err := c.AgentJSON(ctx, h, t, &p, "zk", "start"); err != nil {
		return p, stepError(h, "start zookeeper", err)
	}
	return p, nil
}

func (c *Cluster) startZooKeeper(ctx context.Context, h inventory.Host, t transport.Transport) error {
	p, err := c.zooKeeperUp(ctx, h, t)
	if err == nil {
		c.UI.Host(h.Name, "zookeeper pid %d, log %s", p.PID, p.Log)
	}
	return err
}

// StartZooKeeper starts the server on each host (a no-op where it runs).
func (c *Cluster) StartZooKeeper(ctx context.Context, hosts []inventory.Host) error {
	return c.Each(ctx, hosts, c.startZooKeeper)
}

// Statuses asks every host's agent for its status, in parallel. Hosts that
// cannot be reached are missing from the map and reported in the error.
func (c *Cluster) Statuses(ctx context.Context, hosts []inventory.Host) (map[string]node.Status, error) {
	out := make(map[string]node.Status, len(hosts))
	ch := make(chan node.Status, len(hosts))
	err := c.Each(ctx, hosts, func(ctx context.Context, h inventory.Host, t transport.Transport) error {
		var st node.Status
		if err := c.AgentJSON(ctx, h, t, &st, "status"); err != nil {
			return stepError(h, "status", err)
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

// WaitQuorum waits until one server leads and the others follow (or the
// only one is standalone).
func (c *Cluster) WaitQuorum(ctx context.Context, servers []inventory.Host, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := ""
	for {
		sts, _ := c.Statuses(ctx, servers)
		modes := quorumModes(servers, sts)
		if ok, summary := quorumReady(modes); ok {
			c.UI.Printf("quorum after %v: %s", time.Since(start).Round(time.Millisecond), summary)
			return nil
		} else if summary != last {
			c.Log.Debug("waiting for quorum", "modes", summary)
			last = summary
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for quorum: no leader with %d followers within %v (%s); see `zkctl tail HOST zookeeper`",
				len(servers)-1, timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func quorumModes(servers []inventory.Host, sts map[string]node.Status) map[string]string {
	modes := make(map[string]string, len(servers))
	for _, h := range servers {
		mode := "unreachable"
		if st, ok := sts[h.Name]; ok {
			mode = st.Server.Mode
		}
		modes[h.Name] = mode
	}
	return modes
}

func quorumReady(modes map[string]string) (bool, string) {
	leaders, followers, standalone := 0, 0, 0
	parts := make([]string, 0, len(modes))
	for h, m := range modes {
		parts = append(parts, h+"="+m)
		switch m {
		case "leader":
			leaders++
		case "follower":
			followers++
		case "standalone":
			standalone++
		}
	}
	sort.Strings(parts)
	summary := strings.Join(parts, " ")
	if len(modes) == 1 {
		return standalone == 1, summary
	}
	return leaders == 1 && followers == len(modes)-1, summary
}
