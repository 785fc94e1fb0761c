package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"zkctl/internal/fsutil"
)

// Local runs everything on this machine, for hosts with transport = "local".
// Its failures are never ErrConnLost: there is no connection to lose.
type Local struct{}

// Run runs cmd with sh -c.
func (Local) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Stdout, c.Stderr = stdout, stderr
	return c.Run()
}

// Dial connects to addr from this machine.
func (Local) Dial(ctx context.Context, addr string) (net.Conn, error) {
	return new(net.Dialer).DialContext(ctx, "tcp", addr)
}

// Upload copies local to path through a temporary file and a rename.
func (Local) Upload(ctx context.Context, local, path string, mode uint32, progress func(int64)) error {
	src, err := os.Open(local)
	if err != nil {
		return err
	}
	defer src.Close()
	return writeAtomic(path, mode, func(w io.Writer) error {
		_, err := io.Copy(w, &progressReader{ctx: ctx, r: src, progress: progress})
		return err
	})
}

// WriteFile writes data to path atomically.
func (Local) WriteFile(_ context.Context, path string, data []byte, mode uint32) error {
	return writeAtomic(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReadFile reads path.
func (Local) ReadFile(_ context.Context, path string) ([]byte, error) { return os.ReadFile(path) }

// Remove removes a file or an empty folder.
func (Local) Remove(_ context.Context, path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// CreateExclusive creates path holding data with O_EXCL, and its folder.
func (Local) CreateExclusive(_ context.Context, path string, data []byte, mode uint32) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(mode))
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Stat describes path.
func (Local) Stat(_ context.Context, path string) (os.FileInfo, error) { return os.Stat(path) }

// Close does nothing.
func (Local) Close() error { return nil }

func writeAtomic(path string, mode uint32, fill func(io.Writer) error) error {
	return fsutil.WriteAtomic(path, os.FileMode(mode), fill)
}

// progressReader reports bytes read and stops when ctx is done.
type progressReader struct {
	ctx      context.Context
	r        io.Reader
	n        int64
	progress func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.progress != nil && n > 0 {
		p.progress(p.n)
	}
	return n, err
}
