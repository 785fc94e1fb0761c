// Package netfault applies network faults on the host it runs on: partitions
// (nftables set elements that the kernel expires) and degradations (nft
// numgen loss, tc htb rate limits, tc netem delay where the kernel has it),
// all in a table and qdiscs that zkctl owns. The node agent calls it; the
// controller reaches it through `zkctl node net …` over SSH.
//
// # What it owns on a host
//
//   - the nftables table "inet zkctl" (TableName) and nothing else: it never
//     flushes or edits another table;
//   - root qdiscs whose handle is 7a6b: (QdiscHandle, "zk"), with their classes,
//     filters and netem leaves; it never replaces a root qdisc someone else made;
//   - the degradation timers, detached `zkctl node net expire` processes with
//     pidfiles and logs under <dir>/netfault (see node.Spawn).
//
// # Rules
//
// Partitions are elements of the sets cut_in4/6 (inbound traffic from those
// addresses is dropped) and cut_out4/6 (outbound traffic to them is dropped),
// each with the --for timeout, so an expiring partition heals in the kernel
// even if the controller and the agent are dead. Before any drop, inbound
// TCP to the SSH port, outbound TCP from it, and traffic from/to the
// controller's addresses (set keep4/6) are accepted; the SSH port in the
// chains is the last call's. Only addresses in the
// sets are ever dropped. Degradation n has its own set deg<n>_4/6 (peers, or
// 0.0.0.0/0 and ::/0 for all traffic) whose elements expire too; its rules,
// in the chain "degrade" (jumped to from output after the exemptions), mark
// the packets for the tc class 7a6b:<n> and drop a share of them. A
// degradation acts on this host's outbound traffic only, like netem.
//
// Package netfault imports only the standard library, zkctl/node (for
// detached processes and pidfiles) and zkctl/node/wire (its calls).
package netfault

import (
	"errors"
	"fmt"
	"time"

	"zkctl/node/wire"
)

const (
	// TableName is the nftables table zkctl owns, family inet.
	TableName = "zkctl"
	// QdiscMajor is the major number of zkctl's root qdiscs ("zk").
	QdiscMajor = 0x7a6b
	// QdiscHandle is QdiscMajor as tc prints it.
	QdiscHandle = "7a6b:"
	// MarkBase is or-ed with a degradation's id to make the packet mark
	// that tc classifies on.
	MarkBase = 0x7a6b0000
	// MaxID is the largest degradation id (a tc class minor and filter pref).
	MaxID = 0xfff0
	// DefaultSSHPort is the sshd port exempted when a spec gives none.
	DefaultSSHPort = 22
)

// Errors a caller may classify with errors.Is; the first three are (or
// match) the agent protocol's sentinels, so they keep their meaning across
// the wire.
var (
	// ErrPrivilege: the agent lacks CAP_NET_ADMIN (not root, no sudo).
	ErrPrivilege = wire.ErrPrivilege
	// ErrMissingTool: nft, tc or ip is not installed; the message names the package.
	ErrMissingTool = wire.ErrMissingTool
	// ErrBadSpec: the fault's parameters are invalid (a usage error); it
	// matches wire.ErrBadRequest too.
	ErrBadSpec error = badSpec{}
	// ErrNothingApplied: none of the degradation's knobs could be applied here.
	ErrNothingApplied = errors.New("nothing applied")
)

// badSpec is ErrBadSpec: a bad request of the protocol.
type badSpec struct{}

func (badSpec) Error() string { return "bad fault" }
func (badSpec) Unwrap() error { return wire.ErrBadRequest }

// Exempt is the traffic a fault never cuts or degrades.
type Exempt struct {
	// SSHPort is the host's sshd port: inbound TCP to it and outbound TCP
	// from it are always accepted. 0 means DefaultSSHPort.
	SSHPort int `json:"ssh_port"`
	// Controller lists the controller's addresses, whose traffic is always
	// accepted. They accumulate over calls until heal; a later fault that
	// names one of them as a peer (and not as the controller) cuts it.
	Controller []string `json:"controller,omitempty"`
}

// Direction of a cut, seen from this host.
const (
	DirBoth = "both" // inbound from and outbound to the peer are dropped
	DirOut  = "out"  // outbound to the peer only (a one-way partition)
	DirIn   = "in"   // inbound from the peer only
)

// PartitionSpec asks this host to cut its traffic with Peers.
type PartitionSpec struct {
	Peers  []string      // addresses on the other side (IPv4 or IPv6 literals)
	OneWay bool          // only this host's outbound traffic to Peers is dropped
	For    time.Duration // expiry; 0 = until healed
	Exempt Exempt
}

// Cut is one peer cut off from this host.
type Cut struct {
	Peer        string    `json:"peer"`
	Direction   string    `json:"direction"` // DirBoth, DirOut or DirIn
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	UntilHealed bool      `json:"until_healed,omitempty"`
}

// DegradeSpec asks for a slow or lossy link from this host to Peers (all
// traffic but the exempt when Peers is empty).
type DegradeSpec struct {
	Peers  []string
	Delay  time.Duration // netem only
	Loss   float64       // percent of packets dropped, 0..100
	Rate   uint64        // bits per second, 0 = no limit
	For    time.Duration // expiry; 0 = until healed
	Exempt Exempt
}

// Knob is one part of a degradation and how it was (or was not) applied.
type Knob struct {
	Knob    string `json:"knob"`  // "delay", "loss" or "rate"
	Value   string `json:"value"` // "100ms", "20%", "1mbit"
	Applied bool   `json:"applied"`
	Via     string `json:"via,omitempty"`    // "nft numgen", "htb on eth0", "netem on eth0"
	Reason  string `json:"reason,omitempty"` // why not applied
}

// String is "loss 20% via nft numgen" or "delay 100ms: not applied, no sch_netem".
func (k Knob) String() string {
	if k.Applied {
		return fmt.Sprintf("%s %s via %s", k.Knob, k.Value, k.Via)
	}
	return fmt.Sprintf("%s %s: not applied, %s", k.Knob, k.Value, k.Reason)
}

// Degradation is one active degradation of this host's outbound traffic.
type Degradation struct {
	ID          int       `json:"id"`
	Peers       []string  `json:"peers,omitempty"`
	All         bool      `json:"all,omitempty"` // every destination but the exempt
	Knobs       []Knob    `json:"knobs"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	UntilHealed bool      `json:"until_healed,omitempty"`
	TimerPID    int       `json:"timer_pid,omitempty"` // the detached timer that removes it
}

// Status is what the kernel holds of zkctl's faults on this host.
type Status struct {
	Partitions   []Cut         `json:"partitions"`
	Degradations []Degradation `json:"degradations"`
}

// Row is one active fault as a line of `zkctl status`.
type Row struct {
	Fault     string    // "partition" or "degrade <id>"
	Detail    string    // "10.0.0.12 both", "loss 20% via nft numgen (all traffic)"
	ExpiresAt time.Time // zero: until healed
}

// Rows are the status's faults as lines, partitions first.
func (s Status) Rows() []Row {
	var out []Row
	for _, cut := range s.Partitions {
		out = append(out, Row{Fault: "partition", Detail: cut.Peer + " " + cut.Direction, ExpiresAt: cut.ExpiresAt})
	}
	for _, d := range s.Degradations {
		out = append(out, d.row())
	}
	return out
}

// Healed says what Heal removed.
type Healed struct {
	Table  bool     `json:"table"`            // the nft table existed and was deleted
	Qdiscs []string `json:"qdiscs,omitempty"` // devices whose zkctl root qdisc was deleted
	Timers int      `json:"timers"`           // degradation timers stopped
}
