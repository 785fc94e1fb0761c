package history

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"zkctl/txnlog"
)

// BenchmarkReadTxnLog decodes the testdata's real transaction logs (three
// servers of one ensemble), from memory.
func BenchmarkReadTxnLog(b *testing.B) {
	paths, err := filepath.Glob("testdata/ensemble/*/log.*")
	if err != nil || len(paths) == 0 {
		b.Fatalf("testdata: %v", err)
	}
	var files [][]byte
	var size int64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files, size = append(files, data), size+int64(len(data))
	}
	b.SetBytes(size)
	txns := 0
	for b.Loop() {
		txns = 0
		for i, data := range files {
			f, err := txnlog.Read(bytes.NewReader(data), paths[i])
			if err != nil {
				b.Fatal(err)
			}
			txns += len(f.Txns)
		}
	}
	b.ReportMetric(float64(txns), "txns/op")
}

// tasks is a history of n tasks, each submitted, assigned, completed and
// taken: four multis a task.
func tasks(n int) *History {
	steps := []step{electM1(), claim(m1, m1Node), register(w1, "w1")}
	for i := range n {
		t := fmt.Sprintf("c1-%d", i)
		steps = append(steps, submit(t), assign(m1, m1Node, "w1", t), complete(w1, "w1", t), take(t))
	}
	return build(steps...)
}

// BenchmarkMerge merges three servers' logs of 10,000 tasks (40,003 txns
// each) into one history.
func BenchmarkMerge(b *testing.B) {
	txns := make([]txnlog.Txn, 0, 40003)
	for _, e := range tasks(10000).Txns {
		txns = append(txns, e.Txn)
	}
	var logs []ServerLog
	for _, s := range []string{"zk1", "zk2", "zk3"} {
		logs = append(logs, ServerLog{Server: s, Files: []*txnlog.File{{Name: s + "/log.100000001", Txns: txns}}})
	}
	for b.Loop() {
		if _, err := Merge(logs, 3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(txns)), "txns/op")
}

// BenchmarkJudge runs every judge on the history of 10,000 tasks.
func BenchmarkJudge(b *testing.B) {
	h := tasks(10000)
	for b.Loop() {
		for _, v := range Judge(h, Options{}) {
			if !v.OK {
				b.Fatalf("%s: %s", v.Name, v.Detail)
			}
		}
	}
	b.ReportMetric(float64(len(h.Txns)), "txns/op")
}
