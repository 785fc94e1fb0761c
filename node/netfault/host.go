package netfault

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNetAdmin is CAP_NET_ADMIN's bit in /proc/self/status CapEff.
const capNetAdmin = 12

// Host applies network faults on the machine (or network namespace) it
// runs in. The zero value works for partitions, heal and status; Dir is
// needed for degradations that expire.
type Host struct {
	// Dir is the host's zkctl dir; timers keep pidfiles and logs under
	// Dir/netfault and a lock file serializes concurrent agents.
	Dir string
	// Exe is the zkctl binary the degradation timer runs; "" = this one.
	Exe string
	// Prefix is put before every nft, tc and ip command and before the
	// timer's argv, e.g. {"ip", "netns", "exec", NS} in tests. Empty: none.
	Prefix []string
}

// tools names each binary the package runs and the Debian package with it.
var tools = []struct{ bin, pkg string }{
	{"nft", "nftables"},
	{"tc", "iproute2"},
	{"ip", "iproute2"},
}

// Check reports ErrPrivilege without CAP_NET_ADMIN and ErrMissingTool when
// nft, tc or ip is not in PATH (the error names the package to install).
func (h Host) Check() error {
	if !hasCap(capNetAdmin) {
		return ErrPrivilege
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t.bin); err != nil {
			return fmt.Errorf("%w: %s not found in PATH: apt-get install %s", ErrMissingTool, t.bin, t.pkg)
		}
	}
	return nil
}

// hasCap reads the effective capability set of this process.
func hasCap(bit uint) bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return os.Geteuid() == 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		return err == nil && caps&(1<<bit) != 0
	}
	return os.Geteuid() == 0
}

// run runs name args (after Prefix) with stdin and returns stdout; the
// error carries stderr.
func (h Host) run(ctx context.Context, stdin string, name string, args ...string) ([]byte, error) {
	argv := append(append([]string{}, h.Prefix...), name)
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// nft applies script as one transaction (nft -f -).
func (h Host) nft(ctx context.Context, script string) error {
	if _, err := h.run(ctx, script, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("apply nft script: %w\n%s", err, script)
	}
	return nil
}

func (h Host) stateDir() string { return filepath.Join(h.Dir, "netfault") }

// lock serializes agents on this host (flock on Dir/netfault/lock); it
// returns the unlock function. Without Dir there is nothing to lock.
func (h Host) lock() (func(), error) {
	if h.Dir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(h.stateDir(), 0o755); err != nil {
		return nil, fmt.Errorf("netfault lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(h.stateDir(), "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("netfault lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("netfault lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// prepare checks privileges and tools and takes the lock.
func (h Host) prepare() (func(), error) {
	if err := h.Check(); err != nil {
		return nil, err
	}
	return h.lock()
}
