package lincheck

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
)

// client is one workload client, connected to one server, running one
// operation at a time.
type client struct {
	id          int
	server      string
	cfg         Config
	start       time.Time
	rng         *rand.Rand
	conn        *zk.Conn
	lastVersion int32 // the version this client last saw, for its CAS
	seq         int
}

// loop runs operations until the budget is spent or ctx ends.
func (c *client) loop(ctx context.Context, budget *atomic.Int64, pace time.Duration, rec *recorder) {
	defer func() {
		if c.conn != nil {
			c.conn.Close()
		}
	}()
	for {
		if retry.Sleep(ctx, time.Duration(c.rng.Int63n(int64(2*pace)+1))) != nil {
			return
		}
		if !c.ready(ctx) {
			return // ctx ended
		}
		if budget.Add(-1) < 0 {
			return
		}
		op := c.next()
		if op.Kind == CAS && c.rng.Float64() < 0.6 && budget.Add(-1) >= 0 && !c.readFirst(&op, rec) {
			continue
		}
		c.do(&op)
		rec.op(op)
	}
}

// readFirst reads before a compare-and-set and sets its expected version to
// the version read: the usual read-modify-write, which succeeds unless
// another write comes in between. False when the read lost the connection.
func (c *client) readFirst(op *Op, rec *recorder) bool {
	r := Op{Client: c.id, Server: c.server, Kind: Read}
	c.do(&r)
	rec.op(r)
	if c.conn == nil {
		return false
	}
	op.Expect = c.lastVersion
	return true
}

// ready makes sure the client has a session before it issues an operation:
// an operation sent into a broken connection can only end indeterminate,
// and every such operation makes the check costlier. A connection that does
// not come back within OpTimeout is replaced by a new session. False when
// ctx ended.
func (c *client) ready(ctx context.Context) bool {
	if c.conn != nil && !waitSession(ctx, c.conn, c.cfg.OpTimeout) {
		c.conn.Close()
		c.conn = nil
	}
	if c.conn == nil {
		conn, err := connect(ctx, c.cfg, []string{c.server})
		if err != nil {
			return false
		}
		c.conn = conn
	}
	return ctx.Err() == nil
}

// next draws an operation: 40% reads, 30% writes, 30% CAS, whose expected
// version is the last one seen or one off, so that some fail. (loop reads
// just before most CAS, so that most succeed.)
func (c *client) next() Op {
	op := Op{Client: c.id, Server: c.server}
	switch r := c.rng.Float64(); {
	case r < 0.4:
		op.Kind = Read
		return op
	case r < 0.7:
		op.Kind = Write
	default:
		op.Kind = CAS
		op.Expect = c.lastVersion
		if c.rng.Float64() < 0.3 {
			op.Expect = max(0, op.Expect+int32(c.rng.Intn(3))-1)
		}
	}
	c.seq++
	op.Data = fmt.Sprintf("c%d-%d", c.id, c.seq)
	return op
}

// answer is what the client library returned.
type answer struct {
	data []byte
	stat *zk.Stat
	err  error
}

// do runs op and records its times and outcome. An operation not answered
// within OpTimeout is abandoned: the connection is closed (which ends the
// call) and the next operation opens a new session.
func (c *client) do(op *Op) {
	conn := c.conn
	op.Session = conn.SessionID()
	ch := make(chan answer, 1)
	in := *op
	op.Call = time.Since(c.start)
	go func() { ch <- call(conn, c.cfg.Path, in) }()
	timer := time.NewTimer(c.cfg.OpTimeout)
	defer timer.Stop()
	var a answer
	select {
	case a = <-ch:
	case <-timer.C:
		conn.Close()
		a = <-ch
		if a.err != nil {
			a.err = fmt.Errorf("no answer within %s: %w", c.cfg.OpTimeout, a.err)
		}
		c.conn = nil
	}
	op.Return = time.Since(c.start)
	if conn.SessionID() != op.Session || c.conn == nil {
		op.Session = 0
	}
	c.record(op, a)
}

func (c *client) record(op *Op, a answer) {
	op.Outcome = classify(a.err)
	if a.err != nil {
		op.Err = a.err.Error()
		return
	}
	op.Out.Version = a.stat.Version
	op.Out.Data = string(a.data)
	if op.Kind != Read {
		op.Out.Data = op.Data
	}
	c.lastVersion = a.stat.Version
}

func call(conn *zk.Conn, path string, op Op) answer {
	switch op.Kind {
	case Read:
		d, st, err := conn.Get(path)
		return answer{data: d, stat: st, err: err}
	case Write:
		st, err := conn.Set(path, []byte(op.Data), -1)
		return answer{stat: st, err: err}
	}
	st, err := conn.Set(path, []byte(op.Data), op.Expect)
	return answer{stat: st, err: err}
}

// classify tells what an error says of an operation: a refusal by the
// server that it cannot have applied (BadVersion, NoNode) is Failed;
// anything else (a lost connection or session, a timeout, an error this
// list does not know) may have been applied, and is Indeterminate.
func classify(err error) Outcome {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, zk.ErrBadVersion), errors.Is(err, zk.ErrNoNode):
		return Failed
	}
	return Indeterminate
}
