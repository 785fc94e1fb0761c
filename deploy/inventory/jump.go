package inventory

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Hop is one bastion on the way to a host ([ssh] jump): the controller logs
// in to each hop in turn and reaches the next through it, as OpenSSH's
// ProxyJump does.
type Hop struct {
	User    string
	Address string
	Port    int
	// IdentityFile is the hop's own key (ssh_config's IdentityFile for
	// it); "" = the host's.
	IdentityFile string
}

// String is the hop as the inventory writes it, "user@address:port".
func (h Hop) String() string {
	return h.User + "@" + net.JoinHostPort(h.Address, strconv.Itoa(h.Port))
}

// Tunnel says how the controller reaches ZooKeeper's client port ([ssh]
// tunnel): TunnelAuto tries the port directly and falls back to an SSH
// tunnel through the host; a host behind a bastion is always tunneled.
type Tunnel int

const (
	TunnelAuto   Tunnel = iota // unset: direct, else through SSH
	TunnelAlways               // tunnel = true, or a jump host
	TunnelNever                // tunnel = false
)

// parseJump reads a jump chain, "[user@]host[:port]" hops separated by
// commas, outermost first; "" is no bastion. A hop without a port is on 22;
// one without a user gets user "" here, and the host's login user once the
// host's [ssh] settings are complete (fillHopUsers).
func parseJump(s string) ([]Hop, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var hops []Hop
	for _, part := range strings.Split(s, ",") {
		hop, err := parseHop(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		hops = append(hops, hop)
	}
	return hops, nil
}

func parseHop(s string) (Hop, error) {
	h := Hop{Port: 22}
	if s == "" {
		return h, fmt.Errorf("an empty hop (want \"user@host:port\", hops separated by commas)")
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		h.User, s = s[:at], s[at+1:]
		if h.User == "" {
			return h, fmt.Errorf("hop %q: empty user before @", s)
		}
	}
	h.Address = s
	if host, port, err := net.SplitHostPort(s); err == nil {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 {
			return h, fmt.Errorf("hop %q: port %q: want 1..65535", s, port)
		}
		h.Address, h.Port = host, n
	}
	h.Address = strings.Trim(h.Address, "[]")
	if h.Address == "" || strings.IndexFunc(h.Address, blank) >= 0 || strings.ContainsAny(h.Address, "@,/") {
		return h, fmt.Errorf("hop %q: want \"user@host:port\"", s)
	}
	if strings.IndexFunc(h.User, blank) >= 0 {
		return h, fmt.Errorf("hop %q: user %q may not contain spaces", s, h.User)
	}
	return h, nil
}

// fillHopUsers gives the hops without a user the host's login user.
func fillHopUsers(hops []Hop, user string) []Hop {
	out := make([]Hop, len(hops))
	for i, h := range hops {
		if h.User == "" {
			h.User = user
		}
		out[i] = h
	}
	return out
}
