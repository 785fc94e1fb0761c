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
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/roles/protocol"
	"zkctl/zksession"
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

// ReadAuth reads an auth_file (zksession.ReadAuth, the one reader).
func ReadAuth(path string) (string, error) { return zksession.ReadAuth(path) }

// ACL is the ACL of every znode the roles create (zksession.ACL).
func ACL(auth string) []zk.ACL { return zksession.ACL(auth) }

// EnsureBase creates the protocol's missing top-level znodes with acl
// (zksession.EnsureBase).
func EnsureBase(conn *zk.Conn, acl []zk.ACL) error { return zksession.EnsureBase(conn, acl) }
