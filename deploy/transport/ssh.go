package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHConfig says how to reach and trust one host.
type SSHConfig struct {
	Host                  string // inventory name, for messages
	Address               string
	Port                  int
	User                  string
	IdentityFile          string // "" = ssh-agent only
	KnownHosts            string
	InsecureIgnoreHostKey bool
	AcceptNew             bool // add unknown host keys to KnownHosts (never changed ones)
	Sudo                  bool
	DialTimeout           time.Duration
}

// SSH is one reused SSH connection (and a lazily opened SFTP session).
type SSH struct {
	cfg    SSHConfig
	client *ssh.Client

	mu   sync.Mutex
	sftp *sftp.Client
}

// DialSSH connects and authenticates, verifying the host key. Errors say
// which of refused, timed out, not speaking SSH, unknown or changed key, or
// authentication failed, happened.
func DialSSH(ctx context.Context, cfg SSHConfig) (*SSH, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	auth, closeAgent, err := authMethods(cfg)
	if err != nil {
		return nil, err
	}
	defer closeAgent()
	hostKey, err := hostKeyCallback(cfg)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	d := net.Dialer{Timeout: cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, describeDialError(addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(cfg.DialTimeout))
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: cfg.User, Auth: auth, HostKeyCallback: hostKey, Timeout: cfg.DialTimeout,
	})
	if err != nil {
		conn.Close()
		return nil, describeHandshakeError(addr, cfg, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return &SSH{cfg: cfg, client: ssh.NewClient(cc, chans, reqs)}, nil
}

func describeDialError(addr string, err error) error {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("connect %s: timed out (host down or filtered?)", addr)
	case strings.Contains(err.Error(), "connection refused"):
		return fmt.Errorf("connect %s: connection refused (is sshd running?)", addr)
	}
	return fmt.Errorf("connect %s: %w", addr, err)
}

func describeHandshakeError(addr string, cfg SSHConfig, err error) error {
	var ke *knownhosts.KeyError
	var ne net.Error
	switch {
	case errors.As(err, &ke):
		return err // already explained by hostKeyCallback
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("ssh handshake with %s: no answer within %v (not an SSH server?)", addr, cfg.DialTimeout)
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("ssh %s@%s: authentication failed: %v (check identity_file %q or ssh-agent, and authorized_keys)", cfg.User, addr, err, cfg.IdentityFile)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("ssh handshake with %s: connection closed by the server", addr)
	}
	return fmt.Errorf("ssh handshake with %s: %w", addr, err)
}

// authMethods offers the identity file's key, then the agent's keys.
func authMethods(cfg SSHConfig) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	if cfg.IdentityFile != "" {
		pem, err := os.ReadFile(cfg.IdentityFile)
		if err != nil && os.Getenv("SSH_AUTH_SOCK") == "" {
			return nil, nil, fmt.Errorf("identity_file: %w (and no ssh-agent: SSH_AUTH_SOCK is unset)", err)
		}
		if err == nil {
			s, perr := ssh.ParsePrivateKey(pem)
			var missing *ssh.PassphraseMissingError
			switch {
			case errors.As(perr, &missing):
				if os.Getenv("SSH_AUTH_SOCK") == "" {
					return nil, nil, fmt.Errorf("identity_file %s is passphrase-protected: load it into ssh-agent (ssh-add)", cfg.IdentityFile)
				}
			case perr != nil:
				return nil, nil, fmt.Errorf("identity_file %s: %w", cfg.IdentityFile, perr)
			default:
				signers = append(signers, s)
			}
		}
	}
	closer := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if c, err := net.Dial("unix", sock); err == nil {
			if more, err := agent.NewClient(c).Signers(); err == nil {
				signers = append(signers, more...)
			}
			closer = func() { c.Close() }
		}
	}
	if len(signers) == 0 {
		return nil, nil, errors.New("no SSH key: set identity_file in [ssh] or load a key into ssh-agent")
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closer, nil
}

// hostKeyCallback verifies against known_hosts; a changed key is always
// refused, an unknown one unless AcceptNew.
func hostKeyCallback(cfg SSHConfig) (ssh.HostKeyCallback, error) {
	if cfg.InsecureIgnoreHostKey {
		return ssh.InsecureIgnoreHostKey(), nil
	}
	if _, err := os.Stat(cfg.KnownHosts); errors.Is(err, os.ErrNotExist) && cfg.AcceptNew {
		if err := os.WriteFile(cfg.KnownHosts, nil, 0o600); err != nil {
			return nil, fmt.Errorf("create known_hosts: %w", err)
		}
	}
	check, err := knownhosts.New(cfg.KnownHosts)
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w (create it, or deploy with --accept-new)", cfg.KnownHosts, err)
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) {
			return err
		}
		fp := ssh.FingerprintSHA256(key)
		kh := knownhosts.Normalize(hostname)
		if len(ke.Want) > 0 {
			return fmt.Errorf("host key of %s CHANGED (now %s %s): refusing to connect. If the host was reinstalled, remove the old key with:\n  ssh-keygen -f %s -R %s\n%w",
				hostname, key.Type(), fp, cfg.KnownHosts, kh, ke)
		}
		if !cfg.AcceptNew {
			return fmt.Errorf("host key of %s is unknown (%s %s): not in %s; verify it and rerun with --accept-new: %w",
				hostname, key.Type(), fp, cfg.KnownHosts, ke)
		}
		return appendKnownHost(cfg.KnownHosts, kh, key)
	}, nil
}

func appendKnownHost(file, host string, key ssh.PublicKey) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("add host key to %s: %w", file, err)
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{host}, key))
	return err
}

