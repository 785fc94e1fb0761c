package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
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

// WaitQuorum waits until one server leads and the others follow (or the
// only one is standalone), polling every quorumPoll until timeout.
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
		return fmt.Errorf("wait for quorum: no leader with %d followers within %v (%s); see `zkctl tail HOST zookeeper`",
			len(servers)-1, timeout, last)
	}
	return nil
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

// WaitQuorum is cluster.WaitQuorum for callers outside deploy's steps.
func WaitQuorum(ctx context.Context, c *controller.Cluster, servers []inventory.Host, timeout time.Duration) error {
	return (&cluster{c}).WaitQuorum(ctx, servers, timeout)
}
