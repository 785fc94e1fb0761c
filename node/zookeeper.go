package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zkctl/node/wire"
)

// ZooKeeperName is the process name of the ZooKeeper server in run/ and logs/.
const ZooKeeperName = "zookeeper"

// Debian's ZooKeeper package layout.
const (
	DebianHome = "/usr/share/zookeeper"
	DebianJar  = "/usr/share/java/zookeeper.jar"
)

// Install describes the Java and ZooKeeper found on a host.
type Install struct {
	Java          string `json:"java"`           // path of the java binary, "" if none
	ZooKeeperHome string `json:"zookeeper_home"` // "" if none
	Layout        string `json:"layout"`         // "debian", "apache" or ""
}

// Detect looks for java and ZooKeeper: home (an Apache release with lib/ and
// zookeeper-*.jar), or else the Debian package.
func Detect(home string) Install {
	var in Install
	if jh := os.Getenv("JAVA_HOME"); jh != "" && isFile(filepath.Join(jh, "bin", "java")) {
		in.Java = filepath.Join(jh, "bin", "java")
	} else if p, err := exec.LookPath("java"); err == nil {
		in.Java = p
	}
	switch {
	case home != "" && apacheJar(home) != "":
		in.ZooKeeperHome, in.Layout = home, "apache"
	case home == "" && isFile(DebianJar):
		in.ZooKeeperHome, in.Layout = DebianHome, "debian"
	}
	return in
}

