package netfault

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// noRateCeiling is the class rate of a degradation that only delays (netem).
const noRateCeiling = 10_000_000_000

// classID is degradation id's htb class, "7a6b:1f".
func classID(id int) string { return fmt.Sprintf("%x:%x", QdiscMajor, id) }

// tcClassArgs adds degradation id's class on dev, limited to rate bit/s.
func tcClassArgs(dev string, id int, rate uint64) []string {
	return []string{"class", "add", "dev", dev, "parent", QdiscHandle, "classid", classID(id),
		"htb", "rate", fmt.Sprintf("%dbit", rate), "ceil", fmt.Sprintf("%dbit", rate)}
}

// tcFilterArgs sends packets marked MarkBase|id to degradation id's class
// (u32 on the mark: this kernel has no fw classifier). The filter's pref is id.
func tcFilterArgs(dev string, id int) []string {
	return []string{"filter", "add", "dev", dev, "parent", QdiscHandle, "protocol", "all", "prio", strconv.Itoa(id),
		"u32", "match", "mark", fmt.Sprintf("0x%08x", MarkBase|id), "0xffffffff", "classid", classID(id)}
}

// tcNetemArgs hangs a netem leaf with delay and loss under id's class.
func tcNetemArgs(dev string, id int, delay time.Duration, loss float64) []string {
	args := []string{"qdisc", "add", "dev", dev, "parent", classID(id), "handle", fmt.Sprintf("%x:", id), "netem"}
	if delay > 0 {
		args = append(args, "delay", fmt.Sprintf("%dus", delay.Microseconds()))
	}
	if loss > 0 {
		args = append(args, "loss", formatLoss(loss))
	}
	return args
}

type qdisc struct {
	Kind    string          `json:"kind"`
	Handle  string          `json:"handle"`
	Root    bool            `json:"root"`
	Parent  string          `json:"parent"`
	Options json.RawMessage `json:"options"`
}

func (h Host) qdiscs(ctx context.Context, dev string) ([]qdisc, error) {
	out, err := h.run(ctx, "", "tc", "-j", "qdisc", "show", "dev", dev)
	if err != nil {
		return nil, err
	}
	var qs []qdisc
	if err := json.Unmarshal(out, &qs); err != nil {
		return nil, fmt.Errorf("tc qdisc show dev %s: %w", dev, err)
	}
	return qs, nil
}

// ensureRoot makes zkctl's htb the root qdisc of dev, replacing only the
// kernel's default (handle 0:). It returns a reason when dev has someone
// else's root qdisc, which it leaves alone.
func (h Host) ensureRoot(ctx context.Context, dev string) (string, error) {
	qs, err := h.qdiscs(ctx, dev)
	if err != nil {
		return "", err
	}
	for _, q := range qs {
		if !q.Root {
			continue
		}
		if q.Handle == QdiscHandle {
			return "", nil
		}
		if q.Handle != "0:" {
			return fmt.Sprintf("%s has a root qdisc %s %s that zkctl did not make", dev, q.Kind, q.Handle), nil
		}
	}
	_, err = h.run(ctx, "", "tc", "qdisc", "replace", "dev", dev, "root", "handle", QdiscHandle, "htb")
	return "", err
}

// links lists the interfaces (all, or only those up), loopback excluded.
func (h Host) links(ctx context.Context, upOnly bool) ([]string, error) {
	args := []string{"-j", "link", "show"}
	if upOnly {
		args = append(args, "up")
	}
	out, err := h.run(ctx, "", "ip", args...)
	if err != nil {
		return nil, err
	}
	var ls []struct {
		Name     string `json:"ifname"`
		LinkType string `json:"link_type"`
	}
	if err := json.Unmarshal(out, &ls); err != nil {
		return nil, fmt.Errorf("ip link show: %w", err)
	}
	var names []string
	for _, l := range ls {
		if l.LinkType != "loopback" {
			names = append(names, l.Name)
		}
	}
	return names, nil
}

