// Package zkversions gets the ZooKeeper versions the tests run side by
// side — bookworm's 3.8.0, trixie's 3.9.3, sid's 3.9.6 — from Debian's
// archive, and assembles each into a release home that zkctl runs like an
// Apache release. It owns the private apt configuration it fetches with
// (its own sources list, lists folder, cache and dpkg status: never this
// machine's sources), the cache of downloaded .deb files and built homes,
// and the home's layout. It imports only the standard library.
package zkversions

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Archive is the Debian mirror the versions come from; Keyring verifies it.
const (
	Archive = "http://deb.debian.org/debian"
	Keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
	// Package holds the server's jar and its jute jar (the zookeeper
	// package itself only adds scripts and /etc files).
	Package = "libzookeeper-java"
)

// Version is an upstream ZooKeeper version and the Debian suite that
// serves it.
type Version struct {
	Upstream string // "3.9.3": pinned by it, not by Debian's revision
	Suite    string // "trixie"
}

// The versions the tests use.
var (
	V380 = Version{"3.8.0", "bookworm"}
	V393 = Version{"3.9.3", "trixie"}
	V396 = Version{"3.9.6", "sid"}
)

// Versions lists them, oldest first.
var Versions = []Version{V380, V393, V396}

func (v Version) String() string { return v.Upstream + " (" + v.Suite + ")" }

// ErrNotServed is a version the archive no longer serves (a point release
// replaced it); tests of that version skip with the error's text.
var ErrNotServed = errors.New("no longer served by the archive")

// DefaultCache is where downloads and homes are kept between test runs
// (override with $ZKCTL_VERSIONS_CACHE). It is outside /var/cache/apt,
// whose .deb files this image's docker-clean deletes after every dpkg run.
const DefaultCache = "/var/cache/zkctl-versions"

// Getter fetches versions into Cache; the zero value uses DefaultCache.
type Getter struct {
	Cache string
	Logf  func(format string, args ...any) // progress, may be nil
}

func (g Getter) cache() string {
	if g.Cache != "" {
		return g.Cache
	}
	if d := os.Getenv("ZKCTL_VERSIONS_CACHE"); d != "" {
		return d
	}
	return DefaultCache
}

func (g Getter) logf(format string, args ...any) {
	if g.Logf != nil {
		g.Logf(format, args...)
	}
}

