package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/fanout"
	"zkctl/node/netfault"
	"zkctl/node/wire"
)

// KindHeal is a heal's record.
const KindHeal Kind = "heal"

// Heal removes every partition and degradation zkctl made on Hosts (every
// inventory host when empty). A host on loopback, or whose agent cannot
// make network faults (no nft, no privilege), holds none: it is noted and
// skipped, not an error.
type Heal struct{ Hosts []string }

// Title implements Op.
func (h Heal) Title() string {
	if len(h.Hosts) == 0 {
		return "heal every host"
	}
	return "heal " + strings.Join(h.Hosts, ",")
}

// Run implements Op.
func (h Heal) Run(ctx context.Context, c *deploy.Cluster) (Record, error) {
	rec := begin(h, KindHeal, strings.Join(h.Hosts, ","), "", "")
	hosts := c.Inv.Hosts
	if len(h.Hosts) > 0 {
		var err error
		if hosts, err = known(c, h.Hosts); err != nil {
			return rec.done(nil, err)
		}
	}
	notes := make([]HostNote, len(hosts))
	errs := fanout.Each(hosts, func(i int, host inventory.Host) error {
		notes[i] = HostNote{Host: host.Name}
		if err := host.CheckNetFaults(ctx); err != nil {
			notes[i].Msg = "nothing to heal: loopback host, zkctl makes no network fault there"
			return nil
		}
		res, err := c.HealOn(ctx, host)
		switch {
		case wire.Unsupported(err):
			notes[i].Msg = "nothing to heal: " + err.Error()
			return nil
		case err != nil:
			notes[i].Msg = "heal failed: " + err.Error()
			return err
		}
		notes[i].Msg = healedText(res)
		return nil
	})
	rec.Notes = notes
	return rec.done(nil, errors.Join(errs...))
}

// healedText says what a heal removed.
func healedText(res netfault.Healed) string {
	if !res.Table && len(res.Qdiscs) == 0 && res.Timers == 0 {
		return "healed: nothing of zkctl's was there"
	}
	var parts []string
	if res.Table {
		parts = append(parts, "nft table inet "+netfault.TableName+" deleted")
	}
	if len(res.Qdiscs) > 0 {
		parts = append(parts, "qdiscs removed on "+strings.Join(res.Qdiscs, ", "))
	}
	if res.Timers > 0 {
		parts = append(parts, fmt.Sprintf("%d degradation timers stopped", res.Timers))
	}
	return "healed: " + strings.Join(parts, "; ")
}
