package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/fanout"
	"zkctl/node/netfault"
)

// KindPartition is a partition's record.
const KindPartition Kind = "partition"

// Partition cuts the traffic between Hosts and every other inventory host
// (or only From), both ways unless OneWay (then only what Hosts send to
// the others is dropped). It expires after For, in the kernel of each host
// (0: until healed; the CLI's default is DefaultFaultFor).
//
// The rules are made on the named hosts only: each drops its inbound
// traffic from, and its outbound traffic to, the other side's addresses.
// One side suffices to cut both ways, it takes one agent call per named
// host, and a host's rules are all of its cut: `heal HOST` of a named host
// heals the partition, and status shows it where it was named. SSH to the
// host and the controller's address are exempt, so the controller keeps
// its sessions and its agents.
//
// Refused before any host is touched (a *RefusedError): an unknown host, a
// host on both sides, nothing left on the other side, hosts that share an
// address or sit on loopback (LoopbackReason), a host without nft, tc or
// the privilege. If the call is interrupted (ctx ends) or fails on some
// host, the named hosts are healed before Run returns.
type Partition struct {
	Hosts, From []string
	For         time.Duration
	OneWay      bool
}

// Title implements Op.
func (p Partition) Title() string {
	other := "the others"
	if len(p.From) > 0 {
		other = strings.Join(p.From, ",")
	}
	way := "both ways"
	if p.OneWay {
		way = "one way"
	}
	return fmt.Sprintf("partition %s from %s (%s, %s)", strings.Join(p.Hosts, ","), other, way, forText(p.For))
}

// Run implements Op.
func (p Partition) Run(ctx context.Context, c *deploy.Cluster) (Record, error) {
	rec := begin(p, KindPartition, strings.Join(p.Hosts, ","), "", "")
	if p.For < 0 {
		return rec.done(nil, refusef("partition --for %v: negative", p.For))
	}
	named, other, err := sides(ctx, c, p.Hosts, p.From)
	if err == nil {
		err = preflight(ctx, c, named)
	}
	if err != nil {
		return rec.done(nil, err)
	}
	peers, owner, err := peerAddrs(ctx, other)
	if err != nil {
		return rec.done(nil, err)
	}
	notes := make([][]HostNote, len(named))
	errs := fanout.Each(named, func(i int, h inventory.Host) error {
		ex, err := exemptOn(ctx, c, h)
		if err != nil {
			return err
		}
		cuts, err := c.PartitionOn(ctx, h, netfault.PartitionSpec{Peers: peers, OneWay: p.OneWay, For: p.For, Exempt: ex})
		for _, cut := range cuts {
			notes[i] = append(notes[i], HostNote{Host: h.Name, Msg: cutText(cut, owner)})
		}
		return err
	})
	for _, n := range notes {
		rec.Notes = append(rec.Notes, n...)
	}
	err = errors.Join(errs...)
	if err != nil || ctx.Err() != nil {
		why := "interrupted"
		if err != nil {
			why = "failed"
		}
		rec.Notes = append(rec.Notes, undo(context.WithoutCancel(ctx), c, named, "partition "+why)...)
		err = errors.Join(err, ctx.Err())
	}
	return rec.done(nil, err)
}

// cutText is "cut 10.0.0.12 (vm2) both ways until 12:00:00".
func cutText(cut netfault.Cut, owner map[string]string) string {
	way := map[string]string{netfault.DirBoth: "both ways", netfault.DirOut: "outbound", netfault.DirIn: "inbound"}[cut.Direction]
	if way == "" {
		way = cut.Direction
	}
	peer := cut.Peer
	if n := owner[cut.Peer]; n != "" {
		peer += " (" + n + ")"
	}
	return fmt.Sprintf("cut %s %s %s", peer, way, expiry(cut.ExpiresAt, cut.UntilHealed))
}

// undo heals hosts after a network fault that was interrupted or failed
// half-way, and says so host by host.
func undo(ctx context.Context, c *deploy.Cluster, hosts []inventory.Host, why string) []HostNote {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var out []HostNote
	errs := fanout.Each(hosts, func(_ int, h inventory.Host) error {
		_, err := c.HealOn(ctx, h)
		return err
	})
	for i, err := range errs {
		msg := why + ": healed"
		if err != nil {
			msg = fmt.Sprintf("%s: heal failed: %v", why, err)
		}
		out = append(out, HostNote{Host: hosts[i].Name, Msg: msg})
	}
	return out
}
