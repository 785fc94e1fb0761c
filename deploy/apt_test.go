package deploy

import (
	"reflect"
	"strings"
	"testing"

	"zkctl/node"
)

func TestAptWanted(t *testing.T) {
	for _, tc := range []struct {
		in      node.Install
		tarball bool
		want    []string
	}{
		{node.Install{}, false, []string{"default-jre-headless", "zookeeper"}},
		{node.Install{Java: "/usr/bin/java"}, false, []string{"zookeeper"}},
		{node.Install{ZooKeeperHome: "/usr/share/zookeeper"}, false, []string{"default-jre-headless"}},
		{node.Install{Java: "/usr/bin/java", ZooKeeperHome: "/usr/share/zookeeper"}, false, []string{"default-jre-headless", "zookeeper"}},
		{node.Install{}, true, []string{"default-jre-headless"}},
	} {
		if got := aptWanted(tc.in, tc.tarball); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("aptWanted(%+v, %v) = %q, want %q", tc.in, tc.tarball, got, tc.want)
		}
	}
}

func TestAptErrors(t *testing.T) {
	stderr := "debconf: delaying package configuration\n" +
		"zkctl-testlab: zookeeper postinst broken on purpose\n" +
		"dpkg: error processing package zookeeper (--configure):\n" +
		" installed zookeeper package post-installation script subprocess returned error exit status 1\n" +
		"Errors were encountered while processing:\n zookeeper\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n"
	got := aptErrors(stderr)
	for _, w := range []string{"dpkg: error processing package zookeeper", "postinst broken on purpose", "E: Sub-process /usr/bin/dpkg"} {
		if !strings.Contains(got, w) {
			t.Errorf("aptErrors lacks %q: %s", w, got)
		}
	}
	if strings.Contains(got, "debconf") {
		t.Errorf("aptErrors keeps noise: %s", got)
	}
}

func TestLastLine(t *testing.T) {
	var l lastLine
	for _, chunk := range []string{"Get:1 file:/repo ./ a\nUnpa", "cking b ...\n\n", "Setting up c"} {
		_, _ = l.Write([]byte(chunk))
	}
	if got := l.get(); got != "Unpacking b ..." {
		t.Fatalf("last line %q", got)
	}
}
