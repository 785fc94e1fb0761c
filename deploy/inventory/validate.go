package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Defaults applied where the inventory is silent.
const (
	DefaultTickTime       = 2 * time.Second
	DefaultSessionTimeout = 10 * time.Second
	DefaultClientPort     = 2181
	DefaultPeerPort       = 2888
	DefaultElectionPort   = 3888
	DefaultDialTimeout    = 10 * time.Second
)

type validator struct {
	path  string
	lines *keyLines
	errs  []*Error
}

// at is where a value stands: its table ("", "cluster", "ssh", "host",
// "host.ssh", …), the [[host]] block (-1 outside one) and its key; label
// names the host in messages.
type at struct {
	table string
	index int
	key   string
	label string
}

// String is how messages name the key: "cluster.tick_time", "ssh.port",
// `host "vm1": client_port`, `host "vm1": ssh.port`.
func (a at) String() string {
	name := a.key
	if t := strings.TrimPrefix(strings.TrimPrefix(a.table, "host"), "."); t != "" {
		name = t + "." + a.key
	}
	if a.label != "" {
		return a.label + ": " + name
	}
	return name
}

// fail records a problem at a's line.
func (v *validator) fail(a at, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.path, Line: v.lines.line(a.table, a.index, a.key), Msg: fmt.Sprintf(format, args...)})
}

// unknownKeys refuses every key the inventory does not define, once: the
// keys under an unknown table are not listed again.
func (v *validator) unknownKeys(keys []toml.Key) {
	seen := map[string]int{} // occurrences so far, to find the n-th [[host]]'s line
	reported := map[string]bool{}
outer:
	for _, k := range keys {
		s := k.String()
		n := seen[s]
		seen[s]++
		for j := 1; j < len(k); j++ {
			if reported[k[:j].String()] {
				continue outer
			}
		}
		reported[s] = true
		table := strings.Join(k[:len(k)-1], ".")
		line := v.lines.nth(table, -1, k[len(k)-1], n)
		v.errs = append(v.errs, &Error{File: v.path, Line: line, Msg: fmt.Sprintf("unknown key %q", s)})
	}
}

// The typed getters return a value and whether the file sets it; a value of
// the wrong type is reported and counts as unset.

func (v *validator) str(a at, x any) (string, bool) {
	if x == nil {
		return "", false
	}
	s, ok := x.(string)
	if !ok {
		v.fail(a, "%s: want a string, got %s", a, tomlType(x))
	}
	return s, ok
}

func (v *validator) boolean(a at, x any) (bool, bool) {
	if x == nil {
		return false, false
	}
	b, ok := x.(bool)
	if !ok {
		v.fail(a, "%s: want true or false, got %s", a, tomlType(x))
	}
	return b, ok
}

// integer also refuses a value outside [lo, hi] (and returns it anyway, so
// that one mistake is not reported again as something else).
func (v *validator) integer(a at, x any, lo, hi int64) (int, bool) {
	if x == nil {
		return 0, false
	}
	n, ok := x.(int64)
	if !ok {
		v.fail(a, "%s: want an integer, got %s", a, tomlType(x))
		return 0, false
	}
	if n < lo || n > hi {
		v.fail(a, "%s %d outside %d..%d", a, n, lo, hi)
	}
	return int(n), true
}

func (v *validator) duration(a at, x any) (time.Duration, bool) {
	if x == nil {
		return 0, false
	}
	d, err := durationOf(x)
	if err != nil {
		v.fail(a, "%s: %v", a, err)
		return 0, false
	}
	return d, true
}

// ports are the cluster-wide ports, by key.
type ports map[string]int

func (v *validator) build(raw *rawFile) *Inventory {
	inv := &Inventory{Path: v.path}
	var pp ports
	inv.Cluster, pp = v.cluster(raw.Cluster)
	inv.ZooKeeper = v.zookeeper(raw.ZooKeeper)
	ssh, set := v.ssh(SSH{}, sshSet{}, at{table: "ssh", index: -1}, raw.SSH)
	sc := v.sshConfig(raw.SSH.SSHConfig)
	if len(raw.Host) == 0 {
		v.errs = append(v.errs, &Error{File: v.path, Msg: "no hosts: add at least one [[host]] with name, address and dir"})
	}
	for i, rh := range raw.Host {
		inv.Hosts = append(inv.Hosts, v.host(i, rh, pp, ssh, set, sc))
	}
	v.duplicates(inv.Hosts)
	for i := range inv.Hosts {
		if inv.Hosts[i].RunAs == "" {
			inv.Hosts[i].RunAs = inv.Cluster.RunAs
		}
	}
	inv.Roles = v.roles(raw.Roles)
	v.ensemble(inv)
	return inv
}

