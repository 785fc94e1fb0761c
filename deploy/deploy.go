package deploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/roles"
)

// DeployOptions are the knobs of `zkctl deploy`.
type DeployOptions struct {
	Binary string // the zkctl binary to push; "" = the running one
}

// DeployResult is one host's row of the deploy summary.
type DeployResult struct {
	Host      string
	Binary    string // "pushed" or "skipped"
	Bytes     int64  // binary bytes sent
	ZooKeeper string // "found", "installed (apt)", "unpacked (tarball)"
	Took      time.Duration
	Err       error
}

// Deploy pushes the binary, provisions Java and ZooKeeper and writes the
// node configuration on every host in parallel. It is idempotent: an
// unchanged binary is not sent again.
func (c *Cluster) Deploy(ctx context.Context, opts DeployOptions) ([]DeployResult, error) {
	bin := opts.Binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find own binary: %w", err)
		}
		bin = exe
	}
	local, err := describeBinary(bin)
	if err != nil {
		return nil, err
	}
	c.UI.Phase("deploy %s (%s, %s) to %d hosts", filepath.Base(bin), local.arch, humanBytes(local.size), len(c.Inv.Hosts))
	results := make([]DeployResult, len(c.Inv.Hosts))
	var mu sync.Mutex
	err = c.Each(ctx, c.Inv.Hosts, func(ctx context.Context, h inventory.Host, t transport.Transport) error {
		start := time.Now()
		r, err := c.deployHost(ctx, h, t, local)
		r.Host, r.Took, r.Err = h.Name, time.Since(start), err
		mu.Lock()
		results[indexOf(c.Inv.Hosts, h.Name)] = r
		mu.Unlock()
		return err
	})
	for i := range results {
		if results[i].Host == "" {
			results[i] = DeployResult{Host: c.Inv.Hosts[i].Name, Err: errors.New("unreachable")}
		}
	}
	return results, err
}

func indexOf(hosts []inventory.Host, name string) int {
	for i, h := range hosts {
		if h.Name == name {
			return i
		}
	}
	return -1
}

type binaryInfo struct {
	path   string
	arch   string
	sha256 string
	size   int64
}

func describeBinary(path string) (binaryInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return binaryInfo{}, fmt.Errorf("binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return binaryInfo{}, fmt.Errorf("binary %s: %w", path, err)
	}
	ef, err := elf.Open(path)
	if err != nil {
		return binaryInfo{}, fmt.Errorf("binary %s is not a Linux executable: %w", path, err)
	}
	defer ef.Close()
	return binaryInfo{path: path, arch: elfArch(ef.Machine), sha256: hex.EncodeToString(h.Sum(nil)), size: n}, nil
}

func elfArch(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return m.String()
}

// unameArch maps `uname -m` to Go's GOARCH names.
func unameArch(m string) string {
	switch m = strings.TrimSpace(m); m {
	case "x86_64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i686":
		return "386"
	case "riscv64":
		return "riscv64"
	}
	if strings.HasPrefix(m, "armv") {
		return "arm"
	}
	return m
}

