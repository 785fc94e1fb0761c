package deploy

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/node/agent"
)

// provisionStep makes sure Java and ZooKeeper are on the host: found
// there, unpacked from the inventory's tarball, or installed with apt.
type provisionStep struct{ s *hostDeploy }

func (provisionStep) Title() string { return "provision" }

func (p provisionStep) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	info, how, err := c.provision(ctx, h, t, p.s.known)
	if err != nil {
		return err
	}
	p.s.info, p.s.result.ZooKeeper = info, how
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
	tarball := zk.Tarball != "" && h.ZooKeeperHome == "" // a host's own release wins
	if tarball {
		unpacked, err := c.provisionTarball(ctx, h, t, zk.Tarball)
		if err != nil {
			return info, "", stepError(h, "unpack ZooKeeper tarball", err)
		}
		if unpacked || info.Install.ZooKeeperHome == "" {
			if info, err = c.hostInfo(ctx, h, t, tarballHome(h, zk.Tarball)); err != nil {
				return info, "", err
			}
		}
		if unpacked {
			how = "unpacked (tarball)"
		}
	}
	missing := info.Install.Java == "" || info.Install.ZooKeeperHome == ""
	if missing && zk.Install != "apt" {
		return info, "", stepError(h, "provision", missingMessage(h, info.Install))
	}
	if zk.Install == "apt" && (missing || c.dpkgBroken(ctx, t)) {
		if err := c.aptInstall(ctx, h, t, aptWanted(info.Install, tarball)); err != nil {
			return info, "", stepError(h, "apt-get install", err)
		}
		if info, err = c.hostInfo(ctx, h, t, c.zooKeeperHome(h)); err != nil {
			return info, "", err
		}
		if info.Install.Java == "" || info.Install.ZooKeeperHome == "" {
			return info, "", stepError(h, "provision", missingMessage(h, info.Install))
		}
		how = "installed (apt)"
	}
	c.UI.Host(h.Name, "java %s, ZooKeeper %s (%s)", info.Install.Java, info.Install.ZooKeeperHome, how)
	return info, how, nil
}

// aptWanted is what apt installs: Java alone beside a tarball, else the
// missing pieces, or every package zkctl installs when nothing is missing
// (a failed install being repaired).
func aptWanted(in node.Install, tarball bool) []string {
	if tarball {
		return aptPackages[:1]
	}
	var pkgs []string
	if in.Java == "" {
		pkgs = append(pkgs, aptPackages[0])
	}
	if in.ZooKeeperHome == "" {
		pkgs = append(pkgs, aptPackages[1])
	}
	if len(pkgs) == 0 {
		return aptPackages
	}
	return pkgs
}

// missingMessage says what is missing on h and the exact command that
// installs it there.
func missingMessage(h inventory.Host, in node.Install) error {
	var missing, pkgs []string
	if in.Java == "" {
		missing, pkgs = append(missing, "Java"), append(pkgs, "default-jre-headless")
	}
	if in.ZooKeeperHome == "" {
		missing, pkgs = append(missing, "ZooKeeper"), append(pkgs, "zookeeper")
	}
	cmd := "apt-get install -y " + strings.Join(pkgs, " ")
	if h.SSH.User != "root" && !h.IsLocal() {
		cmd = "sudo " + cmd
	}
	return fmt.Errorf("%s not found: nothing was started; on the host run `%s`, or set [zookeeper] install = \"apt\" (or tarball = \"apache-zookeeper-3.8.x-bin.tar.gz\" with Java present) in the inventory",
		strings.Join(missing, " and "), cmd)
}

// dpkgBroken reports whether dpkg lists half-installed or half-configured
// packages (an apt install that failed half-way), which apt must repair.
func (c *Cluster) dpkgBroken(ctx context.Context, t transport.Transport) bool {
	out, err := transport.Output(ctx, t, "dpkg --audit 2>/dev/null | head -n 3")
	return err == nil && strings.TrimSpace(string(out)) != ""
}

func (c *Cluster) hostInfo(ctx context.Context, h inventory.Host, t transport.Transport, home string) (node.Info, error) {
	info, err := call(ctx, c, h, t, agent.Info{Home: home})
	if err != nil {
		return info, stepError(h, "detect Java and ZooKeeper", err)
	}
	return info, nil
}

// tarballHome is where an Apache release unpacks: <dir>/zookeeper/<name>.
func tarballHome(h inventory.Host, tarball string) string {
	top := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(tarball), ".tar.gz"), ".tgz")
	return filepath.Join(h.Dir, "zookeeper", top)
}

// zooKeeperHome is where ZooKeeper is expected on h: the host's own
// zookeeper_home, an unpacked tarball, the inventory's home, or "" for
// Debian's package.
func (c *Cluster) zooKeeperHome(h inventory.Host) string {
	if h.ZooKeeperHome != "" {
		return h.ZooKeeperHome
	}
	if c.Inv.ZooKeeper.Tarball != "" {
		return tarballHome(h, c.Inv.ZooKeeper.Tarball)
	}
	return c.Inv.ZooKeeper.Home
}