func (v *validator) cluster(rc rawCluster) (Cluster, ports) {
	a := func(key string) at { return at{table: "cluster", index: -1, key: key} }
	c := Cluster{TickTime: DefaultTickTime, SessionTimeout: DefaultSessionTimeout}
	tickOK, sessionOK := true, true
	if d, set := v.duration(a("tick_time"), rc.TickTime); set {
		c.TickTime = d
	} else {
		tickOK = rc.TickTime == nil
	}
	if d, set := v.duration(a("session_timeout"), rc.SessionTimeout); set {
		c.SessionTimeout = d
	} else {
		sessionOK = rc.SessionTimeout == nil
	}
	// ParseDuration bounds durations, so 20 ticks cannot overflow.
	if c.TickTime < time.Millisecond || c.TickTime%time.Millisecond != 0 {
		if tickOK {
			v.fail(a("tick_time"), "cluster.tick_time %v: want a whole number of milliseconds, at least 1ms", c.TickTime)
		}
	} else if tickOK && sessionOK && (c.SessionTimeout < 2*c.TickTime || c.SessionTimeout > 20*c.TickTime) {
		v.fail(a("session_timeout"), "cluster.session_timeout %v outside [2, 20] ticks of tick_time %v: ZooKeeper allows %v to %v",
			c.SessionTimeout, c.TickTime, 2*c.TickTime, 20*c.TickTime)
	}
	if s, _ := v.str(a("auth_file"), rc.AuthFile); s != "" {
		c.AuthFile = v.resolve(s)
	}
	c.RunAs = v.runAs(a("run_as"), rc.RunAs, DefaultRunAs)
	pp := ports{"client_port": DefaultClientPort, "peer_port": DefaultPeerPort, "election_port": DefaultElectionPort}
	for _, p := range []struct {
		key string
		x   any
	}{{"client_port", rc.ClientPort}, {"peer_port", rc.PeerPort}, {"election_port", rc.ElectionPort}} {
		if n, set := v.integer(a(p.key), p.x, 1, 65535); set {
			pp[p.key] = n
		}
	}
	return c, pp
}

func (v *validator) zookeeper(rz rawZK) ZooKeeper {
	a := func(key string) at { return at{table: "zookeeper", index: -1, key: key} }
	var z ZooKeeper
	z.Home = v.home(a("home"), rz.Home)
	z.Install, _ = v.str(a("install"), rz.Install)
	if z.Install != "" && z.Install != "apt" {
		v.fail(a("install"), "zookeeper.install %q: the only method is \"apt\"", z.Install)
	}
	if s, _ := v.str(a("tarball"), rz.Tarball); s != "" {
		z.Tarball = v.resolve(s)
	}
	return z
}

// home is a ZooKeeper release folder on the hosts: absolute, one line.
func (v *validator) home(a at, x any) string {
	h, _ := v.str(a, x)
	if h != "" && !filepath.IsAbs(expandHome(h)) {
		v.fail(a, "%s %q must be an absolute path on the hosts", a, h)
	} else if strings.IndexFunc(h, control) >= 0 {
		v.fail(a, "%s %q may not contain control characters", a, h)
	}
	return h
}

