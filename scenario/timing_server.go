package scenario

import (
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
)

// ServerTiming is the ensemble's timing as the rendered zoo.cfg sets it,
// for packages that schedule faults on the servers themselves (dataloss):
// the same reading as the scenarios' holds, so that one zoo.cfg gives one
// set of bounds.
type ServerTiming struct{ t timing }

// ReadServerTiming reads servers' timing from the zoo.cfg a deploy writes.
func ReadServerTiming(c *controller.Cluster, servers []inventory.Host) (ServerTiming, error) {
	t, err := readTiming(c, servers)
	return ServerTiming{t}, err
}

// Tick is the servers' tickTime.
func (s ServerTiming) Tick() time.Duration { return s.t.tick }

// Election bounds a leader election (initLimit ticks).
func (s ServerTiming) Election() time.Duration { return s.t.election() }

// Wait bounds every wait for something to happen (three failovers, at
// least 30 s).
func (s ServerTiming) Wait() time.Duration { return s.t.wait() }

// String is the timing as a report states it.
func (s ServerTiming) String() string { return s.t.String() }
