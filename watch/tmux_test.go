package watch

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"zkctl/internal/buildbin"
	"zkctl/internal/zktest"
	"zkctl/node"
)

// tmuxScreen is a tmux server of the test's own (its own socket), with one
// window of 120 × 45 running a command.
type tmuxScreen struct {
	t    *testing.T
	sock string
}

func startTmux(t *testing.T, command string) *tmuxScreen {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux missing: apt-get install -y tmux")
	}
	s := &tmuxScreen{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	s.run("-f", "/dev/null", "new-session", "-d", "-s", "watch", "-x", "120", "-y", "45", command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxScreen) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture is the screen's text now.
func (s *tmuxScreen) capture() string { return s.run("capture-pane", "-p", "-t", "watch") }

// waitFor polls the screen every 50 ms for up to d until re matches a
// line of it, and returns how long that took.
func (s *tmuxScreen) waitFor(d time.Duration, re string) time.Duration {
	s.t.Helper()
	rx := regexp.MustCompile("(?m)" + re)
	start := time.Now()
	var screen string
	for time.Since(start) < d {
		if screen = s.capture(); rx.MatchString(screen) {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("the screen did not show %q within %v; it shows:\n%s", re, d, screen)
	return 0
}

// roleDir writes a node configuration for roles run by `zkctl node run`
// against the ensemble, and returns its folder.
func roleDir(t *testing.T, e *zktest.Ensemble) string {
	c := *e.Config(0)
	c.Host, c.Dir = "vm1", t.TempDir()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	l := node.Layout{Dir: c.Dir}
	if err := os.MkdirAll(l.Conf(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.ConfigFile(), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return c.Dir
}

// startMaster runs `zkctl node run master` as a process.
func startMaster(t *testing.T, bin, dir, id string) *exec.Cmd {
	cmd := exec.Command(bin, "node", "run", "master", "--dir", dir, "--id", id)
	log, err := os.Create(filepath.Join(dir, id+".log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); <-done })
	return cmd
}

// TestWatchScreenUnderTmux runs `zkctl watch` full screen in tmux against
// a real ensemble, reads the screen with capture-pane while the leading
// master is SIGKILLed and a follower is killed and restarted, then presses
// q and checks that the terminal is back as it was.
func TestWatchScreenUnderTmux(t *testing.T) {
	bin := buildbin.Path(t)
	e := zktest.Start(t, 3)
	inv := writeInventory(t, e)
	dir := roleDir(t, e)
	m1 := startMaster(t, bin, dir, "m1")
	script := fmt.Sprintf(`echo before-watch; %s -i %s watch; stty -a | tr ' ;' '\n\n' | grep -qx icanon && echo tty-restored; echo after-watch; sleep 600`, bin, inv)
	s := startTmux(t, script)
	s.waitFor(15*time.Second, `^MASTER  m1 on vm1`)
	startMaster(t, bin, dir, "m2")
	s.waitFor(10*time.Second, `^candidates \(election order\): m1 > m2$`)

	if err := m1.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	bound := 2 * (zktest.SessionTimeout + zktest.TickTime + time.Second)
	took := s.waitFor(bound, `^MASTER  m2 on vm1`)
	t.Logf("SIGKILL of the leading master to the screen showing the backup as master: %v (session timeout %v)", took.Round(time.Millisecond), zktest.SessionTimeout)
	s.waitFor(time.Second, `master +m2 elected`)

	f := -1
	for i := range 3 {
		if e.Status(i).Mode == "follower" {
			f = i
		}
	}
	if f < 0 {
		t.Fatal("no follower")
	}
	e.Kill(f)
	s.waitFor(5*time.Second, fmt.Sprintf(`^vm%d +down `, f+1))
	e.Start(f)
	s.waitFor(30*time.Second, fmt.Sprintf(`^vm%d +follower `, f+1))

	s.run("send-keys", "-t", "watch", "q")
	s.waitFor(5*time.Second, `^after-watch$`)
	screen := s.capture()
	for _, want := range []string{"before-watch", "tty-restored"} {
		if !strings.Contains(screen, want) {
			t.Errorf("after q the terminal does not show %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "SERVERS") {
		t.Errorf("after q the view is still on the screen:\n%s", screen)
	}
}
