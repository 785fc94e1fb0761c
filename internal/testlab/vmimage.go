package testlab

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zkctl/internal/fsutil"
)

const (
	// CacheDir is where the fresh layer and the downloaded .deb files are kept
	// between test processes (override with $ZKCTL_TESTLAB_CACHE). It is outside
	// /var/cache/apt, whose .deb files this image's docker-clean deletes after
	// every dpkg run.
	CacheDir = "/var/cache/zkctl-testlab"

	// RepoPath is where a fresh host sees the lab's apt repository (read-only);
	// its sources list only "deb [trusted=yes] file:RepoPath ./".
	RepoPath = "/var/lib/zkctl-testlab/repo"

	imageVersion = "2" // bump when the build script changes the layer
)

// ProbePackage is a tiny package of the lab's apt repository that no
// machine has: installing it writes ProbeFile (and nothing else), a quick
// proof that apt works inside a fresh host and that what it writes stays there.
const (
	ProbePackage = "zkctl-testlab-probe"
	ProbeFile    = "/usr/share/zkctl-testlab-probe/probe"
	probeDeb     = ProbePackage + "_1.0_all.deb"
)

// freshImage is the cached result of building the fresh layer.
type freshImage struct {
	layer string   // upper dir of the purged overlay: copy it into a host's upper
	debs  []string // names of the .deb files (in the pool) that installing freshPackages takes
	pool  string   // folder of cached .deb files
	index string   // Packages index of debs (paragraphs, Filename: ./<deb>)
}

func cacheDir() string {
	if d := os.Getenv("ZKCTL_TESTLAB_CACHE"); d != "" {
		return d
	}
	return CacheDir
}

// loadFreshImage returns the fresh layer, building it when the cache has none
// for this machine's package set (a hash of /var/lib/dpkg/status), and the
// pool of .deb files, downloading those the pool lacks. logf reports what it
// builds or downloads.
func loadFreshImage(logf func(string, ...any)) (*freshImage, error) {
	dir := cacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cache lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("cache lock: %w", err)
	}
	key, err := freshKey()
	if err != nil {
		return nil, err
	}
	img := &freshImage{pool: filepath.Join(dir, "debs")}
	final := filepath.Join(dir, "fresh-"+key)
	img.layer = filepath.Join(final, "layer")
	if _, err := os.Stat(filepath.Join(final, "packages")); err != nil {
		// Builds of crashed runs (we hold the lock: nobody is building).
		if stale, _ := filepath.Glob(filepath.Join(dir, "build-*")); len(stale) > 0 {
			for _, d := range stale {
				_ = os.RemoveAll(d)
			}
		}
		logf("testlab: building the fresh layer in %s (once per package set)", final)
		start := time.Now()
		if err := buildFreshLayer(dir, final); err != nil {
			return nil, err
		}
		logf("testlab: fresh layer built in %v", time.Since(start).Round(time.Millisecond))
	}
	pkgs, err := os.ReadFile(filepath.Join(final, "packages"))
	if err != nil {
		return nil, fmt.Errorf("fresh layer: %w", err)
	}
	if img.debs, err = cachedPool(img.pool, filepath.Join(final, "debs")); err != nil {
		if img.debs, err = fillPool(img.pool, strings.Fields(string(pkgs)), logf); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(final, "debs"), []byte(strings.Join(img.debs, "\n")+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("apt repository: %w", err)
		}
	}
	probe, err := buildProbe(img.pool)
	if err != nil {
		return nil, err
	}
	img.debs = append(img.debs, probe)
	if img.index, err = poolIndex(dir, img.pool, img.debs); err != nil {
		return nil, err
	}
	return img, nil
}

