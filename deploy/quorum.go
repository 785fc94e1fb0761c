package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/internal/retry"
	"zkctl/node"
)

// QuorumTimeout bounds how long reset waits for the ensemble to form.
const QuorumTimeout = 90 * time.Second

// quorumPoll is how often WaitQuorum asks the servers.
const quorumPoll = 250 * time.Millisecond

// errNoQuorum is a poll of WaitQuorum that found no quorum yet.
var errNoQuorum = errors.New("no quorum yet")

// WaitQuorum waits until one server leads and the others follow, the
// observers observing (or the only one is standalone), polling every
// quorumPoll until timeout.
func (c *cluster) WaitQuorum(ctx context.Context, servers []inventory.Host, timeout time.Duration) error {
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

// WaitQuorum is cluster.WaitQuorum for callers outside deploy's steps.
func WaitQuorum(ctx context.Context, c *controller.Cluster, servers []inventory.Host, timeout time.Duration) error {
	return (&cluster{c}).WaitQuorum(ctx, servers, timeout)
}
