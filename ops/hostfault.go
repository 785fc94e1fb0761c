package ops

import (
	"context"
	"syscall"

	"zkctl/controller"
	"zkctl/node"
)

// The whole-host faults: Crash, Freeze and Thaw act at once on every
// process zkctl started on a host, its ZooKeeper server and its roles.
const (
	KindCrash  Kind = "crash"  // every process SIGKILLed at once
	KindFreeze Kind = "freeze" // every process SIGSTOPped
	KindThaw   Kind = "thaw"   // every process SIGCONTed
)

// Crash SIGKILLs every process zkctl started on Host at once, as if the
// machine lost power: nothing gets to close its session or flush.
type Crash struct{ Host string }

// Title implements Op.
func (c Crash) Title() string { return "crash " + c.Host }

// Run implements Op.
func (c Crash) Run(ctx context.Context, cl *controller.Cluster) (Record, error) {
	return signalHost(ctx, cl, c, KindCrash, c.Host, syscall.SIGKILL)
}

// Freeze SIGSTOPs every process zkctl started on Host. Unlike a paused VM,
// the host's kernel still answers: TCP connections stay open and peers'
// packets are acknowledged, so ZooKeeper notices only through its own
// timeouts (tickTime, syncLimit, the session timeout), not through resets.
type Freeze struct{ Host string }

// Title implements Op.
func (f Freeze) Title() string { return "freeze " + f.Host }

// Run implements Op.
func (f Freeze) Run(ctx context.Context, cl *controller.Cluster) (Record, error) {
	return signalHost(ctx, cl, f, KindFreeze, f.Host, syscall.SIGSTOP)
}

// Thaw SIGCONTs every process zkctl started on Host (the end of a Freeze).
type Thaw struct{ Host string }

// Title implements Op.
func (t Thaw) Title() string { return "thaw " + t.Host }

// Run implements Op.
func (t Thaw) Run(ctx context.Context, cl *controller.Cluster) (Record, error) {
	return signalHost(ctx, cl, t, KindThaw, t.Host, syscall.SIGCONT)
}

func signalHost(ctx context.Context, c *controller.Cluster, op Op, kind Kind, name string, sig syscall.Signal) (Record, error) {
	rec := begin(op, kind, name, "", "")
	rec.Signal = "SIG" + node.SignalName(sig)
	h, err := host(c, name)
	if err != nil {
		return rec.done(nil, err)
	}
	procs, err := c.SignalHostOn(ctx, h, sig)
	return rec.done(procs, err)
}
