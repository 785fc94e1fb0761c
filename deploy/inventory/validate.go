package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	errs  []error
}

// fail records a problem at key of table (index selects a [[host]] block).
func (v *validator) fail(table string, index int, key, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.path, Line: v.lines.line(table, index, key), Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) unknownKeys(keys []toml.Key) {
	for _, k := range keys {
		parts := []string(k)
		table := strings.Join(parts[:len(parts)-1], ".")
		v.fail(table, -1, parts[len(parts)-1], "unknown key %q", k.String())
	}
}

func (v *validator) build(raw *rawFile) *Inventory {
	inv := &Inventory{Path: v.path}
	inv.Cluster = v.cluster(raw.Cluster)
	inv.ZooKeeper = v.zookeeper(raw.ZooKeeper)
	if len(raw.Host) == 0 {
		v.errs = append(v.errs, &Error{File: v.path, Msg: "no hosts: add at least one [[host]] with name, address and dir"})
	}
	for i, rh := range raw.Host {
		inv.Hosts = append(inv.Hosts, v.host(i, rh, raw))
	}
	v.duplicates(inv.Hosts)
	if n := len(inv.Hosts); n > 0 && n%2 == 0 {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s: %d servers tolerate no more failures than %d: use an odd number", v.path, n, n-1))
	}
	return inv
}

func (v *validator) cluster(rc rawCluster) Cluster {
	c := Cluster{TickTime: DefaultTickTime, SessionTimeout: DefaultSessionTimeout}
	if rc.TickTime != nil {
		c.TickTime = rc.TickTime.Duration
	}
	if rc.SessionTimeout != nil {
		c.SessionTimeout = rc.SessionTimeout.Duration
	}
	if c.TickTime < time.Millisecond || c.TickTime%time.Millisecond != 0 {
		v.fail("cluster", -1, "tick_time", "tick_time %v: want a whole number of milliseconds, at least 1ms", c.TickTime)
	} else if c.SessionTimeout < 2*c.TickTime || c.SessionTimeout > 20*c.TickTime {
		v.fail("cluster", -1, "session_timeout", "session_timeout %v outside [2, 20] ticks of tick_time %v: ZooKeeper allows %v to %v",
			c.SessionTimeout, c.TickTime, 2*c.TickTime, 20*c.TickTime)
	}
	if rc.AuthFile != "" {
		c.AuthFile = v.resolve(rc.AuthFile)
	}
	return c
}

func (v *validator) zookeeper(rz rawZK) ZooKeeper {
	z := ZooKeeper{Home: rz.Home, Install: rz.Install}
	if rz.Install != "" && rz.Install != "apt" {
		v.fail("zookeeper", -1, "install", "install %q: the only method is \"apt\"", rz.Install)
	}
	if rz.Home != "" && !filepath.IsAbs(expandHome(rz.Home)) {
		v.fail("zookeeper", -1, "home", "home %q must be an absolute path on the hosts", rz.Home)
	}
	if rz.Tarball != "" {
		z.Tarball = v.resolve(rz.Tarball)
	}
	return z
}

func (v *validator) host(i int, rh rawHost, raw *rawFile) Host {
	h := Host{Name: rh.Name, Address: rh.Address, ID: i + 1, Transport: rh.Transport}
	label := fmt.Sprintf("host #%d", i+1)
	if rh.Name != "" {
		label = fmt.Sprintf("host %q", rh.Name)
	}
	if h.Name == "" {
		v.fail("host", i, "name", "%s: missing name", label)
	} else if strings.ContainsAny(h.Name, " \t/:|") {
		v.fail("host", i, "name", "%s: name may not contain spaces, '/', ':' or '|'", label)
	}
	if rh.ID != nil {
		h.ID = *rh.ID
		if h.ID < 1 || h.ID > 255 {
			v.fail("host", i, "id", "%s: id %d outside 1..255", label, h.ID)
		}
	}
	switch h.Transport {
	case "":
		h.Transport = TransportSSH
	case TransportSSH, TransportLocal:
	default:
		v.fail("host", i, "transport", "%s: transport %q: want \"ssh\" or \"local\"", label, h.Transport)
	}
	if h.Address == "" {
		if h.Transport == TransportLocal {
			h.Address = "127.0.0.1"
		} else {
			v.fail("host", i, "address", "%s: missing address", label)
		}
	}
	h.ClientPort = v.port(i, label, "client_port", rh.ClientPort, raw.Cluster.ClientPort, DefaultClientPort)
	h.PeerPort = v.port(i, label, "peer_port", rh.PeerPort, raw.Cluster.PeerPort, DefaultPeerPort)
	h.ElectionPort = v.port(i, label, "election_port", rh.ElectionPort, raw.Cluster.ElectionPort, DefaultElectionPort)
	h.Dir = v.dir(i, label, rh.Dir, h.Transport)
	h.SSH = v.ssh(i, label, raw.SSH, rh.SSH)
	return h
}

