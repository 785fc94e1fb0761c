package bench

import (
	"testing"
	"time"
)

func TestSpread(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		in       []time.Duration
		med, max float64
	}{
		{ms(300, 100, 200), 0.2, 0.3},
		{ms(400, 100, 200, 300), 0.25, 0.4},
		{ms(2150), 2.15, 2.15},
		{nil, 0, 0},
	} {
		s := spread(tc.in)
		if s.Median != tc.med || s.Max != tc.max || len(s.Samples) != len(tc.in) {
			t.Errorf("spread(%v) = %+v, want median %v max %v", tc.in, s, tc.med, tc.max)
		}
	}
}

func TestTxnsBetween(t *testing.T) {
	for _, tc := range []struct {
		a, b zxid
		want int64
		err  bool
	}{
		{0x100000010, 0x100000110, 0x100, false},
		{0x1ffffff00, 0x1ffffffff, 0xff, false},
		{0x1000000ff, 0x200000005, 0, true}, // new epoch: a leader election happened
	} {
		got, err := txnsBetween(tc.a, tc.b)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("txnsBetween(%v, %v) = %d, %v", tc.a, tc.b, got, err)
		}
	}
}
