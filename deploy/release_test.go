package deploy_test

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zkctl/internal/zkversions"
)

// debianJava is where Debian's packages keep their jars.
const debianJava = "/usr/share/java"

// releaseLogback is a conf/logback.xml in the manner of Apache's 3.8
// releases: properties for the level, folder and file (bin/zkEnv.sh
// passes zookeeper.log.dir and zookeeper.log.file), a console appender
// the root logger uses and a rolling file appender left unused, and a
// pattern that names the server's myid — which tells its lines from those
// of zkctl's own log4j.properties.
const releaseLogback = `<configuration>
  <property name="zookeeper.console.threshold" value="INFO" />
  <property name="zookeeper.log.dir" value="." />
  <property name="zookeeper.log.file" value="zookeeper.log" />
  <property name="zookeeper.log.threshold" value="INFO" />
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n</pattern>
    </encoder>
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter">
      <level>${zookeeper.console.threshold}</level>
    </filter>
  </appender>
  <appender name="ROLLINGFILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <File>${zookeeper.log.dir}/${zookeeper.log.file}</File>
    <encoder>
      <pattern>%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n</pattern>
    </encoder>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <maxIndex>10</maxIndex>
      <FileNamePattern>${zookeeper.log.dir}/${zookeeper.log.file}.%i</FileNamePattern>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <MaxFileSize>10MB</MaxFileSize>
    </triggeringPolicy>
  </appender>
  <root level="INFO">
    <appender-ref ref="CONSOLE" />
  </root>
</configuration>
`

// release is a file of an assembled release: its path under the top
// folder and where its bytes come from (a file on this machine) or them.
type release struct {
	path, from, body string
	mode             int64
}

// buildRelease assembles an Apache-layout release, top folder
// "apache-zookeeper-<ver>-bin", from Debian's jars: lib/ holds
// zookeeper-<ver>.jar, zookeeper-jute-<ver>.jar, the jars its manifest's
// Class-Path names and logback, each under its versioned name; conf/ holds
// logback.xml and zoo_sample.cfg; bin/ a zkServer.sh. withZK false leaves
// the ZooKeeper jars out (not a release). It returns the tarball's path.
func buildRelease(t *testing.T, dir, ver string, withZK bool) string {
	t.Helper()
	top := "apache-zookeeper-" + ver + "-bin"
	files := []release{
		{path: "conf/logback.xml", body: releaseLogback, mode: 0o644},
		{path: "conf/zoo_sample.cfg", body: "tickTime=2000\ndataDir=/tmp/zookeeper\nclientPort=2181\n", mode: 0o644},
		{path: "bin/zkServer.sh", body: "#!/bin/sh\necho 'assembled by zkctl tests: start the server with zkctl' >&2\nexit 1\n", mode: 0o755},
	}
	deps, err := zkversions.ManifestClassPath(filepath.Join(debianJava, "zookeeper.jar"))
	if err != nil {
		t.Fatal(err)
	}
	jars := append(deps, "logback-classic", "logback-core",
		"netty-codec", "netty-resolver", "netty-transport-native-unix-common")
	seen := map[string]bool{}
	for _, j := range jars {
		if seen[j] || (!withZK && strings.HasPrefix(j, "zookeeper")) {
			continue
		}
		seen[j] = true
		if from := filepath.Join(debianJava, j+".jar"); fileExists(from) {
			files = append(files, release{path: "lib/" + zkversions.Versioned(j), from: from, mode: 0o644})
		}
	}
	if withZK {
		files = append(files, release{path: "lib/zookeeper-" + ver + ".jar", from: filepath.Join(debianJava, "zookeeper.jar"), mode: 0o644})
	}
	out := filepath.Join(dir, top+".tar.gz")
	writeTarGz(t, out, top, files)
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func writeTarGz(t *testing.T, out, top string, files []release) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, d := range []string{"", "bin", "conf", "lib"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: filepath.Join(top, d) + "/", Mode: 0o755, Uid: 1000, Gid: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range files {
		body := []byte(r.body)
		if r.from != "" {
			if body, err = os.ReadFile(r.from); err != nil {
				t.Fatal(err)
			}
		}
		// Owned by uid 1000 in the archive, as Apache's are: unpacking must not keep it.
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: filepath.Join(top, r.path), Mode: r.mode, Size: int64(len(body)), Uid: 1000, Gid: 1000}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
}

// truncateCopy writes the first half of src to dst.
func truncateCopy(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}
