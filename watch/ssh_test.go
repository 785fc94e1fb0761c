package watch

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"zkctl/internal/buildbin"
	"zkctl/internal/syncbuf"
	"zkctl/internal/testlab"
	"zkctl/internal/zktest"
)

// TestWatchOverSSH runs `zkctl watch --plain` on three SSH hosts (network
// namespaces with their own sshd) where the ensemble was deployed: it sees
// the servers and the master through the controller's connections, a
// partition applied and expiring (from the agents' fault status), and a
// master failover. It takes 30 to 80 s, more than this package's
// share of the suite, so it runs only when asked:
//
//	ZKCTL_WATCH_SSH=1 go test -count=1 -run TestWatchOverSSH -v ./watch
func TestWatchOverSSH(t *testing.T) {
	if os.Getenv("ZKCTL_WATCH_SSH") == "" {
		t.Skip("set ZKCTL_WATCH_SSH=1 to run `zkctl watch` over SSH (30 to 80 s)")
	}
	lab := testlab.New(t, 3)
	inv := lab.WriteInventory(t, zktest.Timings)
	bin := buildbin.Path(t)
	zkctl := func(args ...string) {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"-i", inv}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("zkctl %v: %v\n%s", args, err, out)
		}
	}
	zkctl("deploy", "--binary", bin)
	zkctl("reset", "-y")
	t.Cleanup(func() { _ = exec.Command(bin, "-i", inv, "stop").Run() })
	zkctl("start", "master", "vm1")

	out := &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := exec.CommandContext(ctx, bin, "-i", inv, "watch", "--plain", "--fault-poll", "1s")
	w.Stdout, w.Stderr = out, out
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = w.Wait()
		t.Logf("watch's output:\n%s", out)
	})
	seen := 0
	wait := func(d time.Duration, re string) {
		t.Helper()
		rx := regexp.MustCompile(re)
		deadline := time.Now().Add(d)
		for {
			s := out.String()
			if loc := rx.FindStringIndex(s[seen:]); loc != nil {
				seen += loc[1]
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no line matching %q within %v", re, d)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait(15*time.Second, `master\s+vm1-\S+ (leads|elected)`)
	zkctl("partition", "vm3", "--for", "10s")
	wait(20*time.Second, `fault\s+vm3: partition \S+ both applied \(expires `)
	wait(30*time.Second, `fault\s+vm3: partition \S+ both expired`)
	zkctl("start", "master", "vm2")
	wait(10*time.Second, `election\s+candidate vm2-\S+ joined \(position 2 of 2\)`)
	zkctl("kill", "master", "vm1", "-s", "KILL")
	wait(2*(zktest.SessionTimeout+zktest.TickTime+time.Second), `master\s+vm2-\S+ elected`)
}
