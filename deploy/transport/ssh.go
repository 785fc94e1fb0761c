package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	Jump                  []Hop // bastions, outermost first: ProxyJump
	// HostKeyAlias is the name the host's key is looked up (and added)
	// under in KnownHosts, as ssh's HostKeyAlias; "" = Address.
	HostKeyAlias string
	// Resolver resolves an Address that is a name; nil = the system's.
	Resolver *net.Resolver
}

// Hop is one jump host. It is logged in to with the same keys (and its
// own IdentityFile first, when set) and the same known_hosts as the host
// behind it.
type Hop struct {
	User, Address string
	Port          int
	IdentityFile  string
}

// SSH is one reused SSH connection (and a lazily opened SFTP session).
// How it runs commands and moves files is chosen once, when it is dialed:
// straight as the login user, or through sudo (SSHConfig.Sudo).
type SSH struct {
	cfg    SSHConfig
	client *ssh.Client
	hops   []*ssh.Client // the jump hosts' connections, outermost first
	runner Runner        // sessionRunner, or sudoRunner around it
	files  fileOps       // sftpFiles, or sudoFiles

	mu   sync.Mutex
	sftp *sftp.Client
	peer string // ControllerAddr behind jump hosts, once asked
}

// DialSSH connects and authenticates, verifying the host key, directly or
// through the jump hosts of cfg.Jump in turn. Errors say which of refused,
// timed out, not speaking SSH, unknown or changed key, or authentication
// failed, happened, and on which hop.
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
	s := &SSH{cfg: cfg}
	var via *ssh.Client
	for _, hop := range cfg.Jump {
		hc := cfg
		hc.User, hc.Address, hc.Port, hc.HostKeyAlias = hop.User, hop.Address, hop.Port, ""
		hopAuth := auth
		if hop.IdentityFile != "" && hop.IdentityFile != cfg.IdentityFile {
			hc.IdentityFile = hop.IdentityFile
			var closeHopAgent func()
			if hopAuth, closeHopAgent, err = authMethods(hc); err != nil {
				s.closeHops()
				return nil, fmt.Errorf("jump host %s: %w", hc.login(), err)
			}
			defer closeHopAgent()
		}
		c, err := handshake(ctx, hc, via, hopAuth, hostKey)
		if err != nil {
			s.closeHops()
			return nil, fmt.Errorf("jump host %s: %w", hc.login(), err)
		}
		s.hops, via = append(s.hops, c), c
	}
	if s.client, err = handshake(ctx, cfg, via, auth, hostKey); err != nil {
		s.closeHops()
		if via != nil {
			last := cfg.Jump[len(cfg.Jump)-1]
			err = fmt.Errorf("%w (through the jump host %s@%s)", err, last.User, last.Address)
		}
		return nil, err
	}
	s.runner, s.files = sessionRunner{client: s.client}, sftpFiles{s: s}
	if cfg.Sudo {
		r, err := withSudo(ctx, s.runner, cfg.User)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.runner, s.files = r, sudoFiles{s: s, run: r}
	}
	return s, nil
}

// login is "user@address:port".
func (cfg SSHConfig) login() string {
	return cfg.User + "@" + net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
}