func (v *validator) host(i int, rh rawHost, pp ports, ssh SSH, set sshSet, sc *sshConfig) Host {
	h := Host{ID: i + 1}
	a := func(key string) at { return at{table: "host", index: i, key: key, label: fmt.Sprintf("host #%d", i+1)} }
	name, nameSet := v.str(a("name"), rh.Name)
	label := fmt.Sprintf("host #%d", i+1)
	if name != "" {
		label = fmt.Sprintf("host %q", name)
	}
	a = func(key string) at { return at{table: "host", index: i, key: key, label: label} }
	h.Name = name
	switch {
	case name == "":
		if nameSet || rh.Name == nil {
			v.fail(a("name"), "%s: missing name", label)
		}
	case strings.IndexFunc(name, blank) >= 0, strings.ContainsAny(name, "/:|"):
		v.fail(a("name"), "%s: name may not contain spaces, control characters, '/', ':' or '|'", label)
	}
	if id, set := v.integer(a("id"), rh.ID, 1, 255); set {
		h.ID, h.IDSet = id, true
	}
	h.Transport, _ = v.str(a("transport"), rh.Transport)
	switch h.Transport {
	case "":
		h.Transport = TransportSSH
	case TransportSSH, TransportLocal:
	default:
		v.fail(a("transport"), "%s: transport %q: want \"ssh\" or \"local\"", label, h.Transport)
	}
	address, addressSet := v.str(a("address"), rh.Address)
	h.Address = address
	switch {
	case address == "" && (addressSet || rh.Address == nil):
		if h.Transport == TransportLocal {
			h.Address = "127.0.0.1"
		} else {
			v.fail(a("address"), "%s: missing address", label)
		}
	case strings.IndexFunc(address, blank) >= 0:
		// It goes into zoo.cfg and the roles' connection string.
		v.fail(a("address"), "%s: address %q may not contain spaces or control characters", label, address)
	}
	h.ClientPort = v.port(a("client_port"), rh.ClientPort, pp)
	h.PeerPort = v.port(a("peer_port"), rh.PeerPort, pp)
	h.ElectionPort = v.port(a("election_port"), rh.ElectionPort, pp)
	if dir, set := v.str(a("dir"), rh.Dir); set || rh.Dir == nil {
		h.Dir = v.dir(a("dir"), dir, h.Transport)
	}
	where := at{table: "host.ssh", index: i, label: label}
	if rh.SSH.SSHConfig != nil {
		where.key = "ssh_config"
		v.fail(where, "%s: ssh_config is read once, from [ssh]: move it there", where)
	}
	h.SSH, set = v.ssh(ssh, set, where, rh.SSH)
	if h.Transport == TransportSSH && sc != nil && h.Address != "" {
		v.applySSHConfig(&h, set, sc, a("address"))
	}
	sshDefaults(&h.SSH)
	v.jumpTunnel(&h.SSH, where, rh.SSH)
	h.RunAs = v.runAs(a("run_as"), rh.RunAs, "")
	if serves, set := v.boolean(a("zookeeper"), rh.ZooKeeper); set {
		h.RoleOnly = !serves
	}
	h.Observer, _ = v.boolean(a("observer"), rh.Observer)
	h.ZooKeeperHome = v.home(a("zookeeper_home"), rh.ZKHome)
	if h.ZooKeeperHome != "" && h.RoleOnly {
		v.fail(a("zookeeper_home"), "%s: zookeeper_home on a host with zookeeper = false: a role-only host runs no server", label)
	}
	if h.Observer && h.RoleOnly {
		v.fail(a("observer"), "%s: observer = true on a host with zookeeper = false: a role-only host runs no server to observe with", label)
	}
	return h
}

// ensemble refuses what ZooKeeper would refuse of the servers as a whole
// (none at all; observers without a voter: "Observers w/o participants is
// an invalid configuration") and warns of an even number of voters, which
// tolerates no more failures than one fewer.
func (v *validator) ensemble(inv *Inventory) {
	if len(inv.Hosts) == 0 {
		return
	}
	servers, voters := len(inv.ServerHosts()), inv.Voters()
	first := func(key string, pick func(Host) bool) at {
		for i, h := range inv.Hosts {
			if pick(h) {
				return at{table: "host", index: i, key: key}
			}
		}
		return at{table: "host", index: 0, key: key}
	}
	switch {
	case servers == 0:
		v.fail(first("zookeeper", func(h Host) bool { return h.RoleOnly }),
			"every host has zookeeper = false: the roles need at least one ZooKeeper server")
	case voters == 0:
		v.fail(first("observer", func(h Host) bool { return h.Observer }),
			"every server is an observer: ZooKeeper refuses an ensemble without a voting server (observers w/o participants)")
	case voters%2 == 0:
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s: %d voting servers tolerate no more failures than %d: use an odd number", v.path, voters, voters-1))
	}
}

// port is the host's own port for a.key, else the cluster's.
func (v *validator) port(a at, x any, pp ports) int {
	if p, set := v.integer(a, x, 1, 65535); set {
		return p
	}
	return pp[a.key]
}

func (v *validator) dir(a at, dir, transport string) string {
	if strings.TrimSpace(dir) == "" {
		v.fail(a, "%s: missing dir (where bin/ conf/ data/ logs/ run/ live)", a.label)
		return ""
	}
	if strings.IndexFunc(dir, control) >= 0 {
		// It goes into zoo.cfg, one setting a line.
		v.fail(a, "%s: dir %q may not contain control characters", a.label, dir)
		return ""
	}
	d := dir
	if transport == TransportLocal {
		d = expandHome(dir) // "~" is this machine's home only for a local host
	}
	if !filepath.IsAbs(d) {
		if transport != TransportLocal {
			v.fail(a, "%s: dir %q must be absolute on an SSH host (\"~\" would be this machine's home, not the host's)", a.label, dir)
			return ""
		}
		d = filepath.Join(filepath.Dir(absOrSelf(v.path)), d)
	}
	d = filepath.Clean(d)
	if d == "/" {
		v.fail(a, "%s: dir %q is the root directory: give zkctl a folder of its own", a.label, dir)
		return ""
	}
	return d
}

// sshSet says which [ssh] keys the inventory set, for the host at hand:
// those win over ssh_config, which wins over zkctl's defaults.
type sshSet struct{ user, port, identity, knownHosts, jump, dialTimeout bool }