// lock holds an exclusive flock on the cache until the returned func runs,
// so that test processes running in parallel fetch and build once.
func (g Getter) lock() (func(), error) {
	if err := os.MkdirAll(g.cache(), 0o755); err != nil {
		return nil, fmt.Errorf("zookeeper versions: cache: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(g.cache(), "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("zookeeper versions: cache lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("zookeeper versions: cache lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// Deb returns the cached .deb of v's Package, downloading it first when
// the cache has none. A version the suite no longer serves is ErrNotServed.
func (g Getter) Deb(ctx context.Context, v Version) (string, error) {
	unlock, err := g.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	return g.deb(ctx, v)
}

func (g Getter) deb(ctx context.Context, v Version) (string, error) {
	pool := filepath.Join(g.cache(), "debs")
	if m, _ := filepath.Glob(filepath.Join(pool, Package+"_"+v.Upstream+"-*_all.deb")); len(m) > 0 {
		return m[len(m)-1], nil
	}
	start := time.Now()
	a, err := g.apt(v.Suite)
	if err != nil {
		return "", err
	}
	debVer, served, err := a.find(ctx, v.Upstream)
	if err != nil {
		return "", err
	}
	if debVer == "" {
		return "", fmt.Errorf("ZooKeeper %s: %s %s serves %s %s: %w", v.Upstream, Archive, v.Suite, Package, orNone(served), ErrNotServed)
	}
	deb, err := a.download(ctx, Package, debVer, pool)
	if err != nil {
		return "", err
	}
	g.logf("zkversions: fetched %s in %v", filepath.Base(deb), time.Since(start).Round(time.Millisecond))
	return deb, nil
}

func orNone(vs []string) string {
	if len(vs) == 0 {
		return "nothing"
	}
	return strings.Join(vs, ", ")
}

// pick is the first of Debian versions (apt's order: newest first) whose
// upstream part is upstream.
func pick(debVersions []string, upstream string) string {
	for _, dv := range debVersions {
		if UpstreamOf(dv) == upstream {
			return dv
		}
	}
	return ""
}

// UpstreamOf is the upstream part of a Debian version: "1:3.9.3-1+deb13u1"
// is "3.9.3".
func UpstreamOf(debVersion string) string {
	if _, after, ok := strings.Cut(debVersion, ":"); ok {
		debVersion = after
	}
	if i := strings.LastIndex(debVersion, "-"); i > 0 {
		debVersion = debVersion[:i]
	}
	return debVersion
}

// aptConf is a private apt configuration for one suite: everything apt
// reads or writes lives under dir.
type aptConf struct {
	dir, suite string
}

// apt writes the configuration of suite under the cache.
func (g Getter) apt(suite string) (aptConf, error) {
	a := aptConf{dir: filepath.Join(g.cache(), "apt", suite), suite: suite}
	for _, d := range []string{"parts", "sources.list.d", "preferences.d", "lists/partial", "cache/archives/partial", "state"} {
		if err := os.MkdirAll(filepath.Join(a.dir, d), 0o755); err != nil {
			return a, fmt.Errorf("zookeeper versions: apt config: %w", err)
		}
	}
	files := map[string]string{
		"sources.list": a.sourcesList(),
		"apt.conf":     a.conf(),
		"state/status": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(a.dir, name), []byte(body), 0o644); err != nil {
			return a, fmt.Errorf("zookeeper versions: apt config: %w", err)
		}
	}
	return a, nil
}

// sourcesList names the suite alone, verified with Debian's keyring.
// Valid-Until is not checked: the mirror may be a snapshot whose sid
// Release has expired; the signature still is.
func (a aptConf) sourcesList() string {
	return fmt.Sprintf("deb [signed-by=%s check-valid-until=no] %s %s main\n", Keyring, Archive, a.suite)
}

// conf points every folder and file apt uses at dir, and reads no part of
// /etc/apt (Dir::Etc::Parts), so this machine's settings, sources and
// docker-clean hooks play no part.
func (a aptConf) conf() string {
	p := func(s string) string { return filepath.Join(a.dir, s) }
	return strings.Join([]string{
		fmt.Sprintf("Dir::Etc::SourceList %q;", p("sources.list")),
		fmt.Sprintf("Dir::Etc::SourceParts %q;", p("sources.list.d")),
		fmt.Sprintf("Dir::Etc::Parts %q;", p("parts")),
		fmt.Sprintf("Dir::Etc::Preferences %q;", p("preferences")),
		fmt.Sprintf("Dir::Etc::PreferencesParts %q;", p("preferences.d")),
		fmt.Sprintf("Dir::State %q;", p("state")),
		fmt.Sprintf("Dir::State::Lists %q;", p("lists")),
		fmt.Sprintf("Dir::State::status %q;", p("state/status")),
		fmt.Sprintf("Dir::Cache %q;", p("cache")),
		`Acquire::Languages "none";`,
		`Acquire::Retries "2";`,
		"",
	}, "\n")
}

// run runs an apt command with this configuration (APT_CONFIG, read before
// anything else).
func (a aptConf) run(ctx context.Context, dir string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "APT_CONFIG="+filepath.Join(a.dir, "apt.conf"), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("zookeeper versions: %s %s (suite %s): %w\n%s", name, strings.Join(args, " "), a.suite, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// listsFresh is how long a suite's package list is used without asking
// the archive again.
const listsFresh = 6 * time.Hour

// find is the Debian version of Package the suite serves for upstream, ""
// if none, and every version it serves. The package list is fetched again
// when it is older than listsFresh.
func (a aptConf) find(ctx context.Context, upstream string) (string, []string, error) {
	stamp := filepath.Join(a.dir, "updated")
	if st, err := os.Stat(stamp); err != nil || time.Since(st.ModTime()) >= listsFresh {
		if err := a.update(ctx); err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(stamp, nil, 0o644); err != nil {
			return "", nil, fmt.Errorf("zookeeper versions: %w", err)
		}
	}
	served, err := a.versions(ctx, Package)
	if err != nil {
		return "", nil, err
	}
	return pick(served, upstream), served, nil
}

// update fetches the suite's package list (about 10 MB).
func (a aptConf) update(ctx context.Context) error {
	_, err := a.run(ctx, a.dir, "apt-get", "update", "-q")
	return err
}

// versions lists the Debian versions of pkg the suite serves, newest first.
func (a aptConf) versions(ctx context.Context, pkg string) ([]string, error) {
	out, err := a.run(ctx, a.dir, "apt-cache", "madison", pkg)
	if err != nil {
		return nil, err
	}
	var vs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) >= 2 && strings.TrimSpace(f[0]) == pkg {
			vs = append(vs, strings.TrimSpace(f[1]))
		}
	}
	return vs, nil
}

// download runs apt-get download of pkg=version in a scratch folder of
// pool (apt checks the file against the signed list) and moves the .deb
// into pool.
func (a aptConf) download(ctx context.Context, pkg, version, pool string) (string, error) {
	if err := os.MkdirAll(pool, 0o755); err != nil {
		return "", fmt.Errorf("zookeeper versions: %w", err)
	}
	tmp, err := os.MkdirTemp(pool, ".dl-")
	if err != nil {
		return "", fmt.Errorf("zookeeper versions: %w", err)
	}
	defer os.RemoveAll(tmp)
	// apt drops to its _apt user to download: let it write the folder.
	_ = os.Chmod(tmp, 0o777)
	if _, err := a.run(ctx, tmp, "apt-get", "download", "-q", pkg+"="+version); err != nil {
		return "", err
	}
	m, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(m) != 1 {
		return "", fmt.Errorf("zookeeper versions: apt-get download %s=%s left %d .deb files", pkg, version, len(m))
	}
	final := filepath.Join(pool, filepath.Base(m[0]))
	if err := os.Rename(m[0], final); err != nil {
		return "", fmt.Errorf("zookeeper versions: %w", err)
	}
	return final, nil
}
