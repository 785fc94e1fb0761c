// Package retry is zkctl's one retry helper: a Policy says how many tries and
// how long to wait between them, and Do runs a function under it. What is
// worth retrying is decided by the caller's classifier (errors.Is/As on
// sentinel errors, never message substrings); anything else is returned at
// once. The package imports only the standard library, so every package of
// zkctl, roles included, may use it.
package retry

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Policy is how Do retries.
//
//   - Attempts is the number of tries in all; 0 means until ctx ends.
//   - Delay is the wait after the first failed try; each later wait is
//     multiplied by Factor (1 when Factor is below 1) and capped at Max
//     (no cap when Max is 0).
//   - Retryable tells an error worth another try; nil retries every error.
//   - OnRetry, when set, is told of each failure that will be retried, with
//     the number of the next try and the wait before it (for progress lines).
type Policy struct {
	Attempts  int
	Delay     time.Duration
	Factor    float64
	Max       time.Duration
	Retryable func(error) bool
	OnRetry   func(err error, next int, wait time.Duration)
}

// Do calls fn with the try number (1-based) until it returns nil, returns an
// error the policy does not retry, the tries are used up, or ctx ends. It
// returns fn's last error, or ctx's error wrapped with that last error.
func (p Policy) Do(ctx context.Context, fn func(try int) error) error {
	wait := p.Delay
	for try := 1; ; try++ {
		err := fn(try)
		if err == nil {
			return nil
		}
		if p.Retryable != nil && !p.Retryable(err) {
			return err
		}
		if p.Attempts > 0 && try >= p.Attempts {
			return err
		}
		if p.OnRetry != nil {
			p.OnRetry(err, try+1, wait)
		}
		if serr := Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (last error: %w)", serr, err)
		}
		wait = p.next(wait)
	}
}

func (p Policy) next(wait time.Duration) time.Duration {
	if p.Factor > 1 {
		wait = time.Duration(float64(wait) * p.Factor)
	}
	if p.Max > 0 && wait > p.Max {
		wait = p.Max
	}
	return wait
}

// Sleep waits for d or until ctx ends, whichever comes first; it returns
// ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrTimeout is what Poll's error wraps when the condition did not hold in time.
var ErrTimeout = errors.New("timed out")

// errNotYet is a poll whose condition does not hold yet.
var errNotYet = errors.New("not yet")

// Poll calls cond every interval until it holds (nil), returns an error
// (returned as is), timeout passes (an error wrapping ErrTimeout) or ctx
// ends (ctx's error). The first call is at once; it is a Policy that
// retries only "not yet", until the deadline.
func Poll(ctx context.Context, interval, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	p := Policy{
		Delay:     interval,
		Retryable: func(err error) bool { return errors.Is(err, errNotYet) && !time.Now().After(deadline) },
	}
	err := p.Do(ctx, func(int) error {
		ok, err := cond()
		if err == nil && !ok {
			return errNotYet
		}
		return err
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return ctx.Err()
	case errors.Is(err, errNotYet):
		return fmt.Errorf("not within %v: %w", timeout, ErrTimeout)
	}
	return err
}