// freshKey names a fresh layer by the machine's installed packages and the
// build script.
func freshKey() (string, error) {
	st, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		return "", fmt.Errorf("fresh layer key: %w", err)
	}
	h := sha256.New()
	h.Write(st)
	h.Write([]byte(imageVersion + freshScript))
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// freshScript purges Java and ZooKeeper inside an overlay of / (run by sh as
// PID 1 of a mount namespace: $1 upper, $2 work, $3 merged root, $4 output
// folder on this machine). It writes $4/packages, the "name=version" of what
// installing default-jre-headless and zookeeper takes afterwards, then points
// apt at RepoPath only.
const freshScript = `set -eu
U=$1 W=$2 R=$3 OUT=$4
mount -t overlay overlay -o "lowerdir=/,upperdir=$U,workdir=$W" "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=755 tmpfs "$R/dev"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
	n=${d%%:*}; r=${d#*:}; mknod -m 666 "$R/dev/$n" c "${r%:*}" "${r#*:}"
done
mkdir "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
export DEBIAN_FRONTEND=noninteractive
jdks=$(chroot "$R" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 'openjdk-*' 2>/dev/null | awk '$1 ~ /^[ih]/ {print $2}')
chroot "$R" apt-get purge -y -q default-jre-headless zookeeper libzookeeper-java $jdks >"$OUT/purge.log" 2>&1 || {
	tail -30 "$OUT/purge.log"; exit 1; }
chroot "$R" sh -c 'for d in /usr/lib/jvm/*; do [ -e "$d" ] || continue; dpkg -S "$d" >/dev/null 2>&1 || rm -rf "$d"; done'
if chroot "$R" sh -c 'command -v java'; then echo "java still present after the purge"; exit 1; fi
chroot "$R" dpkg --audit >"$OUT/audit.log" 2>&1 || true
if [ -s "$OUT/audit.log" ]; then cat "$OUT/audit.log"; exit 1; fi
chroot "$R" apt-get -s -q install default-jre-headless zookeeper >"$OUT/sim.log" 2>&1 || {
	cat "$OUT/sim.log"; exit 1; }
awk '$1 == "Inst" { v = $3; if (v ~ /^\[/) v = $4; sub(/^\(/, "", v); print $2 "=" v }' "$OUT/sim.log" >"$OUT/packages"
chroot "$R" sh -c 'rm -f /etc/apt/sources.list.d/* /etc/apt/sources.list
	echo "deb [trusted=yes] file:` + RepoPath + ` ./" >/etc/apt/sources.list
	find /var/lib/apt/lists -maxdepth 1 -type f ! -name lock -delete
	rm -f /var/cache/apt/*.bin
	mkdir -p ` + RepoPath + "'\n"

// buildFreshLayer runs freshScript in a private mount namespace and moves the
// result to final (final/layer, final/packages).
func buildFreshLayer(dir, final string) error {
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return fmt.Errorf("fresh layer: %w", err)
	}
	defer os.RemoveAll(tmp)
	u, w, r, out := filepath.Join(tmp, "layer"), filepath.Join(tmp, "work"), filepath.Join(tmp, "root"), filepath.Join(tmp, "out")
	for _, d := range []string{u, w, r, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("fresh layer: %w", err)
		}
	}
	cmd := exec.Command("/bin/sh", "-c", freshScript, "zkctl-fresh-build", u, w, r, out)
	cmd.Env = vmEnv("/root")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:   syscall.CLONE_NEWPID,
		Unshareflags: syscall.CLONE_NEWNS, // Go makes / private (MS_REC|MS_PRIVATE) first
		Pdeathsig:    syscall.SIGKILL,
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fresh layer: purge Java and ZooKeeper in an overlay: %w\n%s", err, b)
	}
	if err := pruneLayer(u); err != nil {
		return fmt.Errorf("fresh layer: %w", err)
	}
	if err := os.Rename(filepath.Join(out, "packages"), filepath.Join(u, ".packages")); err != nil {
		return fmt.Errorf("fresh layer: %w", err)
	}
	_ = os.RemoveAll(final) // a partial one of a crashed build
	if err := os.Mkdir(final, 0o755); err != nil {
		return fmt.Errorf("fresh layer: %w", err)
	}
	if err := os.Rename(u, filepath.Join(final, "layer")); err != nil {
		return fmt.Errorf("fresh layer: %w", err)
	}
	// "packages" last: its presence marks a complete layer.
	return os.Rename(filepath.Join(final, "layer", ".packages"), filepath.Join(final, "packages"))
}

// cachedPool returns the .deb files a previous fillPool found for this
// layer (listed in list), if the pool still has every one.
func cachedPool(pool, list string) ([]string, error) {
	b, err := os.ReadFile(list)
	if err != nil {
		return nil, err
	}
	debs := strings.Fields(string(b))
	for _, d := range debs {
		if _, err := os.Stat(filepath.Join(pool, d)); err != nil {
			return nil, err
		}
	}
	if len(debs) == 0 {
		return nil, errors.New("empty list")
	}
	return debs, nil
}

// debURI is one line of "apt-get download --print-uris".
type debURI struct {
	file, sha256 string
	size         int64
}

var printURIRe = regexp.MustCompile(`^'[^']+' (\S+) (\d+) SHA256:([0-9a-f]{64})$`)

