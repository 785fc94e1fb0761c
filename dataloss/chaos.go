package dataloss

import (
	"context"
	"fmt"
	"io"
	"time"

	"zkctl/controller"
)

// ChaosOptions bound a seeded sync-chaos run.
type ChaosOptions struct {
	Seed int64         // the first run's seed; the next runs take Seed+1, Seed+2, …
	For  time.Duration // no run starts after this much time
	Runs int           // at most this many runs (0: as many as For allows)
	// Interval is the pause between two writes (Options.Interval).
	Interval time.Duration
	Out      io.Writer // a line per run, the failed run's whole report
}

// Chaos repeats schedule s with seeded random timing until a run fails or
// the time is up, and returns every result. A failure's report ends with
// the command that replays it.
func Chaos(ctx context.Context, c *controller.Cluster, s Schedule, o ChaosOptions) []Result {
	var out []Result
	deadline := time.Now().Add(o.For)
	for i := int64(0); o.Runs == 0 || int(i) < o.Runs; i++ {
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		res := Run(ctx, c, s, Options{Seed: o.Seed + i, Interval: o.Interval})
		out = append(out, res)
		fmt.Fprintf(o.Out, "%s seed %d: %s, the faults %s the window (%v)\n", s.Name, res.Seed, verdictOf(res), landedText(res), res.Took.Round(time.Millisecond))
		if !res.Passed() {
			PrintResult(o.Out, s, res)
			fmt.Fprintf(o.Out, "replay: zkctl dataloss %s --seed %d\n", s.Name, res.Seed)
			break
		}
	}
	return out
}

func verdictOf(r Result) string {
	switch {
	case r.Err != nil:
		return "ERROR"
	case !r.Judgement.Passed():
		return "FAIL"
	}
	return "PASS"
}

func landedText(r Result) string {
	if r.Window.Landed {
		return "landed in"
	}
	return "missed"
}
