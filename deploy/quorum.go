package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/internal/retry"
	"zkctl/node"
	"zkctl/node/agent"
)

// QuorumTimeout bounds how long reset waits for the ensemble to form.
const QuorumTimeout = 90 * time.Second

// quorumPoll is how often WaitQuorum asks the servers.
const quorumPoll = 250 * time.Millisecond

// errNoQuorum is a poll of WaitQuorum that found no quorum yet.
var errNoQuorum = errors.New("no quorum yet")

// Statuses asks every host's agent for its status, in parallel. Hosts that
// cannot be reached are missing from the map and reported in the error.
func (c *Cluster) Statuses(ctx context.Context, hosts []inventory.Host) (map[string]node.Status, error) {
	out := make(map[string]node.Status, len(hosts))
	ch := make(chan node.Status, len(hosts))
	err := c.Each(ctx, hosts, func(ctx context.Context, h inventory.Host, t transport.Transport) error {
		st, err := call(ctx, c, h, t, agent.Status{})
		if err != nil {
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

// WaitQuorum waits until one server leads and the others follow, the
// observers observing (or the only one is standalone), polling every
// quorumPoll until timeout.
func (c *Cluster) WaitQuorum(ctx context.Context, servers []inventory.Host, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := ""
	err := retry.Policy{Delay: quorumPoll}.Do(ctx, func(int) error {
		sts, _ := c.Statuses(ctx, servers)
		ok, summary := quorumReady(quorumModes(servers, sts))
		if ok {
			c.UI.Printf("quorum after %v: %s", time.Since(start).Round(time.Millisecond), summary)
			return nil
		}
		if summary != last {
			c.Log.Debug("waiting for quorum", "modes", summary)
			last = summary
		}
		return errNoQuorum
	})
	if err != nil {
		return fmt.Errorf("wait for quorum: no leader with every other server following or observing within %v (%s); see `zkctl tail HOST zookeeper`",
			timeout, last)
	}
	return nil
}

// quorumModes are the servers' modes from their agents' statuses, in
// inventory order ("unreachable" where an agent did not answer).
func quorumModes(servers []inventory.Host, sts map[string]node.Status) []rollServer {
	out := make([]rollServer, len(servers))
	for i, h := range servers {
		out[i] = rollServer{host: h, mode: "unreachable"}
		if st, ok := sts[h.Name]; ok {
			out[i].mode = st.Server.Mode
		}
	}
	return out
}

// quorumReady holds when the ensemble is whole: one leader, every other
// voter following and every observer observing (or the only server
// standalone). It also returns the modes in one line.
func quorumReady(servers []rollServer) (bool, string) {
	summary := modeSummary(servers)
	if len(servers) == 1 {
		return servers[0].mode == "standalone", summary
	}
	leaders := 0
	for _, s := range servers {
		switch {
		case s.mode == "leader" && s.host.Votes():
			leaders++
		case s.host.Observer && s.mode == "observer", !s.host.Observer && s.mode == "follower":
		default:
			return false, summary
		}
	}
	return leaders == 1, summary
}