func apacheJar(home string) string {
	m, _ := filepath.Glob(filepath.Join(home, "lib", "zookeeper-3*.jar"))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// classpath returns the JVM classpath for the detected layout. For Debian
// the slf4j-log4j12 binding and log4j are what make ZooKeeper log at all.
// A release's own jute jar comes before lib/*: the order of a wildcard's
// jars is unspecified, and a jar built by Debian names
// /usr/share/java/zookeeper-jute.jar in its manifest, which the JVM reads
// right after that jar — on a host with Debian's package, another
// version's jute classes.
func classpath(l Layout, in Install) string {
	if in.Layout == "apache" {
		lib := filepath.Join(in.ZooKeeperHome, "lib")
		cp := []string{l.Conf(), filepath.Join(in.ZooKeeperHome, "conf")}
		jute, _ := filepath.Glob(filepath.Join(lib, "zookeeper-jute-*.jar"))
		return strings.Join(append(append(cp, jute...), filepath.Join(lib, "*")), ":")
	}
	return strings.Join([]string{l.Conf(), DebianJar, "/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"}, ":")
}

// releaseLogging are the JVM flags that make an Apache release log
// through its own framework, as its bin/zkEnv.sh does: logback (3.8 on)
// reads the release's conf/logback.xml, whose appenders take the log
// folder and file from these properties; its console output is what the
// agent appends to logs/zookeeper.log. A release before 3.8 (log4j) and
// Debian's package use conf/log4j.properties, named above.
func releaseLogging(in Install) []string {
	if in.Layout != "apache" {
		return nil
	}
	flags := []string{"-Dzookeeper.log.file=" + ZooKeeperName + ".log"}
	if xml := filepath.Join(in.ZooKeeperHome, "conf", "logback.xml"); isFile(xml) {
		flags = append(flags, "-Dlogback.configurationFile=file:"+xml)
	}
	return flags
}

// RenderFiles writes conf/zoo.cfg, conf/log4j.properties and data/myid atomically.
func RenderFiles(c *Config) error {
	l := Layout{c.Dir}
	if err := ensureInside(l, l.Data()); err != nil {
		return err
	}
	files := []struct {
		path, body string
	}{
		{filepath.Join(l.Conf(), "zoo.cfg"), RenderZooCfg(c)},
		{filepath.Join(l.Conf(), "log4j.properties"), log4jProperties},
		{filepath.Join(l.Data(), "myid"), strconv.Itoa(c.MyID) + "\n"},
	}
	for _, f := range files {
		if err := WriteFileAtomic(f.path, []byte(f.body), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	return nil
}

// ensureInside refuses a path that resolves (through symlinks) outside dir.
func ensureInside(l Layout, p string) error {
	root, err := filepath.EvalSymlinks(l.Dir)
	if err != nil {
		return fmt.Errorf("dir %s: %w", l.Dir, err)
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if real != root && !strings.HasPrefix(real, root+string(filepath.Separator)) {
		return fmt.Errorf("%s leads to %s, outside %s: refusing", p, real, l.Dir)
	}
	return nil
}

// ErrNoServer is a call on a server of a host that runs none (a role-only
// host: zookeeper = false in the inventory).
var ErrNoServer = wire.ErrNoServer

// Launch is how the agent starts a host's server: the zoo.cfg it renders
// and the command line. A change of either takes a restart to apply.
type Launch struct {
	ZooCfg string   `json:"zoo_cfg"`
	Argv   []string `json:"argv"`
}

// ServerLaunch is the launch of c's server with the Java and ZooKeeper
// that in names.
func ServerLaunch(c *Config, in Install) Launch {
	l := Layout{c.Dir}
	argv := []string{in.Java,
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.root.logger=INFO,CONSOLE",
		"-Dlog4j.configuration=file:" + filepath.Join(l.Conf(), "log4j.properties"),
		"-Dzookeeper.log.dir=" + l.Logs(),
		"-Dzookeeper.cnxTimeout=1000",
	}
	argv = append(argv, releaseLogging(in)...)
	argv = append(argv, "-cp", classpath(l, in),
		"org.apache.zookeeper.server.quorum.QuorumPeerMain",
		filepath.Join(l.Conf(), "zoo.cfg"))
	return Launch{ZooCfg: RenderZooCfg(c), Argv: argv}
}

// StartZooKeeper renders the files and starts the server detached, unless
// one already runs. It does not wait for the server to serve.
func StartZooKeeper(c *Config) (Proc, error) {
	if _, ok := c.Self(); !ok {
		return Proc{}, fmt.Errorf("host %s %w (zookeeper = false in the inventory)", c.Host, ErrNoServer)
	}
	l := Layout{c.Dir}
	if p, err := Inspect(l, ZooKeeperName); err == nil && p.State != StateDead {
		return p, nil
	}
	in := Detect(c.ZooKeeperHome)
	if in.Java == "" {
		return Proc{}, errors.New("java not found: install a JRE (apt-get install -y default-jre-headless) or set [zookeeper] install = \"apt\"")
	}
	if in.ZooKeeperHome == "" {
		return Proc{}, errors.New("ZooKeeper not found: apt-get install -y zookeeper, or set [zookeeper] home/tarball/install in the inventory")
	}
	if err := RenderFiles(c); err != nil {
		return Proc{}, err
	}
	env := append(os.Environ(), "ZOO_LOG_DIR="+l.Logs())
	return Spawn(l, ZooKeeperName, ServerLaunch(c, in).Argv, env)
}

// Wipe deletes data/ (never anything else) after checking it stays inside dir.
func Wipe(l Layout) error {
	info, err := os.Lstat(l.Data())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symlink: refusing to wipe it", l.Data())
	}
	if err := ensureInside(l, l.Data()); err != nil {
		return err
	}
	return os.RemoveAll(l.Data())
}

// SignalZooKeeper sends sig to the server; TERM means a full Stop.
func SignalZooKeeper(l Layout, sig syscall.Signal, grace time.Duration) (Proc, error) {
	p, err := Inspect(l, ZooKeeperName)
	if errors.Is(err, os.ErrNotExist) {
		return Proc{Name: ZooKeeperName, Role: ZooKeeperName, State: StateDead}, nil
	}
	if err != nil {
		return p, err
	}
	if sig == syscall.SIGTERM {
		err = Stop(p, grace)
	} else {
		err = Signal(p, sig)
	}
	time.Sleep(10 * time.Millisecond)
	p.State = liveState(p.PID, p.StartTime)
	return p, err
}

// FourLetter sends a 4lw command to addr and returns the reply.
func FourLetter(addr, cmd string, timeout time.Duration) (string, error) {
	return FourLetterVia(nil, addr, cmd, timeout)
}

// FourLetterVia is FourLetter over a connection opened by dial (the
// client library's dialer type: a tunnel, say); nil dials directly. The
// whole exchange is bounded by timeout, also over a connection without
// deadlines.
func FourLetterVia(dial func(network, addr string, timeout time.Duration) (net.Conn, error), addr, cmd string, timeout time.Duration) (string, error) {
	if dial == nil {
		dial = net.DialTimeout
	}
	conn, err := dial("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := time.AfterFunc(timeout, func() { conn.Close() })
	defer stop.Stop()
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	if err != nil && len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// ServerStatus is what `srvr` says of a server.
type ServerStatus struct {
	Mode        string `json:"mode"`              // leader, follower, standalone, down, error
	Version     string `json:"version,omitempty"` // "3.9.3": the server's own, from srvr
	Zxid        int64  `json:"zxid"`
	Connections int    `json:"connections"`
	Outstanding int    `json:"outstanding"`
	NodeCount   int    `json:"node_count"`
	Error       string `json:"error,omitempty"`
}

// QueryServer asks addr for srvr and parses it; a server that does not
// answer is "down", one that answers without serving (no quorum) is "error".
func QueryServer(addr string, timeout time.Duration) ServerStatus {
	return QueryServerVia(nil, addr, timeout)
}

// QueryServerVia is QueryServer over a connection opened by dial (see
// FourLetterVia).
func QueryServerVia(dial func(network, addr string, timeout time.Duration) (net.Conn, error), addr string, timeout time.Duration) ServerStatus {
	out, err := FourLetterVia(dial, addr, "srvr", timeout)
	if err != nil {
		return ServerStatus{Mode: "down", Error: err.Error()}
	}
	return ParseSrvr(out)
}

// ParseSrvr parses the reply of the srvr 4lw.
func ParseSrvr(out string) ServerStatus {
	s := ServerStatus{Mode: "error"}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "Mode":
			s.Mode = v
		case "Zookeeper version":
			s.Version = ReleaseOf(v)
		case "Zxid":
			s.Zxid, _ = strconv.ParseInt(strings.TrimPrefix(v, "0x"), 16, 64)
		case "Connections":
			s.Connections, _ = strconv.Atoi(v)
		case "Outstanding":
			s.Outstanding, _ = strconv.Atoi(v)
		case "Node count":
			s.NodeCount, _ = strconv.Atoi(v)
		}
	}
	if s.Mode == "error" {
		s.Error = strings.TrimSpace(out)
	}
	return s
}

// ParseMntr parses the reply of the mntr 4lw: one "key<TAB>value" a line.
func ParseMntr(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// ReleaseOf is the release in srvr's "Zookeeper version" line:
// "3.9.3-1+deb13u1, built on …" and "3.8.0-debian--1, built on …" are
// "3.9.3" and "3.8.0".
func ReleaseOf(version string) string {
	v, _, _ := strings.Cut(version, ",")
	v, _, _ = strings.Cut(strings.TrimSpace(v), "-")
	return v
}
