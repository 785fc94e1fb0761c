package bench_test

import (
	"fmt"
	"testing"

	"zkctl/roles/assign"
)

// The master's assignment loop over its in-memory view (package
// roles/assign), without ZooKeeper: what `zkctl bench` measures as
// assign_us_per_task_1k/10k is this plus one multi per task. The ns/task
// metric must stay flat from 1k to 100k tasks.
//
//	go test -run '^$' -bench View -benchmem ./bench

const benchWorkers = 50

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// filled is a view with benchWorkers workers and n pending tasks.
func filled(workers, tasks []string) *assign.View {
	v := assign.New()
	for _, w := range workers {
		v.AddWorker(w)
	}
	for _, t := range tasks {
		v.AddTask(t)
	}
	return v
}

// BenchmarkViewAssign drains n pending tasks with Next: the master's loop
// after a takeover or a burst of submissions.
func BenchmarkViewAssign(b *testing.B) {
	workers := names("w", benchWorkers)
	for _, n := range []int{1000, 10000, 100000} {
		tasks := names("client", n)
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				v := filled(workers, tasks)
				b.StartTimer()
				for {
					if _, _, ok := v.Next(); !ok {
						break
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
		})
	}
}

// BenchmarkViewFill adds the workers and n tasks: the master's rebuild of
// its view from a listing.
func BenchmarkViewFill(b *testing.B) {
	workers := names("w", benchWorkers)
	for _, n := range []int{1000, 10000, 100000} {
		tasks := names("client", n)
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			for range b.N {
				filled(workers, tasks)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
		})
	}
}

// BenchmarkViewChurn is the steady state with n tasks in the view: each
// op submits one task, assigns it and completes the oldest assigned one.
func BenchmarkViewChurn(b *testing.B) {
	workers := names("w", benchWorkers)
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			v := filled(workers, names("old", n))
			queue := make([]string, 0, n+b.N)
			for {
				t, _, ok := v.Next()
				if !ok {
					break
				}
				queue = append(queue, t)
			}
			fresh := names("new", b.N)
			b.ResetTimer()
			for i := range b.N {
				v.AddTask(fresh[i])
				t, _, _ := v.Next()
				queue = append(queue, t)
				v.RemoveTask(queue[i])
			}
		})
	}
}
