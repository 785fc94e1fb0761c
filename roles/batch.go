package roles

import (
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Batching: the protocol's writes (submit, assign, complete, take a result)
// are small multis on distinct znodes, so several of them can share one
// multi. ZooKeeper pays per transaction far more than per op, and a multi
// is atomic: when it fails, nothing of it landed, and the responses name
// the op that failed. sendSplit uses that to give each request its own
// outcome, as if it had been sent alone.
const (
	// batchOps bounds the ops of one batched multi (well below
	// jute.maxbuffer for the protocol's short paths).
	batchOps = 400
	// batchFlying bounds the batched multis in flight on one connection:
	// while they are out, new requests queue and leave together.
	batchFlying = 8
)

// multiOutcome is what became of one request of a batched multi.
type multiOutcome struct {
	sent   time.Time // when the multi that decided it was sent
	failed int       // index in the request's ops of the op that failed; -1 if none of them
	prefix bool      // the multi failed at one of the prefix ops
	err    error
}

// sendSplit sends the requests (each a list of ops) as one multi behind the
// prefix ops. When the multi fails at an op of one request, that request
// gets the op's error and the others are sent again without it: a failed
// multi applies nothing, so no request is lost or applied twice. An error
// that names no request's op (a failed prefix op, a lost connection, a
// refused request) is the outcome of every request still unsent. Requests
// must touch distinct znodes, so that none fails because of another.
func sendSplit(conn *zk.Conn, prefix []any, reqs [][]any) []multiOutcome {
	outs := make([]multiOutcome, len(reqs))
	left := make([]int, len(reqs)) // requests still to send
	for i := range left {
		left[i] = i
	}
	for len(left) > 0 {
		ops := slices.Clone(prefix)
		starts := make([]int, len(left)) // where each request's ops begin in ops
		for k, i := range left {
			starts[k] = len(ops)
			ops = append(ops, reqs[i]...)
		}
		sent := time.Now()
		res, err := conn.Multi(ops...)
		at := -1
		if err != nil && !IsConnErr(err) {
			at = failedOp(res)
		}
		if err == nil || at < len(prefix) {
			for _, i := range left {
				outs[i] = multiOutcome{sent: sent, failed: -1, prefix: at >= 0, err: err}
			}
			return outs
		}
		k := sort.Search(len(starts), func(k int) bool { return starts[k] > at }) - 1
		outs[left[k]] = multiOutcome{sent: sent, failed: at - starts[k], err: res[at].Error}
		left = slices.Delete(left, k, k+1)
	}
	return outs
}

// batcher gathers the requests that concurrent goroutines make on one
// connection into few multis (group commit). A sender starts as soon as a
// request queues and fewer than batchFlying multis are out; it first lets
// the goroutines that are ready run (so that requests made at the same
// moment, such as results whose tasks ended together, leave together), then
// takes everything queued. While batchFlying multis are out, requests queue
// and leave together with the next. An idle connection thus adds no delay.
type batcher struct {
	conn     *zk.Conn
	mu       sync.Mutex
	queue    []*batchReq
	flying   int  // senders started, until their multis returned
	starting bool // a sender started and has not taken its batch yet
}

type batchReq struct {
	ops  []any
	out  multiOutcome
	done chan struct{}
}

// batchers holds the batcher of each connection while it has work; an idle
// batcher is dropped (a caller still holding it may use it alone).
var batchers sync.Map // *zk.Conn → *batcher

// batchMulti runs ops as one request of a multi shared with the concurrent
// requests of other goroutines on conn (see sendSplit for the outcome).
func batchMulti(conn *zk.Conn, ops ...any) multiOutcome {
	v, ok := batchers.Load(conn)
	if !ok {
		v, _ = batchers.LoadOrStore(conn, &batcher{conn: conn})
	}
	return v.(*batcher).do(ops)
}

func (b *batcher) do(ops []any) multiOutcome {
	r := &batchReq{ops: ops, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	b.kick()
	b.mu.Unlock()
	<-r.done
	return r.out
}

// kick starts a sender if requests wait, none is starting and a multi may
// leave; b.mu is held.
func (b *batcher) kick() {
	switch {
	case len(b.queue) > 0 && !b.starting && b.flying < batchFlying:
		b.flying++
		b.starting = true
		go b.send()
	case b.flying == 0 && len(b.queue) == 0:
		batchers.CompareAndDelete(b.conn, b)
	}
}

// send takes up to batchOps ops of queued requests and sends them as one
// multi.
func (b *batcher) send() {
	runtime.Gosched()
	b.mu.Lock()
	n, ops := 0, 0
	for n < len(b.queue) && (n == 0 || ops+len(b.queue[n].ops) <= batchOps) {
		ops += len(b.queue[n].ops)
		n++
	}
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	b.starting = false
	if n == 0 {
		b.flying--
	}
	b.kick() // what is left may leave in another multi
	b.mu.Unlock()
	if n == 0 {
		return
	}

	reqs := make([][]any, len(batch))
	for i, r := range batch {
		reqs[i] = r.ops
	}
	for i, out := range sendSplit(b.conn, nil, reqs) {
		batch[i].out = out
		close(batch[i].done)
	}
	b.mu.Lock()
	b.flying--
	b.kick()
	b.mu.Unlock()
}
