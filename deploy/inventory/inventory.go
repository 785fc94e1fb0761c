// Package inventory parses and validates zkctl's TOML inventory: cluster
// timings and ports, SSH defaults, ZooKeeper provisioning and the hosts.
// Everything is checked before any host is touched, and every error names
// the file, the line and the key.
package inventory

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Transports a host may use.
const (
	TransportSSH   = "ssh"
	TransportLocal = "local"
)

// Inventory is a validated inventory with every default applied.
type Inventory struct {
	Path      string // the file it was read from ("" when parsed from memory)
	Cluster   Cluster
	ZooKeeper ZooKeeper
	Hosts     []Host
	Roles     map[string]Role // [roles.*]: other programs for roles, by role name
	Warnings  []string
}

// Cluster holds the settings shared by every server and role.
type Cluster struct {
	TickTime       time.Duration
	SessionTimeout time.Duration
	AuthFile       string // absolute path of "user:password", "" for none
	RunAs          string // service user of ZooKeeper and the roles (DefaultRunAs)
}

// ZooKeeper says where ZooKeeper lives on the hosts and how to provision it.
type ZooKeeper struct {
	Home    string // "" = auto-detect
	Tarball string // local path of an Apache release to push, "" = none
	Install string // "apt" or ""
}

// Host is one server of the ensemble and the place its roles run.
type Host struct {
	Name         string
	Address      string
	Dir          string // absolute
	ID           int    // ZooKeeper myid
	Transport    string // TransportSSH or TransportLocal
	ClientPort   int
	PeerPort     int
	ElectionPort int
	SSH          SSH
	RunAs        string // [cluster] run_as unless the host sets its own
	IDSet        bool   // id was written in the host's table (not its position)
	Observer     bool   // observer = true: a ZooKeeper observer, which votes in nothing
	RoleOnly     bool   // zookeeper = false: roles only, no ZooKeeper server
	// ZooKeeperHome: zookeeper_home, the release this host's server runs
	// instead of [zookeeper]'s home or tarball ("" = as [zookeeper] says).
	ZooKeeperHome string
}

// Serves reports whether the host runs a ZooKeeper server.
func (h Host) Serves() bool { return !h.RoleOnly }

// Votes reports whether the host's server votes (a participant, not an observer).
func (h Host) Votes() bool { return h.Serves() && !h.Observer }

// SSH holds how to reach a host over SSH.
type SSH struct {
	User                  string
	Port                  int
	IdentityFile          string
	KnownHosts            string
	InsecureIgnoreHostKey bool
	Sudo                  bool
	DialTimeout           time.Duration
	Jump                  []Hop  // bastions, outermost first; none = direct
	Tunnel                Tunnel // how the controller reaches the client port
	// HostKeyAlias is the name known_hosts lists the host's key under
	// (ssh_config's HostKeyAlias); "" = its address.
	HostKeyAlias string
}

// ClientAddr is the host's ZooKeeper client endpoint, "addr:port".
func (h Host) ClientAddr() string { return fmt.Sprintf("%s:%d", h.Address, h.ClientPort) }

// IsLocal reports whether the host runs on this machine without SSH.
func (h Host) IsLocal() bool { return h.Transport == TransportLocal }

// Host returns the host called name.
func (inv *Inventory) Host(name string) (Host, bool) {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// HostNames lists the hosts' names in inventory order.
func (inv *Inventory) HostNames() []string {
	names := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		names[i] = h.Name
	}
	return names
}

// Servers lists the client endpoint of every host that runs a server,
// the roles' connection string.
func (inv *Inventory) Servers() []string {
	var s []string
	for _, h := range inv.ServerHosts() {
		s = append(s, h.ClientAddr())
	}
	return s
}

// ServerHosts lists the hosts that run a ZooKeeper server, in inventory
// order: every host but the role-only ones.
func (inv *Inventory) ServerHosts() []Host {
	var out []Host
	for _, h := range inv.Hosts {
		if h.Serves() {
			out = append(out, h)
		}
	}
	return out
}

// ObserverNames are the names of the observers.
func (inv *Inventory) ObserverNames() []string {
	var out []string
	for _, h := range inv.Hosts {
		if h.Serves() && h.Observer {
			out = append(out, h.Name)
		}
	}
	return out
}

// Voters counts the servers that vote: the servers less the observers.
func (inv *Inventory) Voters() int {
	n := 0
	for _, h := range inv.Hosts {
		if h.Votes() {
			n++
		}
	}
	return n
}

