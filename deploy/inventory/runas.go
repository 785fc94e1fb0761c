package inventory

import "regexp"

// DefaultRunAs is the service user of ZooKeeper and the roles on hosts
// reached as root or through sudo: the user Debian's zookeeper package
// creates (deploy creates it as a system user where it is missing).
const DefaultRunAs = "zookeeper"

// userNameRe is what useradd accepts as a portable user name.
var userNameRe = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// runAs reads a run_as key: a portable user name, def when unset.
func (v *validator) runAs(a at, x any, def string) string {
	s, set := v.str(a, x)
	if !set {
		return def
	}
	if !userNameRe.MatchString(s) {
		v.fail(a, "run_as %q: want a user name (lower case letters, digits, '_' and '-', at most 32, not starting with a digit or '-')", s)
		return def
	}
	return s
}
