package node

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RoleCommand is another program that plays a role on this host instead
// of `zkctl node run ROLE` (the inventory's [roles.ROLE]). The agent starts
// it the same way: detached, its stdout and stderr in logs/<role>-<id>.log,
// its pidfile in run/, so kill, crash, tail and status treat it alike.
type RoleCommand struct {
	// Command has the placeholders the controller knows expanded; the
	// per-instance ones ({id}, {tasks}, {duration}, {concurrency}) are
	// expanded by the agent (Argv).
	Command []string `json:"command"`
	// Defaults are the values of the per-instance placeholders when the
	// start names none ("tasks": "10", "duration": "0.5", …).
	Defaults map[string]string `json:"defaults,omitempty"`
}

// StartCheckDelay is how long after its start a foreign program must still
// run: one that exits at once is reported with the last lines of its log.
const StartCheckDelay = time.Second

// placeholderRe matches a placeholder of a command word.
var placeholderRe = regexp.MustCompile(`\{([a-z_]+)\}`)

// Expand replaces the placeholders of words that vars names ("app" →
// "/opt/zkctl/app") and leaves the others for a later Expand.
func Expand(words []string, vars map[string]string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = placeholderRe.ReplaceAllStringFunc(w, func(m string) string {
			if v, ok := vars[m[1:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	return out
}

// Argv is the command of instance id, with the role options of `zkctl
// node roles start` (the "--tasks=30", "--duration=200ms" … that zkctl's
// own roles would get) as its placeholders; durations become seconds.
func (rc RoleCommand) Argv(id string, options []string) []string {
	vars := map[string]string{"id": id}
	for k, v := range rc.Defaults {
		vars[k] = v
	}
	for _, o := range options {
		k, v, ok := strings.Cut(strings.TrimPrefix(o, "--"), "=")
		if !ok {
			continue
		}
		if d, err := time.ParseDuration(v); err == nil {
			v = Seconds(d)
		}
		vars[k] = v
	}
	return Expand(rc.Command, vars)
}

// Seconds formats d as seconds, the unit the placeholders use ("0.2", "2").
func Seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// checkStarted waits StartCheckDelay when procs run another program for
// role and reports every one that did not survive it: its command and the
// last lines of its log.
func checkStarted(c *Config, role string, procs []Proc) error {
	if _, ok := c.Roles[role]; !ok || len(procs) == 0 {
		return nil
	}
	time.Sleep(StartCheckDelay)
	var bad []string
	for _, p := range procs {
		if !p.Alive() {
			bad = append(bad, ExitedMessage(c, p))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "\n"))
	}
	return nil
}

// ExitedMessage says that p's program ended within StartCheckDelay, with its
// command and the last lines of its log.
func ExitedMessage(c *Config, p Proc) string {
	return fmt.Sprintf("%s %s: %q exited within %v of its start; last lines of %s:\n%s",
		p.Role, p.ID, c.Roles[p.Role].Argv(p.ID, nil), StartCheckDelay, p.Log, lastLinesOf(p.Log, 5))
}

// LastLines returns the last n lines of a log, indented, for messages.
func LastLines(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "  (empty)"
	}
	return "  " + strings.Join(lines, "\n  ")
}

// lastLinesOf is LastLines of the file at path, or why it cannot be read.
func lastLinesOf(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	return LastLines(string(data), n)
}
