package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// aptPackages are what `install = "apt"` installs.
var aptPackages = []string{"default-jre-headless", "zookeeper"}

// noAptStatus is the exit status of aptScript on a host without apt-get.
const noAptStatus = 66

// aptScript installs pkgs non-interactively. It first repairs what an
// install that failed half-way left (dpkg --audit lists half-installed or
// half-configured packages; dpkg-query names them), then
// installs what is missing. apt-get's own lock waits for another apt.
// A half-configured package is installed again from its .deb (apt-get
// download, dpkg -i) rather than configured again: its installed
// maintainer scripts are the ones that failed.
func aptScript(pkgs []string) string {
	list := transport.Join(pkgs...)
	return "command -v apt-get >/dev/null 2>&1 || exit " + fmt.Sprint(noAptStatus) + "; " +
		"export DEBIAN_FRONTEND=noninteractive; " +
		"apt-get update -q && " +
		"broken=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' 2>/dev/null | awk 'substr($1,2,1) !~ /[inc]/ {print $2}'); " +
		"if [ -n \"$broken\" ]; then echo \"reinstalling what a failed install left: \"$broken; " +
		"d=$(mktemp -d) && (cd \"$d\" && apt-get download -q $broken && dpkg -i ./*.deb); s=$?; rm -rf \"$d\"; [ $s = 0 ] || exit 1; fi; " +
		"apt-get install -y -q -f " + list
}

// aptInstall runs aptScript on h, showing its progress with the elapsed
// time ("vm1: apt-get install default-jre-headless zookeeper: 12s"): live
// on a terminal, and a line every aptReport otherwise.
func (c *cluster) aptInstall(ctx context.Context, h inventory.Host, t transport.Transport, pkgs []string) error {
	title := "apt-get install " + strings.Join(pkgs, " ")
	c.UI.Host(h.Name, "%s (through %s)", title, loginKind(h))
	start := time.Now()
	last := &lastLine{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.aptProgress(h, title, start, last, done)
	}()
	var errb strings.Builder
	both := &syncWriter{w: io.MultiWriter(&errb, last)} // dpkg's messages go to either
	err := t.Run(ctx, aptScript(pkgs), both, both)
	close(done)
	wg.Wait()
	c.UI.Progress(h.Name, "")
	took := time.Since(start).Round(time.Second)
	if status, ok := transport.ExitStatus(err); ok && status == noAptStatus {
		return fmt.Errorf("no apt-get on this host (not Debian or Ubuntu): install Java (a JRE 11+) and ZooKeeper by hand and set [zookeeper] home, or set [zookeeper] tarball with Java present, instead of install = \"apt\"")
	}
	if err != nil {
		return fmt.Errorf("%s failed after %v: %w: %s (the next deploy repairs what it left once the cause is fixed)", title, took, err, aptErrors(errb.String()))
	}
	c.UI.Host(h.Name, "%s: %v", title, took)
	return nil
}

// aptReport is how often a line reports apt's progress off a terminal.
const aptReport = 10 * time.Second

func (c *cluster) aptProgress(h inventory.Host, title string, start time.Time, last *lastLine, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	reported := start
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			line := fmt.Sprintf("%s: %v  %s", title, now.Sub(start).Round(time.Second), truncate(last.get(), 60))
			c.UI.Progress(h.Name, line)
			if now.Sub(reported) >= aptReport {
				c.UI.Host(h.Name, "%s", line)
				reported = now
			}
		}
	}
}

// syncWriter serialises the writes of two streams into one writer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// lastLine keeps the last complete line written to it.
type lastLine struct {
	mu      sync.Mutex
	partial string
	last    string
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.partial + string(p)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		lines := strings.Split(strings.TrimRight(s[:i], "\r\n"), "\n")
		for j := len(lines) - 1; j >= 0; j-- {
			if t := strings.TrimSpace(lines[j]); t != "" {
				l.last = t
				break
			}
		}
		s = s[i+1:]
	}
	l.partial = s
	return len(p), nil
}

func (l *lastLine) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// aptErrors picks what says why apt failed from its standard error: the
// lines dpkg and the maintainer scripts wrote about the failing package
// (up to 4), then apt's own last 2 lines.
func aptErrors(stderr string) string {
	var keep []string
	lines := strings.Split(stderr, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "dpkg: error processing") && len(keep) < 4 {
			keep = append(keep, strings.TrimSpace(l))
			if i > 0 && !strings.HasPrefix(lines[i-1], "dpkg:") && strings.TrimSpace(lines[i-1]) != "" {
				keep = append(keep, strings.TrimSpace(lines[i-1]))
			}
		}
	}
	return strings.Join(append(keep, tailLines(stderr, 2)), "; ")
}

// tailLines is the last n non-empty lines of s, joined by "; ".
func tailLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "; ")
}

// loginKind names how commands reach root on h, for messages.
func loginKind(h inventory.Host) string {
	switch {
	case h.IsLocal():
		return "this machine"
	case h.SSH.User == "root":
		return "root login"
	case h.SSH.Sudo:
		return "sudo as " + h.SSH.User
	}
	return "plain login " + h.SSH.User
}
