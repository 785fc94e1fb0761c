// Package schema names what the task system is made of, for everyone who
// needs the names without the application: the roles (master, worker,
// client) and the znode protocol's top-level paths. The role registry
// (package roles) and the znode protocol (roles/protocol) build on it; the
// controller, the agent and the history read it without importing roles.
// It imports only the standard library.
package schema

import (
	"fmt"
	"slices"
	"strings"
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
