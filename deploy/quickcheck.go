package deploy

import (
	"context"
	"encoding/json"
	"path/filepath"
	"time"

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
}

func recordPath(h inventory.Host) string { return filepath.Join(h.Dir, "bin", "zkctl.deployed") }

// writeRecord notes what this deploy left on the host.
func (c *Cluster) writeRecord(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo, info node.Info) {
	st, err := t.Stat(ctx, AgentPath(h))
	if err != nil {
		return // no record: the next deploy takes the long way
	}
	rec := deployRecord{SHA256: bin.sha256, Size: st.Size(), ModTime: st.ModTime(), Home: c.zooKeeperHome(h), Info: info}
	data, _ := json.Marshal(rec)
	if err := writeIfChanged(ctx, t, recordPath(h), data, 0o644); err != nil {
		c.Log.Debug("deploy record not written", "host", h.Name, "err", err)
	}
}

// quickCheck takes the deploy lock and confirms, without running a command
// on the host, that the binary there is bin and that the Java and ZooKeeper
// found last time are still in place. On any doubt it releases nothing it
// did not take and returns false: the caller takes the long way.
func (c *Cluster) quickCheck(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo) (node.Info, bool) {
	data, err := t.ReadFile(ctx, recordPath(h))
	var rec deployRecord
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.SHA256 != bin.sha256 || rec.Home != c.zooKeeperHome(h) {
		return node.Info{}, false
	}
	st, err := t.Stat(ctx, AgentPath(h))
	if err != nil || st.Size() != rec.Size || !st.ModTime().Equal(rec.ModTime) {
		return node.Info{}, false
	}
	for _, p := range installedPaths(rec.Info.Install) {
		if _, err := t.Stat(ctx, p); err != nil {
			return node.Info{}, false
		}
	}
	if t.Mkdir(ctx, lockPath(h)) != nil {
		return node.Info{}, false // held by another deploy, or no run/: the long way says which
	}
	c.claimLock(ctx, h, t)
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
