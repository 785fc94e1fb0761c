package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/internal/retry"
	"zkctl/node"
)

// Deploy lock: one deploy at a time per host. The lock is the file
// <dir>/run/deploy.lock, created exclusively (O_EXCL, over SFTP or by the
// shell's noclobber under sudo) with its owner inside: the controller's
// machine and pid. A lock older than DefaultLockExpiry, or one whose owner
// ran on this machine and is gone, was left by a deploy that died and is
// taken over; any other is waited for, up to DefaultLockWait.
const (
	DefaultLockExpiry = 10 * time.Minute
	DefaultLockWait   = 2 * time.Minute
)

// lockPoll is how often a deploy waiting for the lock tries again.
const lockPoll = 500 * time.Millisecond

func lockPath(h inventory.Host) string { return node.Layout{Dir: h.Dir}.DeployLock() }

// lockStep takes the host's deploy lock, waiting up to Cluster.LockWait
// for another deploy to finish; its Release removes it.
type lockStep struct{}

func (lockStep) Title() string { return "lock" }

// Run polls under a retry policy that retries only a lock held by a live
// deploy, until the wait is over; the refusal then ends the polling.
func (l lockStep) Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error {
	wait, expiry := orDefault(c.LockWait, DefaultLockWait), orDefault(c.LockExpiry, DefaultLockExpiry)
	deadline := time.Now().Add(wait)
	owner := lockOwner()
	announced := false
	poll := retry.Policy{Delay: lockPoll, Retryable: func(err error) bool {
		var held *heldLock
		return errors.As(err, &held)
	}}
	return poll.Do(ctx, func(int) error {
		err := l.try(ctx, c, h, t, owner, expiry)
		var held *heldLock
		if !errors.As(err, &held) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("another deploy has held %s for %ds; wait for it, or remove the file if no deploy runs",
				lockPath(h), int(held.age.Seconds()))
		}
		if !announced {
			c.UI.Host(h.Name, "waiting for another deploy to finish (lock %s)", lockPath(h))
			announced = true
		}
		return err
	})
}

// try creates the lock once; when it is held, it takes over a stale one
// and tries again, or returns the *heldLock.
func (lockStep) try(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport, owner string, expiry time.Duration) error {
	const takeovers = 2 // a lock re-taken by a racing deploy is waited for
	for i := 0; ; i++ {
		err := t.CreateExclusive(ctx, lockPath(h), []byte(owner), 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return err // nil: the lock is ours
		}
		held, err := readLock(ctx, h, t)
		if err != nil {
			return err
		}
		stale := held.stale(expiry)
		if stale == "" || i == takeovers {
			return held
		}
		c.UI.Host(h.Name, "taking over a deploy lock %s", stale)
		if err := t.Remove(ctx, lockPath(h)); err != nil {
			return controller.StepError(h, "remove stale deploy lock", err)
		}
	}
}

// Release removes the lock, even when the deploy failed or was cancelled.
func (lockStep) Release(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) {
	if err := t.Remove(ctx, lockPath(h)); err != nil {
		c.UI.Host(h.Name, "could not release the deploy lock %s: %v", lockPath(h), err)
	}
}

// lockOwner is what this deploy writes into the lock: "machine pid".
func lockOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s %d\n", host, os.Getpid())
}

// heldLock is a deploy lock found held.
type heldLock struct {
	age   time.Duration // since it was taken, by the host's clock
	owner string        // its content: "machine pid", or "" if unreadable
}

func (l *heldLock) Error() string {
	return fmt.Sprintf("deploy lock held for %v by %q", l.age, l.owner)
}

// readLock reads a held lock's owner and its age. The age is taken by the
// host's own clock (date minus the file's mtime) in one command, so a
// controller whose clock is off neither takes over a live lock nor waits
// on a dead one; a command also reads the lock on a sudo host.
func readLock(ctx context.Context, h inventory.Host, t transport.Transport) (*heldLock, error) {
	q := transport.Quote(lockPath(h))
	cmd := `echo "age=$(( $(date +%s) - $(stat -c %Y ` + q + ` 2>/dev/null || date +%s) ))"; cat ` + q + ` 2>/dev/null; true`
	out, err := transport.Output(ctx, t, cmd)
	if err != nil {
		return nil, fmt.Errorf("read the deploy lock %s: %w", lockPath(h), err)
	}
	first, owner, _ := strings.Cut(string(out), "\n")
	secs, err := strconv.Atoi(strings.TrimPrefix(first, "age="))
	if err != nil {
		return nil, fmt.Errorf("read the deploy lock %s: unexpected answer %q", lockPath(h), truncate(string(out), 200))
	}
	return &heldLock{age: time.Duration(secs) * time.Second, owner: strings.TrimSpace(owner)}, nil
}

// stale says why the lock was left by a deploy that died ("" if it was
// not): it is older than expiry, or its owner ran on this machine and its
// process is gone (a deploy killed with SIGKILL).
func (l *heldLock) stale(expiry time.Duration) string {
	if l.age > expiry {
		return fmt.Sprintf("left %v ago", l.age)
	}
	host, pidText, _ := strings.Cut(l.owner, " ")
	pid, err := strconv.Atoi(pidText)
	self, _ := os.Hostname()
	if err != nil || pid <= 0 || host != self {
		return ""
	}
	if !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return ""
	}
	return fmt.Sprintf("left by zkctl pid %d on %s, which is gone", pid, host)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
