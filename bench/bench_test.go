package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"zkctl/bench"
	"zkctl/internal/zktest"
	"zkctl/roles"
)

// TestRawAndPipeline runs the raw-limit and pipeline phases for 2 s each
// against a real three-server ensemble, then the master scaling phase at a
// small size, and checks that the figures are there and positive. It sets
// no timing target: `zkctl bench` judges those.
func TestRawAndPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a ZooKeeper ensemble")
	}
	e := zktest.Start(t, 3)
	cfg := roles.Config{Servers: e.Servers(), SessionTimeout: zktest.SessionTimeout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	r, err := bench.Run(ctx, bench.Target{Roles: cfg, TickTime: zktest.TickTime}, bench.Options{
		Duration: 2 * time.Second, Workers: 4, Clients: 2, Window: 8, RawSessions: 4, RawPerSession: 4,
		Phases: []string{bench.PhaseRaw, bench.PhasePipeline}, Progress: &progress,
	})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"raw_writes_per_s", "tasks_per_s", "txns_per_task", "raw_writes_per_task"} {
		v, ok := m[k].(float64)
		if !ok || v <= 0 {
			t.Errorf("JSON %s = %v, want a positive number\n%s", k, m[k], data)
		}
	}
	for _, k := range []string{"checks", "session_timeout_s", "tick_time_s", "machine", "raw", "pipeline"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON has no key %q\n%s", k, data)
		}
	}
	if r.Pipeline.AllTasks < r.Pipeline.Tasks || r.Pipeline.Txns <= 0 {
		t.Errorf("pipeline counted %d txns for %d tasks (%d in the window)", r.Pipeline.Txns, r.Pipeline.AllTasks, r.Pipeline.Tasks)
	}
	// One transaction per write; the zxid is read a moment apart from the
	// write counter, so allow a little slack.
	if d := r.Raw.ZxidTxns - r.Raw.Writes; d < -r.Raw.Writes/20-50 || d > r.Raw.Writes/20+50 {
		t.Errorf("raw: zxid counted %d txns for %d writes", r.Raw.ZxidTxns, r.Raw.Writes)
	}
	var table bytes.Buffer
	r.PrintTable(&table)
	t.Logf("table:\n%s", table.String())

	t.Run("scaling", func(t *testing.T) {
		s, err := bench.AssignScaling(ctx, cfg, 300, 10)
		if err != nil {
			t.Fatal(err)
		}
		if s.Took <= 0 || s.UsPerTask <= 0 || s.Takeover <= 0 || s.ElectedAfter+s.Takeover != s.Took {
			t.Errorf("scaling: %+v", s)
		}
		t.Logf("300 tasks to 10 workers: %v, %.1f µs/task", s.Took, s.UsPerTask)
	})
}
