package deploy

import (
	"context"
	"encoding/json"
	"path/filepath"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// deployRecord is what a deploy leaves beside the binary, so that the next
// one can tell with a few SFTP calls and no remote command that nothing
// changed: rsync's size-and-mtime quick check, plus the sha256 the binary
// had when it was pushed and what the agent found of Java and ZooKeeper.
type deployRecord struct {
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	Home    string    `json:"home"` // the [zookeeper] home the agent was asked about
	Info    node.Info `json:"info"`
	ID      int       `json:"id,omitempty"` // the host's myid, sticky (see idStep)
}

func recordPath(h inventory.Host) string { return node.Layout{Dir: h.Dir}.DeployRecord() }

// quickCheckStep confirms, without running a command on the host, that the
// binary there is the one being deployed and that the Java and ZooKeeper
// found last time are still in place; then the long way is skipped. On any
// doubt it says nothing and the long way runs.
type quickCheckStep struct{ s *hostDeploy }

func (quickCheckStep) Title() string { return "quick check" }

func (q quickCheckStep) Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error {
	s := q.s
	info, ok := c.quickCheck(ctx, h, t, s.bin)
	if !ok {
		return nil
	}
	s.upToDate, s.info = true, info
	s.result.Binary, s.result.ZooKeeper = "skipped", "found"
	c.UI.Host(h.Name, "zkctl binary up to date (sha256 %s…); java %s, ZooKeeper %s still in place",
		s.bin.sha256[:12], info.Install.Java, info.Install.ZooKeeperHome)
	return nil
}

func (c *cluster) quickCheck(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo) (node.Info, bool) {
	data, err := t.ReadFile(ctx, recordPath(h))
	var rec deployRecord
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.SHA256 != bin.sha256 || rec.Home != c.zooKeeperHome(h) {
		return node.Info{}, false
	}
	st, err := t.Stat(ctx, controller.AgentPath(h))
	if err != nil || st.Size() != rec.Size || !st.ModTime().Equal(rec.ModTime) {
		return node.Info{}, false
	}
	for _, p := range installedPaths(rec.Info.Install) {
		if _, err := t.Stat(ctx, p); err != nil {
			return node.Info{}, false
		}
	}
	return rec.Info, true
}

// installedPaths are the files whose presence Detect relied on.
func installedPaths(in node.Install) []string {
	if in.Java == "" || in.ZooKeeperHome == "" {
		return []string{"/nonexistent: nothing was found"}
	}
	if in.Layout == "debian" {
		return []string{in.Java, node.DebianJar}
	}
	return []string{in.Java, filepath.Join(in.ZooKeeperHome, "lib")}
}
