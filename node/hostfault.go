package node

import (
	"context"
	"errors"
	"syscall"
	"time"

	"zkctl/internal/retry"
)

// SignalHost sends sig at once to every live process the agent started on
// this host, its ZooKeeper server and every role process, without waiting
// for any of them: a whole-host fault. KILL is a crash (nothing gets to
// clean up), STOP freezes the host's process set and CONT thaws it. It
// returns the processes signalled, as they are after the signal. (The
// agent's own helpers, such as a degradation's expiry timer, keep their
// pidfiles elsewhere, under <dir>/netfault, and are not hit.)
func SignalHost(l Layout, sig syscall.Signal) ([]Proc, error) {
	procs, err := List(l)
	if err != nil {
		return nil, err
	}
	var hit []Proc
	var errs []error
	for _, p := range procs {
		if p.State == StateDead {
			continue
		}
		if err := syscall.Kill(p.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, err)
			continue
		}
		hit = append(hit, p)
	}
	for i := range hit {
		hit[i].State = settle(hit[i], stateAfter(sig), 2*time.Second)
	}
	return hit, errors.Join(errs...)
}

// stateAfter is the state a process reaches once sig took effect: dead,
// stopped or running; "" when the signal does not say (TERM may be
// handled, HUP ignored).
func stateAfter(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGKILL: StateDead, syscall.SIGSTOP: StateStopped, syscall.SIGCONT: StateRunning}[sig]
}

// settle waits up to d for p to reach state want (a signal takes effect
// when the kernel next schedules its target) and returns the state it has.
func settle(p Proc, want string, d time.Duration) string {
	var st string
	_ = retry.Poll(context.Background(), 5*time.Millisecond, d, func() (bool, error) {
		st = liveState(p.PID, p.StartTime)
		return want == "" || st == want, nil
	})
	return st
}
