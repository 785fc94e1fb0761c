// Package schema names what the task system is made of, for everyone who
// needs the names without the application: the roles (master, worker,
// client), the client's defaults, the znode protocol's top-level paths,
// /master's payload (MasterInfo) and a worker's capacity in
// /workers_eph/<w> (ParseCapacity). The role registry
// (package roles) and the znode protocol (roles/protocol) build on it; the
// controller, the agent and the history read it without importing roles.
// It imports only the standard library.
package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The roles, in the order usage text names them.
const (
	Master = "master"
	Worker = "worker"
	Client = "client"
)

// Roles lists the role names, in usage order.
func Roles() []string { return []string{Master, Worker, Client} }

// CheckRole refuses a name that is not a role, listing the roles.
func CheckRole(name string) error {
	if slices.Contains(Roles(), name) {
		return nil
	}
	return fmt.Errorf("unknown role %q: want %s", name, strings.Join(Roles(), ", "))
}

// The znode protocol's top-level znodes (README "The znode protocol").
const (
	ElectionPath   = "/election"
	MasterPath     = "/master"
	WorkersPath    = "/workers"
	WorkersEphPath = "/workers_eph"
	TasksPath      = "/tasks"
	DataPath       = "/data"
	ResultsPath    = "/results"
)

// BasePaths lists the persistent top-level znodes that must exist before
// any role runs (everything but /master).
func BasePaths() []string {
	return []string{ElectionPath, WorkersPath, WorkersEphPath, TasksPath, DataPath, ResultsPath}
}

// MasterInfo is the JSON content of /master.
type MasterInfo struct {
	ID    string    `json:"id"`
	Host  string    `json:"host"` // inventory name of the master's host
	PID   int       `json:"pid"`
	Since time.Time `json:"since"` // when it took the lead
}

// Marshal encodes m as /master's data.
func (m MasterInfo) Marshal() []byte {
	b, _ := json.Marshal(m) // cannot fail: strings, an int and a time
	return b
}

// ParseMasterInfo decodes /master's data.
func ParseMasterInfo(data []byte) (MasterInfo, error) {
	var m MasterInfo
	if err := json.Unmarshal(data, &m); err != nil {
		return MasterInfo{}, fmt.Errorf("parse %s: %w", MasterPath, err)
	}
	return m, nil
}

// MaxCapacity bounds the capacity a worker may publish; a larger one counts
// as MaxCapacity.
const MaxCapacity = 1 << 16

// FormatCapacity is the data of /workers_eph/<w> for a worker that runs c
// tasks at once: JSON {"capacity": c}.
func FormatCapacity(c int) []byte { return fmt.Appendf(nil, `{"capacity":%d}`, c) }

// ParseCapacity reads /workers_eph/<w>'s data, JSON {"capacity": C}
// (DESIGN.md, "More of the protocol"): C, at most MaxCapacity, or 1 for a
// worker that publishes nothing, something else, or a C below 1, so that
// foreign workers keep working.
func ParseCapacity(data []byte) int {
	var v struct {
		Capacity float64 `json:"capacity"`
	}
	if len(data) == 0 || json.Unmarshal(data, &v) != nil || v.Capacity < 1 || v.Capacity != math.Trunc(v.Capacity) {
		return 1
	}
	return int(min(v.Capacity, MaxCapacity))
}

// The client role's defaults: the tasks it submits and what each lasts,
// when its options leave them zero.
const (
	DefaultTasks        = 10
	DefaultTaskDuration = 500 * time.Millisecond
)
