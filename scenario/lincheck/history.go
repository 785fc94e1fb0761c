package lincheck

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Kind is what an operation does to the znode.
type Kind int

// The operation kinds.
const (
	Read  Kind = iota // getData
	Write             // setData with version -1
	CAS               // setData with an expected version
)

// Kinds lists every kind, in report order.
func Kinds() []Kind { return []Kind{Read, Write, CAS} }

func (k Kind) String() string {
	switch k {
	case Read:
		return "read"
	case Write:
		return "write"
	case CAS:
		return "cas"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MarshalText writes the kind's name (for JSON reports).
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range Kinds() {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("lincheck: unknown operation kind %q", b)
}

// Outcome is what the client learnt of an operation.
type Outcome int

// The outcomes.
const (
	// OK: the server answered with success.
	OK Outcome = iota
	// Failed: the server answered with a definite refusal (BadVersion for a
	// compare-and-set): the operation was not applied.
	Failed
	// Indeterminate: a timeout or a lost connection or session; the
	// operation may or may not have been applied.
	Indeterminate
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Indeterminate:
		return "indeterminate"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// MarshalText writes the outcome's name (for JSON reports).
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an outcome's name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for _, c := range []Outcome{OK, Failed, Indeterminate} {
		if c.String() == string(b) {
			*o = c
			return nil
		}
	}
	return fmt.Errorf("lincheck: unknown outcome %q", b)
}

// Value is a znode state as a client sees it: its data and data version.
type Value struct {
	Data    string
	Version int32
}

// Op is one recorded operation. Times are offsets from History.Start on
// this process's monotonic clock.
type Op struct {
	Client int    // index of the client that ran it
	Server string // the server that client is connected to
	// Session is the ZooKeeper session the operation ran in, 0 when the
	// session changed while it ran (or there was none).
	Session int64
	Kind    Kind
	Data    string // the data written (Write, CAS)
	Expect  int32  // the expected version (CAS)
	Call    time.Duration
	Return  time.Duration
	Outcome Outcome
	Out     Value  // the data read (Read) and the Stat's version (OK only)
	Err     string // the error, when not OK
}

// History is what one Run recorded.
type History struct {
	Path    string
	Initial Value // the znode as the workload created it
	Start   time.Time
	Elapsed time.Duration
	Ops     []Op
	Nemesis string
	Faults  []Fault
}

// Fault is one fault a Nemesis injected.
type Fault struct {
	Name   string // what was done: "kill leader", "partition"…
	Target string // on what: a server, a set of hosts
	Start  time.Time
	End    time.Time // zero while still active when the run ended
	Err    string    // why injecting or healing failed, if it did
}

// Nemesis injects faults while the workload runs. Run returns after ctx
// ends, having healed what it broke, and calls log once per fault, when the
// fault is over (or, for one still active when ctx ended, with End zero).
// Run is called from its own goroutine; log may be called from any.
type Nemesis interface {
	Name() string
	Run(ctx context.Context, log func(Fault))
}

// Combine runs several nemeses at once, as one.
func Combine(ns ...Nemesis) Nemesis { return combined(ns) }

type combined []Nemesis

func (c combined) Name() string {
	names := make([]string, len(c))
	for i, n := range c {
		names[i] = n.Name()
	}
	return strings.Join(names, "+")
}

func (c combined) Run(ctx context.Context, log func(Fault)) {
	var wg sync.WaitGroup
	for _, n := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Run(ctx, log)
		}()
	}
	wg.Wait()
}
