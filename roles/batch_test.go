package roles

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
)

func create(p string) *zk.CreateRequest {
	return &zk.CreateRequest{Path: p, Data: []byte{}, Acl: zk.WorldACL(zk.PermAll)}
}

// TestSendSplit: a batch that fails at one request's op is sent again
// without it, so the others land once; a failed prefix op fails them all
// and lands nothing.
func TestSendSplit(t *testing.T) {
	ens := zktest.Start(t, 1)
	conn := observer(t, ens.Servers())
	retryConn(t, func() error { _, err := conn.Create("/x", nil, 0, zk.WorldACL(zk.PermAll)); return err })
	retryConn(t, func() error { _, err := conn.Create("/x/b", nil, 0, zk.WorldACL(zk.PermAll)); return err })
	reqs := [][]any{
		{create("/x/a"), create("/x/a1")},
		{create("/x/b1"), create("/x/b")}, // fails at its second op
		{create("/x/c")},
		{&zk.DeleteRequest{Path: "/x/none", Version: -1}}, // fails at its only op
		{create("/x/d")},
	}
	outs := sendSplit(conn, nil, reqs)
	want := []struct {
		failed int
		err    error
	}{{-1, nil}, {1, zk.ErrNodeExists}, {-1, nil}, {0, zk.ErrNoNode}, {-1, nil}}
	for i, w := range want {
		if outs[i].failed != w.failed || !errors.Is(outs[i].err, w.err) || outs[i].err == nil != (w.err == nil) || outs[i].prefix {
			t.Errorf("request %d: %+v, want failed %d err %v", i, outs[i], w.failed, w.err)
		}
	}
	kids, _, _ := conn.Children("/x")
	if fmt.Sprint(sortTasks(kids)) != "[a a1 b c d]" {
		t.Errorf("children of /x: %v, want a a1 b c d", kids)
	}

	outs = sendSplit(conn, []any{&zk.CheckVersionRequest{Path: "/x", Version: 7}}, [][]any{{create("/x/e")}, {create("/x/f")}})
	for i, o := range outs {
		if !o.prefix || !errors.Is(o.err, zk.ErrBadVersion) || o.failed != -1 {
			t.Errorf("request %d behind a failed check: %+v", i, o)
		}
	}
	if ok, _, _ := conn.Exists("/x/e"); ok {
		t.Error("/x/e created behind a failed check")
	}
}

// TestBatchMultiConcurrent: concurrent requests on one connection each get
// their own outcome, whatever multi they shared.
func TestBatchMultiConcurrent(t *testing.T) {
	ens := zktest.Start(t, 1)
	conn := observer(t, ens.Servers())
	retryConn(t, func() error { _, err := conn.Create("/y", nil, 0, zk.WorldACL(zk.PermAll)); return err })
	const n = 210
	for i := 0; i < n; i += 7 { // every 7th exists already
		retryConn(t, func() error {
			_, err := conn.Create(fmt.Sprintf("/y/%d", i), nil, 0, zk.WorldACL(zk.PermAll))
			return err
		})
	}
	outs := make([]multiOutcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = batchMulti(conn, create(fmt.Sprintf("/y/%d", i)), create(fmt.Sprintf("/y/%d-data", i)))
		}()
	}
	wg.Wait()
	txns := map[int64]bool{} // the transactions that created the nodes
	for i, o := range outs {
		exists := i%7 == 0
		if exists != errors.Is(o.err, zk.ErrNodeExists) || exists && o.failed != 0 || !exists && o.err != nil {
			t.Errorf("request %d: %+v", i, o)
		}
		ok, st, _ := conn.Exists(fmt.Sprintf("/y/%d-data", i))
		if ok == exists {
			t.Errorf("/y/%d-data exists = %v", i, ok)
		}
		if ok {
			txns[st.Czxid] = true
		}
	}
	if landed := n - (n+6)/7; len(txns) > landed/4 {
		t.Errorf("%d requests landed in %d transactions, want batches of 4 or more on average", landed, len(txns))
	} else {
		t.Logf("%d requests landed in %d transactions", landed, len(txns))
	}
	if _, ok := batchers.Load(conn); ok {
		t.Error("an idle batcher is kept")
	}
}
