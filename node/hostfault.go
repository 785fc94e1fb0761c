package node

import (
	"errors"
	"syscall"
)

// SignalHost sends sig at once to every live process the agent started on
// this host, its ZooKeeper server and every role process, without waiting
// for any of them: a whole-host fault. KILL is a crash (nothing gets to
// clean up), STOP freezes the host's process set and CONT thaws it. It
// returns the processes signalled, as they are after the signal.
func SignalHost(l Layout, sig syscall.Signal) ([]Proc, error) {
	procs, err := List(l)
	if err != nil {
		return nil, err
	}
	var hit []Proc
	var errs []error
	for _, p := range procs {
		if p.State == StateDead || !hostProcess(p) {
			continue
		}
		if err := syscall.Kill(p.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, err)
			continue
		}
		hit = append(hit, p)
	}
	for i := range hit {
		hit[i].State = liveState(hit[i].PID, hit[i].StartTime)
	}
	return hit, errors.Join(errs...)
}

// hostProcess tells the processes a host fault hits: the server and the
// roles, not the agent's own helpers (such as a fault's expiry timer).
func hostProcess(p Proc) bool { return p.Role != agentHelperRole }

// agentHelperRole is the role name of the agent's own helper processes.
const agentHelperRole = "agent"
