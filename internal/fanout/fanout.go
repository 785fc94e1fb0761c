// Package fanout is zkctl's one helper for parallel work on a list, such
// as one call per host: every item gets its own goroutine (at most limit
// at a time where a limit is given), a failing item never stops the
// others, and the errors come back in the items' order. It is built on
// sync.WaitGroup.Go and imports only the standard library.
package fanout

import (
	"errors"
	"sync"
)

// Each runs fn for every item at once and returns their errors in the
// items' order (nil where fn succeeded).
func Each[T any](items []T, fn func(i int, item T) error) []error {
	return Limit(items, len(items), fn)
}

// All is Each with the errors joined (nil when every item succeeded).
func All[T any](items []T, fn func(i int, item T) error) error {
	return errors.Join(Each(items, fn)...)
}

// Limit is Each with at most limit calls running at a time (limit < 1: one).
func Limit[T any](items []T, limit int, fn func(i int, item T) error) []error {
	errs := make([]error, len(items))
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(i, it)
		})
	}
	wg.Wait()
	return errs
}
