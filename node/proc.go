package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zkctl/internal/retry"
)

// Proc is a supervised process as its pidfile records it. The start time
// (clock ticks since boot, /proc/PID/stat field 22) tells a live process from
// another one that reused its pid.
type Proc struct {
	Name      string `json:"name"` // "zookeeper" or "<role>-<id>"
	Role      string `json:"role"`
	ID        string `json:"id,omitempty"`
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"`
	State     string `json:"state"` // running, stopped (SIGSTOP), dead
	Log       string `json:"log"`
}

// Process states reported by Inspect.
const (
	StateRunning = "running"
	StateStopped = "stopped"
	StateDead    = "dead"
)

// Spawn starts argv detached from the caller (new session, stdin from
// /dev/null, stdout and stderr appended to the log) and records it in
// run/<name>.pid. It returns once the process exists; it does not wait.
func Spawn(l Layout, name string, argv []string, env []string) (Proc, error) {
	for _, d := range []string{l.Logs(), l.Run()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Proc{}, err
		}
	}
	logPath := l.LogFile(name)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Proc{}, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = l.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Proc{}, fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	st, _ := procStartTime(pid)
	p := Proc{Name: name, PID: pid, StartTime: st, State: StateRunning, Log: logPath}
	p.Role, p.ID = splitName(name)
	line := fmt.Sprintf("%d %d\n", pid, st)
	if err := WriteFileAtomic(l.Pidfile(name), []byte(line), 0o644); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return Proc{}, fmt.Errorf("write pidfile: %w", err)
	}
	return p, nil
}

func splitName(name string) (role, id string) {
	role, id, _ = strings.Cut(name, "-")
	return role, id
}

// Inspect reads run/<name>.pid and reports whether that very process lives.
// A missing pidfile is an error wrapping os.ErrNotExist.
func Inspect(l Layout, name string) (Proc, error) {
	data, err := os.ReadFile(l.Pidfile(name))
	if err != nil {
		return Proc{}, err
	}
	p := Proc{Name: name, Log: l.LogFile(name)}
	p.Role, p.ID = splitName(name)
	if _, err := fmt.Sscanf(string(data), "%d %d", &p.PID, &p.StartTime); err != nil || p.PID <= 0 {
		return Proc{}, fmt.Errorf("pidfile %s: bad content %q", l.Pidfile(name), strings.TrimSpace(string(data)))
	}
	p.State = liveState(p.PID, p.StartTime)
	return p, nil
}

// List inspects every pidfile under run/, sorted by name.
func List(l Layout) ([]Proc, error) {
	entries, err := os.ReadDir(l.Run())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pid")
		if !ok {
			continue
		}
		if p, err := Inspect(l, name); err == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Forget removes the pidfile of a process that is no longer wanted.
func Forget(l Layout, name string) error {
	err := os.Remove(l.Pidfile(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Signal sends sig to the process if it is still the one the pidfile names.
// A STOPped process also gets CONT after TERM or INT, so that it can exit.
func Signal(p Proc, sig syscall.Signal) error {
	if liveState(p.PID, p.StartTime) == StateDead {
		return nil
	}
	if err := syscall.Kill(p.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s pid %d: %w", p.Name, p.PID, err)
	}
	if p.State == StateStopped && (sig == syscall.SIGTERM || sig == syscall.SIGINT || sig == syscall.SIGHUP) {
		_ = syscall.Kill(p.PID, syscall.SIGCONT)
	}
	return nil
}

// Stop sends TERM and waits up to grace for the process to exit, then KILLs it.
func Stop(p Proc, grace time.Duration) error {
	if err := Signal(p, syscall.SIGTERM); err != nil {
		return err
	}
	if waitDead(p, grace) {
		return nil
	}
	if err := Signal(p, syscall.SIGKILL); err != nil {
		return err
	}
	if !waitDead(p, 5*time.Second) {
		return fmt.Errorf("%s pid %d still alive after SIGKILL", p.Name, p.PID)
	}
	return nil
}

// Alive reports whether the process the pidfile named still exists (running
// or stopped; a zombie counts as dead).
func (p Proc) Alive() bool { return liveState(p.PID, p.StartTime) != StateDead }

// WaitExit waits up to d for the process to be gone.
func WaitExit(p Proc, d time.Duration) bool { return waitDead(p, d) }

func waitDead(p Proc, d time.Duration) bool {
	err := retry.Poll(context.Background(), 20*time.Millisecond, d, func() (bool, error) {
		return liveState(p.PID, p.StartTime) == StateDead, nil
	})
	return err == nil
}

// liveState reads /proc/PID/stat: dead when the pid is gone, a zombie, or a
// different process (start time changed).
func liveState(pid int, start uint64) string {
	fields, err := procStat(pid)
	if err != nil {
		return StateDead
	}
	if st, _ := strconv.ParseUint(fields[19], 10, 64); start != 0 && st != start {
		return StateDead
	}
	switch fields[0] {
	case "Z", "X", "x":
		return StateDead
	case "T", "t":
		return StateStopped
	}
	return StateRunning
}

func procStartTime(pid int) (uint64, error) {
	fields, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// procStat returns the fields of /proc/PID/stat after the command name,
// starting with the state (field 3).
func procStat(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return nil, fmt.Errorf("pid %d: odd /proc stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return nil, fmt.Errorf("pid %d: short /proc stat", pid)
	}
	return fields, nil
}
