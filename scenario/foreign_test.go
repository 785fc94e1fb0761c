package scenario_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/scenario"
)

// python is the interpreter of the Python implementations: the pyenv shim
// on PATH here cannot import Debian's python3-kazoo.
const python = "/usr/bin/python3"

// pyRoles renders [roles.*] tables for the implementations in
// testdata/python: file names by role, "" for zkctl's own role.
func pyRoles(t *testing.T, master, worker, client string) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/python")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{
		"master": `"{servers}", "{id}", "{session_timeout}"`,
		"worker": `"{servers}", "{id}", "{session_timeout}", "{concurrency}"`,
		"client": `"{servers}", "{id}", "{session_timeout}", "{tasks}", "{duration}"`,
	}
	var b strings.Builder
	for _, r := range []struct{ role, file string }{{"master", master}, {"worker", worker}, {"client", client}} {
		if r.file == "" {
			continue
		}
		files := []string{filepath.Join(dir, r.file), filepath.Join(dir, "zkproto.py")}
		if base := strings.SplitN(r.file, "_", 2)[0]; !strings.HasSuffix(base, ".py") {
			files = append(files, filepath.Join(dir, base+".py")) // a buggy variant imports the correct one
		}
		fmt.Fprintf(&b, "\n[roles.%s]\ncommand = [%q, \"-u\", \"{app}/%s\", %s]\nfiles = [", r.role, python, r.file, args[r.role])
		for i, f := range files {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", f)
		}
		b.WriteString("]\npackages = [\"python3-kazoo\"]\n")
	}
	return b.String()
}