// deployHost brings one host up to date: when the quick check shows nothing
// changed, only the node configuration; otherwise the long way: lock and
// probe, upload, provision, configuration, and the record for next time.
func (c *Cluster) deployHost(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo) (DeployResult, error) {
	if info, ok := c.quickCheck(ctx, h, t, bin); ok {
		defer c.unlock(ctx, h)
		c.UI.Host(h.Name, "zkctl binary up to date (sha256 %s…); java %s, ZooKeeper %s still in place",
			bin.sha256[:12], info.Install.Java, info.Install.ZooKeeperHome)
		return DeployResult{Binary: "skipped", ZooKeeper: "found"}, c.pushConfig(ctx, h, t)
	}
	var r DeployResult
	probe, err := c.lockAndProbe(ctx, h, t)
	if err != nil {
		return r, err
	}
	defer c.unlock(ctx, h)
	if probe.arch != bin.arch {
		return r, stepError(h, "check architecture", fmt.Errorf("host is %s (uname -m %q) but %s is %s: build one for the host (GOARCH=%s go build ./cmd/zkctl) and pass --binary PATH",
			probe.arch, probe.uname, bin.path, bin.arch, probe.arch))
	}
	var known *node.Info
	if probe.sha256 == bin.sha256 {
		r.Binary, known = "skipped", probe.info
		c.UI.Host(h.Name, "zkctl binary up to date (sha256 %s…)", bin.sha256[:12])
	} else {
		if err := c.retry(ctx, h, "upload zkctl", func(t transport.Transport) error { return c.upload(ctx, h, t, bin) }); err != nil {
			return r, err
		}
		r.Binary, r.Bytes = "pushed", bin.size
		if t, err = c.Transport(ctx, h); err != nil { // the retry may have reconnected
			return r, err
		}
	}
	info, how, err := c.provision(ctx, h, t, known)
	if err != nil {
		return r, err
	}
	r.ZooKeeper = how
	if err := c.pushConfig(ctx, h, t); err != nil {
		return r, err
	}
	c.writeRecord(ctx, h, t, bin, info)
	return r, nil
}

// hostProbe is what one round trip learns of a host before deploying.
type hostProbe struct {
	uname   string
	arch    string
	sha256  string     // of the installed agent, "" if none
	info    *node.Info // the installed agent's view of Java and ZooKeeper
	locked  bool       // this deploy now holds the host's deploy lock
	lockAge int        // else: seconds since another deploy took it
}

// probe creates the dir tree, tries to take the deploy lock and, in the same
// command, reads the architecture, the installed agent's sha256 and its
// Java/ZooKeeper view: the long way starts with a single remote command.
func (c *Cluster) probe(ctx context.Context, h inventory.Host, t transport.Transport) (hostProbe, error) {
	var p hostProbe
	mkdir := []string{"mkdir", "-p"}
	for _, d := range []string{"bin", "conf", "logs", "run"} {
		mkdir = append(mkdir, filepath.Join(h.Dir, d))
	}
	bin := transport.Quote(AgentPath(h))
	info := []string{AgentPath(h), "node", "info", "--dir", h.Dir}
	if home := c.zooKeeperHome(h); home != "" {
		info = append(info, "--home", home)
	}
	lock := transport.Quote(lockPath(h))
	cmd := transport.Join(mkdir...) +
		` && if mkdir ` + lock + ` 2>/dev/null; then echo lock=ok; else echo "lock=$(( $(date +%s) - $(stat -c %Y ` + lock + ` 2>/dev/null || date +%s) ))"; fi` +
		` && echo "arch=$(uname -m)" && echo "sha=$(sha256sum ` + bin + ` 2>/dev/null | cut -d' ' -f1)"` +
		` && if [ -x ` + bin + ` ]; then echo "info=$(` + transport.Join(info...) + ` 2>/dev/null)"; fi`
	out, err := transport.Output(ctx, t, cmd)
	if err != nil {
		return p, stepError(h, "prepare "+h.Dir, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "lock":
			p.locked = v == "ok"
			p.lockAge, _ = strconv.Atoi(v)
		case "arch":
			p.uname, p.arch = v, unameArch(v)
		case "sha":
			p.sha256 = v
		case "info":
			var in node.Info
			if json.Unmarshal([]byte(v), &in) == nil {
				p.info = &in
			}
		}
	}
	if p.arch == "" {
		return p, stepError(h, "prepare "+h.Dir, fmt.Errorf("unexpected answer %q", truncate(string(out), 200)))
	}
	return p, nil
}

