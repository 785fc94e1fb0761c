package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errTransient = errors.New("transient")

func TestDoRetriesOnlyWhatTheClassifierAccepts(t *testing.T) {
	permanent := errors.New("permanent")
	cases := []struct {
		name      string
		errs      []error // what fn returns on each try; nil after the list
		attempts  int
		wantTries int
		wantErr   error
	}{
		{"first try succeeds", nil, 3, 1, nil},
		{"succeeds on the third", []error{errTransient, errTransient}, 3, 3, nil},
		{"tries used up", []error{errTransient, errTransient, errTransient, errTransient}, 3, 3, errTransient},
		{"permanent at once", []error{permanent, errTransient}, 3, 1, permanent},
		{"unbounded until success", []error{errTransient, errTransient, errTransient, errTransient}, 0, 5, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tries := 0
			p := Policy{Attempts: c.attempts, Delay: time.Microsecond, Factor: 2,
				Retryable: func(err error) bool { return errors.Is(err, errTransient) }}
			err := p.Do(context.Background(), func(try int) error {
				tries++
				if try != tries {
					t.Fatalf("try number %d, want %d", try, tries)
				}
				if try <= len(c.errs) {
					return c.errs[try-1]
				}
				return nil
			})
			if tries != c.wantTries || !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("tries %d err %v, want tries %d err %v", tries, err, c.wantTries, c.wantErr)
			}
		})
	}
}

func TestDoBacksOffAndReports(t *testing.T) {
	var waits []time.Duration
	p := Policy{Attempts: 5, Delay: time.Millisecond, Factor: 2, Max: 3 * time.Millisecond,
		OnRetry: func(_ error, _ int, wait time.Duration) { waits = append(waits, wait) }}
	_ = p.Do(context.Background(), func(int) error { return errTransient })
	want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tries := 0
	err := Policy{Delay: time.Hour}.Do(ctx, func(int) error {
		tries++
		cancel()
		return errTransient
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errTransient) || tries != 1 {
		t.Fatalf("err %v after %d tries, want canceled wrapping the last error after 1", err, tries)
	}
}

func TestPoll(t *testing.T) {
	ctx := context.Background()
	calls := 0
	if err := Poll(ctx, time.Millisecond, time.Second, func() (bool, error) { calls++; return calls == 3, nil }); err != nil || calls != 3 {
		t.Errorf("holds at the third call: %v after %d calls", err, calls)
	}
	start := time.Now()
	err := Poll(ctx, 5*time.Millisecond, 30*time.Millisecond, func() (bool, error) { return false, nil })
	if !errors.Is(err, ErrTimeout) || time.Since(start) < 30*time.Millisecond || err.Error() != "not within 30ms: timed out" {
		t.Errorf("never holds: %v after %v, want ErrTimeout after 30ms", err, time.Since(start))
	}
	bad := errors.New("read failed")
	calls = 0
	if err := Poll(ctx, time.Millisecond, time.Second, func() (bool, error) { calls++; return false, bad }); err != bad || calls != 1 {
		t.Errorf("a failing condition: %v after %d calls, want it at once", err, calls)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := Poll(cctx, 5*time.Millisecond, time.Minute, func() (bool, error) { return false, nil }); err != context.DeadlineExceeded {
		t.Errorf("ctx ends: %v, want its error", err)
	}
}
