package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"zkctl/node/wire"
)

// Info is what the controller learns of a host before provisioning it.
type Info struct {
	Arch    string  `json:"arch"`
	Install Install `json:"install"`
}

// HostInfo detects the architecture, Java and ZooKeeper.
func HostInfo(home string) Info { return Info{Arch: runtime.GOARCH, Install: Detect(home)} }

// NewID returns an instance id: host, the role's initial and 4 hex digits.
func NewID(host, role string) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%c%s", host, role[0], hex.EncodeToString(b))
}

// StartRoles starts n detached `zkctl node run ROLE` processes, each with its
// own id, pidfile and log. id, when set, is used for the first instance.
// role must be one of the role registry's (package roles); the caller
// checks, since node cannot import roles (roles' tests run servers through
// node).
func StartRoles(c *Config, role string, n int, id string, extra []string) ([]Proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	l := Layout{c.Dir}
	var procs []Proc
	for i := 0; i < n; i++ {
		instance := id
		if instance == "" || i > 0 {
			instance = NewID(c.Host, role)
		}
		name := role + "-" + instance
		if p, err := Inspect(l, name); err == nil && p.Alive() {
			return procs, fmt.Errorf("%s %s already runs (pid %d)", role, instance, p.PID)
		}
		argv := append([]string{exe, "node", "run", role, "--dir", c.Dir, "--id", instance}, extra...)
		if rc, ok := c.Roles[role]; ok {
			argv = rc.Argv(instance, extra) // another program plays the role (foreign.go)
		}
		p, err := Spawn(l, name, argv, os.Environ())
		if err != nil {
			return procs, err
		}
		procs = append(procs, p)
	}
	return procs, checkStarted(c, role, procs)
}

// SignalRoles sends sig to every instance of role (all roles when role is
// ""), or only to instance id. TERM waits for the exit and KILLs after grace.
func SignalRoles(c *Config, role, id string, sig syscall.Signal, grace time.Duration) ([]Proc, error) {
	procs, err := List(Layout{c.Dir})
	if err != nil {
		return nil, err
	}
	var hit []Proc
	var errs []error
	for _, p := range procs {
		if p.Role == ZooKeeperName || (role != "" && p.Role != role) || (id != "" && p.ID != id) || p.State == StateDead {
			continue
		}
		if sig == syscall.SIGTERM {
			errs = append(errs, Stop(p, grace))
		} else {
			errs = append(errs, Signal(p, sig))
		}
		p.State = settle(p, stateAfter(sig), 2*time.Second)
		hit = append(hit, p)
	}
	if id != "" && len(hit) == 0 {
		return nil, notRunningError(fmt.Sprintf("no live %s with id %q on %s", orAny(role), id, c.Host))
	}
	return hit, errors.Join(errs...)
}

// ErrNotRunning is an agent's call on a process that is not alive (the
// protocol's sentinel, wire.ErrNotRunning).
var ErrNotRunning = wire.ErrNotRunning

// notRunningError is a message that matches ErrNotRunning.
type notRunningError string

func (e notRunningError) Error() string { return string(e) }
func (notRunningError) Unwrap() error   { return ErrNotRunning }

func orAny(role string) string {
	if role == "" {
		return "role"
	}
	return role
}

// Status is the agent's report on its host.
type Status struct {
	Host      string       `json:"host"`
	ZooKeeper Proc         `json:"zookeeper"`
	Server    ServerStatus `json:"server"`
	Roles     []Proc       `json:"roles"`
	// ConfigPending: the server runs with another configuration than
	// node.json's (deployed with --no-restart, or a roll stopped): a roll
	// applies it.
	ConfigPending bool `json:"config_pending,omitempty"`
}

// ModeNone is the server mode of a host that runs no server (role-only).
const ModeNone = "none"

// HostStatus reports ZooKeeper's process and srvr, and every role process.
func HostStatus(c *Config) (Status, error) {
	l := Layout{c.Dir}
	st := Status{Host: c.Host, ZooKeeper: Proc{Name: ZooKeeperName, Role: ZooKeeperName, State: StateDead}}
	procs, err := List(l)
	if err != nil {
		return st, err
	}
	for _, p := range procs {
		if p.Role == ZooKeeperName {
			st.ZooKeeper = p
		} else {
			st.Roles = append(st.Roles, p)
		}
	}
	if _, ok := c.Self(); !ok {
		st.Server = ServerStatus{Mode: ModeNone}
		return st, nil
	}
	st.Server = QueryServer(fmt.Sprintf("%s:%d", c.Address, c.ClientPort), time.Second)
	cs, err := ServerConfigState(c)
	st.ConfigPending = err == nil && cs.Pending()
	return st, nil
}

// StopAll stops every role and then the server, keeping data and logs.
func StopAll(c *Config) error {
	if _, err := SignalRoles(c, "", "", syscall.SIGTERM, 3*time.Second); err != nil {
		return fmt.Errorf("stop roles: %w", err)
	}
	if _, err := SignalZooKeeper(Layout{c.Dir}, syscall.SIGTERM, 5*time.Second); err != nil {
		return fmt.Errorf("stop zookeeper: %w", err)
	}
	return nil
}

// Reset stops every role and the server, archives logs/ to logs.prev/,
// wipes data/ and renders the configuration again. It touches nothing
// outside the host's dir.
func Reset(c *Config) error {
	l := Layout{c.Dir}
	if err := StopAll(c); err != nil {
		return err
	}
	procs, _ := List(l)
	for _, p := range procs {
		if p.State == StateDead {
			_ = Forget(l, p.Name)
		}
	}
	if err := archiveLogs(l); err != nil {
		return fmt.Errorf("archive logs: %w", err)
	}
	if err := Wipe(l); err != nil {
		return fmt.Errorf("wipe data: %w", err)
	}
	if _, ok := c.Self(); !ok {
		return nil // a role-only host: no server files
	}
	return RenderFiles(c)
}

func archiveLogs(l Layout) error {
	if _, err := os.Stat(l.Logs()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	prev := filepath.Join(l.Dir, "logs.prev")
	if err := ensureInside(l, prev); err != nil {
		return err
	}
	if err := os.RemoveAll(prev); err != nil {
		return err
	}
	return os.Rename(l.Logs(), prev)
}

// signals are the signals zkctl sends, by the short name it accepts; a
// read-only table.
var signals = [...]struct {
	name string
	sig  syscall.Signal
}{
	{"TERM", syscall.SIGTERM}, {"KILL", syscall.SIGKILL}, {"STOP", syscall.SIGSTOP},
	{"CONT", syscall.SIGCONT}, {"INT", syscall.SIGINT}, {"HUP", syscall.SIGHUP},
}

// ParseSignal accepts TERM, KILL, STOP, CONT, INT and HUP, with or without
// the SIG prefix, in any case.
func ParseSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	for _, n := range signals {
		if n.name == name {
			return n.sig, nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q: want TERM, KILL, STOP, CONT, INT or HUP (SIG prefix optional)", s)
}

// SignalName is the short name of sig as ParseSignal accepts it.
func SignalName(sig syscall.Signal) string {
	for _, n := range signals {
		if n.sig == sig {
			return n.name
		}
	}
	return strings.ToUpper(sig.String())
}
