package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"zkctl/deploy/inventory"
)

// dryRun prints what a deploy would do and changes nothing: per host,
// whether the binary and conf/node.json would be written; per server, the
// differences of its configuration as a diff; and the roll that would
// apply them, in order (or why it would be refused).
func (c *Cluster) dryRun(ctx context.Context, bin binaryInfo, states []serverConfig) error {
	c.UI.Phase("dry run: the plan of this deploy; nothing is changed")
	for _, h := range c.Inv.Hosts {
		c.UI.Host(h.Name, "%s", strings.Join(c.plannedUploads(ctx, h, bin), "; "))
	}
	for _, s := range states {
		switch d := configDiff(s.host.Name, s.state); {
		case !s.known:
			c.UI.Host(s.host.Name, "configuration in force unknown (no agent answered: a first deploy)")
		case !s.state.Running:
			c.UI.Host(s.host.Name, "server not running: its next start applies the configuration")
		case d == "":
			c.UI.Host(s.host.Name, "server configuration unchanged")
		default:
			c.UI.Printf("%s", strings.TrimRight(d, "\n"))
		}
	}
	if err := checkMembership(states); err != nil {
		c.UI.Printf("deploy would refuse: %v", err)
		return nil
	}
	pending := pendingHosts(states)
	if len(pending) == 0 {
		c.UI.Printf("no server needs a restart")
		return nil
	}
	plan, err := c.PlanRoll(ctx, pending, false)
	if err != nil {
		c.UI.Printf("the roll would not start: %v", err)
		return nil
	}
	c.UI.Printf("roll, one at a time: %s", plan)
	return nil
}

// plannedUploads says what deploy would write to h: the binary unless the
// deploy record names the same sha256, conf/node.json unless it holds the
// same.
func (c *Cluster) plannedUploads(ctx context.Context, h inventory.Host, bin binaryInfo) []string {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return []string{fmt.Sprintf("unreachable: %v", err)}
	}
	var out []string
	var rec deployRecord
	if data, err := t.ReadFile(ctx, recordPath(h)); err == nil && json.Unmarshal(data, &rec) == nil && rec.SHA256 == bin.sha256 {
		out = append(out, "zkctl up to date")
	} else {
		out = append(out, fmt.Sprintf("push zkctl (%s, sha256 %s…), check Java and ZooKeeper", humanBytes(bin.size), bin.sha256[:12]))
	}
	if c.nodeConfigChanged(ctx, h, c.Inv.ServerHosts()) {
		return append(out, "write conf/node.json")
	}
	return append(out, "conf/node.json unchanged")
}