// fillPool downloads into pool (with apt-get download from this machine's
// sources) every package of pkgs ("name=version") whose .deb it lacks, and
// returns the .deb file names of pkgs.
func fillPool(pool string, pkgs []string, logf func(string, ...any)) ([]string, error) {
	if len(pkgs) == 0 {
		return nil, errors.New("apt repository: no packages to download (was Java or ZooKeeper not installed on this machine?)")
	}
	if err := os.MkdirAll(pool, 0o755); err != nil {
		return nil, fmt.Errorf("apt repository: %w", err)
	}
	printURIs := func() ([]byte, error) {
		return exec.Command("apt-get", append([]string{"download", "--print-uris"}, pkgs...)...).CombinedOutput()
	}
	out, err := printURIs()
	if err != nil {
		// This machine's package lists may be too old or missing (a clean
		// CI machine): refresh them once.
		logf("testlab: apt-get download --print-uris failed (%v); running apt-get update", err)
		if uout, uerr := exec.Command("apt-get", "update", "-q").CombinedOutput(); uerr != nil {
			return nil, fmt.Errorf("apt repository: apt-get update: %w\n%s", uerr, uout)
		}
		if out, err = printURIs(); err != nil {
			return nil, fmt.Errorf("apt repository: apt-get download --print-uris %s: %w\n%s", strings.Join(pkgs, " "), err, out)
		}
	}
	var uris []debURI
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := printURIRe.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			size, _ := strconv.ParseInt(m[2], 10, 64)
			uris = append(uris, debURI{file: m[1], size: size, sha256: m[3]})
		}
	}
	if len(uris) != len(pkgs) {
		return nil, fmt.Errorf("apt repository: apt-get download --print-uris gave %d files for %d packages:\n%s", len(uris), len(pkgs), out)
	}
	var missing []string
	var files []string
	for i, u := range uris {
		files = append(files, u.file)
		// Files enter the pool only once their checksum matched (below),
		// by rename: the size tells a cached one from a new version.
		if fi, err := os.Stat(filepath.Join(pool, u.file)); err != nil || fi.Size() != u.size {
			missing = append(missing, pkgs[i])
		}
	}
	if len(missing) > 0 {
		logf("testlab: downloading %d packages into %s", len(missing), pool)
		start := time.Now()
		if err := aptDownload(pool, missing, uris); err != nil {
			return nil, err
		}
		logf("testlab: downloaded in %v", time.Since(start).Round(time.Millisecond))
		for _, u := range uris {
			if _, err := os.Stat(filepath.Join(pool, u.file)); err != nil {
				return nil, fmt.Errorf("apt repository: %s not downloaded: %w", u.file, err)
			}
		}
	}
	return files, nil
}

// aptDownload runs apt-get download in a folder of pool, then moves the files in.
func aptDownload(pool string, pkgs []string, uris []debURI) error {
	tmp, err := os.MkdirTemp(pool, ".dl-")
	if err != nil {
		return fmt.Errorf("apt repository: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("apt-get", append([]string{"download", "-q"}, pkgs...)...)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt repository: apt-get download: %w\n%s", err, out)
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("apt repository: %w", err)
	}
	for _, e := range ents {
		for _, u := range uris {
			if u.file != e.Name() {
				continue
			}
			if ok, err := fileSHA256Is(filepath.Join(tmp, u.file), u.sha256); !ok {
				return fmt.Errorf("apt repository: %s: checksum mismatch (%v)", u.file, err)
			}
		}
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(pool, e.Name())); err != nil {
			return fmt.Errorf("apt repository: %w", err)
		}
	}
	return nil
}

func fileSHA256Is(path, want string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == want, nil
}

// poolIndex returns the Packages index of debs (dpkg-scanpackages, with
// Filename: ./<deb>), cached in dir by the set of file names.
func poolIndex(dir, pool string, debs []string) (string, error) {
	sorted := slices.Clone(debs)
	sort.Strings(sorted)
	h := sha256.New()
	for _, d := range sorted {
		fi, err := os.Stat(filepath.Join(pool, d))
		if err != nil {
			return "", fmt.Errorf("apt repository: %w", err)
		}
		fmt.Fprintf(h, "%s %d %d\n", d, fi.Size(), fi.ModTime().UnixNano())
	}
	sum := h.Sum(nil)
	cached := filepath.Join(dir, "index-"+hex.EncodeToString(sum[:])[:16])
	if b, err := os.ReadFile(cached); err == nil {
		return string(b), nil
	}
	tmp, err := os.MkdirTemp(dir, ".index-")
	if err != nil {
		return "", fmt.Errorf("apt repository: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, d := range sorted {
		if err := linkOrCopy(filepath.Join(pool, d), filepath.Join(tmp, d)); err != nil {
			return "", fmt.Errorf("apt repository: %w", err)
		}
	}
	cmd := exec.Command("dpkg-scanpackages", "-m", ".", "/dev/null")
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("apt repository: dpkg-scanpackages (apt-get install dpkg-dev): %w\n%s", err, stderr.String())
	}
	if err := os.WriteFile(cached+".tmp", out, 0o644); err != nil {
		return "", fmt.Errorf("apt repository: %w", err)
	}
	if err := os.Rename(cached+".tmp", cached); err != nil {
		return "", fmt.Errorf("apt repository: %w", err)
	}
	return string(out), nil
}

