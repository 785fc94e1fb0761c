package inventory

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrUnknownHost is a host name the inventory does not have.
var ErrUnknownHost = errors.New("unknown host")

// Lookup returns the named hosts in the order named (every host when no
// name is given). An unknown name is an error matching ErrUnknownHost
// that names the inventory and lists its hosts. This is the one host
// lookup of the controller, its operations and the command line.
func (inv *Inventory) Lookup(names ...string) ([]Host, error) {
	if len(names) == 0 {
		return inv.Hosts, nil
	}
	out := make([]Host, 0, len(names))
	for _, n := range names {
		h, ok := inv.Host(n)
		if !ok {
			return nil, fmt.Errorf("%w %q: the inventory %s has %s", ErrUnknownHost, n, inv.Path, strings.Join(inv.HostNames(), ", "))
		}
		out = append(out, h)
	}
	return out, nil
}

// ErrLoopback is a host whose address is on loopback (127.0.0.0/8, ::1):
// every connection there leaves from the same address, so no network
// fault can tell its traffic from another host's.
var ErrLoopback = errors.New("address on loopback")

// Addrs resolves the host's address to IP literals, as the agents' nft
// sets hold them (names are resolved on this machine).
func (h Host) Addrs(ctx context.Context) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(h.Address); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	as, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h.Address)
	if err != nil {
		return nil, fmt.Errorf("%s: resolve address %q: %w", h.Name, h.Address, err)
	}
	for i := range as {
		as[i] = as[i].Unmap()
	}
	return as, nil
}

// CheckNetFaults says whether zkctl can make network faults on h, the one
// such check of the CLI, the operations and status: nil when it can; an
// error matching ErrLoopback when an address of h is on loopback; the
// resolver's error when h's address does not resolve here.
func (h Host) CheckNetFaults(ctx context.Context) error {
	as, err := h.Addrs(ctx)
	if err != nil {
		return err
	}
	for _, a := range as {
		if a.IsLoopback() {
			return fmt.Errorf("%s (%s): %w", h.Name, h.Address, ErrLoopback)
		}
	}
	return nil
}
