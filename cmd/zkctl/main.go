// Command zkctl deploys a ZooKeeper ensemble over SSH, runs the master /
// worker / client task system on it, injects faults and checks what happens.
// The same binary is the node agent on every host (`zkctl node …`).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRoot().ExecuteContext(ctx)
	os.Exit(exitCode(err))
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "zkctl:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
