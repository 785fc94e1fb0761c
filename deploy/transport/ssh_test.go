package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"zkctl/internal/testlab"
)

func labConfig(lab *testlab.Lab, i int) SSHConfig {
	h := lab.Hosts[i]
	return SSHConfig{Host: h.Name, Address: h.Addr, Port: h.SSHPort, User: "root",
		IdentityFile: lab.KeyFile, KnownHosts: lab.KnownHosts, DialTimeout: 5 * time.Second}
}

func TestSSH(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	lab := testlab.New(t, 1)
	ctx := context.Background()

	t.Run("run, upload, read, write", func(t *testing.T) {
		s, err := DialSSH(ctx, labConfig(lab, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		out, err := Output(ctx, s, "ip -4 -o addr show eth0")
		if err != nil || !strings.Contains(string(out), lab.Hosts[0].Addr) {
			t.Fatalf("command did not run on the host: %q %v", out, err)
		}
		if _, err := Output(ctx, s, "echo oops >&2; exit 3"); err == nil || !strings.Contains(err.Error(), "oops") {
			t.Fatalf("want the command's stderr in the error, got %v", err)
		}
		local := filepath.Join(t.TempDir(), "payload")
		payload := bytes.Repeat([]byte("zkctl"), 300_000)
		if err := os.WriteFile(local, payload, 0o644); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(lab.Hosts[0].Dir, "bin", "payload")
		var sent int64
		if err := s.Upload(ctx, local, dst, 0o755, func(n int64) { sent = n }); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadFile(ctx, dst)
		if err != nil || !bytes.Equal(got, payload) || sent != int64(len(payload)) {
			t.Fatalf("upload: read back %d bytes (err %v), progress %d, want %d", len(got), err, sent, len(payload))
		}
		if st, _ := os.Stat(dst); st.Mode().Perm() != 0o755 {
			t.Fatalf("mode %v, want 0755", st.Mode().Perm())
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".*tmp*"))
		if len(leftovers) > 0 {
			t.Fatalf("temporary files left: %v", leftovers)
		}
	})

	t.Run("interrupted upload keeps the old file", func(t *testing.T) {
		s, err := DialSSH(ctx, labConfig(lab, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		dst := filepath.Join(lab.Hosts[0].Dir, "bin", "keep")
		if err := s.WriteFile(ctx, dst, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		local := filepath.Join(t.TempDir(), "big")
		if err := os.WriteFile(local, make([]byte, 8<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		err = s.Upload(cctx, local, dst, 0o644, func(n int64) {
			if n > 1<<20 {
				cancel()
			}
		})
		if err == nil {
			t.Fatal("upload cancelled half-way reported success")
		}
		if got, _ := os.ReadFile(dst); string(got) != "old" {
			t.Fatalf("old file damaged: %d bytes", len(got))
		}
	})

	t.Run("exclusive create", func(t *testing.T) {
		for _, sudo := range []bool{false, true} {
			cfg := labConfig(lab, 0)
			cfg.Sudo = sudo
			s, err := DialSSH(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			lock := filepath.Join(lab.Hosts[0].Dir, fmt.Sprintf("run-sudo-%v", sudo), "deploy.lock")
			if err := s.CreateExclusive(ctx, lock, []byte("me 1\n"), 0o644); err != nil {
				t.Fatalf("sudo %v: create with its folder: %v", sudo, err)
			}
			if err := s.CreateExclusive(ctx, lock, []byte("other 2\n"), 0o644); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("sudo %v: second create: %v, want fs.ErrExist", sudo, err)
			}
			if got, err := s.ReadFile(ctx, lock); err != nil || string(got) != "me 1\n" {
				t.Fatalf("sudo %v: lock holds %q (%v)", sudo, got, err)
			}
			if err := s.Remove(ctx, lock); err != nil {
				t.Fatalf("sudo %v: remove: %v", sudo, err)
			}
			if err := s.CreateExclusive(ctx, lock, []byte("other 2\n"), 0o644); err != nil {
				t.Fatalf("sudo %v: create after remove: %v", sudo, err)
			}
		}
	})

	t.Run("sudo", func(t *testing.T) {
		cfg := labConfig(lab, 0)
		cfg.Sudo = true
		s, err := DialSSH(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if out, err := Output(ctx, s, "echo $SUDO_USER"); err != nil || strings.TrimSpace(string(out)) != "root" {
			t.Fatalf("command not run through sudo: %q %v", out, err)
		}
		dst := filepath.Join(lab.Hosts[0].Dir, "conf", "sudo-written")
		if err := s.WriteFile(ctx, dst, []byte("via /tmp"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ReadFile(ctx, dst); err != nil || string(got) != "via /tmp" {
			t.Fatalf("read back %q (%v)", got, err)
		}
		if st, _ := os.Stat(dst); st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", st.Mode().Perm())
		}
		if _, err := s.Stat(ctx, dst); !errors.Is(err, errNeedsSudo) {
			t.Fatalf("stat with sudo: %v, want errNeedsSudo", err)
		}
	})

	t.Run("unknown host key", func(t *testing.T) {
		cfg := labConfig(lab, 0)
		cfg.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(cfg.KnownHosts, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := DialSSH(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "unknown") || !strings.Contains(err.Error(), "--accept-new") {
			t.Fatalf("want unknown key refused, suggesting --accept-new; got %v", err)
		}
		cfg.AcceptNew = true
		s, err := DialSSH(ctx, cfg)
		if err != nil {
			t.Fatalf("accept-new: %v", err)
		}
		s.Close()
		cfg.AcceptNew = false
		s, err = DialSSH(ctx, cfg)
		if err != nil {
			t.Fatalf("key added by accept-new is not trusted afterwards: %v", err)
		}
		s.Close()
	})

	t.Run("authentication failure", func(t *testing.T) {
		cfg := labConfig(lab, 0)
		cfg.IdentityFile = strangerKey(t)
		_, err := DialSSH(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "authentication failed") {
			t.Fatalf("want authentication failed, got %v", err)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cfg := labConfig(lab, 0)
		cfg.Address, cfg.Port = "127.0.0.1", port
		_, err = DialSSH(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("want connection refused, got %v", err)
		}
	})

	t.Run("silent listener times out", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close() // hold it open, say nothing
			}
		}()
		cfg := labConfig(lab, 0)
		cfg.Address, cfg.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
		cfg.DialTimeout = time.Second
		start := time.Now()
		_, err = DialSSH(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "no answer within 1s") {
			t.Fatalf("want a handshake timeout, got %v", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("took %v with a 1s dial timeout", took)
		}
	})
}

// strangerKey writes a fresh key that no host authorizes.
func strangerKey(t *testing.T) string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_stranger")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain/path-1.2": "plain/path-1.2",
		"":               "''",
		"a b":            "'a b'",
		"it's":           `'it'\''s'`,
		"$(rm -rf /)":    "'$(rm -rf /)'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := Join("echo", "a b", strconv.Itoa(3)); got != "echo 'a b' 3" {
		t.Errorf("Join = %s", got)
	}
}
