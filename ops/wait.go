package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/roles/protocol"
)

// ErrTimeout is what Poll's error wraps when the condition did not hold in
// time (retry.ErrTimeout).
var ErrTimeout = retry.ErrTimeout

// Poll calls cond every interval until it holds, fails, ctx ends or
// timeout passes (retry.Poll); the error names what was waited for.
func Poll(ctx context.Context, interval, timeout time.Duration, what string, cond func() (bool, error)) error {
	if err := retry.Poll(ctx, interval, timeout, cond); err != nil {
		return fmt.Errorf("wait for %s: %w", what, err)
	}
	return nil
}

// The conditions below read the znode protocol through conn. A read that
// fails counts as "not yet" (the connection may be moving between
// servers), so a wait rides out a server's loss.

// WorkerAlive holds once worker id has registered (/workers_eph/<id>).
func WorkerAlive(conn *zk.Conn, id string) func() (bool, error) {
	return func() (bool, error) {
		ok, _, err := conn.Exists(protocol.WorkerAlive(id))
		return err == nil && ok, nil
	}
}

// Candidates holds once exactly n masters take part in the election.
func Candidates(conn *zk.Conn, n int) func() (bool, error) {
	return func() (bool, error) {
		kids, _, err := conn.Children(protocol.ElectionPath)
		return err == nil && len(kids) == n, nil
	}
}

// MasterIs holds once /master names a master for which ok holds.
func MasterIs(conn *zk.Conn, ok func(protocol.MasterInfo) bool) func() (bool, error) {
	return func() (bool, error) {
		data, _, err := conn.Get(protocol.MasterPath)
		if err != nil {
			return false, nil
		}
		m, err := protocol.ParseMasterInfo(data)
		return err == nil && ok(m), nil
	}
}

// NoOpenTask holds once /tasks is empty.
func NoOpenTask(conn *zk.Conn) func() (bool, error) {
	return func() (bool, error) {
		kids, _, err := conn.Children(protocol.TasksPath)
		return err == nil && len(kids) == 0, nil
	}
}
