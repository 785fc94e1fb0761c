package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/roles/protocol"
)

// errNodeLost ends an epoch whose election node vanished under a live
// session (someone deleted it): the candidate starts over.
var errNodeLost = errors.New("election node lost")

// leadership is what a candidate that won holds: its election node, whose
// version every master write checks (the fence).
type leadership struct {
	node     string // full path of the election node
	seq      int64
	version  int32
	vanished time.Time // when it saw its last predecessor vanish; zero if none
}

// candidate takes part in the election under /election for one session.
type candidate struct {
	s       *session
	name    string
	log     *slog.Logger
	ignored *onceSet
}

// campaign creates the candidate's node and blocks until it leads: its node
// has the lowest sequence number and is owned by the current session. Each
// candidate watches only its predecessor.
func (c *candidate) campaign(ctx context.Context, info protocol.MasterInfo) (leadership, error) {
	node, err := c.create(ctx, info)
	if err != nil {
		return leadership{}, err
	}
	own, err := protocol.ParseCandidate(path.Base(node))
	if err != nil {
		return leadership{}, fmt.Errorf("election: %w", err)
	}
	c.log.Info("joined election", protocol.EventAttr, protocol.EventJoined, "node", node, "seq", own.Seq)
	if err := c.dropDuplicates(ctx, own); err != nil {
		return leadership{}, err
	}
	var vanished time.Time
	for {
		sorted, err := c.list(ctx)
		if err != nil {
			return leadership{}, err
		}
		i, pred := protocol.Position(sorted, own.Node)
		switch {
		case i < 0:
			return leadership{}, fmt.Errorf("election: %s: %w", node, errNodeLost)
		case i == 0:
			version, err := c.owned(ctx, node)
			if err != nil {
				return leadership{}, err
			}
			return leadership{node: node, seq: own.Seq, version: version, vanished: vanished}, nil
		}
		gone, err := c.waitGone(ctx, protocol.Election(pred.Node))
		if err != nil {
			return leadership{}, err
		}
		if gone {
			vanished = time.Now()
		}
	}
}

// create makes the candidate's ephemeral sequential node with a protected
// create, so that a retry after a lost connection finds it again.
func (c *candidate) create(ctx context.Context, info protocol.MasterInfo) (string, error) {
	var node string
	err := c.s.retry(ctx, func() error {
		var err error
		node, err = c.s.conn.CreateProtectedEphemeralSequential(protocol.ElectionPrefix(c.name), info.Marshal(), c.s.acl)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("election: create candidate: %w", err)
	}
	return node, nil
}

// dropDuplicates deletes other nodes of this session under the same name: a
// protected create that lost its connection twice may have left one, and it
// would block the election (this candidate would wait for itself).
func (c *candidate) dropDuplicates(ctx context.Context, own protocol.Candidate) error {
	sorted, err := c.list(ctx)
	if err != nil {
		return err
	}
	for _, cand := range sorted {
		if cand.Name != c.name || cand.Node == own.Node {
			continue
		}
		p := protocol.Election(cand.Node)
		err := c.s.retry(ctx, func() error {
			_, stat, err := c.s.conn.Get(p)
			if err != nil || stat.EphemeralOwner != c.s.id {
				return err
			}
			return c.s.conn.Delete(p, -1)
		})
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("election: drop duplicate %s: %w", p, err)
		}
	}
	return nil
}

// list lists and orders the candidates; children that do not follow the
// protocol are logged once and ignored.
func (c *candidate) list(ctx context.Context) ([]protocol.Candidate, error) {
	var kids []string
	err := c.s.retry(ctx, func() error {
		var err error
		kids, _, err = c.s.conn.Children(protocol.ElectionPath)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("election: list %s: %w", protocol.ElectionPath, err)
	}
	sorted, invalid := protocol.SortCandidates(kids)
	for _, n := range invalid {
		c.ignored.warn(c.log, "election:"+n, "ignoring znode outside the protocol", "path", protocol.Election(n))
	}
	return sorted, nil
}

// owned checks that node belongs to the current session and returns its
// version: leadership is claimed only then.
func (c *candidate) owned(ctx context.Context, node string) (int32, error) {
	var stat *zk.Stat
	err := c.s.retry(ctx, func() error {
		var err error
		_, stat, err = c.s.conn.Get(node)
		return err
	})
	switch {
	case errors.Is(err, zk.ErrNoNode):
		return 0, fmt.Errorf("election: %s: %w", node, errNodeLost)
	case err != nil:
		return 0, fmt.Errorf("election: read %s: %w", node, err)
	case stat.EphemeralOwner != c.s.id || c.s.conn.SessionID() != c.s.id:
		return 0, fmt.Errorf("election: %s owned by session %s, not %s: %w",
			node, sessionHex(stat.EphemeralOwner), sessionHex(c.s.id), errSessionLost)
	}
	return stat.Version, nil
}

// waitGone watches p until it is deleted (true) or until the watch ends for
// another reason (false); errors when the session is lost or ctx ends.
func (c *candidate) waitGone(ctx context.Context, p string) (bool, error) {
	var exists bool
	var ch <-chan zk.Event
	err := c.s.retry(ctx, func() error {
		var err error
		exists, _, ch, err = c.s.conn.ExistsW(p)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("election: watch %s: %w", p, err)
	}
	if !exists {
		return true, nil
	}
	for {
		st := c.s.state()
		if st.lost {
			return false, errSessionLost
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev := <-ch:
			return ev.Type == zk.EventNodeDeleted, nil
		case <-st.wake:
		}
	}
}

// masterInfo is what this process writes to /master (and its election node).
func masterInfo(cfg Config) protocol.MasterInfo {
	return protocol.MasterInfo{ID: cfg.ID, Host: cfg.Host, PID: os.Getpid(), Since: time.Now().UTC()}
}
