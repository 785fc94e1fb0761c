package deploy

import (
	"context"
	"encoding/json"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// recordStep notes what this deploy left on the host (deployRecord), for
// the next deploy's quick check. It never fails the deploy: without a
// record the next one takes the long way.
type recordStep struct{ s *hostDeploy }

func (recordStep) Title() string { return "write deploy record" }

func (r recordStep) Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error {
	st, err := t.Stat(ctx, controller.AgentPath(h))
	if err != nil {
		return nil // no record: the next deploy takes the long way
	}
	rec := deployRecord{SHA256: r.s.bin.sha256, Size: st.Size(), ModTime: st.ModTime(), Home: c.zooKeeperHome(h), Info: r.s.info, ID: h.ID}
	data, _ := json.Marshal(rec)
	if err := writeIfChanged(ctx, t, recordPath(h), data, 0o644); err != nil {
		c.Log.Debug("deploy record not written", "host", h.Name, "err", err)
	}
	return nil
}
