package netfault

import (
	"context"

	"zkctl/node/wire"
)

// The agent's network fault calls (package node/wire), each a request
// type whose Serve runs it on the host: PartitionSpec, HealRequest and
// StatusRequest here, DegradeSpec and ClearRequest in degrade.go.

// Calls adds the network fault calls to the agent's handlers.
func Calls(hs wire.Handlers) {
	wire.Handle[PartitionSpec](hs)
	wire.Handle[HealRequest](hs)
	wire.Handle[StatusRequest](hs)
	degradeCalls(hs)
}

// Call implements wire.Request.
func (PartitionSpec) Call() string { return "net partition" }

// Serve cuts the traffic of the host in dir with the spec's peers.
func (s PartitionSpec) Serve(ctx context.Context, dir string) ([]Cut, error) {
	return Host{Dir: dir}.Partition(ctx, s)
}

// HealRequest removes every partition and degradation zkctl made.
type HealRequest struct{}

// Call implements wire.Request.
func (HealRequest) Call() string { return "net heal" }

// Serve heals the host in dir.
func (HealRequest) Serve(ctx context.Context, dir string) (Healed, error) {
	return Host{Dir: dir}.Heal(ctx)
}

// StatusRequest reads back the active partitions and degradations.
type StatusRequest struct{}

// Call implements wire.Request.
func (StatusRequest) Call() string { return "net status" }

// Serve reads the network faults of the host in dir.
func (StatusRequest) Serve(ctx context.Context, dir string) (Status, error) {
	return Host{Dir: dir}.Status(ctx)
}
