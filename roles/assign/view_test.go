package assign

import (
	"fmt"
	"slices"
	"testing"
)

// drain assigns everything it can and returns task -> worker.
func drain(v *View) map[string]string {
	got := map[string]string{}
	for {
		t, w, ok := v.Next()
		if !ok {
			return got
		}
		got[t] = w
	}
}

func TestNextNeedsTasksAndWorkers(t *testing.T) {
	v := New()
	if _, _, ok := v.Next(); ok {
		t.Fatal("Next on empty view")
	}
	v.AddTask("t1")
	if _, _, ok := v.Next(); ok {
		t.Fatal("Next without workers")
	}
	v.AddWorker("w1")
	if tk, w, ok := v.Next(); !ok || tk != "t1" || w != "w1" {
		t.Fatalf("Next = %q %q %v", tk, w, ok)
	}
	if _, _, ok := v.Next(); ok {
		t.Fatal("Next without pending tasks")
	}
}

func TestEqualWorkersGetEqualShares(t *testing.T) {
	v := New()
	for _, w := range []string{"a", "b", "c"} {
		v.AddWorker(w)
	}
	for i := range 30 {
		v.AddTask(fmt.Sprintf("t%02d", i))
	}
	got := drain(v)
	counts := map[string]int{}
	for _, w := range got {
		counts[w]++
	}
	for _, w := range []string{"a", "b", "c"} {
		if counts[w] != 10 {
			t.Errorf("worker %s got %d tasks, want 10 (%v)", w, counts[w], counts)
		}
	}
}