// handshake opens a TCP connection to cfg's address, from this machine or
// through via, and logs in. DialTimeout bounds both, also through a hop,
// whose channels have no deadlines: the connection is closed when it
// passes.
func handshake(ctx context.Context, cfg SSHConfig, via *ssh.Client, auth []ssh.AuthMethod, hostKey ssh.HostKeyCallback) (*ssh.Client, error) {
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	var conn net.Conn
	var err error
	if via == nil {
		conn, err = (&net.Dialer{Resolver: cfg.Resolver}).DialContext(dctx, "tcp", addr)
	} else {
		conn, err = via.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		return nil, withKind(ErrUnreachable, describeDialError(addr, err))
	}
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	// The name the host key is verified under: ssh's HostKeyAlias, which
	// known_hosts lists without a port.
	keyName := addr
	if cfg.HostKeyAlias != "" {
		keyName = net.JoinHostPort(cfg.HostKeyAlias, "22")
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, keyName, &ssh.ClientConfig{
		User: cfg.User, Auth: auth, HostKeyCallback: hostKey, Timeout: cfg.DialTimeout,
	})
	if !stop() {
		if err == nil {
			cc.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, withKind(ErrUnreachable, fmt.Errorf("ssh handshake with %s: no answer within %v (not an SSH server?)", addr, cfg.DialTimeout))
	}
	if err != nil {
		conn.Close()
		return nil, describeHandshakeError(addr, cfg, err)
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

func describeDialError(addr string, err error) error {
	var ne net.Error
	var dns *net.DNSError
	msg := strings.ToLower(err.Error())
	switch {
	case errors.As(err, &dns) && !dns.IsTimeout:
		return fmt.Errorf("connect %s: %q is neither an IP address nor a name this machine resolves (%v): use an IP address, a name in /etc/hosts or DNS, or a Host alias of ssh_config", addr, dns.Name, dns.Err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("connect %s: timed out (host down or filtered?)", addr)
	case strings.Contains(msg, "connection refused"):
		return fmt.Errorf("connect %s: connection refused (is sshd running?)", addr)
	case strings.Contains(msg, "administratively prohibited"):
		return fmt.Errorf("connect %s: the jump host refuses to forward TCP (AllowTcpForwarding in its sshd_config): %w", addr, err)
	}
	return fmt.Errorf("connect %s: %w", addr, err)
}

func describeHandshakeError(addr string, cfg SSHConfig, err error) error {
	var ke *knownhosts.KeyError
	var ne net.Error
	switch {
	case errors.As(err, &ke):
		return withKind(ErrHostKey, err) // already explained by hostKeyCallback
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return withKind(ErrUnreachable, fmt.Errorf("ssh handshake with %s: no answer within %v (not an SSH server?)", addr, cfg.DialTimeout))
	case strings.Contains(err.Error(), "unable to authenticate"):
		return withKind(ErrLogin, fmt.Errorf("ssh %s@%s: authentication failed: %v (check identity_file %q or ssh-agent, and authorized_keys)", cfg.User, addr, err, cfg.IdentityFile))
	case errors.Is(err, io.EOF):
		return withKind(ErrUnreachable, fmt.Errorf("ssh handshake with %s: connection closed by the server", addr))
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

// ControllerAddr is the address the host sees the controller connect from
// (an IP, without the port): this machine's end of the connection, or
// behind jump hosts the innermost hop's, as the host's sshd reports it in
// $SSH_CONNECTION (asked once).
func (s *SSH) ControllerAddr(ctx context.Context) (string, error) {
	if len(s.hops) == 0 {
		return addrIP(s.client.LocalAddr().String()), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer != "" {
		return s.peer, nil
	}
	out, err := Output(ctx, sessionRunner{client: s.client}, `printf '%s' "$SSH_CONNECTION"`)
	if err != nil {
		return "", lost(fmt.Errorf("ask the host for $SSH_CONNECTION: %w", err))
	}
	f := strings.Fields(string(out))
	if len(f) != 4 {
		return "", fmt.Errorf("$SSH_CONNECTION on the host is %q, want \"client-ip port server-ip port\"", out)
	}
	s.peer = addrIP(net.JoinHostPort(f[0], f[1]))
	return s.peer, nil
}

// addrIP is the IP of "ip:port", an IPv4-mapped address unmapped.
func addrIP(hostport string) string {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap.Addr().Unmap().String()
	}
	host, _, _ := net.SplitHostPort(hostport)
	return host
}

// lostConn tells the errors by which the SSH and SFTP libraries and the
// network report a connection that went away mid-operation.
func lostConn(err error) bool {
	for _, target := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, net.ErrClosed, sftp.ErrSSHFxConnectionLost} {
		if errors.Is(err, target) {
			return true
		}
	}
	var missing *ssh.ExitMissingError // the session ended without the command's exit status
	return errors.As(err, &missing)
}

// lost marks err with ErrConnLost when it reports a lost connection.
func lost(err error) error { return markLost(err, lostConn) }

// Run runs cmd on the host (through sudo when the host asks for it).
func (s *SSH) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	return lost(s.runner.Run(ctx, cmd, stdout, stderr))
}

// sessionRunner runs each command in a new session of an SSH connection;
// ctx cancellation signals the command and closes the session.
type sessionRunner struct{ client *ssh.Client }

func (r sessionRunner) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	sess, err := r.client.NewSession()
	if err != nil {
		return lost(fmt.Errorf("ssh session: %w", err))
	}
	defer sess.Close()
	sess.Stdout, sess.Stderr = stdout, stderr
	// Keep the remote standard input open while the command runs: its end
	// tells a long-running agent (tail -f) that the controller is gone.
	stdin, err := sess.StdinPipe()
	if err != nil {
		return lost(fmt.Errorf("ssh session: %w", err))
	}
	defer stdin.Close()
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err = <-done:
		return lost(err)
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGTERM)
		sess.Close()
		return ctx.Err()
	}
}

// sudoRunner decorates a runner: every command line runs as root, as one
// `sudo -n /bin/sh -c` of the whole line (-n: fail rather than prompt).
type sudoRunner struct{ next Runner }

func (r sudoRunner) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	return r.next.Run(ctx, sudoCommand(cmd), stdout, stderr)
}

