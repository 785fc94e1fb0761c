package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Only a lost or reset connection is worth a retry; a refusal by the host
// (permissions, a missing folder, a full disk) is permanent. The errors are
// built the way the SSH transport returns them: through lost, which marks
// the library errors that mean a lost connection with ErrConnLost.
func TestIsTransient(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{lost(io.EOF), true},
		{lost(fmt.Errorf("write .zkctl.tmp1: %w", syscall.ECONNRESET)), true},
		{lost(fmt.Errorf("sftp: %w", syscall.EPIPE)), true},
		{lost(fmt.Errorf("write .zkctl.tmp1: %w", sftp.ErrSSHFxConnectionLost)), true},
		{lost(reset), true},
		{lost(fmt.Errorf("ssh session: %w", net.ErrClosed)), true},
		{lost(&ssh.ExitMissingError{}), true},
		{fmt.Errorf("upload zkctl: %w", lost(io.ErrUnexpectedEOF)), true}, // still transient once wrapped
		{lost(fmt.Errorf("create /opt/zkctl/bin/.zkctl.tmp: %w", os.ErrPermission)), false},
		{lost(fmt.Errorf("mkdir: %w", os.ErrNotExist)), false},
		{lost(fmt.Errorf("write: %w", syscall.ENOSPC)), false},
		{lost(&sftp.StatusError{Code: 3}), false}, // SSH_FX_PERMISSION_DENIED
		{lost(context.Canceled), false},
		// Not marked by a transport: the message alone decides nothing.
		{io.EOF, false},
		{errors.New("connection lost"), false},
		{errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer"), false},
	}
	for _, c := range cases {
		if got := IsTransient(c.err); got != c.want {
			t.Errorf("IsTransient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	// The mark changes neither the message nor what the error matches.
	err := lost(reset)
	if err.Error() != reset.Error() || !errors.Is(err, syscall.ECONNRESET) || !errors.Is(err, ErrConnLost) {
		t.Errorf("marked %q: message %q, Is(ECONNRESET) %v", reset, err, errors.Is(err, syscall.ECONNRESET))
	}
}

// recorder is a Runner that notes the command lines it is given and fails
// with err.
type recorder struct {
	cmds []string
	err  error
}

func (r *recorder) Run(_ context.Context, cmd string, _, _ io.Writer) error {
	r.cmds = append(r.cmds, cmd)
	return r.err
}

// exitError is the error of a real command that exited with status.
func exitError(t *testing.T, status int) error {
	err := exec.Command("/bin/sh", "-c", fmt.Sprintf("exit %d", status)).Run()
	if s, ok := ExitStatus(err); !ok || s != status {
		t.Fatalf("exit %d: got %v", status, err)
	}
	return err
}

// The sudo decorator hands the whole command line, quoted, to one
// `sudo -n /bin/sh -c`, and checks once that sudo needs no password.
func TestSudoRunner(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	r, err := withSudo(ctx, rec, "deployer")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"true":                          "sudo -n /bin/sh -c true",
		"mkdir -p /opt/zk && echo ok":   "sudo -n /bin/sh -c 'mkdir -p /opt/zk && echo ok'",
		"cat '/opt/it'\\''s'":           `sudo -n /bin/sh -c 'cat '\''/opt/it'\''\'\'''\''s'\'''`,
		"echo $HOME; rm -f /tmp/x 2>&1": `sudo -n /bin/sh -c 'echo $HOME; rm -f /tmp/x 2>&1'`,
	}
	for cmd, want := range cases {
		rec.cmds = nil
		if err := r.Run(ctx, cmd, nil, nil); err != nil {
			t.Fatal(err)
		}
		if len(rec.cmds) != 1 || rec.cmds[0] != want {
			t.Errorf("sudo of %q ran %q, want %q", cmd, rec.cmds, want)
		}
	}
	// The quoting holds: a real shell given the wrapped line (with sudo
	// swapped for env) runs the original command.
	out, err := exec.Command("/bin/sh", "-c", strings.Replace(sudoCommand(`printf '%s|' "a b" 'it'\''s'`), "sudo -n", "env", 1)).Output()
	if err != nil || string(out) != "a b|it's|" {
		t.Errorf("wrapped command printed %q (%v)", out, err)
	}

	if _, err := withSudo(ctx, &recorder{err: exitError(t, 1)}, "deployer"); err == nil || !strings.Contains(err.Error(), "sudo needs a password for deployer") {
		t.Errorf("sudo refusing without a password: %v", err)
	}
	if _, err := withSudo(ctx, &recorder{err: exitError(t, 127)}, "deployer"); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("no sudo on the host: %v", err)
	}
	if _, err := withSudo(ctx, &recorder{err: lost(io.EOF)}, "deployer"); err == nil || strings.Contains(err.Error(), "password") || !IsTransient(err) {
		t.Errorf("a lost connection is not a sudo refusal: %v", err)
	}
}

// The exclusive create of a sudo host, run by a real shell: it creates the
// file and its folder once, then answers existsStatus.
func TestCreateScript(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "run", "deploy.lock")
	if _, err := Output(ctx, Local{}, createScript(p, []byte("me 42\n"), 0o640)); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(p); string(data) != "me 42\n" {
		t.Fatalf("lock holds %q", data)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	_, err := Output(ctx, Local{}, createScript(p, []byte("other 1\n"), 0o640))
	if s, ok := ExitStatus(err); !ok || s != existsStatus {
		t.Fatalf("second create: %v, want exit %d", err, existsStatus)
	}
	if data, _ := os.ReadFile(p); string(data) != "me 42\n" {
		t.Fatalf("second create overwrote the lock: %q", data)
	}
}

func TestLocalCreateExclusive(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "run", "deploy.lock")
	if err := (Local{}).CreateExclusive(ctx, p, []byte("me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (Local{}).CreateExclusive(ctx, p, []byte("other"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second create: %v, want fs.ErrExist", err)
	}
}
