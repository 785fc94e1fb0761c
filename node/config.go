// Package node is the host side of zkctl: the node agent that the controller
// runs as `zkctl node …` on every host. It renders zoo.cfg and myid from the
// node configuration the controller pushed, starts and stops ZooKeeper and the
// role processes detached (setsid, pidfiles under run/, logs under logs/),
// and reports their state and ZooKeeper's own (4lw srvr/mntr).
package node

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"zkctl/internal/fsutil"
)

// Config is what a host needs to know, written by the controller to
// <dir>/conf/node.json and read by every `zkctl node` command.
type Config struct {
	Host           string                 `json:"host"` // inventory name
	Dir            string                 `json:"dir"`
	MyID           int                    `json:"myid"`
	Address        string                 `json:"address"` // clientPortAddress and quorum address
	ClientPort     int                    `json:"client_port"`
	TickTime       time.Duration          `json:"tick_time"`
	SessionTimeout time.Duration          `json:"session_timeout"`
	Servers        []Server               `json:"servers"` // the ensemble; one entry = standalone
	ZooKeeperHome  string                 `json:"zookeeper_home,omitempty"`
	AuthFile       string                 `json:"auth_file,omitempty"` // on the host; "user:password"
	Roles          map[string]RoleCommand `json:"roles,omitempty"`     // other programs for roles ([roles.*]), by role
}

// Server is one member of the ensemble.
type Server struct {
	ID           int    `json:"id"`
	Host         string `json:"host"`
	Address      string `json:"address"`
	ClientPort   int    `json:"client_port"`
	PeerPort     int    `json:"peer_port"`
	ElectionPort int    `json:"election_port"`
	Observer     bool   `json:"observer,omitempty"` // votes in nothing (peerType=observer)
}

// Self is this host's entry among the servers; false for a role-only
// host, which runs no server.
func (c *Config) Self() (Server, bool) {
	for _, s := range c.Servers {
		if s.ID == c.MyID {
			return s, true
		}
	}
	return Server{}, false
}

// Endpoints lists the ensemble's client endpoints, the roles' connection string.
func (c *Config) Endpoints() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = fmt.Sprintf("%s:%d", s.Address, s.ClientPort)
	}
	return out
}

// LoadConfig reads <dir>/conf/node.json.
func LoadConfig(dir string) (*Config, error) {
	path := Layout{dir}.ConfigFile()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read node config: %w (run `zkctl deploy` first)", err)
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if c.Dir == "" {
		c.Dir = dir
	}
	return &c, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so readers never see a half-written file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return fsutil.WriteAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
