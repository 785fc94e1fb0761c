package transport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
)

// Only a lost or reset connection is worth a retry; a refusal by the host
// (permissions, a missing folder, a full disk) is permanent.
func TestIsTransient(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.EOF, true},
		{fmt.Errorf("write .zkctl.tmp1: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("sftp: %w", syscall.EPIPE), true},
		{errors.New("connection lost"), true},
		{errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer"), true},
		{fmt.Errorf("create /opt/zkctl/bin/.zkctl.tmp: %w", os.ErrPermission), false},
		{fmt.Errorf("mkdir: %w", os.ErrNotExist), false},
		{fmt.Errorf("write: %w", syscall.ENOSPC), false},
		{errors.New("sftp: \"Permission denied\" (SSH_FX_PERMISSION_DENIED)"), false},
	}
	for _, c := range cases {
		if got := IsTransient(c.err); got != c.want {
			t.Errorf("IsTransient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
