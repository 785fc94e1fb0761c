package deploy

import (
	"fmt"
	"strings"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/node"
)

// CheckStatus is the verdict of one line of `zkctl check`.
type CheckStatus string

// The verdicts: a FAIL line makes a deploy fail; a warning does not.
const (
	CheckOK   CheckStatus = "ok"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "FAIL"
	CheckSkip CheckStatus = "skip" // not checked: an earlier line failed
)

// CheckLine is one line of `zkctl check`: on a host, what was checked,
// what was found, and for a failure or a warning the fix.
type CheckLine struct {
	Host   string      `json:"host"`
	Item   string      `json:"item"`
	Status CheckStatus `json:"status"`
	Found  string      `json:"found"`
	Fix    string      `json:"fix,omitempty"`
}

// Disk thresholds under dir: less than diskFail free fails a deploy
// (the binary, a JDK's temp files and ZooKeeper's first snapshots), less
// than diskWarn is a warning (transaction logs are preallocated 64 MiB at
// a time and autopurge keeps three snapshots).
const (
	diskFail = 256 << 20
	diskWarn = 1 << 30
)

// clockWarn is the clock offset beyond which check warns: the history
// judge corrects intervals by the offset, but logs are then hard to read
// side by side.
const clockWarn = time.Second

// ok, warn and fail make lines of h.
func ok(h inventory.Host, item, format string, args ...any) CheckLine {
	return CheckLine{Host: h.Name, Item: item, Status: CheckOK, Found: fmt.Sprintf(format, args...)}
}

func warn(h inventory.Host, item, found, fix string) CheckLine {
	return CheckLine{Host: h.Name, Item: item, Status: CheckWarn, Found: found, Fix: fix}
}

func fail(h inventory.Host, item, found, fix string) CheckLine {
	return CheckLine{Host: h.Name, Item: item, Status: CheckFail, Found: found, Fix: fix}
}

// preflightLines judges what the host's agent found about dir, its ports
// and its disk: the checks a deploy runs too.
func preflightLines(h inventory.Host, p node.Preflight) []CheckLine {
	lines := []CheckLine{dirLine(h, p.Dir), diskLine(h, p.Disk)}
	return append(lines, portLines(h, p.Ports)...)
}

// dirLine says whether the service user can reach dir, and if not the
// first folder in its way and what would fix it.
func dirLine(h inventory.Host, a node.DirAccess) CheckLine {
	const item = "run_as dir"
	if a.Blocked == "" {
		return ok(h, item, "%s can reach %s", a.User, h.Dir)
	}
	found := fmt.Sprintf("%s cannot search %s (mode %s, %s) on the way to %s", a.User, a.Blocked, a.Mode, a.Owner, h.Dir)
	fix := fmt.Sprintf("chmod o+x %s, or a dir outside it, or run_as = \"root\" for this host", a.Blocked)
	if a.Need == "w" {
		found = fmt.Sprintf("%s cannot write %s (mode %s, %s) to create %s", a.User, a.Blocked, a.Mode, a.Owner, h.Dir)
		fix = fmt.Sprintf("a dir the login owns (under its home), or create %s owned by %s, or a login with sudo (sudo = true)", h.Dir, a.User)
	}
	return fail(h, item, found, fix)
}

func diskLine(h inventory.Host, d node.Disk) CheckLine {
	const item = "disk"
	found := fmt.Sprintf("%s free under %s", humanBytes(int64(d.Free)), d.Path)
	switch {
	case d.Free < diskFail:
		return fail(h, item, found, fmt.Sprintf("free space (at least %s), or a dir on another filesystem", humanBytes(diskFail)))
	case d.Free < diskWarn:
		return warn(h, item, found, fmt.Sprintf("ZooKeeper's logs and snapshots grow: keep %s free", humanBytes(diskWarn)))
	}
	return ok(h, item, "%s", found)
}

// portKeys name the host's ports as the inventory does, in the order of
// hostPorts.
var portKeys = []string{"client_port", "peer_port", "election_port"}

func hostPorts(h inventory.Host) []int { return []int{h.ClientPort, h.PeerPort, h.ElectionPort} }

