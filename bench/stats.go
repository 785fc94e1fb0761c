package bench

import (
	"slices"
	"sync"
	"time"
)

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func newLatencies() *latencies { return &latencies{} }

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// quantile is the q-quantile (nearest rank), 0 when empty.
func (l *latencies) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return quantile(l.d, q)
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s)) + 0.5)
	return s[min(max(i-1, 0), len(s)-1)]
}

// Spread is the median and maximum of repeated measurements, in seconds.
type Spread struct {
	Median  float64   `json:"median_s"`
	Max     float64   `json:"max_s"`
	Samples []float64 `json:"samples_s"`
}

// spread summarises samples; the median of an even count is the mean of
// the two middle ones.
func spread(samples []time.Duration) Spread {
	if len(samples) == 0 {
		return Spread{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	out := Spread{Median: med.Seconds(), Max: s[n-1].Seconds()}
	for _, d := range samples {
		out.Samples = append(out.Samples, round3(d.Seconds()))
	}
	out.Median, out.Max = round3(out.Median), round3(out.Max)
	return out
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
