package roles

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{Servers: []string{"127.0.0.1:2181"}}.withDefaults("worker")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SessionTimeout != DefaultSessionTimeout || !strings.HasPrefix(cfg.ID, "worker-") || cfg.Logger == nil {
		t.Errorf("defaults: %+v", cfg)
	}
	for _, bad := range []Config{
		{},
		{Servers: []string{"x:1"}, ID: "a/b"},
		{Servers: []string{"x:1"}, Auth: "nopassword"},
		{Servers: []string{"x:1"}, Auth: ":secret"},
	} {
		_, err := bad.withDefaults("master")
		if err == nil {
			t.Errorf("%+v accepted", bad)
		} else if bad.Auth != "" && strings.Contains(err.Error(), bad.Auth) {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

func TestACL(t *testing.T) {
	if got := ACL(""); !slices.Equal(got, zk.WorldACL(zk.PermAll)) {
		t.Errorf("ACL(\"\") = %v", got)
	}
	want := append(zk.DigestACL(zk.PermAll, "u", "p"), zk.WorldACL(zk.PermRead)...)
	if got := ACL("u:p"); !slices.Equal(got, want) {
		t.Errorf("ACL(u:p) = %v, want %v", got, want)
	}
}

func TestSortTasks(t *testing.T) {
	got := sortTasks([]string{"c-10", "b", "c-2", "a-1", "c-1"})
	want := []string{"a-1", "b", "c-1", "c-2", "c-10"}
	if !slices.Equal(got, want) {
		t.Errorf("sortTasks = %v, want %v", got, want)
	}
}