// Load reads and validates the inventory at path.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w (pass -i FILE or set ZKCTL_INVENTORY)", err)
	}
	return Parse(path, data)
}

// Parse validates data as the inventory file path (used in messages and to
// resolve relative paths).
func Parse(path string, data []byte) (*Inventory, error) {
	var raw rawFile
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, decodeError(path, data, err)
	}
	v := &validator{path: path, lines: scanKeyLines(string(data))}
	v.unknownKeys(md.Undecoded())
	inv := v.build(&raw)
	if len(v.errs) > 0 {
		// In the order of the file; the errors of no line (0, as a uint
		// less one: the largest) last.
		slices.SortStableFunc(v.errs, func(a, b *Error) int {
			return cmp.Compare(uint(a.Line-1), uint(b.Line-1))
		})
		errs := make([]error, len(v.errs))
		for i, e := range v.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return inv, nil
}

// lastKeyRe matches the prefix BurntSushi/toml gives the errors of decoding
// (a table where an array of tables is expected, …).
var lastKeyRe = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "(.*)"\): `)

// decodeError turns an error of the TOML decoder into an *Error at its line.
func decodeError(path string, data []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line := pe.Position.Line
		// The decoder counts the newline that ends a line as the next one
		// ("[[host]" + "\n": line 2); the offset of the error is exact.
		if s := pe.Position.Start; s > 0 && s <= len(data) {
			line = 1 + bytes.Count(data[:s], []byte("\n"))
		}
		return &Error{File: path, Line: line, Msg: pe.Message}
	}
	msg, line := err.Error(), 0
	if m := lastKeyRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2] + ": " + rawTypeRe.ReplaceAllString(msg[len(m[0]):], "")
	}
	return &Error{File: path, Line: line, Msg: strings.TrimPrefix(msg, "toml: ")}
}

// rawTypeRe matches the decoder naming our raw types, of no use to a reader.
var rawTypeRe = regexp.MustCompile(`type mismatch for inventory\.raw\w+: `)

// Error is a problem in an inventory file, at a line when it is known.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	// One line per error: errors.Join separates them with newlines.
	msg := oneLine.Replace(e.Msg)
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	}
	return fmt.Sprintf("%s: %s", e.File, msg)
}

var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// The raw* types mirror the file. Values are decoded as they are (string,
// int64, float64, bool, …) and typed by the validator, so that a value of
// the wrong type is reported with its key and line like any other mistake.
type rawFile struct {
	Cluster   rawCluster         `toml:"cluster"`
	SSH       rawSSH             `toml:"ssh"`
	ZooKeeper rawZK              `toml:"zookeeper"`
	Host      []rawHost          `toml:"host"`
	Roles     map[string]rawRole `toml:"roles"`
}

type rawCluster struct {
	TickTime       any `toml:"tick_time"`
	SessionTimeout any `toml:"session_timeout"`
	ClientPort     any `toml:"client_port"`
	PeerPort       any `toml:"peer_port"`
	ElectionPort   any `toml:"election_port"`
	AuthFile       any `toml:"auth_file"`
	RunAs          any `toml:"run_as"`
}

type rawSSH struct {
	User                  any `toml:"user"`
	Port                  any `toml:"port"`
	IdentityFile          any `toml:"identity_file"`
	KnownHosts            any `toml:"known_hosts"`
	InsecureIgnoreHostKey any `toml:"insecure_ignore_host_key"`
	Sudo                  any `toml:"sudo"`
	DialTimeout           any `toml:"dial_timeout"`
	Jump                  any `toml:"jump"`
	Tunnel                any `toml:"tunnel"`
	SSHConfig             any `toml:"ssh_config"` // [ssh] only
}

type rawZK struct {
	Home    any `toml:"home"`
	Tarball any `toml:"tarball"`
	Install any `toml:"install"`
}

type rawHost struct {
	Name         any    `toml:"name"`
	Address      any    `toml:"address"`
	Dir          any    `toml:"dir"`
	ID           any    `toml:"id"`
	Transport    any    `toml:"transport"`
	ClientPort   any    `toml:"client_port"`
	PeerPort     any    `toml:"peer_port"`
	ElectionPort any    `toml:"election_port"`
	SSH          rawSSH `toml:"ssh"`
	RunAs        any    `toml:"run_as"`
	ZooKeeper    any    `toml:"zookeeper"`
	Observer     any    `toml:"observer"`
	ZKHome       any    `toml:"zookeeper_home"`
}
