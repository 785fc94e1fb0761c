package node

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// ConfigState compares what a host's running server was started with
// (InForce: conf/zoo.cfg, which the agent writes only when it starts the
// server or the server is stopped, and the process's command line) with
// what it would be started with now (Wanted, rendered from a
// configuration). A server that does not run has nothing in force: its
// next start applies Wanted.
type ConfigState struct {
	Running bool   `json:"running"`
	InForce Launch `json:"in_force"`
	Wanted  Launch `json:"wanted"`
}

// Pending reports a running server whose configuration differs from the
// wanted one: a restart (a roll) is needed to apply it.
func (s ConfigState) Pending() bool {
	return s.Running && (s.InForce.ZooCfg != s.Wanted.ZooCfg || !slices.Equal(s.InForce.Argv, s.Wanted.Argv))
}

// ServerConfigState is the ConfigState of c's server on this host (c: the
// host's node.json, or the one a deploy would write).
func ServerConfigState(c *Config) (ConfigState, error) {
	if _, ok := c.Self(); !ok {
		return ConfigState{}, fmt.Errorf("host %s %w (zookeeper = false in the inventory)", c.Host, ErrNoServer)
	}
	l := Layout{c.Dir}
	st := ConfigState{Wanted: ServerLaunch(c, Detect(c.ZooKeeperHome))}
	p, err := Inspect(l, ZooKeeperName)
	if errors.Is(err, os.ErrNotExist) || (err == nil && p.State == StateDead) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Running = true
	cfg, err := os.ReadFile(filepath.Join(l.Conf(), "zoo.cfg"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, err
	}
	st.InForce.ZooCfg = string(cfg)
	st.InForce.Argv, err = cmdline(p.PID)
	return st, err
}

// cmdline is the command line of process pid.
func cmdline(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, fmt.Errorf("command line of pid %d: %w", pid, err)
	}
	var argv []string
	for _, a := range bytes.Split(bytes.TrimSuffix(data, []byte{0}), []byte{0}) {
		argv = append(argv, string(a))
	}
	return argv, nil
}
