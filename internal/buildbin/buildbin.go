// Package buildbin builds the zkctl binary once per test process, for tests
// that deploy it or run it as a command.
package buildbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
	out  []byte
)

// Path returns a freshly built zkctl binary (built on first call).
func Path(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, e := os.MkdirTemp("", "zkctl-bin-")
		if e != nil {
			err = e
			return
		}
		path = filepath.Join(dir, "zkctl")
		cmd := exec.Command("go", "build", "-o", path, "zkctl/cmd/zkctl")
		cmd.Dir = moduleRoot()
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("build zkctl: %v\n%s", err, out)
	}
	return path
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