// ssh applies the settings of r (the [ssh] defaults or a [host.ssh]
// override, where says which) on top of s.
func (v *validator) ssh(s SSH, set sshSet, where at, r rawSSH) (SSH, sshSet) {
	a := func(key string) at { where.key = key; return where }
	if x, ok := v.str(a("user"), r.User); ok {
		s.User, set.user = x, true
	}
	if x, ok := v.integer(a("port"), r.Port, 1, 65535); ok {
		s.Port, set.port = x, true
	}
	// An empty identity_file means the agent, an empty known_hosts the default.
	if x, ok := v.str(a("identity_file"), r.IdentityFile); ok {
		s.IdentityFile, set.identity = v.resolve(x), true
	}
	if x, ok := v.str(a("known_hosts"), r.KnownHosts); ok {
		s.KnownHosts, set.knownHosts = v.resolve(x), x != ""
	}
	if x, ok := v.boolean(a("insecure_ignore_host_key"), r.InsecureIgnoreHostKey); ok {
		s.InsecureIgnoreHostKey = x
	}
	if x, ok := v.boolean(a("sudo"), r.Sudo); ok {
		s.Sudo = x
	}
	if x, ok := v.duration(a("dial_timeout"), r.DialTimeout); ok && x > 0 {
		s.DialTimeout, set.dialTimeout = x, true
	}
	if x, ok := v.str(a("jump"), r.Jump); ok {
		hops, err := parseJump(x)
		if err != nil {
			v.fail(a("jump"), "%s: %v", a("jump"), err)
		}
		s.Jump, set.jump = hops, true
	}
	if x, ok := v.boolean(a("tunnel"), r.Tunnel); ok {
		s.Tunnel = map[bool]Tunnel{true: TunnelAlways, false: TunnelNever}[x]
	}
	if where.table == "ssh" {
		v.jumpTunnel(&s, where, r)
	}
	return s, set
}

// sshDefaults fills what neither the inventory nor ssh_config said.
func sshDefaults(s *SSH) {
	if s.User == "" {
		s.User = "root"
	}
	if s.Port == 0 {
		s.Port = 22
	}
	if s.KnownHosts == "" {
		s.KnownHosts = expandHome("~/.ssh/known_hosts")
	}
	if s.DialTimeout <= 0 {
		s.DialTimeout = DefaultDialTimeout
	}
}

// jumpTunnel settles jump and tunnel: a host behind a bastion is always
// tunneled, so tunnel = false with a jump is refused, in the table that
// brought the two together. At the host level, the hops without a user get
// the host's login user.
func (v *validator) jumpTunnel(s *SSH, where at, r rawSSH) {
	if len(s.Jump) == 0 {
		return
	}
	if s.Tunnel == TunnelNever && (r.Jump != nil || r.Tunnel != nil) {
		where.key = "jump"
		if r.Tunnel != nil {
			where.key = "tunnel"
		}
		v.fail(where, "%s: tunnel = false with a jump host: behind a bastion the client port is reached only through SSH", where)
	}
	if where.table == "host.ssh" {
		s.Jump = fillHopUsers(s.Jump, s.User)
		s.Tunnel = TunnelAlways
	}
}

// duplicates refuses two hosts with one name, one id, or one address and port.
func (v *validator) duplicates(hosts []Host) {
	names, ids := map[string]int{}, map[int]int{}
	type endpoint struct {
		addr string
		port int
	}
	ports := map[endpoint]string{}
	for i, h := range hosts {
		a := func(key string) at { return at{table: "host", index: i, key: key} }
		if j, ok := names[h.Name]; ok && h.Name != "" {
			v.fail(a("name"), "host %q: duplicate name (also host #%d)", h.Name, j+1)
		}
		names[h.Name] = i
		if j, ok := ids[h.ID]; ok {
			v.fail(a("id"), "host %q: duplicate id %d (also host %q)", h.Name, h.ID, hosts[j].Name)
		}
		ids[h.ID] = i
		if !h.Serves() {
			continue // a role-only host listens on none of its ports
		}
		for _, p := range []struct {
			key  string
			port int
		}{{"client_port", h.ClientPort}, {"peer_port", h.PeerPort}, {"election_port", h.ElectionPort}} {
			ep := endpoint{h.Address, p.port}
			if other, ok := ports[ep]; ok {
				v.fail(a(p.key), "host %q: duplicate %s %d on %s (already used by %s)", h.Name, p.key, p.port, h.Address, other)
				continue
			}
			ports[ep] = fmt.Sprintf("host %q %s", h.Name, p.key)
		}
	}
}

// blank reports a space or a character that does not print, which names
// and addresses may not contain.
func blank(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }

// control reports a control character or an invalid byte.
func control(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }

// resolve expands ~ and makes a local path absolute against the inventory's
// folder; "" stays "".
func (v *validator) resolve(p string) string {
	if p == "" {
		return ""
	}
	p = expandHome(p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(absOrSelf(v.path)), p)
	}
	return p
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

func absOrSelf(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
