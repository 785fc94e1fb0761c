package node

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Preflight is what a host says before a deploy touches it (`zkctl
// check`, and deploy's preflight): whether the service user can reach
// dir, who holds the ports, the free disk under dir. Facts only: the
// controller decides what fails a deploy.
type Preflight struct {
	Dir   DirAccess  `json:"dir"`
	Ports []PortHeld `json:"ports"`
	Disk  Disk       `json:"disk"`
}

// DirAccess says whether User can reach (and write) a zkctl dir.
type DirAccess struct {
	User string `json:"user"`
	// Exists: dir is there already.
	Exists bool `json:"exists"`
	// Blocked is the first folder on the way that User cannot traverse
	// (Need "x"), or the folder User must write and cannot (Need "w"); ""
	// when User can reach dir.
	Blocked string `json:"blocked,omitempty"`
	Need    string `json:"need,omitempty"`
	Mode    string `json:"mode,omitempty"`  // Blocked's mode, e.g. "0700"
	Owner   string `json:"owner,omitempty"` // Blocked's owner and group, "root:root"
}

// PortHeld is one port and what listens on it.
type PortHeld struct {
	Port int  `json:"port"`
	Free bool `json:"free"`
	// Own: the listener is this dir's own ZooKeeper server.
	Own bool `json:"own,omitempty"`
	// PID and Command name another holder, when the agent may see it.
	PID     int    `json:"pid,omitempty"`
	Command string `json:"command,omitempty"`
}

// Disk is the free space of the filesystem that holds (or will hold) dir.
type Disk struct {
	Path string `json:"path"` // the existing folder measured
	Free uint64 `json:"free"` // bytes available to an unprivileged user
}

// CheckPreflight gathers the Preflight of dir for the service user
// runAs. owned says that deploy makes dir runAs's own (a root or sudo
// login chowns it); otherwise runAs must be able to create or write it
// itself (a plain login, where runAs is the login).
func CheckPreflight(dir, runAs string, owned bool, ports []int) (Preflight, error) {
	var p Preflight
	var err error
	if p.Dir, err = CheckDirAccess(dir, runAs, owned); err != nil {
		return p, err
	}
	if p.Disk, err = freeDisk(dir); err != nil {
		return p, err
	}
	p.Ports, err = portsHeld(Layout{Dir: dir}, ports)
	return p, err
}

// CheckDirAccess walks from / to dir as the user name would: every folder
// above dir must let it search (x). Where deploy does not hand dir to the
// user (owned false), dir, or the nearest folder above it that exists,
// must also let it write. A user that does not exist yet (deploy creates
// it) counts as a stranger to every folder.
func CheckDirAccess(dir, name string, owned bool) (DirAccess, error) {
	a := DirAccess{User: name}
	id, err := lookupIdentity(name)
	if err != nil {
		return a, err
	}
	dir = filepath.Clean(dir)
	parts := strings.Split(strings.TrimPrefix(dir, "/"), "/")
	path, last := "/", "/"
	for i := 0; i <= len(parts); i++ {
		if i > 0 {
			path = filepath.Join(path, parts[i-1])
		}
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return a, err
		}
		last = path
		if path == dir {
			a.Exists = true
			break
		}
		if !id.may(st, 1) {
			a.block(path, "x", st)
			return a, nil
		}
	}
	if !owned {
		if st, err := os.Stat(last); err == nil && !id.may(st, 3) {
			a.block(last, "w", st)
		}
	}
	return a, nil
}

func (a *DirAccess) block(path, need string, st fs.FileInfo) {
	a.Blocked, a.Need, a.Mode = path, need, fmt.Sprintf("%04o", st.Mode().Perm())
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		a.Owner = userName(s.Uid) + ":" + groupName(s.Gid)
	}
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

// identity is a user as the kernel sees it; uid -1: one that does not exist.
type identity struct {
	uid  int64
	gids []int64
}

