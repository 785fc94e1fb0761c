package roles

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"zkctl/schema"
)

// Role is one entry of the role registry: everything the rest of zkctl
// needs to know of a role to offer it on the command line, start it on a
// host and run it there.
type Role struct {
	Name  string   // "master", "worker", "client"
	Short string   // what it does, for usage text
	Flags []string // the Options it reads, by flag name (see OptionFlags)
	// Run runs the role in the foreground until ctx ends (or, for the
	// client, until its work is done).
	Run func(ctx context.Context, cfg Config, o Options) error
}

// Options are the role-specific knobs of `zkctl start` and `zkctl node run`.
// A zero field means the role's default; each role reads only the fields
// its Flags name.
type Options struct {
	Concurrency int           // worker: tasks it runs at once (default 1)
	Tasks       int           // client: tasks to submit (default 10)
	Duration    time.Duration // client: what each task lasts (default 500ms)
	Timeout     time.Duration // client: give up after (default never)
}

// Client defaults, when Options leaves them zero.
const (
	DefaultTasks        = 10
	DefaultTaskDuration = 500 * time.Millisecond
)

// OptionFlag is one field of Options as a command-line flag: exactly one
// of Int and Duration points at the field.
type OptionFlag struct {
	Name, Short, Usage string
	Int                *int
	Duration           *time.Duration
}

// Flags lists the fields of o as flags, in usage order: the one list of
// the roles' options.
func (o *Options) Flags() []OptionFlag {
	return []OptionFlag{
		{Name: "concurrency", Short: "c", Usage: "worker: tasks it runs at once", Int: &o.Concurrency},
		{Name: "tasks", Usage: "client: tasks to submit", Int: &o.Tasks},
		{Name: "duration", Short: "d", Usage: "client: task duration (e.g. 0.5 or 500ms)", Duration: &o.Duration},
		{Name: "timeout", Usage: "client: give up after (0 = never)", Duration: &o.Timeout},
	}
}

// Registry lists zkctl's roles, in the order usage text names them.
func Registry() []Role {
	return []Role{
		{Name: schema.Master, Short: "candidate for master: election, fencing, assignment, recovery",
			Run: func(ctx context.Context, cfg Config, _ Options) error { return RunMaster(ctx, cfg) }},
		{Name: schema.Worker, Short: "registers and executes the tasks assigned to it", Flags: []string{"concurrency"},
			Run: func(ctx context.Context, cfg Config, o Options) error { return RunWorker(ctx, cfg, o.Concurrency) }},
		{Name: schema.Client, Short: "submits tasks and waits for their results", Flags: []string{"tasks", "duration", "timeout"},
			Run: func(ctx context.Context, cfg Config, o Options) error {
				return RunClient(ctx, cfg, orInt(o.Tasks, DefaultTasks), orDuration(o.Duration, DefaultTaskDuration), o.Timeout)
			}},
	}
}

// Names returns the names of the registry's roles.
func Names() []string {
	var out []string
	for _, r := range Registry() {
		out = append(out, r.Name)
	}
	return out
}

// Lookup returns the role named name; an unknown name is an error that
// lists the known ones.
func Lookup(name string) (Role, error) {
	for _, r := range Registry() {
		if r.Name == name {
			return r, nil
		}
	}
	return Role{}, fmt.Errorf("unknown role %q: want %s", name, strings.Join(Names(), ", "))
}

// Args renders the options that r reads and that are set (non-zero) as
// command-line flags ("--concurrency=4"), the form `zkctl node run` parses.
func (r Role) Args(o Options) []string {
	var out []string
	for _, f := range o.Flags() {
		if v := f.value(); v != "" && slices.Contains(r.Flags, f.Name) {
			out = append(out, "--"+f.Name+"="+v)
		}
	}
	return out
}

// value is the flag's value, "" when it is zero.
func (f OptionFlag) value() string {
	switch {
	case f.Int != nil && *f.Int != 0:
		return strconv.Itoa(*f.Int)
	case f.Duration != nil && *f.Duration != 0:
		return f.Duration.String()
	}
	return ""
}

func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
