package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// CheckReport is what `zkctl check` found, host by host in inventory order.
type CheckReport struct {
	Lines []CheckLine `json:"lines"`
}

// Failed reports whether a deploy would fail: a FAIL line on some host.
func (r CheckReport) Failed() bool {
	for _, l := range r.Lines {
		if l.Status == CheckFail {
			return true
		}
	}
	return false
}

// Check asks every host, in parallel, what a deploy of bin ("" = this
// binary) needs: the connection and its hops, the login and sudo, the
// architecture, Java and ZooKeeper, the ports, the disk under dir, whether
// run_as can reach dir, the clock. It changes nothing on a host: where
// the host has no agent of bin's build, a copy runs from a temporary
// folder in /tmp, removed at the end.
func (c *Cluster) Check(ctx context.Context, bin string) (CheckReport, error) {
	local, err := localBinary(bin)
	if err != nil {
		return CheckReport{}, err
	}
	per := make([][]CheckLine, len(c.Inv.Hosts))
	token := stageToken()
	var wg sync.WaitGroup
	for i, h := range c.Inv.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			per[i] = c.checkHost(ctx, h, local, token)
		}()
	}
	wg.Wait()
	var r CheckReport
	for _, lines := range per {
		r.Lines = append(r.Lines, lines...)
	}
	return r, nil
}

// localBinary describes bin, or the running binary when bin is "".
func localBinary(bin string) (binaryInfo, error) {
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return binaryInfo{}, fmt.Errorf("find own binary: %w", err)
		}
		bin = exe
	}
	return describeBinary(bin)
}

// checkHost is one host's lines: the connection first; what needs the
// host's agent only when the agent can run there.
func (c *Cluster) checkHost(ctx context.Context, h inventory.Host, bin binaryInfo, token string) []CheckLine {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return connectLines(h, err)
	}
	lines := []CheckLine{ok(h, "reach", "%s", route(h)), ok(h, "login", "%s", login(h))}
	arch, err := remoteArch(ctx, t)
	switch {
	case err != nil:
		return append(lines, fail(h, "arch", err.Error(), "a POSIX shell with uname on the host"))
	case arch.arch != bin.arch:
		return append(lines, fail(h, "arch", fmt.Sprintf("host %s (uname -m %q), binary %s", arch.arch, arch.uname, bin.arch),
			fmt.Sprintf("build zkctl for it (GOARCH=%s go build ./cmd/zkctl) and pass --binary PATH", arch.arch)))
	}
	lines = append(lines, ok(h, "arch", "%s", arch.arch))
	return append(lines, c.agentLines(ctx, h, t, bin, token)...)
}

// connectLines are the lines of a host that could not be dialed: which
// part failed, by the transport's kind of error, and the rest skipped.
func connectLines(h inventory.Host, err error) []CheckLine {
	var he *HostError
	if errors.As(err, &he) {
		err = he.Err
	}
	msg := err.Error()
	lines := []CheckLine{}
	switch {
	case errors.Is(err, transport.ErrHostKey):
		lines = append(lines, ok(h, "reach", "%s", route(h)),
			fail(h, "host key", msg, "verify the key, then `zkctl deploy --accept-new` (or ssh-keyscan into known_hosts)"))
	case errors.Is(err, transport.ErrLogin):
		lines = append(lines, ok(h, "reach", "%s", route(h)),
			fail(h, "login", msg, "put the public key of identity_file (or of ssh-agent) in ~"+h.SSH.User+"/.ssh/authorized_keys on the host, or set user/identity_file"))
	case errors.Is(err, transport.ErrSudo):
		lines = append(lines, ok(h, "reach", "%s", route(h)), ok(h, "login", "%s", h.SSH.User),
			fail(h, "sudo", msg, "passwordless sudo for "+h.SSH.User+" (NOPASSWD in /etc/sudoers.d), or log in as root"))
	default:
		lines = append(lines, fail(h, "reach", msg, reachFix(h)))
	}
	return append(lines, CheckLine{Host: h.Name, Item: "the rest", Status: CheckSkip, Found: "not checked: no connection"})
}

