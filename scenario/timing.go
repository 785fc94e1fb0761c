package scenario

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/node"
)

// timing is the ensemble's timing, from which every hold and every wait
// of a scenario is derived: the roles' session timeout, and the servers'
// tickTime, syncLimit and initLimit as the rendered zoo.cfg sets them (not
// the constants of the renderer, so that a changed configuration keeps the
// holds right).
type timing struct {
	tick, session        time.Duration
	syncLimit, initLimit int
}

// readTiming renders the first server's zoo.cfg as a deploy writes it and
// reads the ensemble's timing from it.
func readTiming(c *controller.Cluster, servers []inventory.Host) (timing, error) {
	if len(servers) == 0 {
		return timing{}, fmt.Errorf("timing: no server")
	}
	cfg := node.RenderZooCfg(deploy.NodeConfig(c, servers[0], servers))
	t, err := parseZooCfg(cfg)
	if err != nil {
		return timing{}, fmt.Errorf("%s's zoo.cfg: %w", servers[0].Name, err)
	}
	t.session = c.Inv.Cluster.SessionTimeout
	return t, nil
}

// parseZooCfg reads tickTime (ms), syncLimit and initLimit (ticks) from a
// zoo.cfg; each must be there, a positive integer.
func parseZooCfg(cfg string) (timing, error) {
	want := map[string]int{"tickTime": 0, "syncLimit": 0, "initLimit": 0}
	sc := bufio.NewScanner(strings.NewReader(cfg))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if _, known := want[strings.TrimSpace(k)]; !ok || !known || strings.HasPrefix(line, "#") {
			continue
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i <= 0 {
			return timing{}, fmt.Errorf("line %d: %s=%q is not a positive integer", n, strings.TrimSpace(k), strings.TrimSpace(v))
		}
		want[strings.TrimSpace(k)] = i
	}
	for _, k := range []string{"tickTime", "syncLimit", "initLimit"} {
		if want[k] == 0 {
			return timing{}, fmt.Errorf("no %s", k)
		}
	}
	return timing{tick: time.Duration(want["tickTime"]) * time.Millisecond, syncLimit: want["syncLimit"], initLimit: want["initLimit"]}, nil
}

// sessionExpiry bounds the expiry of a silent session: ZooKeeper expires
// it between the session timeout and a tick later; a tick more for the
// closeSession to commit.
func (t timing) sessionExpiry() time.Duration { return t.session + 2*t.tick }

// serverNotice bounds the time a server cut off from its peers keeps
// serving: a follower reads its leader with a timeout of syncLimit ticks,
// and a leader gives up after syncLimit ticks without a quorum's acks
// (counted every half tick).
func (t timing) serverNotice() time.Duration { return time.Duration(t.syncLimit+1) * t.tick }

// election bounds a ZooKeeper leader election: the new leader waits up to
// initLimit ticks for its followers to connect and sync.
func (t timing) election() time.Duration { return time.Duration(t.initLimit) * t.tick }

// failover bounds the failover of a master whose host is lost together
// with the ZooKeeper leader: the others notice, elect a new leader, and
// only then expire the old master's session.
func (t timing) failover() time.Duration {
	return t.serverNotice() + t.election() + t.sessionExpiry()
}

// wait bounds every wait of a script for something to happen: three
// failovers, and never less than 30 s (the bound at the suite's 200 ms
// tick, where every step finished within a few seconds).
func (t timing) wait() time.Duration { return max(30*time.Second, 3*t.failover()) }

// finish bounds the wait for the clients once a script is done.
func (t timing) finish() time.Duration { return 2 * t.wait() }

// fastWindow is how long the monitor polls srvr fast after a fault on a
// server: a failover, and never less than 10 s.
func (t timing) fastWindow() time.Duration { return max(10*time.Second, t.failover()) }

// String is the timing as the report states it.
func (t timing) String() string {
	return fmt.Sprintf("tickTime %v, syncLimit %d (%v), initLimit %d, session timeout %v",
		t.tick, t.syncLimit, time.Duration(t.syncLimit)*t.tick, t.initLimit, t.session)
}