// routeDevs returns the devices traffic to peers leaves by (every link
// that is up when peers is empty), loopback excluded, without duplicates.
func (h Host) routeDevs(ctx context.Context, peers []string) ([]string, error) {
	if len(peers) == 0 {
		return h.links(ctx, true)
	}
	seen := map[string]bool{}
	var devs []string
	for _, p := range peers {
		out, err := h.run(ctx, "", "ip", "-j", "route", "get", p)
		if err != nil {
			return nil, fmt.Errorf("route to %s: %w", p, err)
		}
		var rs []struct {
			Dev string `json:"dev"`
		}
		if err := json.Unmarshal(out, &rs); err != nil {
			return nil, fmt.Errorf("ip route get %s: %w", p, err)
		}
		for _, r := range rs {
			if r.Dev != "" && r.Dev != "lo" && !seen[r.Dev] {
				seen[r.Dev] = true
				devs = append(devs, r.Dev)
			}
		}
	}
	return devs, nil
}

// ourDevs lists the devices whose root qdisc is zkctl's.
func (h Host) ourDevs(ctx context.Context) ([]string, error) {
	all, err := h.links(ctx, false)
	if err != nil {
		return nil, err
	}
	var devs []string
	for _, d := range all {
		qs, err := h.qdiscs(ctx, d)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			if q.Root && q.Handle == QdiscHandle {
				devs = append(devs, d)
			}
		}
	}
	return devs, nil
}

// tcClass is one of zkctl's htb classes as `tc class show` prints it.
type tcClass struct {
	ID   int
	Rate string // as tc prints it, "1Mbit"
}

var classLine = regexp.MustCompile(`^class htb 7a6b:([0-9a-f]+) .*\brate (\S+)`)

// parseClasses reads zkctl's classes from `tc class show dev D` (this
// iproute2 prints htb classes as text even with -j).
func parseClasses(out string) []tcClass {
	var cs []tcClass
	for _, line := range strings.Split(out, "\n") {
		m := classLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		id, err := strconv.ParseInt(m[1], 16, 32)
		if err != nil {
			continue
		}
		cs = append(cs, tcClass{ID: int(id), Rate: m[2]})
	}
	return cs
}

func (h Host) classes(ctx context.Context, dev string) ([]tcClass, error) {
	out, err := h.run(ctx, "", "tc", "class", "show", "dev", dev)
	if err != nil {
		return nil, err
	}
	return parseClasses(string(out)), nil
}

// removeFromDev deletes degradation id's filter and class (with its netem
// leaf) on dev, and zkctl's root qdisc once no class is left.
func (h Host) removeFromDev(ctx context.Context, dev string, id int) error {
	cs, err := h.classes(ctx, dev)
	if err != nil {
		return err
	}
	left := 0
	for _, c := range cs {
		if c.ID != id {
			left++
			continue
		}
		if _, err := h.run(ctx, "", "tc", "filter", "del", "dev", dev, "parent", QdiscHandle, "prio", strconv.Itoa(id)); err != nil {
			return err
		}
		if _, err := h.run(ctx, "", "tc", "class", "del", "dev", dev, "classid", classID(id)); err != nil {
			return err
		}
	}
	if left == 0 {
		_, err = h.run(ctx, "", "tc", "qdisc", "del", "dev", dev, "root")
	}
	return err
}

// isUnknownQdisc tells tc's refusal of a qdisc kind the kernel lacks (its
// only signal is the message).
func isUnknownQdisc(err error) bool {
	return err != nil && strings.Contains(err.Error(), "kind is unknown")
}

// netemDelay reads the delay of a netem qdisc's JSON options (seconds).
func netemDelay(opts json.RawMessage) time.Duration {
	var o struct {
		Delay struct {
			Delay float64 `json:"delay"`
		} `json:"delay"`
	}
	if json.Unmarshal(opts, &o) != nil {
		return 0
	}
	return time.Duration(o.Delay.Delay * float64(time.Second))
}
