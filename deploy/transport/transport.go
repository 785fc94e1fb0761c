// Package transport runs commands and moves files on a host: over SSH
// (golang.org/x/crypto/ssh + SFTP, host keys verified against known_hosts)
// or on this machine (local). The controller sees both through Transport.
package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Transport is the connection to one host. Implementations are safe for
// concurrent use.
type Transport interface {
	// Run runs a shell command line on the host, streaming its output.
	Run(ctx context.Context, cmd string, stdout, stderr io.Writer) error
	// Upload copies the local file to path on the host through a temporary
	// file and a rename, so path is never half-written. progress, if set,
	// is called with the bytes sent so far.
	Upload(ctx context.Context, local, path string, mode uint32, progress func(sent int64)) error
	// WriteFile writes data to path on the host atomically.
	WriteFile(ctx context.Context, path string, data []byte, mode uint32) error
	// ReadFile reads a file on the host.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Remove removes a file or an empty folder; a missing one is no error.
	Remove(ctx context.Context, path string) error
	// Mkdir creates one folder; it fails if the folder exists (a lock).
	Mkdir(ctx context.Context, path string) error
	// Stat describes a file on the host.
	Stat(ctx context.Context, path string) (os.FileInfo, error)
	// Close releases the connection.
	Close() error
}

// Output runs cmd and returns its standard output; on failure the error
// carries the command's standard error.
func Output(ctx context.Context, t Transport, cmd string) ([]byte, error) {
	var out, errb bytes.Buffer
	if err := t.Run(ctx, cmd, &out, &errb); err != nil {
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return out.Bytes(), fmt.Errorf("%w: %s", err, lastLines(msg, 5))
		}
		return out.Bytes(), err
	}
	return out.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// IsTransient tells a failure worth retrying on a new connection (the
// connection was reset or lost) from a permanent one.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection reset", "broken pipe", "connection lost", "use of closed network connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes every word of argv and joins them into a command line.
func Join(argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