// TestForeign deploys Python + kazoo implementations of the roles as
// [roles.*] on one local cluster and runs a matching scenario with each:
// the correct one passes; each buggy one fails, refused by the history
// check that its bug breaks; a program that exits at once is reported
// with its command and log.
func TestForeign(t *testing.T) {
	if in := node.Detect(""); in.Java == "" || in.ZooKeeperHome == "" {
		t.Skip("java or ZooKeeper missing: apt-get install -y default-jre-headless zookeeper")
	}
	if out, err := exec.Command(python, "-c", "import kazoo").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import kazoo (apt-get install -y python3-kazoo): %v %s", python, err, out)
	}
	base := localInventory(t)
	hosts, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	// Every variant is an inventory beside the first, so its hosts' dirs
	// are the same: one cluster, deployed again (quickly) per variant.
	variant := func(name, roles string) *controller.Cluster {
		path := filepath.Join(filepath.Dir(base), name+".toml")
		if err := os.WriteFile(path, append(append([]byte(nil), hosts...), roles...), 0o644); err != nil {
			t.Fatal(err)
		}
		return deployed(t, path)
	}

	t.Run("unknown package", func(t *testing.T) {
		path := filepath.Join(filepath.Dir(base), "nopkg.toml")
		roles := "\n[roles.worker]\ncommand = [\"/bin/true\"]\npackages = [\"zkctl-no-such-package\"]\n"
		if err := os.WriteFile(path, append(append([]byte(nil), hosts...), roles...), 0o644); err != nil {
			t.Fatal(err)
		}
		inv, err := inventory.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		c := controller.NewCluster(inv, controller.NewUI(io.Discard), nil)
		t.Cleanup(c.Close)
		_, err = deploy.Deploy(context.Background(), c, deploy.DeployOptions{Binary: buildbin.Path(t)})
		if err == nil || !strings.Contains(err.Error(), "vm1") || !strings.Contains(err.Error(), "apt cannot find package zkctl-no-such-package") {
			t.Fatalf("want the host and the package named, got %v", err)
		}
	})

	t.Run("exits at once", func(t *testing.T) {
		c := variant("exits", "\n[roles.worker]\ncommand = [\""+python+"\", \"-c\", \"print('no kazoo here: {servers}'); raise SystemExit(3)\"]\n")
		_, err := ops.Start{Role: "worker", Host: "vm1", ID: "vm1-w9"}.Run(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), "exited within") || !strings.Contains(err.Error(), "no kazoo here: 127.0.0.1:") {
			t.Fatalf("want the exit reported with the command and the log, got %v", err)
		}
	})

	t.Run("a worker named by its host", func(t *testing.T) {
		roles := pyRoles(t, "", "worker.py", "")
		roles = strings.Replace(roles, `"{servers}", "{id}"`, `"{servers}", "{host}"`, 1)
		c := variant("badname", roles)
		sc, _ := scenario.Lookup("c2w2m1")
		res := (&scenario.Runner{Cluster: c}).Run(context.Background(), []*scenario.Scenario{sc})[0]
		if res.Err == nil || !strings.Contains(res.Err.Error(), `under a name that is not its {id} "vm2-w1": saw /workers_eph/vm2`) ||
			!strings.Contains(res.Err.Error(), "Test your own implementation") {
			t.Fatalf("want the name mismatch quoted, got %v", res.Err)
		}
		// The run stopped, and the history checks judged what it wrote.
		if c := find(res, "history: never two masters at once"); c == nil || !c.OK || c.Skipped != "" {
			t.Errorf("the stopped run's history was not judged: %+v", c)
		}
		if c := find(res, "no orphan znodes"); c == nil || c.Skipped == "" {
			t.Errorf("want the end state not judged on a stopped run, got %+v", c)
		}
	})

	cases := []struct {
		name, scenario         string
		master, worker, client string
		failed                 string // the check that must fail; "" = PASS
	}{
		{"correct", "master-lag", "master.py", "worker.py", "client.py", ""},
		{"master without election check", "master-lag", "master_noelection.py", "", "", "history: never two masters at once"},
		{"master without fence, leading on its new session", "master-lag", "master_nofence.py", "", "", "history: never two masters at once"},
		{"worker completing twice", "c2w2m1", "", "worker_twice.py", "", "history: every task completed exactly once"},
		{"client leaving orphans", "c2w2m1", "", "", "client_orphans.py", "history: no orphan znodes"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := variant(fmt.Sprintf("v%d", i), pyRoles(t, tc.master, tc.worker, tc.client))
			sc, _ := scenario.Lookup(tc.scenario)
			start := time.Now()
			res := (&scenario.Runner{Cluster: c}).Run(context.Background(), []*scenario.Scenario{sc})[0]
			t.Logf("%s with %s/%s/%s: %s in %v", tc.scenario, or(tc.master), or(tc.worker), or(tc.client), res.Verdict(), time.Since(start).Round(time.Second))
			for _, ch := range res.Checks {
				t.Logf("  ok=%v skipped=%q %s: %s", ch.OK, ch.Skipped, ch.Name, ch.Detail)
			}
			if res.Err != nil {
				t.Fatalf("the scenario did not run to its end: %v", res.Err)
			}
			if tc.failed == "" {
				if !res.Passed() {
					t.Fatalf("want PASS, got FAIL: %s", strings.Join(res.Failed(), "; "))
				}
				if !skipped(res, "the old leader rejoins as a candidate") {
					t.Errorf("a check of zkctl's master events was not skipped for a foreign master")
				}
				return
			}
			if res.Passed() {
				t.Fatalf("want FAIL by %q, got PASS", tc.failed)
			}
			if tc.master == "master_nofence.py" {
				// It never stands again: a soft expectation fails, and the
				// run goes on to its judgement.
				if c := find(res, "the old leader rejoins as a candidate (seen in ZooKeeper)"); c == nil || c.OK || c.Skipped != "" {
					t.Errorf("want the rejoin failed as an expectation, got %+v", c)
				}
			}
			for _, ch := range res.Checks {
				if ch.Name == tc.failed {
					if ch.OK || ch.Skipped != "" {
						t.Fatalf("want %q failed, it held: %s", tc.failed, ch.Detail)
					}
					return
				}
			}
			t.Fatalf("no check %q", tc.failed)
		})
	}
}

func find(res *scenario.Result, name string) *scenario.Check {
	for i := range res.Checks {
		if res.Checks[i].Name == name {
			return &res.Checks[i]
		}
	}
	return nil
}

func skipped(res *scenario.Result, name string) bool {
	for _, c := range res.Checks {
		if c.Name == name {
			return c.Skipped != ""
		}
	}
	return false
}

func or(file string) string {
	if file == "" {
		return "zkctl"
	}
	return file
}