func lookupIdentity(name string) (identity, error) {
	u, err := user.Lookup(name)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		return identity{uid: -1}, nil
	}
	if err != nil {
		return identity{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	id := identity{uid: atoi64(u.Uid)}
	id.gids = append(id.gids, atoi64(u.Gid))
	if gs, err := u.GroupIds(); err == nil {
		for _, g := range gs {
			id.gids = append(id.gids, atoi64(g))
		}
	}
	return id, nil
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// may reports whether id has every bit of want (1 search, 2 write, 4
// read) on st by its mode (ACLs are not read).
func (id identity) may(st fs.FileInfo, want fs.FileMode) bool {
	if id.uid == 0 {
		return true
	}
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := st.Mode().Perm()
	switch {
	case int64(s.Uid) == id.uid:
		perm >>= 6
	case slices.Contains(id.gids, int64(s.Gid)):
		perm >>= 3
	}
	return perm&want == want
}

// freeDisk measures the nearest existing folder at or above dir.
func freeDisk(dir string) (Disk, error) {
	p := filepath.Clean(dir)
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		if err == nil {
			return Disk{Path: p, Free: st.Bavail * uint64(st.Bsize)}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || p == "/" {
			return Disk{}, fmt.Errorf("statfs %s: %w", p, err)
		}
		p = filepath.Dir(p)
	}
}

// portsHeld looks each port up among the listening TCP sockets (IPv4 and
// IPv6) and names the holder: l's own ZooKeeper server, or another
// process where /proc lets the agent see it.
func portsHeld(l Layout, ports []int) ([]PortHeld, error) {
	listeners := map[int][]uint64{} // port → socket inodes
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := readListeners(f, listeners); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	own := map[uint64]bool{}
	if p, err := Inspect(l, ZooKeeperName); err == nil && p.Alive() {
		for _, ino := range socketInodes(p.PID) {
			own[ino] = true
		}
	}
	out := make([]PortHeld, 0, len(ports))
	for _, port := range ports {
		ph := PortHeld{Port: port, Free: len(listeners[port]) == 0}
		for _, ino := range listeners[port] {
			if own[ino] {
				ph.Own = true
			}
		}
		if !ph.Free && !ph.Own {
			ph.PID, ph.Command = socketOwner(listeners[port])
		}
		out = append(out, ph)
	}
	return out, nil
}

// tcpListen is the state of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// readListeners adds the listening sockets of a /proc/net/tcp file.
func readListeners(file string, into map[int][]uint64) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 10 || fl[3] != tcpListen {
			continue
		}
		_, hexPort, ok := strings.Cut(fl[1], ":")
		port, err1 := strconv.ParseUint(hexPort, 16, 16)
		ino, err2 := strconv.ParseUint(fl[9], 10, 64)
		if ok && err1 == nil && err2 == nil {
			into[int(port)] = append(into[int(port)], ino)
		}
	}
	return sc.Err()
}

// socketInodes lists the sockets pid holds open (none when /proc does not
// let the agent look).
func socketInodes(pid int) []uint64 {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	var out []uint64
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		if s, ok := strings.CutPrefix(link, "socket:["); ok {
			if n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// socketOwner finds a process holding one of inodes: its pid and command
// (0, "" when the agent may not see it).
func socketOwner(inodes []uint64) (int, string) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		for _, ino := range socketInodes(pid) {
			if slices.Contains(inodes, ino) {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				return pid, strings.TrimSpace(string(comm))
			}
		}
	}
	return 0, ""
}

// ZooKeeperVersion reads the version of the ZooKeeper that in found from
// its jar's Maven properties; "" when it cannot tell.
func ZooKeeperVersion(in Install) string {
	jar := DebianJar
	if in.Layout == "apache" {
		jar = apacheJar(in.ZooKeeperHome)
	}
	if in.ZooKeeperHome == "" || jar == "" {
		return ""
	}
	z, err := zip.OpenReader(jar)
	if err != nil {
		return ""
	}
	defer z.Close()
	f, err := z.Open("META-INF/maven/org.apache.zookeeper/zookeeper/pom.properties")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "version="); ok {
			return v
		}
	}
	return ""
}