// sudoCommand is cmd run as root by sudo, without a password prompt.
func sudoCommand(cmd string) string { return "sudo -n /bin/sh -c " + Quote(cmd) }

// withSudo returns next decorated with sudo, after checking once that sudo
// works there without a password: a refusal is reported here, when the
// host is dialed, rather than as the failure of some later command.
func withSudo(ctx context.Context, next Runner, user string) (Runner, error) {
	r := sudoRunner{next: next}
	_, err := Output(ctx, r, "true")
	if err == nil {
		return r, nil
	}
	switch status, exited := ExitStatus(err); {
	case exited && status == 127:
		return nil, withKind(ErrSudo, fmt.Errorf("sudo is not installed on the host: install it, or log in as root (%w)", err))
	case exited:
		return nil, withKind(ErrSudo, fmt.Errorf("sudo needs a password for %s: allow passwordless sudo (NOPASSWD) or log in as root (sudo -n true: %w)", user, err))
	}
	return nil, fmt.Errorf("check sudo: %w", err)
}

func (s *SSH) sftpClient() (*sftp.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sftp != nil {
		return s.sftp, nil
	}
	c, err := sftp.NewClient(s.client, sftp.UseConcurrentWrites(true))
	if err != nil {
		return nil, lost(fmt.Errorf("sftp: %w", err))
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
	return lost(s.files.put(ctx, dst, mode, &progressReader{ctx: ctx, r: src, progress: progress}))
}

// WriteFile writes data to path atomically.
func (s *SSH) WriteFile(ctx context.Context, dst string, data []byte, mode uint32) error {
	return lost(s.files.put(ctx, dst, mode, &progressReader{ctx: ctx, r: bytes.NewReader(data)}))
}

// CreateExclusive creates path holding data; fs.ErrExist if it exists.
func (s *SSH) CreateExclusive(ctx context.Context, p string, data []byte, mode uint32) error {
	return lost(s.files.createExclusive(ctx, p, data, mode))
}

// ReadFile reads path over SFTP (with sudo, through cat).
func (s *SSH) ReadFile(ctx context.Context, p string) ([]byte, error) {
	data, err := s.files.readFile(ctx, p)
	return data, lost(err)
}

// Remove removes a file or an empty folder over SFTP (with sudo, rm/rmdir).
func (s *SSH) Remove(ctx context.Context, p string) error { return lost(s.files.remove(ctx, p)) }

// Stat describes a file over SFTP (not with sudo: see errNeedsSudo).
func (s *SSH) Stat(ctx context.Context, p string) (os.FileInfo, error) {
	st, err := s.files.stat(ctx, p)
	return st, lost(err)
}

// Close closes the SFTP session and the connection.
func (s *SSH) Close() error {
	s.mu.Lock()
	if s.sftp != nil {
		s.sftp.Close()
	}
	s.mu.Unlock()
	err := s.client.Close()
	s.closeHops()
	return err
}

// closeHops closes the jump hosts' connections, innermost first.
func (s *SSH) closeHops() {
	for i := len(s.hops) - 1; i >= 0; i-- {
		s.hops[i].Close()
	}
}

// Dial opens a TCP connection from the host to addr: a direct-tcpip channel
// of the SSH connection, the tunnel by which the controller reaches a
// client port it cannot reach itself.
func (s *SSH) Dial(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := s.client.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, lost(fmt.Errorf("tunnel to %s through %s: %w", addr, s.cfg.Host, err))
	}
	return conn, nil
}
