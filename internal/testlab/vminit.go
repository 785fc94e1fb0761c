package testlab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// initScript is PID 1 of a host: run by /bin/sh in the host's new PID, UTS,
// IPC and mount namespaces (the mount namespace already private, see
// bootHost) and its network namespace. Arguments: $1 upper, $2 work, $3 the
// merged root (a folder of this machine), $4 hostname, $5 the lab's apt
// repository on this machine or "". It mounts the overlay and the host's own
// /proc, /sys, /dev, /tmp and /run, pivots into the overlay (the old root is
// detached, so nothing of this machine's tree stays reachable, not even
// through /proc/1/root), starts sshd and reaps every orphan for ever: dash
// waits with wait3(-1), so any child that exits is reaped at once.
const initScript = `set -eu
U=$1 W=$2 R=$3 NAME=$4 REPO=$5
mount -t overlay overlay -o "lowerdir=/,upperdir=$U,workdir=$W" "$R"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o nosuid,nodev,noexec,ro sysfs "$R/sys"
mount -t tmpfs -o nosuid,mode=755,size=1m tmpfs "$R/dev"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
	n=${d%%:*}; r=${d#*:}; mknod -m 666 "$R/dev/$n" c "${r%:*}" "${r#*:}"
done
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs "$R/run"
if [ -n "$REPO" ]; then
	mkdir -p "$R` + RepoPath + `"
	mount --bind -o ro "$REPO" "$R` + RepoPath + `"
fi
hostname "$NAME"
cd "$R"
pivot_root . .
umount -l .
cd /
mkdir -p /run/sshd /run/lock
chmod 1777 /run/lock
/usr/sbin/sshd -D -e &
i=0
while [ ! -s /run/sshd.pid ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done
if [ -s /run/sshd.pid ]; then echo "zkctl-vm: up"; else echo "zkctl-vm: sshd did not start"; fi
while :; do sleep 1000000; done
`

// What initScript prints once sshd listens, or when it gave up on it (the
// host stays up without sshd, as a VM would).
const (
	readyMarker  = "zkctl-vm: up"
	noSSHDMarker = "zkctl-vm: sshd did not start"
)

// firstBootScript creates the host's login (run as root inside the host,
// once, on the first boot): $1 the profile, $2 the login, $3 the
// authorized public key, $4 the hostname.
const firstBootScript = `set -eu
P=$1 U=$2 KEY=$3 NAME=$4
printf '127.0.1.1\t%s\n' "$NAME" >>/etc/hosts
printf '%s\n' "$NAME" >/etc/hostname
cp -a /etc/skel/. /root/
if [ "$U" = root ]; then
	H=/root
else
	useradd -m -s /bin/bash -U "$U"
	usermod -p '*' "$U"
	H=/home/$U
fi
install -d -m 700 -o "$U" -g "$U" "$H/.ssh"
printf '%s\n' "$KEY" >"$H/.ssh/authorized_keys"
chown "$U:$U" "$H/.ssh/authorized_keys"
chmod 600 "$H/.ssh/authorized_keys"
if [ "$P" = fresh ]; then
	printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$U" >/etc/sudoers.d/90-zkctl-testlab
	chmod 440 /etc/sudoers.d/90-zkctl-testlab
fi
`

// sshdConfig is a host's /etc/ssh/sshd_config.
func sshdConfig(name string, root bool) string {
	permitRoot := "no"
	if root {
		permitRoot = "prohibit-password"
	}
	return fmt.Sprintf(`# sshd of testlab host %s
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
UsePAM no
PermitRootLogin %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
LogLevel ERROR
`, name, permitRoot)
}

// vmEnv is the environment of the processes the lab starts inside a host.
func vmEnv(home string) []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home,
		"LANG=C.UTF-8",
	}
}

// maskedDirs are this machine's folders a host sees empty: each is an opaque
// directory of the host's upper layer, so what the host writes there
// persists across its reboots, as on a disk. /tmp and /run are tmpfs inside
// (emptied by a reboot, as on Debian and Ubuntu).
var maskedDirs = []string{"/root", "/home", "/work", "/var/tmp", "/opt", "/var/cache/zkctl-testlab"}

// prepareUpper writes into a host's upper dir, before its first boot, what
// makes it a distinct machine: the opaque masks, its own sshd config and host
// key (whiting out this machine's host keys).
func prepareUpper(upper, name string, root bool, hostKey, hostPub []byte) error {
	for _, d := range maskedDirs {
		if _, err := os.Lstat(d); err != nil {
			continue // not on this machine: nothing to mask
		}
		p := filepath.Join(upper, d)
		if err := mkdirLikeLower(upper, d); err != nil {
			return err
		}
		if err := syscall.Setxattr(p, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
			return fmt.Errorf("mask %s: %w", d, err)
		}
	}
	if err := mkdirLikeLower(upper, "/etc/ssh"); err != nil {
		return err
	}
	keys, _ := filepath.Glob("/etc/ssh/ssh_host_*")
	for _, k := range keys {
		w := filepath.Join(upper, k)
		_ = os.Remove(w)
		if err := syscall.Mknod(w, syscall.S_IFCHR, 0); err != nil { // a whiteout
			return fmt.Errorf("white out %s: %w", k, err)
		}
	}
	ssh := filepath.Join(upper, "etc/ssh")
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"sshd_config", []byte(sshdConfig(name, root)), 0o644},
		{"ssh_host_ed25519_key", hostKey, 0o600},
		{"ssh_host_ed25519_key.pub", hostPub, 0o644},
	} {
		p := filepath.Join(ssh, f.name)
		_ = os.Remove(p)
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// mkdirLikeLower creates upper+p and its missing parents with the mode and
// owner of the same folders on this machine (the overlay shows an upper
// folder's attributes).
func mkdirLikeLower(upper, p string) error {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	cur := "/"
	for _, part := range parts {
		cur = filepath.Join(cur, part)
		dst := filepath.Join(upper, cur)
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		mode, uid, gid := os.FileMode(0o755), 0, 0
		if fi, err := os.Stat(cur); err == nil {
			mode = fi.Mode() & (os.ModePerm | os.ModeSticky | os.ModeSetgid)
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				uid, gid = int(st.Uid), int(st.Gid)
			}
		}
		if err := os.Mkdir(dst, 0o700); err != nil {
			return fmt.Errorf("mkdir %s: %w", dst, err)
		}
		if err := os.Chmod(dst, mode); err != nil {
			return fmt.Errorf("chmod %s: %w", dst, err)
		}
		if err := os.Lchown(dst, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", dst, err)
		}
	}
	return nil
}
