package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/pkg/sftp"
)

// fileOps is how the SSH transport moves files. DialSSH picks one per host:
// sftpFiles, straight over SFTP as the login user, or sudoFiles, for hosts
// where zkctl's files belong to root and the login user may not even see
// them. Errors are returned unmarked; the SSH methods mark lost connections.
type fileOps interface {
	put(ctx context.Context, dst string, mode uint32, r io.Reader) error
	createExclusive(ctx context.Context, p string, data []byte, mode uint32) error
	readFile(ctx context.Context, p string) ([]byte, error)
	remove(ctx context.Context, p string) error
	stat(ctx context.Context, p string) (os.FileInfo, error)
}

// errNeedsSudo marks an SFTP shortcut that a sudo host cannot take: the
// login user may not see what root owns.
var errNeedsSudo = errors.New("not over SFTP with sudo")

// sendTemp writes r over SFTP into a new temporary file in dir named after
// dst, with mode, and returns its path; on failure nothing is left behind.
func sendTemp(c *sftp.Client, dir, dst string, mode uint32, r io.Reader) (string, error) {
	tmp := path.Join(dir, fmt.Sprintf(".%s.tmp%d", path.Base(dst), time.Now().UnixNano()))
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", tmp, err)
	}
	return tmp, fill(c, f, tmp, mode, r)
}

// fill writes r into f, just created at p, closes it and gives it mode; on
// failure p is removed.
func fill(c *sftp.Client, f *sftp.File, p string, mode uint32, r io.Reader) error {
	_, err := f.ReadFrom(r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.Chmod(p, os.FileMode(mode))
	}
	if err != nil {
		_ = c.Remove(p)
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// sftpFiles moves files over SFTP as the login user.
type sftpFiles struct{ s *SSH }

// put writes a temporary file beside dst and renames it into place.
func (f sftpFiles) put(_ context.Context, dst string, mode uint32, r io.Reader) error {
	c, err := f.s.sftpClient()
	if err != nil {
		return err
	}
	dir := path.Dir(dst)
	if err := c.MkdirAll(dir); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	tmp, err := sendTemp(c, dir, dst, mode, r)
	if err != nil {
		return err
	}
	if err := c.PosixRename(tmp, dst); err != nil {
		_ = c.Remove(tmp)
		return fmt.Errorf("rename to %s: %w", dst, err)
	}
	return nil
}

// createExclusive opens p with O_EXCL. SFTP version 3 has no "file exists"
// status (OpenSSH answers a plain SSH_FX_FAILURE), so a failed open is told
// apart by whether p is there.
func (f sftpFiles) createExclusive(_ context.Context, p string, data []byte, mode uint32) error {
	c, err := f.s.sftpClient()
	if err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	file, err := c.OpenFile(p, flags)
	if errors.Is(err, os.ErrNotExist) { // no folder yet
		if err := c.MkdirAll(path.Dir(p)); err != nil {
			return fmt.Errorf("mkdir %s: %w", path.Dir(p), err)
		}
		file, err = c.OpenFile(p, flags)
	}
	if err != nil {
		if _, serr := c.Lstat(p); serr == nil {
			return &fs.PathError{Op: "create", Path: p, Err: fs.ErrExist}
		}
		return fmt.Errorf("create %s: %w", p, err)
	}
	return fill(c, file, p, mode, bytes.NewReader(data))
}

func (f sftpFiles) readFile(_ context.Context, p string) ([]byte, error) {
	c, err := f.s.sftpClient()
	if err != nil {
		return nil, err
	}
	file, err := c.Open(p)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(file)
}

func (f sftpFiles) remove(_ context.Context, p string) error {
	c, err := f.s.sftpClient()
	if err != nil {
		return err
	}
	if err := c.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (f sftpFiles) stat(_ context.Context, p string) (os.FileInfo, error) {
	c, err := f.s.sftpClient()
	if err != nil {
		return nil, err
	}
	return c.Stat(p)
}

// sudoFiles moves files on a sudo host: writes are staged in /tmp over SFTP
// and moved into place by the sudo runner, which also reads and removes.
type sudoFiles struct {
	s   *SSH
	run Runner // the sudo-decorated runner
}

func (f sudoFiles) put(ctx context.Context, dst string, mode uint32, r io.Reader) error {
	c, err := f.s.sftpClient()
	if err != nil {
		return err
	}
	tmp, err := sendTemp(c, "/tmp", dst, mode, r)
	if err != nil {
		return err
	}
	mv := Join("mkdir", "-p", path.Dir(dst)) + " && " + Join("mv", "-f", tmp, dst)
	if _, err := Output(ctx, f.run, mv); err != nil {
		return fmt.Errorf("move into %s: %w", dst, err)
	}
	return nil
}

// existsStatus is the exit status of createScript when the file exists
// (EEXIST's number), so that the answer is read from the status, not from
// the shell's message.
const existsStatus = 17

// createScript creates p holding data with the shell's noclobber (an
// O_EXCL open), exiting with existsStatus when p is there.
func createScript(p string, data []byte, mode uint32) string {
	q := Quote(p)
	exists := "exit " + strconv.Itoa(existsStatus)
	return Join("mkdir", "-p", path.Dir(p)) + " || exit 1; " +
		"if [ -e " + q + " ]; then " + exists + "; fi; " +
		"(set -C; printf %s " + Quote(string(data)) + " > " + q + ") || { [ -e " + q + " ] && " + exists + "; exit 1; }; " +
		Join("chmod", strconv.FormatUint(uint64(mode), 8), p)
}

func (f sudoFiles) createExclusive(ctx context.Context, p string, data []byte, mode uint32) error {
	_, err := Output(ctx, f.run, createScript(p, data, mode))
	if status, ok := ExitStatus(err); ok && status == existsStatus {
		return &fs.PathError{Op: "create", Path: p, Err: fs.ErrExist}
	}
	return err
}

func (f sudoFiles) readFile(ctx context.Context, p string) ([]byte, error) {
	return Output(ctx, f.run, Join("cat", p))
}

func (f sudoFiles) remove(ctx context.Context, p string) error {
	_, err := Output(ctx, f.run, "rmdir "+Quote(p)+" 2>/dev/null || rm -f "+Quote(p))
	return err
}

func (f sudoFiles) stat(context.Context, string) (os.FileInfo, error) { return nil, errNeedsSudo }