func (v *validator) port(i int, label, key string, host, cluster *int, def int) int {
	p, table, idx := def, "cluster", -1
	if cluster != nil {
		p = *cluster
	}
	if host != nil {
		p, table, idx = *host, "host", i
	}
	if p < 1 || p > 65535 {
		v.fail(table, idx, key, "%s: %s %d outside 1..65535", label, key, p)
	}
	return p
}

func (v *validator) dir(i int, label, dir, transport string) string {
	if strings.TrimSpace(dir) == "" {
		v.fail("host", i, "dir", "%s: missing dir (where bin/ conf/ data/ logs/ run/ live)", label)
		return ""
	}
	d := expandHome(dir)
	if !filepath.IsAbs(d) {
		if transport != TransportLocal {
			v.fail("host", i, "dir", "%s: dir %q must be absolute on an SSH host", label, dir)
			return ""
		}
		d = filepath.Join(filepath.Dir(absOrSelf(v.path)), d)
	}
	d = filepath.Clean(d)
	if d == "/" {
		v.fail("host", i, "dir", "%s: dir %q is the root directory: give zkctl a folder of its own", label, dir)
		return ""
	}
	return d
}

func (v *validator) ssh(i int, label string, def, over rawSSH) SSH {
	s := SSH{User: "root", Port: 22, DialTimeout: DefaultDialTimeout}
	for _, r := range []rawSSH{def, over} {
		if r.User != nil {
			s.User = *r.User
		}
		if r.Port != nil {
			s.Port = *r.Port
		}
		if r.IdentityFile != nil {
			s.IdentityFile = v.resolve(*r.IdentityFile)
		}
		if r.KnownHosts != nil {
			s.KnownHosts = v.resolve(*r.KnownHosts)
		}
		if r.InsecureIgnoreHostKey != nil {
			s.InsecureIgnoreHostKey = *r.InsecureIgnoreHostKey
		}
		if r.Sudo != nil {
			s.Sudo = *r.Sudo
		}
		if r.DialTimeout != nil {
			s.DialTimeout = r.DialTimeout.Duration
		}
	}
	if s.KnownHosts == "" {
		s.KnownHosts = expandHome("~/.ssh/known_hosts")
	}
	if s.Port < 1 || s.Port > 65535 {
		table, idx := "ssh", -1
		if over.Port != nil {
			table, idx = "host.ssh", i
		}
		v.fail(table, idx, "port", "%s: ssh port %d outside 1..65535", label, s.Port)
	}
	if s.DialTimeout <= 0 {
		s.DialTimeout = DefaultDialTimeout
	}
	return s
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
		if j, ok := names[h.Name]; ok && h.Name != "" {
			v.fail("host", i, "name", "host %q: duplicate name (also host #%d)", h.Name, j+1)
		}
		names[h.Name] = i
		if j, ok := ids[h.ID]; ok {
			v.fail("host", i, "id", "host %q: duplicate id %d (also host %q)", h.Name, h.ID, hosts[j].Name)
		}
		ids[h.ID] = i
		for _, p := range []struct {
			key  string
			port int
		}{{"client_port", h.ClientPort}, {"peer_port", h.PeerPort}, {"election_port", h.ElectionPort}} {
			ep := endpoint{h.Address, p.port}
			if other, ok := ports[ep]; ok {
				v.fail("host", i, p.key, "host %q: duplicate %s %d on %s (already used by %s)", h.Name, p.key, p.port, h.Address, other)
				continue
			}
			ports[ep] = fmt.Sprintf("host %q %s", h.Name, p.key)
		}
	}
}

// resolve expands ~ and makes a local path absolute against the inventory's folder.
func (v *validator) resolve(p string) string {
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
