package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/roles"
	"zkctl/schema"
)

// appStep brings the inventory's [roles.*] programs to the host: their
// files into <dir>/app (each skipped where its sha256 already matches) and
// their Debian packages where missing. A package apt cannot find stops the
// deploy, naming the host and the package, before anything is installed.
// It runs on the quick way too: the files may change without the binary.
type appStep struct{ s *hostDeploy }

func (appStep) Title() string { return "push role programs" }

func (a appStep) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	files, pkgs := c.appFiles(), c.appPackages()
	if len(files) == 0 && len(pkgs) == 0 {
		return nil
	}
	have, installed, err := appProbe(ctx, t, h, files, pkgs)
	if err != nil {
		return stepError(h, "probe "+node.Layout{Dir: h.Dir}.App(), err)
	}
	if err := c.pushAppFiles(ctx, h, t, files, have); err != nil {
		return err
	}
	var missing []string
	for _, p := range pkgs {
		if !installed[p] {
			missing = append(missing, p)
		}
	}
	return c.installPackages(ctx, h, t, missing)
}

// appFiles are the local files of every foreign role, each once.
func (c *Cluster) appFiles() []string {
	var out []string
	for _, name := range schema.Roles() {
		for _, f := range c.Inv.Roles[name].Files {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// appPackages are the Debian packages every foreign role needs, each once.
func (c *Cluster) appPackages() []string {
	var out []string
	for _, name := range schema.Roles() {
		for _, p := range c.Inv.Roles[name].Packages {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// appProbe creates <dir>/app and reads, in one command, the sha256 of the
// files there and which of pkgs dpkg has installed.
func appProbe(ctx context.Context, t transport.Transport, h inventory.Host, files, pkgs []string) (map[string]string, map[string]bool, error) {
	app := node.Layout{Dir: h.Dir}.App()
	cmd := transport.Join("mkdir", "-p", app)
	if len(files) > 0 {
		sum := []string{"sha256sum"}
		for _, f := range files {
			sum = append(sum, filepath.Join(app, filepath.Base(f)))
		}
		cmd += "; " + transport.Join(sum...) + " 2>/dev/null | sed 's/^/sha /'"
	}
	for _, p := range pkgs {
		cmd += "; echo \"pkg " + p + " $(dpkg-query -W -f='${Status}' " + transport.Quote(p) + " 2>/dev/null)\""
	}
	out, err := transport.Output(ctx, t, cmd+"; true")
	if err != nil {
		return nil, nil, err
	}
	have, installed := map[string]string{}, map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "sha":
			have[f[2]] = f[1]
		case len(f) >= 2 && f[0] == "pkg":
			installed[f[1]] = strings.HasSuffix(line, "install ok installed")
		}
	}
	return have, installed, nil
}

// pushAppFiles uploads every file whose sha256 on the host differs.
func (c *Cluster) pushAppFiles(ctx context.Context, h inventory.Host, t transport.Transport, files []string, have map[string]string) error {
	app := node.Layout{Dir: h.Dir}.App()
	pushed, skipped := 0, 0
	for _, f := range files {
		sum, _, err := fileSHA256(f)
		if err != nil {
			return stepError(h, "read "+f, err)
		}
		remote := filepath.Join(app, filepath.Base(f))
		if have[remote] == sum {
			skipped++
			continue
		}
		mode := uint32(0o644)
		if st, err := os.Stat(f); err == nil && st.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := t.Upload(ctx, f, remote, mode, nil); err != nil {
			return stepError(h, "upload "+f, err)
		}
		pushed++
	}
	c.UI.Host(h.Name, "role programs in %s: %d pushed, %d up to date", app, pushed, skipped)
	return nil
}

// installPackages installs the missing packages with apt-get (after
// apt-get update), once apt-cache policy showed a candidate for each: a
// package apt cannot find is refused before anything is installed. The
// lists are not refreshed for that check, so a package known only to a
// newer list is refused too, with the fix.
func (c *Cluster) installPackages(ctx context.Context, h inventory.Host, t transport.Transport, missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	unknown, err := noCandidate(ctx, t, missing)
	if err != nil {
		return stepError(h, "apt-cache policy", err)
	}
	if len(unknown) > 0 {
		return stepError(h, "packages", fmt.Errorf("apt cannot find package %s (`apt-cache policy` shows no candidate): fix [roles.*] packages in %s, or run `apt-get update` on the host if its package lists are old",
			strings.Join(unknown, ", "), c.Inv.Path))
	}
	c.UI.Host(h.Name, "installing %s with apt-get", strings.Join(missing, " "))
	cmd := "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && " + transport.Join(append([]string{"apt-get", "install", "-y", "-q"}, missing...)...)
	if _, err := transport.Output(ctx, t, cmd); err != nil {
		return stepError(h, "apt-get install", err)
	}
	return nil
}

// noCandidate lists the packages of pkgs for which apt has no candidate.
func noCandidate(ctx context.Context, t transport.Transport, pkgs []string) ([]string, error) {
	var unknown []string
	for _, p := range pkgs {
		out, err := transport.Output(ctx, t, transport.Join("apt-cache", "policy", p))
		if err != nil {
			return nil, err
		}
		if !hasCandidate(string(out)) {
			unknown = append(unknown, p)
		}
	}
	return unknown, nil
}

// hasCandidate reads `apt-cache policy PKG`: nothing at all for a package
// apt never heard of, "Candidate: (none)" for one it cannot install.
func hasCandidate(policy string) bool {
	for _, line := range strings.Split(policy, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate:"); ok {
			return strings.TrimSpace(v) != "(none)"
		}
	}
	return false
}

// roleCommands is what node.json says of the foreign roles on h in an
// ensemble of servers: their commands with what the controller knows
// expanded, and the defaults of the per-instance placeholders.
func (c *Cluster) roleCommands(h inventory.Host, nc *node.Config) map[string]node.RoleCommand {
	if len(c.Inv.Roles) == 0 {
		return nil
	}
	l := node.Layout{Dir: h.Dir}
	vars := map[string]string{
		"app": l.App(), "dir": h.Dir, "servers": strings.Join(nc.Endpoints(), ","), "host": h.Name,
		"session_timeout": node.Seconds(c.Inv.Cluster.SessionTimeout), "auth_file": nc.AuthFile,
		"tls_ca": "", "tls_cert": "", "tls_key": "", // no TLS yet
	}
	defaults := map[string]string{
		"tasks": fmt.Sprint(roles.DefaultTasks), "duration": node.Seconds(roles.DefaultTaskDuration), "concurrency": "1",
	}
	out := map[string]node.RoleCommand{}
	for name, r := range c.Inv.Roles {
		out[name] = node.RoleCommand{Command: node.Expand(r.Command, vars), Defaults: defaults}
	}
	return out
}
