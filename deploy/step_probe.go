package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// hostProbe is what one round trip learns of a host before deploying.
type hostProbe struct {
	uname  string
	arch   string
	sha256 string     // of the installed agent, "" if none
	info   *node.Info // the installed agent's view of Java and ZooKeeper
}

// probeStep starts the long way with a single remote command: it creates
// the dir tree and reads the architecture, the installed agent's sha256 and
// its Java/ZooKeeper view.
type probeStep struct{ s *hostDeploy }

func (probeStep) Title() string { return "probe" }

func (p probeStep) Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error {
	mkdir := append([]string{"mkdir", "-p"}, node.Layout{Dir: h.Dir}.Folders()...)
	bin := transport.Quote(controller.AgentPath(h))
	info := []string{controller.AgentPath(h), "node", "info", "--dir", h.Dir}
	if home := c.zooKeeperHome(h); home != "" {
		info = append(info, "--home", home)
	}
	cmd := transport.Join(mkdir...) +
		` && echo "arch=$(uname -m)" && echo "sha=$(sha256sum ` + bin + ` 2>/dev/null | cut -d' ' -f1)"` +
		` && if [ -x ` + bin + ` ]; then echo "info=$(` + transport.Join(info...) + ` 2>/dev/null)"; fi`
	out, err := transport.Output(ctx, t, cmd)
	if err != nil {
		return controller.StepError(h, "prepare "+h.Dir, err)
	}
	probe, err := parseProbe(string(out))
	if err != nil {
		return controller.StepError(h, "prepare "+h.Dir, err)
	}
	p.s.probe = probe
	return nil
}

// parseProbe reads the probe command's key=value lines.
func parseProbe(out string) (hostProbe, error) {
	var p hostProbe
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
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
		return p, fmt.Errorf("unexpected answer %q", truncate(out, 200))
	}
	return p, nil
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
