package lincheck

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func TestVerdict(t *testing.T) {
	cases := []struct {
		lin  porcupine.CheckResult
		read int
		want Verdict
	}{
		{porcupine.Ok, 0, VerdictOK},
		{porcupine.Ok, 1, VerdictIllegal},
		{porcupine.Illegal, 0, VerdictIllegal},
		{porcupine.Unknown, 0, VerdictUnknown},
		{porcupine.Unknown, 2, VerdictIllegal},
	}
	for _, tc := range cases {
		if got := verdict(tc.lin, tc.read); got != tc.want {
			t.Errorf("verdict(%s, %d) = %s, want %s", tc.lin, tc.read, got, tc.want)
		}
	}
}

func TestCheckIllegalWritesVisualizationAndReport(t *testing.T) {
	h := history(write(0, "a", 0, 10, 1), cas(1, 0, "b", 20, 30, 1), read(2, 5, "a", 1, 12, 14), casLost(2, 1, "c", 35))
	start := h.Start
	h.Nemesis = "kill-leader"
	h.Faults = []Fault{{Name: "kill leader", Target: "zk2", Start: start.Add(ms(5)), End: start.Add(ms(25))}}
	h.Elapsed = ms(40)
	viz := filepath.Join(t.TempDir(), "report", "linearizable.html")
	r := Check(h, 10*time.Second, viz)
	if r.Verdict != VerdictIllegal || r.Linearizability != porcupine.Illegal {
		t.Fatalf("verdict %s (%s), want illegal", r.Verdict, r.Linearizability)
	}
	html, err := os.ReadFile(viz)
	if err != nil || r.Visualization != viz {
		t.Fatalf("visualization %q not written: %v %s", r.Visualization, err, r.VisualizationErr)
	}
	if !strings.Contains(string(html), "c1 cas v0") {
		t.Errorf("visualization does not describe the operations")
	}
	md := strings.Join(r.Markdown(), "\n")
	for _, want := range []string{"**illegal**", "not linearizable", "| write | 1 | 0 | 0 |", "| cas | 1 | 0 | 1 |",
		"| read | 1 | 0 | 0 |", "kill leader zk2 at +10ms, for 20ms", "linearizable.html"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestCheckOKWritesNoVisualization(t *testing.T) {
	viz := filepath.Join(t.TempDir(), "v.html")
	r := Check(history(write(0, "a", 0, 10, 1), read(1, 9, "a", 1, 20, 30)), 10*time.Second, viz)
	if r.Verdict != VerdictOK {
		t.Fatalf("verdict %s, want ok: %v", r.Verdict, r.ReadViolations)
	}
	if _, err := os.Stat(viz); err == nil || r.Visualization != "" {
		t.Fatal("visualization written for a linearizable history")
	}
}

func TestCheckReadViolationIsIllegal(t *testing.T) {
	viz := filepath.Join(t.TempDir(), "v.html")
	r := Check(history(write(0, "a", 0, 10, 1), read(1, 9, "zz", 1, 20, 30)), 10*time.Second, viz)
	if r.Verdict != VerdictIllegal || r.Linearizability != porcupine.Ok || len(r.ReadViolations) != 1 {
		t.Fatalf("verdict %s, lin %s, violations %q", r.Verdict, r.Linearizability, r.ReadViolations)
	}
	if html, err := os.ReadFile(viz); err != nil || !strings.Contains(string(html), `read \"zz\" v1`) {
		t.Errorf("visualization without the read: %v", err)
	}
	if md := strings.Join(r.Markdown(), "\n"); !strings.Contains(md, "which no operation wrote") {
		t.Errorf("report lacks the violation:\n%s", md)
	}
}

func TestCheckNothingAcknowledgedIsUnknown(t *testing.T) {
	for _, h := range []*History{history(), history(writeLost(0, "a", 0), read(1, 9, initialData, 0, 0, 10))} {
		if r := Check(h, time.Second, ""); r.Verdict != VerdictUnknown {
			t.Errorf("%d ops, none acknowledged: verdict %s, want unknown", len(h.Ops), r.Verdict)
		}
	}
}

func TestReportJSON(t *testing.T) {
	r := Check(history(write(0, "a", 0, 10, 1), casLost(1, 1, "b", 20)), time.Second, "")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"Counts":{"cas":{"OK":0,"Failed":0,"Indeterminate":1},"write":`) {
		t.Errorf("counts not keyed by kind name: %s", b)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || back.Counts[CAS].Indeterminate != 1 {
		t.Errorf("round trip: %v %+v", err, back.Counts)
	}
	h := generate(1, 50, 3, 0.2)
	b, err = json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var hb History
	if err := json.Unmarshal(b, &hb); err != nil || !reflect.DeepEqual(hb.Ops, h.Ops) {
		t.Errorf("history round trip: %v", err)
	}
	if !strings.Contains(string(b), `"Outcome":"indeterminate"`) {
		t.Errorf("outcomes not by name: %.300s", b)
	}
}

// A history the search cannot finish in time: many writes of unknown
// outcome, then a CAS no subset of them explains. The verdict is unknown.
func TestCheckTimeoutIsUnknownNeverOK(t *testing.T) {
	var ops []Op
	for i := 0; i < 40; i++ {
		ops = append(ops, writeLost(i, fmt.Sprintf("w%d", i), 0))
	}
	ops = append(ops, cas(40, 100, "x", 10, 20, 101))
	r := Check(history(ops...), 200*time.Millisecond, "")
	if r.Verdict != VerdictUnknown {
		t.Fatalf("verdict %s (%s), want unknown", r.Verdict, r.Linearizability)
	}
	if md := strings.Join(r.Markdown(), "\n"); !strings.Contains(md, "**unknown**") || !strings.Contains(md, "checker timeout") {
		t.Errorf("report does not say unknown:\n%s", md)
	}
}

// Histories of a simulated linearizable register pass; the same histories
// with one acknowledged write's version shifted are refused.
func TestGeneratedHistories(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		h := generate(seed, 300, 6, 0.05)
		if r := Check(h, 10*time.Second, ""); r.Verdict != VerdictOK {
			t.Fatalf("seed %d: verdict %s (%s) %q", seed, r.Verdict, r.Linearizability, r.ReadViolations)
		}
		for i := range h.Ops {
			if h.Ops[i].Kind == Write && h.Ops[i].Outcome == OK {
				h.Ops[i].Out.Version += 2
				break
			}
		}
		if r := Check(h, 10*time.Second, ""); r.Verdict != VerdictIllegal {
			t.Fatalf("seed %d: corrupted history judged %s", seed, r.Verdict)
		}
	}
}

// generate simulates clients on a linearizable register: each operation
// takes effect at a random point of its interval; a fraction lose their
// answer (and half of those never apply).
func generate(seed int64, n, clients int, lost float64) *History {
	rng := rand.New(rand.NewSource(seed))
	h := history()
	cursor := make([]time.Duration, clients)
	session := make([]int64, clients)
	type timed struct {
		op Op
		at time.Duration
	}
	var ts []timed
	for i := 0; i < n; i++ {
		c := rng.Intn(clients)
		op := Op{Client: c, Session: session[c] + int64(c)<<32 + 1, Kind: Kinds()[rng.Intn(3)]}
		op.Call = cursor[c] + time.Duration(rng.Intn(5000))*time.Microsecond
		op.Return = op.Call + time.Duration(1+rng.Intn(20000))*time.Microsecond
		cursor[c] = op.Return
		if op.Kind != Read {
			op.Data = fmt.Sprintf("c%d-%d", c, i)
		}
		if op.Kind != Read && rng.Float64() < lost {
			op.Outcome = Indeterminate
			session[c]++
		}
		ts = append(ts, timed{op, op.Call + time.Duration(rng.Int63n(int64(op.Return-op.Call)))})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].at < ts[j].at })
	cur := h.Initial
	for _, t := range ts {
		op := t.op
		switch {
		case op.Kind == Read:
			op.Out = cur
		case op.Outcome == Indeterminate:
			if rng.Intn(2) == 0 && (op.Kind == Write || op.Expect == cur.Version) {
				cur = Value{Data: op.Data, Version: cur.Version + 1}
			}
		case op.Kind == Write:
			cur = Value{Data: op.Data, Version: cur.Version + 1}
			op.Out = cur
		default:
			op.Expect = max(0, cur.Version+int32(rng.Intn(3))-1)
			if op.Expect == cur.Version {
				cur = Value{Data: op.Data, Version: cur.Version + 1}
				op.Out = cur
			} else {
				op.Outcome = Failed
			}
		}
		h.Ops = append(h.Ops, op)
	}
	return h
}

// BenchmarkCheck measures the check of a default-sized run (400
// operations, 6 clients) with 5%, 10% and 20% of the writes and CAS of
// unknown outcome.
func BenchmarkCheck(b *testing.B) {
	for _, lost := range []float64{0.05, 0.1, 0.2} {
		b.Run(fmt.Sprintf("lost=%.0f%%", 100*lost), func(b *testing.B) {
			h := generate(1, DefaultOps, 6, lost)
			for b.Loop() {
				if r := Check(h, time.Minute, ""); r.Verdict != VerdictOK {
					b.Fatalf("verdict %s", r.Verdict)
				}
			}
		})
	}
}