func portLines(h inventory.Host, ports []node.PortHeld) []CheckLine {
	var lines []CheckLine
	for i, p := range ports {
		item := fmt.Sprintf("port %d", p.Port)
		if i < len(portKeys) {
			item = fmt.Sprintf("%s %d", portKeys[i], p.Port)
		}
		switch {
		case p.Free:
			lines = append(lines, ok(h, item, "free"))
		case p.Own:
			lines = append(lines, ok(h, item, "held by this inventory's server"))
		default:
			who := "another process (not visible to the login: use root or sudo to name it)"
			if p.PID > 0 {
				who = fmt.Sprintf("%s (pid %d)", p.Command, p.PID)
			}
			key := "a port"
			if i < len(portKeys) {
				key = portKeys[i]
			}
			lines = append(lines, fail(h, item, "held by "+who,
				fmt.Sprintf("stop it, or set another %s in the host's [[host]] table", key)))
		}
	}
	return lines
}

// installLine says whether Java and ZooKeeper are there, or how deploy
// would provision them, or why it could not.
func installLine(h inventory.Host, zk inventory.ZooKeeper, in node.Install, privileged bool) CheckLine {
	const item = "java/zookeeper"
	switch {
	case in.Java != "" && in.ZooKeeperHome != "" && zk.Tarball == "":
		return ok(h, item, "found: java %s, ZooKeeper %s (%s)", in.Java, in.ZooKeeperHome, in.Layout)
	case zk.Install == "apt" && privileged:
		return ok(h, item, "%s; deploy installs what is missing with apt", missing(in, zk))
	case zk.Install == "apt":
		return fail(h, item, missing(in, zk)+"; install = \"apt\" needs root or sudo",
			"log in as root or with sudo = true, or have an administrator install default-jre-headless and zookeeper")
	case zk.Tarball != "" && in.Java != "":
		return ok(h, item, "java %s; deploy unpacks %s", in.Java, zk.Tarball)
	case zk.Tarball != "":
		return fail(h, item, "no java; tarball = "+zk.Tarball, "install = \"apt\" in [zookeeper] (with root or sudo), or install Java on the host")
	}
	return fail(h, item, missing(in, zk), "install = \"apt\" in [zookeeper] (with root or sudo), or tarball = \"apache-zookeeper-…-bin.tar.gz\", or install them on the host")
}

func missing(in node.Install, zk inventory.ZooKeeper) string {
	var m []string
	if in.Java == "" {
		m = append(m, "no java")
	}
	if in.ZooKeeperHome == "" && zk.Tarball == "" {
		where := "Debian's package"
		if zk.Home != "" {
			where = zk.Home
		}
		m = append(m, "no ZooKeeper ("+where+")")
	}
	if len(m) == 0 {
		return "java and ZooKeeper found"
	}
	return strings.Join(m, ", ")
}

// versionLine warns of a ZooKeeper version with known data-loss bugs.
func versionLine(h inventory.Host, version string) CheckLine {
	const item = "zookeeper version"
	if version == "" {
		return ok(h, item, "unknown (none installed yet, or no version in its jar)")
	}
	bugs := node.BugsOf(version)
	if len(bugs) == 0 {
		return ok(h, item, "%s", version)
	}
	ids := make([]string, len(bugs))
	for i, b := range bugs {
		ids[i] = b.ID
	}
	newest := node.NewestFix(bugs)
	return warn(h, item, fmt.Sprintf("%s has %s (committed data can be lost when servers restart or crash around a sync)", version, strings.Join(ids, ", ")),
		fmt.Sprintf("use ZooKeeper %s or later (tarball = … in [zookeeper]); fault scenarios on %s may see it", newest, version))
}

func clockLine(h inventory.Host, offset, rtt time.Duration) CheckLine {
	const item = "clock"
	found := fmt.Sprintf("%+v from this machine (round trip %v)", offset.Round(time.Millisecond), rtt.Round(time.Millisecond))
	if offset > clockWarn || offset < -clockWarn {
		return warn(h, item, found, "run an NTP client (chrony or systemd-timesyncd) on the host; the history judge corrects intervals by this offset")
	}
	return ok(h, item, "%s", found)
}

// failures joins a host's FAIL lines into one error, nil if none.
func failures(lines []CheckLine) error {
	var msgs []string
	for _, l := range lines {
		if l.Status == CheckFail {
			msgs = append(msgs, fmt.Sprintf("%s: %s; fix: %s", l.Item, l.Found, l.Fix))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s (`zkctl check` shows every check)", strings.Join(msgs, "; "))
}
