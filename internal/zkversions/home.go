package zkversions

import (
	"archive/zip"
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"zkctl/internal/fsutil"
)

// DebianJava is where Debian keeps the jars; the dependency jars of a home
// come from this machine's (bookworm's).
const DebianJava = "/usr/share/java"

// homeFormat names the way Home lays a home out; a cached home of another
// format is built again.
const homeFormat = "1"

// markFile, inside a home, says what it was built from.
const markFile = ".zkctl-release"

// extraJars are jars the server needs that the jar's manifest does not
// name (netty's own dependencies), and the logging backend an Apache
// release brings (logback, with conf/logback.xml).
var extraJars = []string{"netty-codec", "netty-resolver", "netty-transport-native-unix-common", "logback-classic", "logback-core"}

// Home returns a release home of v in the cache, building it when missing:
// an Apache layout (lib/, conf/) that node.Detect takes for a release.
// lib/ holds the version's zookeeper-X.jar and zookeeper-jute-X.jar from
// its .deb, and the jars its manifest names plus netty's and logback's
// from this machine. The launch puts lib/zookeeper-jute-*.jar first on the
// classpath: the jar's manifest names Debian's /usr/share/java/zookeeper-jute.jar,
// which on a bookworm host is 3.8.0's.
func (g Getter) Home(ctx context.Context, v Version) (string, error) {
	unlock, err := g.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	deb, err := g.deb(ctx, v)
	if err != nil {
		return "", err
	}
	home := filepath.Join(g.cache(), "homes", "apache-zookeeper-"+v.Upstream+"-bin")
	mark := homeFormat + " " + filepath.Base(deb) + "\n"
	if b, err := os.ReadFile(filepath.Join(home, markFile)); err == nil && string(b) == mark {
		return home, nil
	}
	absent, err := buildHome(ctx, deb, v.Upstream, home, mark)
	if err != nil {
		return "", fmt.Errorf("zookeeper versions: release home of %s: %w", v.Upstream, err)
	}
	g.logf("zkversions: built %s from %s (not on this machine, left out as the JVM would: %s)", home, filepath.Base(deb), orNone(absent))
	return home, nil
}

// buildHome assembles home in a scratch folder beside it and renames it
// into place. A jar the manifest names that this machine lacks is left
// out, as the JVM ignores it (jline, say: the CLI's); absent lists them.
func buildHome(ctx context.Context, deb, upstream, home, mark string) (absent []string, err error) {
	parent := filepath.Dir(home)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	x := filepath.Join(tmp, "deb")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, x).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dpkg-deb -x %s: %w\n%s", deb, err, out)
	}
	top := filepath.Join(tmp, "home")
	for _, d := range []string{"lib", "conf"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			return nil, err
		}
	}
	zkJar := filepath.Join(x, "usr/share/java/zookeeper-"+upstream+".jar")
	if _, err := os.Stat(zkJar); err != nil {
		// bookworm's 3.8.0 names the real file zookeeper.jar.
		zkJar = filepath.Join(x, "usr/share/java/zookeeper.jar")
	}
	juteJar := filepath.Join(x, "usr/share/java/zookeeper-jute.jar")
	if err := fsutil.CopyFile(zkJar, filepath.Join(top, "lib", "zookeeper-"+upstream+".jar")); err != nil {
		return nil, err
	}
	if err := fsutil.CopyFile(juteJar, filepath.Join(top, "lib", "zookeeper-jute-"+upstream+".jar")); err != nil {
		return nil, err
	}
	deps, err := ManifestClassPath(zkJar)
	if err != nil {
		return nil, err
	}
	for _, j := range deps {
		if _, err := os.Stat(filepath.Join(DebianJava, j+".jar")); err != nil && !strings.HasPrefix(j, "zookeeper") {
			absent = append(absent, j)
		}
	}
	for _, j := range append(deps, extraJars...) {
		if strings.HasPrefix(j, "zookeeper") || slices.Contains(absent, j) {
			continue
		}
		if err := copyDependency(j, filepath.Join(top, "lib")); err != nil {
			return nil, err
		}
	}
	files := map[string]string{"conf/logback.xml": LogbackXML, markFile: mark}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(top, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.RemoveAll(home); err != nil {
		return nil, err
	}
	return absent, os.Rename(top, home)
}

// copyDependency copies Debian's jar base (/usr/share/java/base.jar) into
// lib under the name of the file it links to (netty-handler-4.1.48.jar).
func copyDependency(base, lib string) error {
	real, err := filepath.EvalSymlinks(filepath.Join(DebianJava, base+".jar"))
	if err != nil {
		return fmt.Errorf("dependency %s: %w (apt-get install the package that holds %s/%s.jar)", base, err, DebianJava, base)
	}
	name := filepath.Base(real)
	if name == base+".jar" {
		name = Versioned(base)
	}
	return fsutil.CopyFile(real, filepath.Join(lib, name))
}

// Versioned is base-<version>.jar where Debian has a versioned link to
// /usr/share/java/base.jar, else base.jar.
func Versioned(base string) string {
	m, _ := filepath.Glob(filepath.Join(DebianJava, base+"-[0-9]*.jar"))
	for _, p := range m {
		if target, err := os.Readlink(p); err == nil && target == base+".jar" {
			return filepath.Base(p)
		}
	}
	return base + ".jar"
}

// ManifestClassPath lists the jars (base names, no folder or .jar) that a
// jar's manifest Class-Path names.
func ManifestClassPath(jar string) ([]string, error) {
	z, err := zip.OpenReader(jar)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	f, err := z.Open("META-INF/MANIFEST.MF")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", jar, err)
	}
	defer f.Close()
	var cp strings.Builder
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "Class-Path: "):
			cp.WriteString(strings.TrimPrefix(line, "Class-Path: "))
			in = true
		case in && strings.HasPrefix(line, " "):
			cp.WriteString(line[1:]) // a continuation line
		default:
			in = false
		}
	}
	var out []string
	for _, p := range strings.Fields(cp.String()) {
		out = append(out, strings.TrimSuffix(filepath.Base(p), ".jar"))
	}
	return out, sc.Err()
}

// LogbackXML is the conf/logback.xml of a home, in the manner of Apache's
// releases: the console appender (which the agent sends to
// logs/zookeeper.log) with a pattern naming the server's myid.
const LogbackXML = `<configuration>
  <property name="zookeeper.console.threshold" value="INFO" />
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n</pattern>
    </encoder>
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter">
      <level>${zookeeper.console.threshold}</level>
    </filter>
  </appender>
  <root level="INFO">
    <appender-ref ref="CONSOLE" />
  </root>
</configuration>
`