func TestTiesRoundRobinWhenTasksTrickle(t *testing.T) {
	// One task at a time, each finishing before the next: all loads are 0
	// at every choice, so the tie-break alone must spread the work.
	v := New()
	v.AddWorker("a")
	v.AddWorker("b")
	var order []string
	for i := range 6 {
		name := fmt.Sprint(i)
		v.AddTask(name)
		_, w, ok := v.Next()
		if !ok {
			t.Fatal("no assignment")
		}
		order = append(order, w)
		v.RemoveTask(name)
	}
	if want := []string{"a", "b", "a", "b", "a", "b"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
}

func TestLeastLoadedFirst(t *testing.T) {
	v := New()
	v.AddWorker("busy")
	for i := range 3 {
		v.AddTask(fmt.Sprint("old", i))
		v.AddAssigned(fmt.Sprint("old", i), "busy")
	}
	v.AddWorker("idle")
	v.AddTask("n1")
	v.AddTask("n2")
	v.AddTask("n3")
	v.AddTask("n4")
	got := drain(v)
	if v.Load("idle") != 3 || v.Load("busy") != 4 {
		t.Errorf("loads idle=%d busy=%d, want 3 and 4 (%v)", v.Load("idle"), v.Load("busy"), got)
	}
	if got["n1"] != "idle" {
		t.Errorf("oldest task went to %q, want idle", got["n1"])
	}
}

func TestRemoveWorkerReturnsTasksFirst(t *testing.T) {
	v := New()
	v.AddWorker("a")
	v.AddWorker("b")
	for _, n := range []string{"t1", "t2", "t3", "t4"} {
		v.AddTask(n)
	}
	got := drain(v)
	v.AddTask("late")
	moved := v.RemoveWorker("a")
	var want []string
	for tk, w := range got {
		if w == "a" {
			want = append(want, tk)
		}
	}
	slices.Sort(want)
	if !slices.Equal(moved, want) {
		t.Fatalf("RemoveWorker = %v, want %v", moved, want)
	}
	if v.Pending() != len(moved)+1 || v.HasWorker("a") {
		t.Fatalf("pending %d, has a %v", v.Pending(), v.HasWorker("a"))
	}
	// Moved tasks come before the later one, and all go to b.
	for i := 0; i < len(moved); i++ {
		tk, w, _ := v.Next()
		if tk != moved[i] || w != "b" {
			t.Errorf("Next = %s %s, want %s b", tk, w, moved[i])
		}
	}
	if tk, _, _ := v.Next(); tk != "late" {
		t.Errorf("last = %s, want late", tk)
	}
	if v.RemoveWorker("a") != nil {
		t.Error("removing an unknown worker returned tasks")
	}
}

func TestRemoveAndUnassign(t *testing.T) {
	v := New()
	v.AddWorker("a")
	if !v.AddTask("t1") || v.AddTask("t1") {
		t.Fatal("AddTask duplicate handling")
	}
	v.AddTask("t2")
	v.Next()
	if w, known := v.AssignedTo("t1"); w != "a" || !known {
		t.Fatalf("AssignedTo(t1) = %q %v", w, known)
	}
	if !v.Unassign("t1") || v.Unassign("t2") || v.Load("a") != 0 {
		t.Fatalf("Unassign: load %d", v.Load("a"))
	}
	if tk, _, _ := v.Next(); tk != "t1" {
		t.Fatalf("unassigned task not first: %s", tk)
	}
	if !v.RemoveTask("t1") || v.RemoveTask("t1") || v.Load("a") != 0 {
		t.Fatalf("RemoveTask: load %d", v.Load("a"))
	}
	if !v.RemoveTask("t2") || v.Pending() != 0 || v.Len() != 0 {
		t.Fatalf("pending %d len %d", v.Pending(), v.Len())
	}
	if v.AddAssigned("t9", "nobody") {
		t.Fatal("AddAssigned to an unknown worker")
	}
}

func TestTasksIterationAllowsRemoval(t *testing.T) {
	v := New()
	for i := range 10 {
		v.AddTask(fmt.Sprint(i))
	}
	for tk := range v.Tasks() {
		v.RemoveTask(tk)
	}
	if v.Len() != 0 || v.Pending() != 0 {
		t.Fatalf("left %d tasks", v.Len())
	}
}

func BenchmarkNext(b *testing.B) {
	v := New()
	for i := range 100 {
		v.AddWorker(fmt.Sprint("w", i))
	}
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprint("t", i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := names[i%len(names)]
		v.AddTask(n)
		v.Next()
		v.RemoveTask(n)
	}
}

// counts is how many tasks each worker got.
func counts(got map[string]string) map[string]int {
	n := map[string]int{}
	for _, w := range got {
		n[w]++
	}
	return n
}

// capacities141 is a view of workers a and b of capacity 1 and c of
// capacity 4, with n pending tasks.
func capacities141(n int) *View {
	v := New()
	for _, w := range []string{"a", "b", "c"} {
		v.AddWorker(w)
	}
	v.SetCapacity("c", 4)
	for i := range n {
		v.AddTask(fmt.Sprintf("t%02d", i))
	}
	return v
}

func TestSplitFollowsCapacity(t *testing.T) {
	// The case: two workers of capacity 1, one of capacity 4, 24
	// tasks of equal length: 4, 4 and 16 let all three finish together.
	n := counts(drain(capacities141(24)))
	if n["a"] != 4 || n["b"] != 4 || n["c"] != 16 {
		t.Fatalf("split %v, want a 4, b 4, c 16", n)
	}
}

func TestFreeSlotsFirst(t *testing.T) {
	// Six tasks for capacities 1, 1, 4: every slot gets one task, none
	// queues while a slot is free.
	v := capacities141(6)
	n := counts(drain(v))
	if n["a"] != 1 || n["b"] != 1 || n["c"] != 4 {
		t.Fatalf("split %v, want a 1, b 1, c 4", n)
	}
	// A task of c finishes: the next task goes to c's free slot.
	for tk := range v.Tasks() {
		if w, _ := v.AssignedTo(tk); w == "c" {
			v.RemoveTask(tk)
			break
		}
	}
	v.AddTask("t6")
	if tk, w, ok := v.Next(); !ok || w != "c" {
		t.Fatalf("Next = %q %q %v, want the free slot of c", tk, w, ok)
	}
}

func TestCapacityChangeReorders(t *testing.T) {
	v := New()
	v.AddWorker("a")
	v.AddWorker("b")
	v.AddTask("t1")
	v.AddTask("t2")
	drain(v) // one each
	if !v.SetCapacity("b", 3) || v.Capacity("b") != 3 || v.Capacity("a") != 1 {
		t.Fatalf("capacities a %d b %d", v.Capacity("a"), v.Capacity("b"))
	}
	v.AddTask("t3")
	v.AddTask("t4")
	if n := counts(drain(v)); n["b"] != 2 {
		t.Fatalf("split of t3, t4: %v, want both on b", n)
	}
	if v.SetCapacity("nobody", 2) || v.Capacity("nobody") != 0 {
		t.Fatal("SetCapacity of an unknown worker")
	}
	v.SetCapacity("a", 0)
	if v.Capacity("a") != 1 {
		t.Fatalf("capacity 0 counts as %d, want 1", v.Capacity("a"))
	}
}
