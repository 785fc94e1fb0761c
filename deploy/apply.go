package deploy

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"zkctl/deploy/inventory"
	"zkctl/internal/fanout"
	"zkctl/node"
	"zkctl/node/agent"
)

// How deploy applies a changed server configuration. Before it writes
// anything, it asks every server's agent how the configuration in force
// compares with the one it is about to write (node.ConfigState): a
// change of the ensemble's members on a running ensemble is refused
// there; after the files are written, the servers whose configuration
// changed are rolled when every server runs (--no-restart: the roll is
// left pending, and `status` shows it), none is when no server runs (the
// next start applies the files), and none is when some do not serve (`zkctl
// restart zookeeper --force` applies them).

// serverConfig is one server's configuration state against what deploy
// will write; known is false when its agent could not say (a host never
// deployed, or unreachable: the deploy itself reports that).
type serverConfig struct {
	host  inventory.Host
	state node.ConfigState
	known bool
}

// configStates asks the agents of hosts (servers) about the
// configuration deploy would write, in parallel.
func (c *Cluster) configStates(ctx context.Context, hosts []inventory.Host) []serverConfig {
	servers := c.Inv.ServerHosts()
	out := make([]serverConfig, len(hosts))
	fanout.Each(hosts, func(i int, h inventory.Host) error {
		out[i].host = h
		st, err := Call(ctx, c, h, "compare zoo.cfg", agent.ServerConfig{Config: c.NodeConfig(h, servers)})
		if err != nil {
			c.Log.Debug("config state unknown", "host", h.Name, "err", err)
			return nil
		}
		out[i].state, out[i].known = st, true
		return nil
	})
	return out
}

// changedServers are the servers whose conf/node.json deploy would
// change, read over the transport (no command on the host): only their
// configuration can differ from what runs. A deploy of an unchanged
// inventory thus asks no agent anything. Unreachable hosts count as
// changed; the deploy reports them.
func (c *Cluster) changedServers(ctx context.Context) []inventory.Host {
	servers := c.Inv.ServerHosts()
	changed := make([]bool, len(servers))
	fanout.Each(servers, func(i int, h inventory.Host) error {
		changed[i] = c.nodeConfigChanged(ctx, h, servers)
		return nil
	})
	var out []inventory.Host
	for i, h := range servers {
		if changed[i] {
			out = append(out, h)
		}
	}
	return out
}

// nodeConfigChanged reports whether h's conf/node.json differs from what
// deploy writes.
func (c *Cluster) nodeConfigChanged(ctx context.Context, h inventory.Host, servers []inventory.Host) bool {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return true
	}
	data, err := nodeConfigJSON(c.NodeConfig(h, servers))
	if err != nil {
		return true
	}
	old, err := t.ReadFile(ctx, node.Layout{Dir: h.Dir}.ConfigFile())
	return err != nil || string(old) != string(data)
}

// memberRe matches a server.N line of zoo.cfg.
var memberRe = regexp.MustCompile(`(?m)^server\.(\d+)=`)

// members are the ids of the server.N lines of a zoo.cfg, sorted; none
// for a standalone server.
func members(zooCfg string) []string {
	var ids []string
	for _, m := range memberRe.FindAllStringSubmatch(zooCfg, -1) {
		ids = append(ids, m[1])
	}
	slices.Sort(ids)
	return ids
}

// checkMembership refuses a deploy that would add or remove servers of a
// running ensemble: a roll cannot do that safely (it takes ZooKeeper's
// dynamic reconfiguration, left to a later version).
func checkMembership(states []serverConfig) error {
	for _, s := range states {
		if !s.known || !s.state.Running {
			continue
		}
		was, will := members(s.state.InForce.ZooCfg), members(s.state.Wanted.ZooCfg)
		if !slices.Equal(was, will) {
			return fmt.Errorf("%s runs in an ensemble of servers [%s]; this inventory makes it [%s]: adding or removing servers "+
				"of a running ensemble is not supported (a roll cannot do it safely): keep the servers as they are, or stop the "+
				"ensemble (zkctl stop), deploy, and zkctl reset -y", s.host.Name, strings.Join(was, " "), strings.Join(will, " "))
		}
	}
	return nil
}

// pendingHosts are the servers that run another configuration than the
// one written.
func pendingHosts(states []serverConfig) []string {
	var out []string
	for _, s := range states {
		if s.known && s.state.Pending() {
			out = append(out, s.host.Name)
		}
	}
	return out
}

// configDiff is a unified diff of the server's zoo.cfg and command line,
// in force against wanted; "" when they are the same.
func configDiff(host string, st node.ConfigState) string {
	var b strings.Builder
	for _, f := range []struct{ name, was, will string }{
		{"conf/zoo.cfg", st.InForce.ZooCfg, st.Wanted.ZooCfg},
		{"command line", oneArgALine(st.InForce.Argv), oneArgALine(st.Wanted.Argv)},
	} {
		if f.was == f.will {
			continue
		}
		d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(f.was), B: difflib.SplitLines(f.will),
			FromFile: host + " " + f.name + " (in force)", ToFile: host + " " + f.name + " (deployed)", Context: 1,
		})
		b.WriteString(d)
	}
	return b.String()
}

func oneArgALine(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	return strings.Join(argv, "\n") + "\n"
}

// applyConfig applies what deploy wrote to the servers (see the top of
// this file), given their states before it wrote.
func (c *Cluster) applyConfig(ctx context.Context, states []serverConfig, noRestart bool) error {
	pending := pendingHosts(states)
	if len(pending) == 0 {
		return nil
	}
	c.UI.Phase("apply the new server configuration")
	for _, s := range states {
		if d := configDiff(s.host.Name, s.state); d != "" && s.state.Running {
			c.UI.Printf("%s", strings.TrimRight(d, "\n"))
		}
	}
	var down []string
	servers := c.Inv.ServerHosts()
	for i, st := range c.serverModes(servers) {
		if !serving(st.Mode) {
			down = append(down, servers[i].Name)
		}
	}
	switch {
	case noRestart:
		c.UI.Printf("--no-restart: a roll is pending on %s (zkctl status shows it); zkctl restart zookeeper applies it", strings.Join(pending, ", "))
		return nil
	case len(down) > 0:
		c.UI.Printf("%s not serving: the files are written, no server was restarted; zkctl restart zookeeper --force starts %s and applies them to %s",
			strings.Join(down, ", "), strings.Join(down, ", "), strings.Join(pending, ", "))
		return nil
	}
	return c.Roll(ctx, RollOptions{Hosts: pending})
}
