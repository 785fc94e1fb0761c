package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/node/netfault"
	"zkctl/node/wire"
)

// KindDegrade is a degradation's record (or a --clear).
const KindDegrade Kind = "degrade"

// Degrade slows or thins what Host sends to the other inventory hosts:
// Delay (tc netem only), Loss (percent, netem or nft numgen), Rate (tc's
// units, e.g. "1mbit": htb). It expires after For (0: until healed) by a
// detached timer on the host, and adds to the degradations already there.
// Clear removes every degradation of Host instead (partitions stay). The
// record's notes say exactly which knobs were applied, and how, and which
// not; when none could be, the agent's error says why and nothing is left.
//
// Refused before the host is touched: an unknown host, a host on
// loopback, Loss outside [0,100], a Rate that does not parse, nothing to
// apply, a host without nft, tc or the privilege.
type Degrade struct {
	Host  string
	Delay time.Duration
	Loss  float64
	Rate  string
	For   time.Duration
	Clear bool
}

// Title implements Op.
func (d Degrade) Title() string {
	if d.Clear {
		return "clear the degradations of " + d.Host
	}
	var knobs []string
	if d.Delay > 0 {
		knobs = append(knobs, "delay "+d.Delay.String())
	}
	if d.Loss > 0 {
		knobs = append(knobs, "loss "+strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", d.Loss), "0"), ".")+"%")
	}
	if d.Rate != "" {
		knobs = append(knobs, "rate "+d.Rate)
	}
	return fmt.Sprintf("degrade %s: %s, %s", d.Host, strings.Join(knobs, ", "), forText(d.For))
}

// spec checks d and builds the agent's spec (without peers and exemption).
func (d Degrade) spec() (netfault.DegradeSpec, error) {
	s := netfault.DegradeSpec{Delay: d.Delay, Loss: d.Loss, For: d.For}
	if d.Rate != "" {
		r, err := netfault.ParseRate(d.Rate)
		if err != nil {
			return s, refusef("degrade: %v", err)
		}
		s.Rate = r
	}
	if err := s.Validate(); err != nil {
		return s, refusef("%v", err)
	}
	return s, nil
}

// Run implements Op.
func (d Degrade) Run(ctx context.Context, c *deploy.Cluster) (Record, error) {
	rec := begin(d, KindDegrade, d.Host, "", "")
	hs, err := known(c, []string{d.Host})
	if err != nil {
		return rec.done(nil, err)
	}
	h := hs[0]
	spec, err := d.spec()
	if d.Clear {
		err = nil
	}
	if err == nil {
		err = NetFaultsPossible(ctx, []inventory.Host{h})
	}
	if err != nil {
		return rec.done(nil, err)
	}
	if d.Clear {
		cleared, err := deploy.Call(ctx, c, h, "degrade --clear", netfault.ClearRequest{})
		if wire.Unsupported(err) {
			return rec.done(nil, refusef("%s: cannot make network faults there: %v", h.Name, err))
		}
		msg := fmt.Sprintf("cleared %d degradations", len(cleared.Cleared))
		rec.Notes = []HostNote{{Host: h.Name, Msg: msg}}
		return rec.done(nil, err)
	}
	if err := preflight(ctx, c, hs); err != nil {
		return rec.done(nil, err)
	}
	var others []inventory.Host
	for _, o := range c.Inv.Hosts {
		if o.Name != h.Name {
			others = append(others, o)
		}
	}
	if spec.Peers, _, err = peerAddrs(ctx, others); err != nil {
		return rec.done(nil, err)
	}
	if spec.Exempt, err = exemptOn(ctx, c, h); err != nil {
		return rec.done(nil, err)
	}
	deg, err := deploy.Call(ctx, c, h, "degrade", spec)
	for _, k := range deg.Knobs {
		rec.Notes = append(rec.Notes, HostNote{Host: h.Name, Msg: k.String()})
	}
	if err == nil {
		rec.Notes = append(rec.Notes, HostNote{Host: h.Name, Msg: fmt.Sprintf("degradation %d of the traffic to %s, %s",
			deg.ID, strings.Join(names(others), ", "), expiry(deg.ExpiresAt, deg.UntilHealed))})
	}
	if ctx.Err() != nil {
		rec.Notes = append(rec.Notes, undo(context.WithoutCancel(ctx), c, hs, "degrade interrupted")...)
		err = errors.Join(err, ctx.Err())
	}
	return rec.done(nil, err)
}
