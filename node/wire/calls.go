package wire

import (
	"encoding/json"
	"strings"

	"zkctl/node"
	"zkctl/node/netfault"
)

// The calls, one request type each; the method answer names the type of
// the answer. Signals travel by the short name node.ParseSignal reads.

// Info asks for the architecture, Java and ZooKeeper (Home: a ZooKeeper
// home to check, "" for Debian's package). It runs as root.
type Info struct {
	Home string `json:"home,omitempty"`
}

// StartServer starts the host's ZooKeeper server (a no-op where it runs).
type StartServer struct{}

// SignalServer signals the host's ZooKeeper server; TERM waits for the exit.
type SignalServer struct {
	Signal string `json:"signal"`
}

// TxnLogs asks for the server's transaction logs, decoded on the host.
type TxnLogs struct{}

// TxnLogFiles are the decoded transaction log files in zxid order, each a
// history/txnlog.File in JSON (decoded by whoever merges them: the
// controller does not depend on the history package).
type TxnLogFiles struct {
	Files []json.RawMessage `json:"files"`
}

// ServerConfig asks how the server's configuration in force compares with
// Config's (nil: the host's node.json): what a restart would apply.
type ServerConfig struct {
	Config *node.Config `json:"config,omitempty"`
}

// Status asks for the host's server and processes.
type Status struct{}

// Reset stops everything, archives the logs, wipes the data and renders
// the configuration again.
type Reset struct{}

// Stop stops every role and then the server, keeping data and logs.
type Stop struct{}

// Done is the answer of a call that returns nothing.
type Done struct{}

// Memory asks for the memory of process Name ("<role>-<id>").
type Memory struct {
	Name string `json:"name"`
}

// ReadLog asks for the whole log of process Name.
type ReadLog struct {
	Name string `json:"name"`
}

// Log is a log's content.
type Log struct {
	Data []byte `json:"data"`
}

// Clock asks for the host's time.
type Clock struct{}

// Time is a host's clock.
type Time struct {
	UnixNano int64 `json:"unix_nano"`
}

// SignalHost signals every process the agent started, server and roles, at once.
type SignalHost struct {
	Signal string `json:"signal"`
}

// StartRoles starts Count instances of Role, the first with ID when set,
// each with Args (the role's own flags).
type StartRoles struct {
	Role  string   `json:"role"`
	Count int      `json:"count"`
	ID    string   `json:"id,omitempty"`
	Args  []string `json:"args,omitempty"`
}

// SignalRoles signals every live instance of Role ("" every role), or
// only instance ID.
type SignalRoles struct {
	Role   string `json:"role"`
	ID     string `json:"id,omitempty"`
	Signal string `json:"signal"`
}

// Partition cuts the host's traffic with the spec's peers. It runs as root.
type Partition struct {
	Spec netfault.PartitionSpec `json:"spec"`
}

// Degrade degrades the host's outbound traffic. It runs as root.
type Degrade struct {
	Spec netfault.DegradeSpec `json:"spec"`
}

// ClearDegradations removes every degradation (partitions stay). It runs as root.
type ClearDegradations struct{}

// Cleared are the ids of the degradations removed.
type Cleared struct {
	Cleared []int `json:"cleared"`
}

// Heal removes every partition and degradation zkctl made. It runs as root.
type Heal struct{}

// NetStatus reads back the active partitions and degradations. It runs as root.
type NetStatus struct{}

func (Info) Call() string              { return "info" }
func (StartServer) Call() string       { return "zk start" }
func (SignalServer) Call() string      { return "zk signal" }
func (TxnLogs) Call() string           { return "zk txnlog" }
func (ServerConfig) Call() string      { return "zk config" }
func (Status) Call() string            { return "status" }
func (Reset) Call() string             { return "reset" }
func (Stop) Call() string              { return "stop" }
func (Memory) Call() string            { return "mem" }
func (ReadLog) Call() string           { return "log" }
func (Clock) Call() string             { return "clock" }
func (SignalHost) Call() string        { return "signal-host" }
func (StartRoles) Call() string        { return "roles start" }
func (SignalRoles) Call() string       { return "roles signal" }
func (Partition) Call() string         { return "net partition" }
func (Degrade) Call() string           { return "net degrade" }
func (ClearDegradations) Call() string { return "net degrade --clear" }
func (Heal) Call() string              { return "net heal" }
func (NetStatus) Call() string         { return "net status" }

func (Info) answer() (_ node.Info)                { return }
func (StartServer) answer() (_ node.Proc)         { return }
func (SignalServer) answer() (_ node.Proc)        { return }
func (TxnLogs) answer() (_ TxnLogFiles)           { return }
func (ServerConfig) answer() (_ node.ConfigState) { return }
func (Status) answer() (_ node.Status)            { return }
func (Reset) answer() (_ Done)                    { return }
func (Stop) answer() (_ Done)                     { return }
func (Memory) answer() (_ node.Memory)            { return }
func (ReadLog) answer() (_ Log)                   { return }
func (Clock) answer() (_ Time)                    { return }
func (SignalHost) answer() (_ []node.Proc)        { return }
func (StartRoles) answer() (_ []node.Proc)        { return }
func (SignalRoles) answer() (_ []node.Proc)       { return }
func (Partition) answer() (_ []netfault.Cut)      { return }
func (Degrade) answer() (_ netfault.Degradation)  { return }
func (ClearDegradations) answer() (_ Cleared)     { return }
func (Heal) answer() (_ netfault.Healed)          { return }
func (NetStatus) answer() (_ netfault.Status)     { return }

// AsRoot tells the calls that keep root's rights on a login with root or
// sudo, by their first word (a call's name or the agent's subcommand):
// "net" (nftables and tc) and "info" (it only looks for Java and
// ZooKeeper, and runs before deploy has created the service user). Every
// other call runs as the service user.
func AsRoot(call string) bool {
	first, _, _ := strings.Cut(call, " ")
	return first == "net" || first == "info"
}
