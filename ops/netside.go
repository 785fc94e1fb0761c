package ops

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/internal/fanout"
	"zkctl/node/netfault"
	"zkctl/node/wire"
)

// What the network faults (Partition, Heal, Degrade) share: the refusals
// made before any host is touched, the hosts' addresses and the exemption
// of the controller's own traffic.

// DefaultFaultFor is the expiry of a partition or degradation when the
// command line gives none. In the operations a For of 0 means "until healed".
const DefaultFaultFor = 60 * time.Second

// LoopbackReason is why partitions cannot be made between hosts on
// 127.0.0.0/8, such as the embedded default inventory's.
const LoopbackReason = "partitions need hosts with their own addresses: on 127.0.0.0/8 (the embedded default) " +
	"the kernel gives every connection the source 127.0.0.1, so one host's traffic cannot be told from another's"

// RefusedError is an operation refused before it touched any host: a
// usage error (the CLI exits 2).
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

func refusef(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// IsRefused tells a refusal from a failure.
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

// addrsOf resolves a host's address to IP literals; a failure is a refusal.
func addrsOf(ctx context.Context, h inventory.Host) ([]netip.Addr, error) {
	as, err := h.Addrs(ctx)
	if err != nil {
		return nil, refusef("%v", err)
	}
	return as, nil
}

// NetFaultsPossible says whether network faults can be made between the
// hosts: each has an address of its own, none on loopback. The error is
// the reason when not.
func NetFaultsPossible(ctx context.Context, hosts []inventory.Host) error {
	seen := map[netip.Addr]string{}
	for _, h := range hosts {
		err := h.CheckNetFaults(ctx)
		if errors.Is(err, inventory.ErrLoopback) {
			return refusef("%s (%s): %s", h.Name, h.Address, LoopbackReason)
		}
		if err != nil {
			return refusef("%v", err)
		}
		as, err := addrsOf(ctx, h)
		if err != nil {
			return err
		}
		for _, a := range as {
			if o, dup := seen[a]; dup && o != h.Name {
				return refusef("%s and %s share the address %s: a partition between them cannot be made", o, h.Name, a)
			}
			seen[a] = h.Name
		}
	}
	return nil
}

// sides resolves the named hosts and the other side (from, or every other
// inventory host), refusing what cannot be partitioned.
func sides(ctx context.Context, c *controller.Cluster, names, from []string) (named, other []inventory.Host, err error) {
	if len(names) == 0 {
		return nil, nil, refusef("partition: name at least one host")
	}
	if named, err = known(c, names); err != nil {
		return nil, nil, err
	}
	if len(from) > 0 {
		if other, err = known(c, from); err != nil {
			return nil, nil, err
		}
		for _, h := range other {
			if slices.Contains(names, h.Name) {
				return nil, nil, refusef("partition: %s is on both sides", h.Name)
			}
		}
	} else {
		for _, h := range c.Inv.Hosts {
			if !slices.Contains(names, h.Name) {
				other = append(other, h)
			}
		}
	}
	if len(other) == 0 {
		return nil, nil, refusef("partition of every host (%s): nothing is left on the other side", strings.Join(names, ", "))
	}
	if err := NetFaultsPossible(ctx, append(slices.Clone(named), other...)); err != nil {
		return nil, nil, err
	}
	return named, other, nil
}

// known looks names up, refusing an unknown one or a repeat.
func known(c *controller.Cluster, names []string) ([]inventory.Host, error) {
	out, err := c.Inv.Lookup(names...)
	if err != nil {
		return nil, refusef("%v", err)
	}
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return nil, refusef("host %s named twice", n)
		}
	}
	return out, nil
}

// peerAddrs are the addresses of hosts, as the agent takes them, and the
// host each belongs to.
func peerAddrs(ctx context.Context, hosts []inventory.Host) ([]string, map[string]string, error) {
	var out []string
	owner := map[string]string{}
	for _, h := range hosts {
		as, err := addrsOf(ctx, h)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range as {
			out = append(out, a.String())
			owner[a.String()] = h.Name
		}
	}
	return out, owner, nil
}

// exemptOn is what a fault on h never cuts: its sshd port and the address
// h sees the controller connect from.
func exemptOn(ctx context.Context, c *controller.Cluster, h inventory.Host) (netfault.Exempt, error) {
	addr, err := c.ControllerAddrOn(ctx, h)
	if err != nil {
		return netfault.Exempt{}, err
	}
	ex := netfault.Exempt{SSHPort: h.SSH.Port, Controller: []string{addr}}
	if h.IsLocal() || ex.SSHPort == 0 {
		ex.SSHPort = netfault.DefaultSSHPort
	}
	return ex, nil
}

// preflight asks every host's agent whether it can make network faults
// (once per Cluster: controller.NetReadyOn), so that a host without nft
// or privilege refuses the fault before any host is touched.
func preflight(ctx context.Context, c *controller.Cluster, hosts []inventory.Host) error {
	errs := fanout.Each(hosts, func(_ int, h inventory.Host) error {
		return c.NetReadyOn(ctx, h)
	})
	for i, err := range errs {
		if wire.Unsupported(err) {
			return refusef("%s: cannot make network faults there: %v", hosts[i].Name, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// expiry describes when a fault ends.
func expiry(at time.Time, untilHealed bool) string {
	if untilHealed || at.IsZero() {
		return "until healed"
	}
	return "until " + at.Local().Format(time.TimeOnly)
}

// forText is "for 60s" or "until healed".
func forText(d time.Duration) string {
	if d == 0 {
		return "until healed"
	}
	return "for " + d.String()
}

// names lists the hosts' names.
func names(hosts []inventory.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}
