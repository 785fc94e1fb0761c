package deploy

import (
	"context"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// uploadStep pushes the zkctl binary unless the probe found it already
// there, reconnecting and retrying when the connection is lost mid-way.
type uploadStep struct{ s *hostDeploy }

func (uploadStep) Title() string { return "upload zkctl" }

func (u uploadStep) Run(ctx context.Context, c *Cluster, h inventory.Host, _ transport.Transport) error {
	s := u.s
	if s.probe.sha256 == s.bin.sha256 {
		s.result.Binary, s.known = "skipped", s.probe.info
		c.UI.Host(h.Name, "zkctl binary up to date (sha256 %s…)", s.bin.sha256[:12])
		return nil
	}
	err := c.retry(ctx, h, u.Title(), func(t transport.Transport) error {
		if s.staged != "" {
			c.UI.Host(h.Name, "zkctl from the preflight's copy in %s", s.staged)
			return placeStaged(ctx, h, t, s.staged)
		}
		return c.upload(ctx, h, t, s.bin)
	})
	if err != nil {
		return err
	}
	s.result.Binary, s.result.Bytes = "pushed", s.bin.size
	c.markUploaded(h)
	return nil
}

func (c *Cluster) upload(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo) error {
	c.UI.Host(h.Name, "uploading zkctl (%s)", humanBytes(bin.size))
	start := time.Now()
	err := t.Upload(ctx, bin.path, AgentPath(h), 0o755, func(sent int64) {
		c.UI.Progress(h.Name, Bar(sent, bin.size))
	})
	c.UI.Progress(h.Name, "")
	if err != nil {
		return err
	}
	c.UI.Host(h.Name, "uploaded zkctl in %v", time.Since(start).Round(time.Millisecond))
	return nil
}

// placeStaged puts the agent the preflight copied to staged (in /tmp) in
// its place, through a temporary file and a rename as an upload does: the
// binary crosses the network once.
func placeStaged(ctx context.Context, h inventory.Host, t transport.Transport, staged string) error {
	dst := AgentPath(h)
	tmp := dst + ".staged"
	_, err := transport.Output(ctx, t, transport.Join("cp", staged+"/zkctl", tmp)+" && "+
		transport.Join("chmod", "755", tmp)+" && "+transport.Join("mv", "-f", tmp, dst))
	return err
}