// filterIndex drops from a Packages index the paragraphs of the named packages.
func filterIndex(index string, omit []string) string {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(index), "\n\n") {
		name := ""
		for _, line := range strings.Split(para, "\n") {
			if v, ok := strings.CutPrefix(line, "Package: "); ok {
				name = strings.TrimSpace(v)
				break
			}
		}
		if para == "" || slices.Contains(omit, name) {
			continue
		}
		b.WriteString(para)
		b.WriteString("\n\n")
	}
	return b.String()
}

// debPackage returns the package name of a .deb file name ("name_version_arch.deb").
func debPackage(file string) string {
	name, _, _ := strings.Cut(file, "_")
	return name
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return fsutil.CopyFile(src, dst)
}

// pruneLayer deletes from a built layer the byte-code that the purge's
// triggers recompiled (Python's .pyc files, e.g. gcloud's post-process):
// this machine's own copies show through instead, and the layer stays a few
// megabytes. Folders left empty that this machine also has go too.
func pruneLayer(upper string) error {
	var dirs []string
	err := filepath.WalkDir(upper, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, upper)
		switch {
		case d.IsDir():
			dirs = append(dirs, p)
		case d.Type().IsRegular() && strings.HasSuffix(p, ".pyc"):
			if _, err := os.Lstat(rel); err == nil {
				return os.Remove(p)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune layer: %w", err)
	}
	for _, d := range slices.Backward(dirs) {
		rel := strings.TrimPrefix(d, upper)
		if rel == "" {
			continue
		}
		if n, _ := syscall.Getxattr(d, "trusted.overlay.opaque", nil); n > 0 {
			continue
		}
		if fi, err := os.Stat(rel); err != nil || !fi.IsDir() {
			continue
		}
		_ = os.Remove(d) // fails unless empty
	}
	return nil
}

// buildProbe makes ProbePackage's .deb in pool unless it is there, and returns
// its file name.
func buildProbe(pool string) (string, error) {
	dst := filepath.Join(pool, probeDeb)
	if _, err := os.Stat(dst); err == nil {
		return probeDeb, nil
	}
	tmp, err := os.MkdirTemp(pool, ".probe-")
	if err != nil {
		return "", fmt.Errorf("probe package: %w", err)
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	control := "Package: " + ProbePackage + "\nVersion: 1.0\nArchitecture: all\nMaintainer: zkctl testlab <root@localhost>\n" +
		"Description: zkctl test lab probe\n A file that only an apt install inside a test host writes.\n"
	for _, f := range []struct{ path, data string }{
		{"DEBIAN/control", control},
		{ProbeFile[1:], "installed by apt inside a zkctl test host\n"},
	} {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("probe package: %w", err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			return "", fmt.Errorf("probe package: %w", err)
		}
	}
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, filepath.Join(tmp, probeDeb)).CombinedOutput(); err != nil {
		return "", fmt.Errorf("probe package: dpkg-deb --build: %w: %s", err, out)
	}
	if err := os.Rename(filepath.Join(tmp, probeDeb), dst); err != nil {
		return "", fmt.Errorf("probe package: %w", err)
	}
	return probeDeb, nil
}

// writeIndex writes a flat repository's Packages, Packages.gz and a Release
// listing their checksums (so that apt fetches just those), each by rename.
func writeIndex(repo, packages string) error {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(packages)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{{"Packages", []byte(packages)}, {"Packages.gz", gz.Bytes()}}
	var rel strings.Builder
	rel.WriteString("Origin: zkctl-testlab\nLabel: zkctl-testlab\n")
	rel.WriteString("Date: " + time.Now().UTC().Format(time.RFC1123) + "\nSHA256:\n")
	for _, f := range files {
		fmt.Fprintf(&rel, " %x %d %s\n", sha256.Sum256(f.data), len(f.data), f.name)
	}
	files = append(files, struct {
		name string
		data []byte
	}{"Release", []byte(rel.String())})
	for _, f := range files {
		p := filepath.Join(repo, f.name)
		if err := os.WriteFile(p+".tmp", f.data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return err
		}
	}
	return nil
}