func (c *Cluster) upload(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo) error {
	c.UI.Host(h.Name, "uploading zkctl (%s)", humanBytes(bin.size))
	start := time.Now()
	err := t.Upload(ctx, bin.path, AgentPath(h), 0o755, func(sent int64) {
		c.UI.Progress(h.Name, Bar(sent, bin.size))
	})
	c.UI.Progress(h.Name, "")
	if err != nil {
		return err
	}
	c.UI.Host(h.Name, "uploaded zkctl in %v", time.Since(start).Round(time.Millisecond))
	return nil
}

// provision makes sure Java and ZooKeeper are on the host. known is what
// the installed agent already said, nil when it must be asked.
func (c *Cluster) provision(ctx context.Context, h inventory.Host, t transport.Transport, known *node.Info) (node.Info, string, error) {
	zk := c.Inv.ZooKeeper
	var info node.Info
	var err error
	if known != nil {
		info = *known
	} else if info, err = c.hostInfo(ctx, h, t, c.zooKeeperHome(h)); err != nil {
		return info, "", err
	}
	how := "found"
	if zk.Tarball != "" && info.Install.ZooKeeperHome == "" {
		home, err := c.unpackTarball(ctx, h, t, zk.Tarball)
		if err != nil {
			return info, "", stepError(h, "unpack ZooKeeper tarball", err)
		}
		if info, err = c.hostInfo(ctx, h, t, home); err != nil {
			return info, "", err
		}
		how = "unpacked (tarball)"
	}
	if info.Install.Java == "" || info.Install.ZooKeeperHome == "" {
		if zk.Install != "apt" {
			return info, "", stepError(h, "provision", missingMessage(info.Install))
		}
		c.UI.Host(h.Name, "installing Java and ZooKeeper with apt-get (this takes a while)")
		cmd := "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q default-jre-headless zookeeper"
		if _, err := transport.Output(ctx, t, cmd); err != nil {
			return info, "", stepError(h, "apt-get install", err)
		}
		if info, err = c.hostInfo(ctx, h, t, c.zooKeeperHome(h)); err != nil {
			return info, "", err
		}
		if info.Install.Java == "" || info.Install.ZooKeeperHome == "" {
			return info, "", stepError(h, "provision", missingMessage(info.Install))
		}
		how = "installed (apt)"
	}
	c.UI.Host(h.Name, "java %s, ZooKeeper %s (%s)", info.Install.Java, info.Install.ZooKeeperHome, how)
	return info, how, nil
}

func missingMessage(in node.Install) error {
	var missing []string
	if in.Java == "" {
		missing = append(missing, "Java")
	}
	if in.ZooKeeperHome == "" {
		missing = append(missing, "ZooKeeper")
	}
	return fmt.Errorf("%s not found: on the host run `apt-get install -y default-jre-headless zookeeper`, or set [zookeeper] install = \"apt\" (or tarball = \"apache-zookeeper-3.8.x-bin.tar.gz\" with Java present) in the inventory",
		strings.Join(missing, " and "))
}

func (c *Cluster) hostInfo(ctx context.Context, h inventory.Host, t transport.Transport, home string) (node.Info, error) {
	var info node.Info
	args := []string{"info"}
	if home != "" {
		args = append(args, "--home", home)
	}
	if err := c.AgentJSON(ctx, h, t, &info, args...); err != nil {
		return info, stepError(h, "detect Java and ZooKeeper", err)
	}
	return info, nil
}

// unpackTarball pushes an Apache ZooKeeper release and unpacks it under
// <dir>/zookeeper, returning its home.
func (c *Cluster) unpackTarball(ctx context.Context, h inventory.Host, t transport.Transport, tarball string) (string, error) {
	name := filepath.Base(tarball)
	remote := filepath.Join(h.Dir, "dist", name)
	if err := t.Upload(ctx, tarball, remote, 0o644, nil); err != nil {
		return "", err
	}
	dest := filepath.Join(h.Dir, "zookeeper")
	cmd := transport.Join("mkdir", "-p", dest) + " && " + transport.Join("tar", "-xzf", remote, "-C", dest)
	if _, err := transport.Output(ctx, t, cmd); err != nil {
		return "", err
	}
	return tarballHome(h, tarball), nil
}