// LocalAddr is this machine's end of the SSH connection, the address the
// host sees the controller connect from (its IP, without the port).
func (s *SSH) LocalAddr() string {
	if ap, err := netip.ParseAddrPort(s.client.LocalAddr().String()); err == nil {
		return ap.Addr().Unmap().String()
	}
	host, _, _ := net.SplitHostPort(s.client.LocalAddr().String())
	return host
}

// wrap adds sudo when the host asks for it.
func (s *SSH) wrap(cmd string) string {
	if !s.cfg.Sudo {
		return cmd
	}
	return "sudo -n /bin/sh -c " + Quote(cmd)
}

// Run runs cmd in a new session; ctx cancellation closes the session.
func (s *SSH) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	sess, err := s.client.NewSession()
	if err != nil {
		return fmt.Errorf("ssh session: %w", err)
	}
	defer sess.Close()
	var errTail tailBuffer
	sess.Stdout = stdout
	sess.Stderr = io.MultiWriter(orDiscard(stderr), &errTail)
	// Keep the remote standard input open while the command runs: its end
	// tells a long-running agent (tail -f) that the controller is gone.
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fmt.Errorf("ssh session: %w", err)
	}
	defer stdin.Close()
	done := make(chan error, 1)
	go func() { done <- sess.Run(s.wrap(cmd)) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGTERM)
		sess.Close()
		return ctx.Err()
	}
	if err != nil && s.cfg.Sudo && strings.Contains(errTail.String(), "password is required") {
		return fmt.Errorf("sudo needs a password for %s: allow passwordless sudo (NOPASSWD) or log in as root", s.cfg.User)
	}
	return err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func (s *SSH) sftpClient() (*sftp.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sftp != nil {
		return s.sftp, nil
	}
	c, err := sftp.NewClient(s.client, sftp.UseConcurrentWrites(true))
	if err != nil {
		return nil, fmt.Errorf("sftp: %w", err)
	}
	s.sftp = c
	return c, nil
}

// Upload sends local to path over SFTP via a temporary file and a rename.
// With sudo, the file is staged in /tmp and moved into place by sudo.
func (s *SSH) Upload(ctx context.Context, local, dst string, mode uint32, progress func(int64)) error {
	src, err := os.Open(local)
	if err != nil {
		return err
	}
	defer src.Close()
	return s.put(ctx, dst, mode, &progressReader{ctx: ctx, r: src, progress: progress})
}

// WriteFile writes data to path atomically.
func (s *SSH) WriteFile(ctx context.Context, dst string, data []byte, mode uint32) error {
	return s.put(ctx, dst, mode, &progressReader{ctx: ctx, r: strings.NewReader(string(data))})
}

func (s *SSH) put(ctx context.Context, dst string, mode uint32, r io.Reader) error {
	c, err := s.sftpClient()
	if err != nil {
		return err
	}
	stageDir := path.Dir(dst)
	if s.cfg.Sudo {
		stageDir = "/tmp"
	} else if err := c.MkdirAll(stageDir); err != nil {
		return fmt.Errorf("mkdir %s: %w", stageDir, err)
	}
	tmp := path.Join(stageDir, fmt.Sprintf(".%s.tmp%d", path.Base(dst), time.Now().UnixNano()))
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	_, err = f.ReadFrom(r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.Chmod(tmp, os.FileMode(mode))
	}
	if err != nil {
		_ = c.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if s.cfg.Sudo {
		mv := Join("mkdir", "-p", path.Dir(dst)) + " && " + Join("mv", "-f", tmp, dst)
		if _, err := Output(ctx, s, mv); err != nil {
			return fmt.Errorf("move into %s: %w", dst, err)
		}
		return nil
	}
	if err := c.PosixRename(tmp, dst); err != nil {
		_ = c.Remove(tmp)
		return fmt.Errorf("rename to %s: %w", dst, err)
	}
	return nil
}

// ReadFile reads path over SFTP (with sudo, through cat).
func (s *SSH) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if s.cfg.Sudo {
		return Output(ctx, s, Join("cat", p))
	}
	c, err := s.sftpClient()
	if err != nil {
		return nil, err
	}
	f, err := c.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Remove removes a file or an empty folder over SFTP (with sudo, rm/rmdir).
func (s *SSH) Remove(ctx context.Context, p string) error {
	if s.cfg.Sudo {
		_, err := Output(ctx, s, "rmdir "+Quote(p)+" 2>/dev/null || rm -f "+Quote(p))
		return err
	}
	c, err := s.sftpClient()
	if err != nil {
		return err
	}
	if err := c.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// errNeedsSudo marks an SFTP shortcut that a sudo host cannot take: the
// login user may not see what root owns.
var errNeedsSudo = errors.New("not over SFTP with sudo")

// Mkdir creates one folder over SFTP.
func (s *SSH) Mkdir(ctx context.Context, p string) error {
	if s.cfg.Sudo {
		return errNeedsSudo
	}
	c, err := s.sftpClient()
	if err != nil {
		return err
	}
	return c.Mkdir(p)
}

// Stat describes a file over SFTP.
func (s *SSH) Stat(ctx context.Context, p string) (os.FileInfo, error) {
	if s.cfg.Sudo {
		return nil, errNeedsSudo
	}
	c, err := s.sftpClient()
	if err != nil {
		return nil, err
	}
	return c.Stat(p)
}

// Close closes the SFTP session and the connection.
func (s *SSH) Close() error {
	s.mu.Lock()
	if s.sftp != nil {
		s.sftp.Close()
	}
	s.mu.Unlock()
	return s.client.Close()
}
