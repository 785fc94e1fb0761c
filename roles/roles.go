// Package roles runs zkctl's three roles against any ZooKeeper ensemble: the
// master (RunMaster: election, fencing, assignment, recovery), the worker
// (RunWorker) and the client (RunClient, or Submit and Wait). They follow the
// znode protocol of DESIGN.md, whose paths and payloads live in package
// roles/protocol; the assignment choice itself is package roles/assign.
//
// Each role keeps one ZooKeeper session per "epoch": when the session
// expires (or the master is fenced) the role closes it and starts over with
// a new one: a master re-enters the election as a new candidate, a worker
// registers again under a new id.
//
// Every role logs with log/slog, with the attributes role, id and host; the
// messages that a log parser may rely on are documented on RunMaster,
// RunWorker and RunClient.
package roles

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/roles/protocol"
)

// DefaultSessionTimeout is the session timeout when Config leaves it zero.
const DefaultSessionTimeout = 4 * time.Second

// Config is what every role needs. The zero value of each field but Servers
// has a usable default.
type Config struct {
	Servers        []string      // ensemble client endpoints, "host:port"
	SessionTimeout time.Duration // default DefaultSessionTimeout
	ID             string        // instance id (candidate name, worker or client id); default random
	Host           string        // inventory name of this host, for logs and /master; default os.Hostname
	Auth           string        // "user:password" for digest auth and ACLs, or "" for none
	Logger         *slog.Logger  // default: text on os.Stdout
	Dialer         zk.Dialer     // how to reach the servers (a tunnel); nil = directly
}

// withDefaults checks cfg and fills in its defaults for role.
func (cfg Config) withDefaults(role string) (Config, error) {
	if len(cfg.Servers) == 0 {
		return cfg, fmt.Errorf("%s: no ZooKeeper servers given", role)
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.ID == "" {
		cfg.ID = randomID(role)
	}
	if err := protocol.CheckName(cfg.ID); err != nil {
		return cfg, fmt.Errorf("%s: id: %w", role, err)
	}
	if user, _, ok := strings.Cut(cfg.Auth, ":"); cfg.Auth != "" && (!ok || user == "") {
		return cfg, fmt.Errorf("%s: auth: want \"user:password\"", role) // never the secret itself
	}
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stdout, nil))
	}
	return cfg, nil
}

// logger is cfg.Logger with the role, id and host attributes.
func (cfg Config) logger(role, id string) *slog.Logger {
	return cfg.Logger.With("role", role, "id", id, "host", cfg.Host)
}

// randomID is a default instance id such as "worker-3fa9c2d1".
func randomID(role string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	return role + "-" + hex.EncodeToString(b[:])
}

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
// (protocol.BasePaths: /election /workers /workers_eph /tasks /data
// /results), with acl.
func EnsureBase(conn *zk.Conn, acl []zk.ACL) error {
	for _, p := range protocol.BasePaths() {
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
