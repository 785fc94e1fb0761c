package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// Deploy lock: one deploy at a time per host, a folder created with an
// atomic mkdir, <dir>/run/deploy.lock, with an owner file inside naming the
// controller's machine and pid. A lock older than DefaultLockExpiry, or one
// whose owner ran on this machine and is gone, was left by a deploy that
// died and is taken over.
const (
	DefaultLockExpiry = 10 * time.Minute
	DefaultLockWait   = 2 * time.Minute
)

func lockPath(h inventory.Host) string  { return filepath.Join(h.Dir, "run", "deploy.lock") }
func ownerPath(h inventory.Host) string { return filepath.Join(lockPath(h), "owner") }

// lockAndProbe takes the host's deploy lock (waiting up to LockWait for
// another deploy to finish) and probes the host in the same round trip.
func (c *Cluster) lockAndProbe(ctx context.Context, h inventory.Host, t transport.Transport) (hostProbe, error) {
	wait, expiry := orDefault(c.LockWait, DefaultLockWait), orDefault(c.LockExpiry, DefaultLockExpiry)
	deadline := time.Now().Add(wait)
	announced := false
	for {
		p, err := c.probe(ctx, h, t)
		if err != nil {
			return p, err
		}
		if p.locked {
			c.claimLock(ctx, h, t)
			return p, nil
		}
		stale := ""
		if age := time.Duration(p.lockAge) * time.Second; age > expiry {
			stale = fmt.Sprintf("left %v ago", age)
		} else if owner, dead := c.deadOwner(ctx, h, t); dead {
			stale = "left by " + owner + ", which is gone"
		}
		if stale != "" {
			c.UI.Host(h.Name, "taking over a deploy lock %s", stale)
			if err := c.removeLock(ctx, h, t); err != nil {
				return p, stepError(h, "remove stale deploy lock", err)
			}
			continue
		}
		if time.Now().After(deadline) {
			return p, stepError(h, "lock", fmt.Errorf("another deploy has held %s for %ds; wait for it, or remove the folder if no deploy runs", lockPath(h), p.lockAge))
		}
		if !announced {
			c.UI.Host(h.Name, "waiting for another deploy to finish (lock %s)", lockPath(h))
			announced = true
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// claimLock writes the owner file into the lock this deploy just took.
func (c *Cluster) claimLock(ctx context.Context, h inventory.Host, t transport.Transport) {
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s %d\n", host, os.Getpid())
	if err := t.WriteFile(ctx, ownerPath(h), []byte(owner), 0o644); err != nil {
		c.Log.Debug("lock owner not written", "host", h.Name, "err", err)
	}
}

// deadOwner reports whether the lock's owner ran on this machine and its
// process is gone (a deploy killed with SIGKILL).
func (c *Cluster) deadOwner(ctx context.Context, h inventory.Host, t transport.Transport) (string, bool) {
	data, err := t.ReadFile(ctx, ownerPath(h))
	if err != nil {
		return "", false
	}
	host, pidText, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	pid, err := strconv.Atoi(pidText)
	self, _ := os.Hostname()
	if err != nil || pid <= 0 || host != self {
		return "", false
	}
	gone := errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	return fmt.Sprintf("zkctl pid %d on %s", pid, host), gone
}

// removeLock removes the owner file, then the lock folder.
func (c *Cluster) removeLock(ctx context.Context, h inventory.Host, t transport.Transport) error {
	if err := t.Remove(ctx, ownerPath(h)); err != nil {
		return err
	}
	return t.Remove(ctx, lockPath(h))
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// unlock releases the deploy lock, even when ctx was cancelled.
func (c *Cluster) unlock(ctx context.Context, h inventory.Host) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if t, err := c.Transport(ctx, h); err == nil {
		if err := c.removeLock(ctx, h, t); err != nil {
			c.UI.Host(h.Name, "could not release the deploy lock %s: %v", lockPath(h), err)
		}
	}
}
