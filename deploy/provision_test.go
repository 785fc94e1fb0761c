package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/roles"
)

// TestProvisionVMs runs every provisioning path and login on one lab of
// second-version hosts: vm1 fresh (login ubuntu with sudo, no Java, no
// ZooKeeper), vm2 nosudo (login zk), vm3 root (run_as zksvc, a user deploy
// must create). The faults come first, each fixed before the next deploy.
func TestProvisionVMs(t *testing.T) {
	begin := time.Now()
	lab := testlab.NewVMs(t, testlab.VMOptions{Profiles: []testlab.Profile{testlab.Fresh, testlab.NoSudo, testlab.Root}})
	t.Logf("lab up in %v", time.Since(begin).Round(time.Millisecond))
	bin := buildbin.Path(t)
	ctx := context.Background()
	vmInv := func(t *testing.T, zk string) string {
		inv := lab.Inventory("[cluster]\ntick_time = \"200ms\"\nsession_timeout = \"4s\"\n" + zk)
		inv = strings.Replace(inv, "name = \"vm3\"\n", "name = \"vm3\"\nrun_as = \"zksvc\"\n", 1)
		p := filepath.Join(t.TempDir(), "inventory.toml")
		if err := os.WriteFile(p, []byte(inv), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	apt := vmInv(t, "[zookeeper]\ninstall = \"apt\"\n")
	deployOnce := func(t *testing.T, path string) ([]deploy.DeployResult, string, error) {
		t.Helper()
		c, out := newCluster(t, path)
		res, err := deploy.Deploy(ctx, c, deploy.DeployOptions{Binary: bin})
		return res, out.String(), err
	}

	t.Run("missing Java and ZooKeeper, no install", func(t *testing.T) {
		res, _, err := deployOnce(t, vmInv(t, ""))
		wantHostErr(t, err, "vm1", "provision", "Java and ZooKeeper not found", "`sudo apt-get install -y default-jre-headless zookeeper`")
		if res[1].Err != nil || res[2].Err != nil {
			t.Errorf("the other hosts should still deploy: %v / %v", res[1].Err, res[2].Err)
		}
	})
	t.Run("no apt-get", func(t *testing.T) {
		mustRun(t, lab, 0, "mv /usr/bin/apt-get /usr/bin/apt-get.off")
		_, _, err := deployOnce(t, apt)
		mustRun(t, lab, 0, "mv /usr/bin/apt-get.off /usr/bin/apt-get")
		wantHostErr(t, err, "vm1", "apt-get install", "no apt-get on this host", "tarball")
	})
	t.Run("apt fails half-way, run_as cannot be created", func(t *testing.T) {
		if err := lab.BreakPackage("zookeeper"); err != nil {
			t.Fatal(err)
		}
		// useradd --user-group refuses an existing group (the first deploy created zksvc).
		mustRun(t, lab, 2, "userdel zksvc 2>/dev/null; groupadd zksvc")
		_, _, err := deployOnce(t, apt)
		wantHostErr(t, err, "vm1", "apt-get install", "failed after", "postinst broken on purpose")
		wantHostErr(t, err, "vm3", "run_as user", `cannot create the system user "zksvc"`, "set run_as to an existing user")
		if out, _ := lab.Run(0, "dpkg --audit"); strings.TrimSpace(out) == "" {
			t.Errorf("the broken install should have left a half-configured package")
		}
	})

	var first time.Duration
	t.Run("fixed: apt through sudo, run_as created", func(t *testing.T) {
		if err := lab.OmitPackages(); err != nil { // the complete repository again
			t.Fatal(err)
		}
		mustRun(t, lab, 2, "groupdel zksvc")
		start := time.Now()
		res, out, err := deployOnce(t, apt)
		first = time.Since(start)
		if err != nil {
			t.Fatalf("deploy after the fixes: %v\n%s", err, out)
		}
		t.Logf("deploy with apt on vm1 (repairing the broken install): %v", first.Round(time.Millisecond))
		if res[0].ZooKeeper != "installed (apt)" || res[1].ZooKeeper != "found" || res[2].ZooKeeper != "found" {
			t.Errorf("zookeeper %q %q %q, want installed (apt), found, found", res[0].ZooKeeper, res[1].ZooKeeper, res[2].ZooKeeper)
		}
		if !regexp.MustCompile(`(?m)^vm1: apt-get install default-jre-headless zookeeper: \d+s$`).MatchString(out) {
			t.Errorf("no apt line with the elapsed time:\n%s", out)
		}
		if !strings.Contains(out, "vm3: created system user zksvc") {
			t.Errorf("vm3's run_as user not reported created:\n%s", out)
		}
		// Installed inside vm1 only: its disk has the jar, vm2's has not.
		if _, err := os.Stat(lab.Path(0, node.DebianJar)); err != nil {
			t.Errorf("vm1's disk lacks %s: %v", node.DebianJar, err)
		}
		if _, err := os.Stat(lab.Path(1, node.DebianJar)); err == nil {
			t.Errorf("vm2's disk has %s: the install leaked", node.DebianJar)
		}
	})

	c, _ := newCluster(t, apt)
	t.Cleanup(func() { _ = deploy.StopAll(context.Background(), c) })
	users := []string{"zookeeper", "zk", "zksvc"} // Debian's user reused on vm1
	t.Run("processes and files belong to run_as", func(t *testing.T) {
		if err := deploy.Reset(ctx, c); err != nil {
			t.Fatalf("reset: %v", err)
		}
		if err := deploy.WaitQuorum(ctx, c, c.Inv.Hosts, time.Minute); err != nil {
			t.Fatalf("quorum: %v", err)
		}
		for _, p := range []struct{ role, host string }{{"master", "vm1"}, {"worker", "vm2"}, {"worker", "vm3"}} {
			if _, err := (ops.Start{Role: p.role, Host: p.host, Options: roles.Options{Concurrency: 1}}).Run(ctx, c); err != nil {
				t.Fatalf("start %s %s: %v", p.role, p.host, err)
			}
		}
		for i, h := range c.Inv.Hosts {
			checkOwners(t, lab, i, h, users[i], 2)
		}
	})
	t.Run("status, kill, start, tail, stop on every login", func(t *testing.T) {
		for i, h := range c.Inv.Hosts {
			if _, err := (ops.Signal{Role: "zookeeper", Host: h.Name, Signal: syscall.SIGKILL}).Run(ctx, c); err != nil {
				t.Fatalf("kill zookeeper %s: %v", h.Name, err)
			}
			if m := serverMode(c, h.Name); m != "down" {
				t.Errorf("%s: killed server shows %q", h.Name, m)
			}
			if _, err := (ops.StartServer{Host: h.Name}).Run(ctx, c); err != nil {
				t.Fatalf("start zookeeper %s: %v", h.Name, err)
			}
			if err := deploy.WaitQuorum(ctx, c, c.Inv.Hosts, time.Minute); err != nil {
				t.Fatalf("%s did not rejoin: %v", h.Name, err)
			}
			checkOwners(t, lab, i, h, users[i], 2)
		}
		var tail bytes.Buffer
		if err := c.Tail(ctx, c.Inv.Hosts, controller.TailOptions{Lines: 5}, &tail); err != nil {
			t.Fatalf("tail: %v", err)
		}
		for _, h := range c.Inv.Hosts {
			if !strings.Contains(tail.String(), h.Name+" zookeeper") {
				t.Errorf("tail shows nothing of %s's server:\n%s", h.Name, tail.String())
			}
		}
		if err := deploy.StopAll(ctx, c); err != nil {
			t.Fatalf("stop: %v", err)
		}
		for i, h := range c.Inv.Hosts {
			checkOwners(t, lab, i, h, users[i], 0)
		}
	})

	t.Run("re-deploy installs nothing", func(t *testing.T) {
		start := time.Now()
		res, out, err := deployOnce(t, apt)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("re-deploy: %v", err)
		}
		t.Logf("BENCH re-deploy with nothing changed: %v", took.Round(time.Millisecond))
		for _, r := range res {
			if r.Binary != "skipped" || r.ZooKeeper != "found" {
				t.Errorf("%s: %q %q, want skipped, found", r.Host, r.Binary, r.ZooKeeper)
			}
		}
		if strings.Contains(out, "apt-get") {
			t.Errorf("re-deploy ran apt:\n%s", out)
		}
	})

	t.Run("tarball", func(t *testing.T) {
		dir := t.TempDir()
		for _, d := range []string{"bad", "truncated"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		good := buildRelease(t, dir, "3.8.0", true)
		notRelease := buildRelease(t, filepath.Join(dir, "bad"), "3.8.0", false)
		truncated := filepath.Join(dir, "truncated", filepath.Base(good))
		truncateCopy(t, good, truncated)
		inv := func(tarball string) string { return vmInv(t, "[zookeeper]\ntarball = \""+tarball+"\"\n") }

		_, _, err := deployOnce(t, inv(notRelease))
		for _, h := range []string{"vm1", "vm2", "vm3"} {
			wantHostErr(t, err, h, "unpack ZooKeeper tarball", "is not an Apache ZooKeeper release", "lib/zookeeper-3*.jar")
		}
		_, _, err = deployOnce(t, inv(truncated))
		wantHostErr(t, err, "vm2", "unpack ZooKeeper tarball", "is truncated or not a gzip tar")
		home := "zookeeper/apache-zookeeper-3.8.0-bin"
		if out, _ := lab.Run(1, "ls -d /home/zk/zkctl/"+home+" /home/zk/zkctl/zookeeper/.unpack-* 2>&1"); !strings.Contains(out, "No such file") || strings.Contains(out, "unpack-a") {
			t.Errorf("a failed unpack left something behind: %s", out)
		}

		path := inv(good)
		start := time.Now()
		res, out, err := deployOnce(t, path)
		if err != nil {
			t.Fatalf("deploy with the release: %v\n%s", err, out)
		}
		t.Logf("BENCH deploy with the release tarball (%s) to the three hosts: %v", humanSize(good), time.Since(start).Round(time.Millisecond))
		for _, r := range res {
			if r.ZooKeeper != "unpacked (tarball)" {
				t.Errorf("%s: zookeeper %q, want unpacked (tarball)", r.Host, r.ZooKeeper)
			}
		}
		ct, _ := newCluster(t, path)
		t.Cleanup(func() { _ = deploy.StopAll(context.Background(), ct) })
		if err := deploy.Reset(ctx, ct); err != nil {
			t.Fatalf("reset: %v", err)
		}
		if err := deploy.WaitQuorum(ctx, ct, ct.Inv.Hosts, time.Minute); err != nil {
			t.Fatalf("quorum on the release: %v", err)
		}
		for i, h := range ct.Inv.Hosts {
			l := node.Layout{Dir: h.Dir}
			cmdline, err := lab.Run(i, `read pid st < `+l.Pidfile(node.ZooKeeperName)+`; tr '\0' ' ' < /proc/$pid/cmdline`)
			if err != nil || !strings.Contains(cmdline, filepath.Join(h.Dir, home, "lib")) || !strings.Contains(cmdline, "logback.xml") {
				t.Errorf("%s: the server does not run from the release with its logback.xml: %s %v", h.Name, cmdline, err)
			}
			log, err := lab.Run(i, "cat "+l.LogFile(node.ZooKeeperName))
			if err != nil || !strings.Contains(log, "[myid:") || strings.Contains(log, "SLF4J: ") {
				t.Errorf("%s: logs/zookeeper.log is not logback's (pattern with [myid:…], no SLF4J warning): %.600s", h.Name, log)
			}
			checkOwners(t, lab, i, h, users[i], 1)
		}
		start = time.Now()
		res, out, err = deployOnce(t, path)
		if err != nil {
			t.Fatalf("re-deploy with the release: %v", err)
		}
		t.Logf("re-deploy with the same release: %v", time.Since(start).Round(time.Millisecond))
		if strings.Contains(out, "uploading apache") || strings.Contains(out, "unpacked") {
			t.Errorf("the same tarball was sent or unpacked again:\n%s", out)
		}
		for _, r := range res {
			if r.ZooKeeper != "found" {
				t.Errorf("%s: zookeeper %q on re-deploy, want found", r.Host, r.ZooKeeper)
			}
		}
		if err := deploy.StopAll(ctx, ct); err != nil {
			t.Fatalf("stop: %v", err)
		}
	})

	t.Run("sticky ids", func(t *testing.T) {
		data, err := os.ReadFile(apt)
		if err != nil {
			t.Fatal(err)
		}
		// vm1 removed: vm2 and vm3 would become 1 and 2.
		text := string(data)
		i, j := strings.Index(text, "[[host]]"), strings.Index(text, "name = \"vm2\"")
		removed := text[:i] + text[strings.LastIndex(text[:j], "[[host]]"):]
		p := filepath.Join(t.TempDir(), "removed.toml")
		if err := os.WriteFile(p, []byte(removed), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err = deployOnce(t, p)
		wantHostErr(t, err, "vm2", "check myid", "myid would change from 2 to 1", "set id = 2 in its [[host]]")
		wantHostErr(t, err, "vm3", "check myid", "myid would change from 3 to 2", "set id = 3 in its [[host]]")
		// The fix: the ids written down.
		fixed := strings.Replace(removed, "name = \"vm2\"\n", "name = \"vm2\"\nid = 2\n", 1)
		fixed = strings.Replace(fixed, "name = \"vm3\"\n", "name = \"vm3\"\nid = 3\n", 1)
		if err := os.WriteFile(p, []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		inv, err := inventory.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Hosts[0].ID != 2 || inv.Hosts[1].ID != 3 {
			t.Fatalf("ids %d %d", inv.Hosts[0].ID, inv.Hosts[1].ID)
		}
		c2 := controller.NewCluster(inv, controller.NewUI(&bytes.Buffer{}), nil)
		defer c2.Close()
		if _, err := deploy.Deploy(ctx, c2, deploy.DeployOptions{Binary: bin}); err != nil {
			t.Fatalf("deploy with the ids set: %v", err)
		}
	})
	t.Logf("provisioning tests took %v in all", time.Since(begin).Round(time.Millisecond))
}

// wantHostErr fails unless err has a *controller.HostError for host at step
// whose message holds every want.
func wantHostErr(t *testing.T, err error, host, step string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s to fail at %s, got no error", host, step)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.Contains(line, host+": "+step+": ") {
			continue
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s's error lacks %q: %s", host, w, line)
			}
		}
		var he *controller.HostError
		if !errors.As(err, &he) {
			t.Errorf("not a HostError: %v", err)
		}
		return
	}
	t.Errorf("no error of %s at step %s in:\n%v", host, step, err)
}

func mustRun(t *testing.T, lab *testlab.VMLab, i int, script string) {
	t.Helper()
	if _, err := lab.Run(i, script); err != nil {
		t.Fatal(err)
	}
}

// checkOwners checks on host i that the processes zkctl started (at least
// procs of them) run as user, and that every file under dir but bin/ is
// user's (bin/ is root's on root and sudo hosts, user's on a plain login).
func checkOwners(t *testing.T, lab *testlab.VMLab, i int, h inventory.Host, user string, procs int) {
	t.Helper()
	run := node.Layout{Dir: h.Dir}.Run()
	out, err := lab.Run(i, `n=0; for f in `+run+`/*.pid; do [ -e "$f" ] || continue; read pid st < "$f"; `+
		`u=$(ps -o user= -p "$pid") && echo "proc $f $u" && n=$((n+1)); done; echo "procs $n"`)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "proc" && f[2] != user:
			t.Errorf("%s: %s runs as %s, want %s", h.Name, f[1], f[2], user)
		case len(f) == 2 && f[0] == "procs":
			fmt.Sscan(f[1], &n)
		}
	}
	if n < procs {
		t.Errorf("%s: %d live processes, want at least %d:\n%s", h.Name, n, procs, out)
	}
	bin := node.Layout{Dir: h.Dir}.Bin()
	binOwner := "root"
	if h.SSH.User != "root" && !h.SSH.Sudo {
		binOwner = user
	}
	out, err = lab.Run(i, fmt.Sprintf(`find %s -path %s -prune -o ! -user %s -printf '%%u %%p\n'; find %s ! -user %s -printf '%%u %%p\n'; find %s | wc -l`,
		h.Dir, bin, user, bin, binOwner, h.Dir))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[:len(lines)-1] {
		t.Errorf("%s: %s is not its owner's", h.Name, l)
	}
	var files int
	fmt.Sscan(lines[len(lines)-1], &files)
	if files < 10 {
		t.Errorf("%s: only %d files under %s", h.Name, files, h.Dir)
	}
}

func humanSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MB", float64(st.Size())/1e6)
}

func serverMode(c *controller.Cluster, host string) string {
	for _, s := range deploy.Status(context.Background(), c).Servers {
		if s.Host == host {
			return s.Mode
		}
	}
	return ""
}
