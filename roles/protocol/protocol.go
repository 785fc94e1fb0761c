// Package protocol is zkctl's znode protocol in one place: the paths, the
// names, the payloads and results, and the master's JSON, exactly as
// DESIGN.md ("Znode protocol") fixes them for every client. It talks to no
// server; package roles does.
//
//	/election/<name>_<seq>   EPHEMERAL_SEQUENTIAL  master candidates
//	/master                  EPHEMERAL             JSON {"id","host","pid","since"}
//	/workers/<w>             PERSISTENT            a worker; children are its assignments
//	/workers/<w>/<t>         PERSISTENT            task t is assigned to worker w
//	/workers_eph/<w>         EPHEMERAL             worker w is alive; {"capacity": C} or ""
//	/data/<t>                PERSISTENT            task input: seconds to sleep ("0.25")
//	/tasks/<t>               PERSISTENT            submitted, not finished; "" or the worker
//	/results/<t>             PERSISTENT            "ok <w>" or "error: <why>"
package protocol

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"zkctl/schema"
)

// The protocol's top-level znodes (package schema names them).
const (
	ElectionPath   = schema.ElectionPath
	MasterPath     = schema.MasterPath
	WorkersPath    = schema.WorkersPath
	WorkersEphPath = schema.WorkersEphPath
	TasksPath      = schema.TasksPath
	DataPath       = schema.DataPath
	ResultsPath    = schema.ResultsPath
)

// BasePaths lists the persistent top-level znodes that must exist before any
// role runs (everything but /master).
func BasePaths() []string { return schema.BasePaths() }

// ElectionPrefix is the path a candidate named name passes to a sequential
// create; ZooKeeper appends the 10-digit sequence number.
func ElectionPrefix(name string) string { return ElectionPath + "/" + name + "_" }

// Election is the path of the election child node.
func Election(node string) string { return ElectionPath + "/" + node }

// Worker is the persistent znode of worker w; its children are assignments.
func Worker(w string) string { return WorkersPath + "/" + w }

// WorkerAlive is the ephemeral znode that says worker w is alive.
func WorkerAlive(w string) string { return WorkersEphPath + "/" + w }

// Assignment is the znode that assigns task t to worker w.
func Assignment(w, t string) string { return Worker(w) + "/" + t }

// Task is the znode of a submitted, unfinished task.
func Task(t string) string { return TasksPath + "/" + t }

// Data is the input of task t.
func Data(t string) string { return DataPath + "/" + t }

// Result is the result of task t.
func Result(t string) string { return ResultsPath + "/" + t }

// TaskName is the name zkctl's own client gives its n-th task.
func TaskName(clientID string, n int) string { return clientID + "-" + strconv.Itoa(n) }

// ParseTaskName splits a name made by TaskName; ok is false for any other name.
func ParseTaskName(name string) (clientID string, n int, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n < 0 || name[i+1] == '+' || name[i+1] == '-' {
		return "", 0, false
	}
	return name[:i], n, true
}

// CheckName reports why s cannot be a single znode name (a worker, task or
// client id), or nil.
func CheckName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty name")
	case s == "." || s == "..":
		return fmt.Errorf("name %q is reserved", s)
	case len(s) > 255:
		return fmt.Errorf("name of %d bytes is longer than 255", len(s))
	case strings.ContainsAny(s, "/\x00"):
		return fmt.Errorf("name %q contains '/' or NUL", s)
	}
	return nil
}

// MaxTaskSeconds is the largest payload a worker accepts.
const MaxTaskSeconds = 3600

// maxPayloadLen bounds what a worker reads as a number; longer payloads are
// refused without being parsed or quoted in full.
const maxPayloadLen = 64

// FormatPayload is the payload for a task that lasts d: seconds in decimal.
func FormatPayload(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// ParsePayload reads a task input: a number of seconds in [0, 3600],
// surrounding white space allowed. The error says why, quoting at most a
// short prefix of the input.
func ParsePayload(data []byte) (time.Duration, error) {
	if len(data) > maxPayloadLen {
		return 0, fmt.Errorf("payload of %d bytes is not a number of seconds", len(data))
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return 0, fmt.Errorf("empty payload, want seconds in [0, %d]", MaxTaskSeconds)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("payload %q is not a number of seconds", s)
	}
	if f < 0 || f > MaxTaskSeconds {
		return 0, fmt.Errorf("payload %q is outside [0, %d] seconds", s, MaxTaskSeconds)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// OKResult is the result a worker w writes for a task it ran.
func OKResult(w string) string { return "ok " + w }

// ErrorResult is the result for a task that could not run.
func ErrorResult(why string) string { return "error: " + why }

// ParseResult splits a result: ok with the worker, or not ok with the reason.
// Anything else is not ok with the whole text as the reason.
func ParseResult(s string) (ok bool, detail string) {
	if w, found := strings.CutPrefix(s, "ok "); found {
		return true, w
	}
	if why, found := strings.CutPrefix(s, "error: "); found {
		return false, why
	}
	return false, s
}

// MasterInfo is the JSON content of /master (schema.MasterInfo).
type MasterInfo = schema.MasterInfo

// ParseMasterInfo decodes /master's data (schema.ParseMasterInfo).
func ParseMasterInfo(data []byte) (MasterInfo, error) { return schema.ParseMasterInfo(data) }

// MaxCapacity bounds the capacity a worker may publish (schema.MaxCapacity).
const MaxCapacity = schema.MaxCapacity

// FormatCapacity is the data of /workers_eph/<w> for a worker that runs c
// tasks at once (schema.FormatCapacity).
func FormatCapacity(c int) []byte { return schema.FormatCapacity(c) }

// ParseCapacity reads /workers_eph/<w>'s data: its capacity, 1 when it
// publishes none (schema.ParseCapacity).
func ParseCapacity(data []byte) int { return schema.ParseCapacity(data) }
