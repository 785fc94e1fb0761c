package watch

import (
	"strings"
	"time"
)

// seriesLen is how many seconds a Series remembers.
const seriesLen = 64

// Series counts something per second over the last seriesLen seconds.
// The zero value is empty.
type Series struct {
	sec  [seriesLen]int
	last int64 // the Unix second of the newest bucket
}

// advance makes now's second the newest, clearing the seconds skipped.
func (r *Series) advance(now time.Time) {
	s := now.Unix()
	if s <= r.last {
		return
	}
	for i := max(r.last+1, s-seriesLen+1); i <= s; i++ {
		r.sec[slot(i)] = 0
	}
	r.last = s
}

// slot is second s's bucket; seconds before 1970 too (a zero Series).
func slot(s int64) int64 { return (s%seriesLen + seriesLen) % seriesLen }

// Add counts n at time t; a t older than the window is dropped.
func (r *Series) Add(t time.Time, n int) {
	r.advance(t)
	s := t.Unix()
	if s > r.last-seriesLen {
		r.sec[slot(s)] += n
	}
}

// Last returns the counts of the last k full seconds, oldest first (the
// current second, still filling, is left out).
func (r *Series) Last(k int) []int {
	k = min(k, seriesLen-1)
	out := make([]int, k)
	for i := range k {
		out[i] = r.sec[slot(r.last-int64(k)+int64(i))]
	}
	return out
}

// Rate is the mean per second over the last k full seconds.
func (r *Series) Rate(k int) float64 {
	sum := 0
	for _, n := range r.Last(k) {
		sum += n
	}
	return float64(sum) / float64(k)
}

// sparks are the heights of a sparkline, lowest first.
var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws vals as block heights scaled to the largest; zero is
// the lowest block.
func Sparkline(vals []int) string {
	top := 0
	for _, v := range vals {
		top = max(top, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if top > 0 && v > 0 {
			i = 1 + v*(len(sparks)-2)/top
		}
		b.WriteRune(sparks[min(i, len(sparks)-1)])
	}
	return b.String()
}
