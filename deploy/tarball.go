package deploy

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// A [zookeeper] tarball is an Apache release (apache-zookeeper-X-bin.tar.gz:
// one top folder holding bin/, conf/ and lib/zookeeper-X.jar with its
// dependencies). It is pushed to <dir>/dist/ once — not again while the
// copy there has the same sha256 — and unpacked under <dir>/zookeeper/ into
// a scratch folder, checked, marked with the tarball's sha256 and renamed
// into place, so that <dir>/zookeeper/<top> is either the old release or
// the whole new one. A release whose mark matches is not touched, so a
// re-deploy with the same tarball transfers nothing.

// tarballMark is the file, inside an unpacked release, holding the sha256
// of the tarball it came from.
const tarballMark = ".zkctl-tarball.sha256"

// provisionTarball makes sure the release of tarball is unpacked on h,
// reporting whether it had to unpack it.
func (c *cluster) provisionTarball(ctx context.Context, h inventory.Host, t transport.Transport, tarball string) (bool, error) {
	sum, size, err := fileSHA256(tarball)
	if err != nil {
		return false, fmt.Errorf("read tarball: %w", err)
	}
	home := tarballHome(h, tarball)
	if mark, err := t.ReadFile(ctx, filepath.Join(home, tarballMark)); err == nil && strings.TrimSpace(string(mark)) == sum {
		c.UI.Host(h.Name, "ZooKeeper release %s in place (sha256 %s…)", filepath.Base(home), sum[:12])
		return false, nil
	}
	remote := filepath.Join(h.Dir, "dist", filepath.Base(tarball))
	out, _ := transport.Output(ctx, t, "sha256sum "+transport.Quote(remote)+" 2>/dev/null | cut -d' ' -f1")
	if strings.TrimSpace(string(out)) != sum {
		c.UI.Host(h.Name, "uploading %s (%s)", filepath.Base(tarball), humanBytes(size))
		err := t.Upload(ctx, tarball, remote, 0o644, func(sent int64) { c.UI.Progress(h.Name, controller.Bar(sent, size)) })
		c.UI.Progress(h.Name, "")
		if err != nil {
			return false, fmt.Errorf("upload %s: %w", filepath.Base(tarball), err)
		}
	}
	if err := c.unpack(ctx, h, t, remote, home, sum); err != nil {
		return false, err
	}
	c.UI.Host(h.Name, "unpacked %s into %s", filepath.Base(tarball), home)
	return true, nil
}

// Exit statuses of unpackScript.
const (
	untarStatus     = 67 // tar failed: truncated, or not a gzip tar
	notApacheStatus = 68 // no <top>/lib/zookeeper-3*.jar
)

// unpack runs unpackScript and names what was wrong with the tarball.
func (c *cluster) unpack(ctx context.Context, h inventory.Host, t transport.Transport, remote, home, sum string) error {
	_, err := transport.Output(ctx, t, unpackScript(remote, home, sum))
	status, _ := transport.ExitStatus(err)
	name := filepath.Base(remote)
	switch {
	case err == nil:
		return nil
	case status == untarStatus:
		return fmt.Errorf("%s is truncated or not a gzip tar (%w): fetch it again; nothing was changed on the host", name, err)
	case status == notApacheStatus:
		return fmt.Errorf("%s is not an Apache ZooKeeper release: no %s/lib/zookeeper-3*.jar in it (want apache-zookeeper-X-bin.tar.gz, the binary release, not the source one); nothing was changed on the host",
			name, filepath.Base(home))
	}
	return fmt.Errorf("unpack %s: %w", name, err)
}

// unpackScript unpacks remote into a scratch folder beside home, checks
// that it holds home's top folder with lib/zookeeper-3*.jar, marks it with
// sum and renames it into place. The scratch folder is removed whatever
// happens; a failure leaves the previous release, if any, as it was.
func unpackScript(remote, home, sum string) string {
	q := transport.Quote
	parent, top := filepath.Dir(home), filepath.Base(home)
	tmp := filepath.Join(parent, ".unpack-"+top)
	return fmt.Sprintf(`set -u; tmp=%s; rm -rf "$tmp"; mkdir -p "$tmp" || exit 1; trap 'rm -rf "$tmp" %s.old' EXIT; `+
		`tar -xzf %s -C "$tmp" --no-same-owner >&2 || exit %d; `+
		`ls "$tmp"/%s/lib/zookeeper-3*.jar >/dev/null 2>&1 || exit %d; `+
		`echo %s > "$tmp"/%s/%s && rm -rf %s.old && { [ ! -e %s ] || mv %s %s.old; } && mv "$tmp"/%s %s`,
		q(tmp), q(home), q(remote), untarStatus, q(top), notApacheStatus,
		sum, q(top), tarballMark, q(home), q(home), q(home), q(home), q(top), q(home))
}
