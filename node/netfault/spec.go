package netfault

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ParseLoss reads a loss percentage: "20%", "20", "0.5%". It must lie in [0,100].
func ParseLoss(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: loss %q: want a percentage such as 20%%", ErrBadSpec, s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%w: loss %q: outside [0,100]%%", ErrBadSpec, s)
	}
	return v, nil
}

// rateUnits are tc's units: bits per second, and bytes per second (bps).
var rateUnits = []struct {
	suffix string
	mult   uint64
}{
	{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1},
	{"tbps", 8e12}, {"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3}, {"bps", 8},
}

// ParseRate reads a rate in tc's units ("1mbit", "500kbit", "2mbps" = bytes)
// and returns bits per second. A unit is required.
func ParseRate(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range rateUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v <= 0 {
			break
		}
		bits := uint64(v * float64(u.mult))
		if bits < 8 {
			break
		}
		return bits, nil
	}
	return 0, fmt.Errorf("%w: rate %q: want a positive number and a unit (bit, kbit, mbit, gbit, or bps, kbps, mbps for bytes), e.g. 1mbit", ErrBadSpec, s)
}

// FormatRate writes bits per second the way ParseRate reads it: "1mbit".
func FormatRate(bits uint64) string {
	for _, u := range rateUnits[:5] {
		if bits >= u.mult && bits%u.mult == 0 {
			return fmt.Sprintf("%d%s", bits/u.mult, u.suffix)
		}
	}
	return fmt.Sprintf("%dbit", bits)
}

func formatLoss(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// addrs parses and de-duplicates IP literals, split by family.
func addrs(what string, in []string) (v4, v6 []netip.Addr, err error) {
	seen := map[netip.Addr]bool{}
	for _, s := range in {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s %q: not an IP address", ErrBadSpec, what, s)
		}
		a = a.Unmap()
		if a.Zone() != "" {
			return nil, nil, fmt.Errorf("%w: %s %q: zoned addresses are not supported", ErrBadSpec, what, s)
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return v4, v6, nil
}

func checkFor(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w: --for %s: negative", ErrBadSpec, d)
	}
	return nil
}

func (e Exempt) port() int {
	if e.SSHPort == 0 {
		return DefaultSSHPort
	}
	return e.SSHPort
}

func (e Exempt) check() error {
	if e.SSHPort < 0 || e.SSHPort > 65535 {
		return fmt.Errorf("%w: ssh port %d outside 1..65535", ErrBadSpec, e.SSHPort)
	}
	_, _, err := addrs("controller address", e.Controller)
	return err
}

// Validate checks a partition spec without touching the host.
func (s PartitionSpec) Validate() error {
	if len(s.Peers) == 0 {
		return fmt.Errorf("%w: partition: no peer address to cut", ErrBadSpec)
	}
	if _, _, err := addrs("peer", s.Peers); err != nil {
		return err
	}
	if err := checkFor(s.For); err != nil {
		return err
	}
	return s.Exempt.check()
}

// Validate checks a degradation spec without touching the host.
func (s DegradeSpec) Validate() error {
	if s.Delay == 0 && s.Loss == 0 && s.Rate == 0 {
		return fmt.Errorf("%w: degrade: nothing asked (give a delay, a loss or a rate)", ErrBadSpec)
	}
	if s.Delay < 0 {
		return fmt.Errorf("%w: delay %s: negative", ErrBadSpec, s.Delay)
	}
	if s.Loss < 0 || s.Loss > 100 {
		return fmt.Errorf("%w: loss %s: outside [0,100]%%", ErrBadSpec, formatLoss(s.Loss))
	}
	if s.Rate != 0 && s.Rate < 8 {
		return fmt.Errorf("%w: rate %dbit: too small", ErrBadSpec, s.Rate)
	}
	if _, _, err := addrs("peer", s.Peers); err != nil {
		return err
	}
	if err := checkFor(s.For); err != nil {
		return err
	}
	return s.Exempt.check()
}