func reachFix(h inventory.Host) string {
	if len(h.SSH.Jump) > 0 {
		return "check the jump hosts (jump, or ProxyJump in ssh_config) and that the host's sshd listens on " + strconv.Itoa(h.SSH.Port)
	}
	return "check the address and port (or its ssh_config entry), that the host is up and sshd runs"
}

// route is how the host is reached: "10.0.0.11:22 via root@bastion:22".
func route(h inventory.Host) string {
	if h.IsLocal() {
		return "this machine (transport local)"
	}
	r := net.JoinHostPort(h.Address, strconv.Itoa(h.SSH.Port))
	for i := len(h.SSH.Jump) - 1; i >= 0; i-- {
		r += " via " + h.SSH.Jump[i].String()
	}
	return r
}

// login says as whom commands run.
func login(h inventory.Host) string {
	if h.IsLocal() {
		if u, err := user.Current(); err == nil {
			return u.Username
		}
		return "this user"
	}
	if h.SSH.Sudo {
		return h.SSH.User + ", sudo works without a password"
	}
	return h.SSH.User
}

// hostArch is the host's architecture by uname -m, as GOARCH names it.
type hostArch struct{ uname, arch string }

func remoteArch(ctx context.Context, t transport.Transport) (hostArch, error) {
	out, err := transport.Output(ctx, t, "uname -m")
	if err != nil {
		return hostArch{}, fmt.Errorf("uname -m: %w", err)
	}
	u := strings.TrimSpace(string(out))
	return hostArch{uname: u, arch: unameArch(u)}, nil
}

// stageAgent copies bin into the folder /tmp/zkctl-check.<token> (made
// 0700, or reused when a try before this one, on a connection that was
// lost, made it), which the caller removes (unstage), and returns the
// copy's path and its folder.
func stageAgent(ctx context.Context, t transport.Transport, bin binaryInfo, token string) (path, staged string, err error) {
	staged = "/tmp/zkctl-check." + token
	q := transport.Quote(staged)
	if _, err := transport.Output(ctx, t, "mkdir -m 0700 "+q+" 2>/dev/null || { test -d "+q+" && test ! -L "+q+" && test -O "+q+"; }"); err != nil {
		return "", "", fmt.Errorf("make the folder %s for a copy of zkctl: %w", staged, err)
	}
	path = staged + "/zkctl"
	if err := t.Upload(ctx, bin.path, path, 0o755, nil); err != nil {
		unstage(ctx, t, staged)
		return "", "", fmt.Errorf("copy zkctl to %s: %w", path, err)
	}
	return path, staged, nil
}

// stageToken names the folders one check or deploy copies zkctl into.
func stageToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// unstage removes a folder stageAgent made ("" is none).
func unstage(ctx context.Context, t transport.Transport, staged string) {
	if staged != "" {
		_ = t.Run(context.WithoutCancel(ctx), "rm -rf "+transport.Quote(staged), io.Discard, io.Discard)
	}
}

// PrintCheck writes the report as a table per host, each failing or
// warning line followed by its fix, then the verdict.
func PrintCheck(w io.Writer, r CheckReport) {
	var hosts []string
	byHost := map[string][]CheckLine{}
	for _, l := range r.Lines {
		if _, seen := byHost[l.Host]; !seen {
			hosts = append(hosts, l.Host)
		}
		byHost[l.Host] = append(byHost[l.Host], l)
	}
	fails, warns := 0, 0
	for i, h := range hosts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n", h)
		var rows [][]string
		for _, l := range byHost[h] {
			rows = append(rows, []string{"  " + l.Item, string(l.Status), l.Found})
			if l.Fix != "" {
				rows = append(rows, []string{"", "", "  fix: " + l.Fix})
			}
			switch l.Status {
			case CheckFail:
				fails++
			case CheckWarn:
				warns++
			}
		}
		Table(w, []string{"  CHECK", "", "FOUND"}, rows)
	}
	fmt.Fprintln(w)
	if r.Failed() {
		fmt.Fprintf(w, "%d failed, %d warnings: a deploy would fail; fix the lines marked FAIL\n", fails, warns)
		return
	}
	fmt.Fprintf(w, "no failure, %d warnings: ready to deploy (zkctl deploy)\n", warns)
}
