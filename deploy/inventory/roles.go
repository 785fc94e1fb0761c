package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"zkctl/schema"
)

// Role is a [roles.NAME] table: another program (any language) that plays
// the role instead of zkctl's own, following the znode protocol.
type Role struct {
	// Command is the program and its arguments, with placeholders
	// ({app}, {servers}, {id}, …; see Placeholders) still in it.
	Command []string
	// Files are absolute local paths, pushed by deploy into <dir>/app/
	// under their base names.
	Files []string
	// Packages are Debian packages the program needs, installed by deploy
	// where missing.
	Packages []string
}

// Placeholders lists the placeholders a command of role may use. {app} is
// <dir>/app, {servers} the ensemble's "host:port,…", {id} the instance id,
// {host} the inventory name, {session_timeout} and {duration} are seconds
// ("2", "0.2"), {auth_file} the host's "user:password" file ("" without
// auth_file). {tls_ca} {tls_cert} {tls_key} expand to "" until zkctl
// has TLS.
func Placeholders(role string) []string {
	out := []string{"app", "dir", "servers", "id", "host", "session_timeout", "auth_file", "tls_ca", "tls_cert", "tls_key"}
	switch role {
	case schema.Client:
		out = append(out, "tasks", "duration")
	case schema.Worker:
		out = append(out, "concurrency")
	}
	return out
}

// placeholderRe matches a placeholder in a command word.
var placeholderRe = regexp.MustCompile(`\{([^{}]*)\}`)

// packageRe is what Debian policy allows in a package name.
var packageRe = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

type rawRole struct {
	Command  any `toml:"command"`
	Files    any `toml:"files"`
	Packages any `toml:"packages"`
}

// roles validates the [roles.*] tables.
func (v *validator) roles(raw map[string]rawRole) map[string]Role {
	if len(raw) == 0 {
		return nil
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]Role{}
	for _, name := range names {
		table := "roles." + name
		if !slices.Contains(schema.Roles(), name) {
			v.fail(at{table: "roles", index: -1, key: name}, "[%s]: unknown role %q: want %s", table, name, strings.Join(schema.Roles(), ", "))
			continue
		}
		out[name] = v.role(name, raw[name])
	}
	return out
}

func (v *validator) role(name string, r rawRole) Role {
	a := func(key string) at { return at{table: "roles." + name, index: -1, key: key} }
	var role Role
	cmd, ok := v.strings(a("command"), r.Command)
	switch {
	case !ok:
	case len(cmd) == 0:
		v.fail(a("command"), "%s: want a non-empty list of strings, e.g. [\"/usr/bin/python3\", \"{app}/%s.py\", \"{servers}\"]", a("command"), name)
	case cmd[0] == "":
		v.fail(a("command"), "%s: the program (first word) is empty", a("command"))
	default:
		role.Command = cmd
		v.placeholders(a("command"), name, cmd)
	}
	files, _ := v.strings(a("files"), r.Files)
	bases := map[string]string{}
	for _, f := range files {
		p := v.resolve(f)
		if st, err := os.Stat(p); err != nil {
			v.fail(a("files"), "%s: %v", a("files"), err)
			continue
		} else if !st.Mode().IsRegular() {
			v.fail(a("files"), "%s: %s is not a regular file", a("files"), p)
			continue
		}
		if other, dup := bases[filepath.Base(p)]; dup {
			v.fail(a("files"), "%s: %s and %s would both be {app}/%s", a("files"), other, f, filepath.Base(p))
			continue
		}
		bases[filepath.Base(p)] = f
		role.Files = append(role.Files, p)
	}
	pkgs, _ := v.strings(a("packages"), r.Packages)
	for _, p := range pkgs {
		if !packageRe.MatchString(p) {
			v.fail(a("packages"), "%s: %q is not a Debian package name", a("packages"), p)
			continue
		}
		role.Packages = append(role.Packages, p)
	}
	return role
}

// placeholders refuses a placeholder that role's commands do not know.
func (v *validator) placeholders(a at, role string, words []string) {
	known := Placeholders(role)
	for _, w := range words {
		for _, m := range placeholderRe.FindAllStringSubmatch(w, -1) {
			if !slices.Contains(known, m[1]) {
				v.fail(a, "%s: unknown placeholder {%s} in %q: %s may use {%s}", a, m[1], w, role, strings.Join(known, "} {"))
			}
		}
	}
}

// strings reads a list of strings; anything else is reported.
func (v *validator) strings(a at, x any) ([]string, bool) {
	if x == nil {
		return nil, false
	}
	list, ok := x.([]any)
	if !ok {
		v.fail(a, "%s: want a list of strings, got %s", a, tomlType(x))
		return nil, false
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			v.fail(a, "%s: element %d: want a string, got %s", a, i+1, tomlType(e))
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// String is the command as one line, for messages.
func (r Role) String() string { return fmt.Sprintf("%q", r.Command) }
