package zksession

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-zookeeper/zk"

	"zkctl/schema"
)

// ReadAuth reads an auth_file: one line "user:password". An empty path
// means no authentication (""). The secret is never part of an error.
func ReadAuth(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth_file: %w", err)
	}
	line := strings.TrimSpace(string(data))
	if user, pass, ok := strings.Cut(line, ":"); !ok || user == "" || pass == "" || strings.ContainsAny(line, "\n") {
		return "", fmt.Errorf("auth_file %s: want one line \"user:password\"", path)
	}
	return line, nil
}

// ACL is the ACL of every znode the roles create: with auth "user:password",
// all permissions for that digest user and read for everyone; without,
// all permissions for everyone.
func ACL(auth string) []zk.ACL {
	if auth == "" {
		return zk.WorldACL(zk.PermAll)
	}
	user, pass, _ := strings.Cut(auth, ":")
	return append(zk.DigestACL(zk.PermAll, user, pass), zk.WorldACL(zk.PermRead)...)
}

// EnsureBase creates the persistent top-level znodes that are missing
// (schema.BasePaths: /election /workers /workers_eph /tasks /data
// /results), with acl.
func EnsureBase(conn *zk.Conn, acl []zk.ACL) error {
	for _, p := range schema.BasePaths() {
		_, err := conn.Create(p, nil, 0, acl)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	return nil
}

// ProtectRoot gives the root znode the ACL of auth, so that with digest auth
// nobody else can create or delete top-level znodes such as /master; without
// auth it does nothing. The operator's reset calls it once.
func ProtectRoot(conn *zk.Conn, auth string) error {
	if auth == "" {
		return nil
	}
	if _, err := conn.SetACL("/", ACL(auth), -1); err != nil {
		return fmt.Errorf("set the ACL of /: %w", err)
	}
	return nil
}
