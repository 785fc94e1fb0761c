package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/internal/fanout"
	"zkctl/node/netfault"
	"zkctl/node/wire"
)

// NetRow is one active network fault on one host, as its agent reads it
// back from the kernel (`zkctl node net status`).
type NetRow struct {
	Host      string    `json:"host"`
	Fault     string    `json:"fault"`  // "partition" or "degrade <id>"
	Detail    string    `json:"detail"` // "10.0.0.12 both", "loss 20% via nft numgen"
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Error     string    `json:"error,omitempty"`
}

// netFaults asks every host that can hold network faults for them
// (inventory.Host.CheckNetFaults: not one on loopback; a host whose name
// does not resolve here is asked, since its agent knows). A host whose
// agent cannot make them (no nft, no privilege) shows nothing.
func (c *Cluster) netFaults(ctx context.Context) []NetRow {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows := make([][]NetRow, len(c.Inv.Hosts))
	fanout.Each(c.Inv.Hosts, func(i int, h inventory.Host) error {
		if errors.Is(h.CheckNetFaults(ctx), inventory.ErrLoopback) {
			return nil
		}
		st, err := c.NetStatusOn(ctx, h)
		switch {
		case err != nil && wire.Unsupported(err):
		case err != nil:
			rows[i] = []NetRow{{Host: h.Name, Fault: "?", Error: err.Error()}}
		default:
			rows[i] = NetRows(h.Name, st)
		}
		return nil
	})
	var out []NetRow
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// NetRows turns one host's status into rows, partitions first.
func NetRows(host string, st netfault.Status) []NetRow {
	var out []NetRow
	for _, r := range st.Rows() {
		out = append(out, NetRow{Host: host, Fault: r.Fault, Detail: r.Detail, ExpiresAt: r.ExpiresAt})
	}
	return out
}

// printNet writes the network faults table, when any host has one.
func printNet(w io.Writer, rows []NetRow) {
	if len(rows) == 0 {
		return
	}
	var tab [][]string
	for _, r := range rows {
		exp := "until healed"
		if !r.ExpiresAt.IsZero() {
			exp = fmt.Sprintf("%s (in %s)", r.ExpiresAt.Local().Format(time.TimeOnly), time.Until(r.ExpiresAt).Round(time.Second))
		}
		if r.Error != "" {
			exp = r.Error
		}
		tab = append(tab, []string{r.Host, r.Fault, r.Detail, exp})
	}
	Table(w, []string{"HOST", "NETWORK FAULT", "DETAIL", "EXPIRES"}, tab)
	fmt.Fprintln(w)
}