// tarballHome is where an Apache release unpacks: <dir>/zookeeper/<name>.
func tarballHome(h inventory.Host, tarball string) string {
	top := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(tarball), ".tar.gz"), ".tgz")
	return filepath.Join(h.Dir, "zookeeper", top)
}

// zooKeeperHome is where ZooKeeper is expected on h: an unpacked tarball,
// the inventory's home, or "" for Debian's package.
func (c *Cluster) zooKeeperHome(h inventory.Host) string {
	if c.Inv.ZooKeeper.Tarball != "" {
		return tarballHome(h, c.Inv.ZooKeeper.Tarball)
	}
	return c.Inv.ZooKeeper.Home
}

// NodeConfig is the node configuration of host h in an ensemble of servers.
func (c *Cluster) NodeConfig(h inventory.Host, servers []inventory.Host) *node.Config {
	nc := &node.Config{
		Host: h.Name, Dir: h.Dir, MyID: h.ID, Address: h.Address, ClientPort: h.ClientPort,
		TickTime: c.Inv.Cluster.TickTime, SessionTimeout: c.Inv.Cluster.SessionTimeout,
		ZooKeeperHome: c.zooKeeperHome(h),
	}
	if c.Inv.Cluster.AuthFile != "" {
		nc.AuthFile = filepath.Join(h.Dir, "conf", "auth")
	}
	for _, s := range servers {
		nc.Servers = append(nc.Servers, node.Server{ID: s.ID, Host: s.Name, Address: s.Address,
			ClientPort: s.ClientPort, PeerPort: s.PeerPort, ElectionPort: s.ElectionPort})
	}
	return nc
}

// pushConfig writes conf/node.json (and conf/auth) for the full ensemble.
func (c *Cluster) pushConfig(ctx context.Context, h inventory.Host, t transport.Transport) error {
	return c.writeNodeConfig(ctx, h, t, c.NodeConfig(h, c.Inv.Hosts))
}

func (c *Cluster) writeNodeConfig(ctx context.Context, h inventory.Host, t transport.Transport, nc *node.Config) error {
	if c.Inv.Cluster.AuthFile != "" {
		secret, err := roles.ReadAuth(c.Inv.Cluster.AuthFile)
		if err != nil {
			return stepError(h, "read auth_file", err)
		}
		if err := writeIfChanged(ctx, t, nc.AuthFile, []byte(secret+"\n"), 0o600); err != nil {
			return stepError(h, "write conf/auth", err)
		}
	}
	data, err := json.MarshalIndent(nc, "", "  ")
	if err != nil {
		return err
	}
	if err := writeIfChanged(ctx, t, node.Layout{Dir: h.Dir}.ConfigFile(), append(data, '\n'), 0o644); err != nil {
		return stepError(h, "write conf/node.json", err)
	}
	return nil
}

// writeIfChanged writes data atomically unless the file already holds it.
func writeIfChanged(ctx context.Context, t transport.Transport, path string, data []byte, mode uint32) error {
	if old, err := t.ReadFile(ctx, path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return t.WriteFile(ctx, path, data, mode)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// PrintDeploySummary writes the summary table of a deploy.
func PrintDeploySummary(w io.Writer, results []DeployResult) {
	rows := make([][]string, len(results))
	for i, r := range results {
		status := "ok"
		if r.Err != nil {
			status = "FAILED"
		}
		bin := r.Binary
		if r.Binary == "pushed" {
			bin = "pushed " + humanBytes(r.Bytes)
		}
		rows[i] = []string{r.Host, bin, r.ZooKeeper, r.Took.Round(time.Millisecond).String(), status}
	}
	Table(w, []string{"HOST", "BINARY", "ZOOKEEPER", "TIME", "RESULT"}, rows)
}
