// Package transport runs commands and moves files on a host: over SSH
// (golang.org/x/crypto/ssh + SFTP, host keys verified against known_hosts,
// commands optionally through sudo) or on this machine (local). The
// controller sees both through Transport. It owns the classification of
// transport failures: ErrConnLost marks the ones worth a retry on a new
// connection. It imports only the standard library, the SSH and SFTP
// libraries and internal/fsutil.
package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Transport is the connection to one host. Implementations are safe for
// concurrent use.
type Transport interface {
	Runner
	// Upload copies the local file to path on the host through a temporary
	// file and a rename, so path is never half-written. progress, if set,
	// is called with the bytes sent so far.
	Upload(ctx context.Context, local, path string, mode uint32, progress func(sent int64)) error
	// WriteFile writes data to path on the host atomically.
	WriteFile(ctx context.Context, path string, data []byte, mode uint32) error
	// CreateExclusive creates path holding data, and its folder if needed;
	// it fails with an error matching fs.ErrExist when path exists (a lock).
	CreateExclusive(ctx context.Context, path string, data []byte, mode uint32) error
	// ReadFile reads a file on the host.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Remove removes a file or an empty folder; a missing one is no error.
	Remove(ctx context.Context, path string) error
	// Stat describes a file on the host.
	Stat(ctx context.Context, path string) (os.FileInfo, error)
	// Dial opens a TCP connection from the host to addr ("ip:port"): for
	// SSH a tunnel through the connection.
	Dial(ctx context.Context, addr string) (net.Conn, error)
	// Close releases the connection.
	Close() error
}

// Runner runs one shell command line on a host, streaming its output: the
// command-running half of a transport, the part sudo decorates.
type Runner interface {
	Run(ctx context.Context, cmd string, stdout, stderr io.Writer) error
}

// Output runs cmd and returns its standard output; on failure the error
// carries the command's standard error.
func Output(ctx context.Context, r Runner, cmd string) ([]byte, error) {
	var out, errb bytes.Buffer
	if err := r.Run(ctx, cmd, &out, &errb); err != nil {
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

// ErrConnLost marks a failure because the connection to the host was lost
// or reset. Retry policy: the operation may be tried again on a new
// connection (deploy reconnects and retries a few times with a backoff);
// every other transport error is permanent and returned at once.
var ErrConnLost = errors.New("connection lost")

// IsTransient tells a failure worth retrying on a new connection (one the
// transport marked with ErrConnLost) from a permanent one.
func IsTransient(err error) bool { return errors.Is(err, ErrConnLost) }

// lostError is a failure the transport recognised as a lost connection. Its
// message is the cause's; it matches both ErrConnLost and the cause.
type lostError struct{ cause error }

func (e *lostError) Error() string   { return e.cause.Error() }
func (e *lostError) Unwrap() []error { return []error{ErrConnLost, e.cause} }

// markLost wraps err with ErrConnLost when lost says it is a lost connection.
func markLost(err error, lost func(error) bool) error {
	if err == nil || errors.Is(err, ErrConnLost) || !lost(err) {
		return err
	}
	return &lostError{cause: err}
}

// What failed when a host could not be dialed (DialSSH), for whoever
// reports it by kind (`zkctl check`): the errors match one of these with
// errors.Is. Retry policy: none of them is transient; each needs a fix.
var (
	ErrUnreachable = errors.New("unreachable")   // no TCP connection or no SSH server, on the host or a jump host
	ErrHostKey     = errors.New("host key")      // unknown or changed host key
	ErrLogin       = errors.New("login refused") // the keys were refused
	ErrSudo        = errors.New("sudo refused")  // sudo missing or asking for a password
)

// kindError is a failure marked with its kind; its message is the cause's.
type kindError struct{ kind, cause error }

func (e *kindError) Error() string   { return e.cause.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.cause} }

func withKind(kind, err error) error { return &kindError{kind: kind, cause: err} }

// ExitStatus returns the exit status of a command that ran and failed (on
// either transport); ok is false when err is not such a failure (the
// command could not be started, the connection was lost…).
func ExitStatus(err error) (status int, ok bool) {
	var se *ssh.ExitError
	if errors.As(err, &se) {
		return se.ExitStatus(), true
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return ee.ExitCode(), true
	}
	return 0, false
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
