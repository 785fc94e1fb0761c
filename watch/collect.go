package watch

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"zkctl/node"
)

// Polls is how often the collectors ask what no watch can tell: the
// servers' srvr and the agents' network faults. Zero means the default.
type Polls struct {
	Servers time.Duration // srvr to every server
	Faults  time.Duration // the agents' fault status
}

// DefaultPolls asks srvr every second and the agents every 10 s. An
// agent's fault status is a process on the host that runs nft, ip and tc
// (about 30 ms of CPU on a host with one interface; see BENCHMARKS.md):
// every 10 s it keeps the view and its agents under 2% of a core on three
// hosts, and a fault shows within 10 s (--fault-poll for sooner).
var DefaultPolls = Polls{Servers: time.Second, Faults: 10 * time.Second}

func (p Polls) withDefaults() Polls {
	if p.Servers <= 0 {
		p.Servers = DefaultPolls.Servers
	}
	if p.Faults <= 0 {
		p.Faults = DefaultPolls.Faults
	}
	return p
}

// collect runs every collector until ctx ends, putting what they see
// into out.
func collect(ctx context.Context, src Source, polls Polls, out *inbox) {
	polls = polls.withDefaults()
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() { watchZooKeeper(ctx, src.Session(), out.Put) })
	run(func() { pollServers(ctx, src, polls.Servers, out.Put) })
	for _, h := range src.FaultHosts() {
		run(func() { pollFaults(ctx, src, h, polls.Faults, out.Put) })
	}
	wg.Wait()
}

// every calls f now and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollServers asks every server for srvr each interval, in parallel, and
// reports a round when anything in it changed.
func pollServers(ctx context.Context, src Source, interval time.Duration, emit func(Event)) {
	hosts := src.Servers()
	timeout := min(interval, time.Second)
	var last []ServerObs
	every(ctx, interval, func() {
		obs := make([]ServerObs, len(hosts))
		var wg sync.WaitGroup
		for i, h := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := src.FourLetter(h, "srvr", timeout)
				obs[i] = parseServer(h, out, err)
			}()
		}
		wg.Wait()
		if ctx.Err() == nil && !slices.Equal(obs, last) {
			last = obs
			emit(ServersPolled{At: time.Now(), Servers: obs})
		}
	})
}

// notServing is what a server answers to srvr while it has no quorum
// (it is looking for a leader).
const notServing = "This ZooKeeper instance is not currently serving requests"

// parseServer reads a srvr reply (node.ParseSrvr, the version included);
// no answer is "down", an answer without serving is "not serving".
func parseServer(host, out string, err error) ServerObs {
	if err != nil {
		return ServerObs{Host: host, Mode: "down", Err: err.Error()}
	}
	st := node.ParseSrvr(out)
	if st.Mode == "error" && strings.Contains(out, notServing) {
		return ServerObs{Host: host, Mode: "not serving"}
	}
	return ServerObs{Host: host, Mode: st.Mode, Zxid: st.Zxid, Conns: st.Connections,
		Version: st.Version, Err: st.Error}
}

// faultTimeout bounds an agent's fault status beyond the poll interval:
// an SSH login on first use and a loaded host.
const faultTimeout = 15 * time.Second

// pollFaults asks host's agent for its network faults each interval and
// reports them when they changed.
func pollFaults(ctx context.Context, src Source, host string, interval time.Duration, emit func(Event)) {
	var last *FaultsRead
	every(ctx, interval, func() {
		cctx, cancel := context.WithTimeout(ctx, interval+faultTimeout)
		fs, err := src.NetFaults(cctx, host)
		cancel()
		if ctx.Err() != nil {
			return
		}
		ev := FaultsRead{At: time.Now(), Host: host, Faults: fs}
		if err != nil {
			ev.Err = firstLine(err.Error())
		}
		if last == nil || ev.Err != last.Err || !slices.Equal(ev.Faults, last.Faults) {
			last = &ev
			emit(ev)
		}
	})
}
