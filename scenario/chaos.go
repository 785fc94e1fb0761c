package scenario

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"zkctl/ops"
	"zkctl/roles"
)

// PartitionChaos is a seeded fault test on hosts with their own addresses:
// for about d it injects, one at a time, a partition of a host, a crash of
// a host without a client (then its server and roles come back), a freeze
// of a host, a SIGKILL of a worker or of the leading master (restarted),
// each held for a random while, and then judges the invariants of every
// scenario. Every kind of fault comes once, in the seed's order, even if
// the faults take longer than d (a slow tick, a loaded machine). The seed
// fixes the sequence of faults, hosts and holds (not the cluster's
// timing); the notes count what was injected.
func PartitionChaos(seed int64, d time.Duration) *Scenario {
	return &Scenario{Name: fmt.Sprintf("partition-chaos-%d", seed),
		What:    fmt.Sprintf("seeded (%d) partitions, host crashes, freezes and kills for %v", seed, d),
		Observe: "no task lost or doubled, never two masters, no write by a fenced master, no orphan",
		Place:   Placement{{"master", 0}, {"master", 1}, {"worker", 0}, {"worker", 1}, {"worker", 2}, {"client", 2}}, Servers: 3, Net: true,
		script: func(r *run) { chaos(r, rand.New(rand.NewPCG(uint64(seed), 0x7a6b)), d) }}
}

// chaos is PartitionChaos's script.
func chaos(r *run, rng *rand.Rand, d time.Duration) {
	r.startMasters()
	r.startWorkers()
	r.startClients(int(d/time.Second) * 6)
	r.waitDone(5)
	counts := map[string]int{}
	end := time.Now().Add(d)
	first := rng.Perm(5) // every kind once, however long the faults take, then at random until d is over
	for i := 0; (i < len(first) || time.Now().Before(end)) && r.ok(); i++ {
		hold := r.timing.session/4 + time.Duration(rng.Int64N(int64(r.timing.session)))
		host := r.hosts[rng.IntN(len(r.hosts))]
		k := rng.IntN(5)
		if i < len(first) {
			k = first[i]
		}
		switch k {
		case 0:
			r.partition(host)
			r.hold(hold, "partitioned")
			r.heal(host)
			counts["partitions"]++
		case 1:
			host = r.hosts[rng.IntN(2)] // never the client's host
			r.crashHost(host)
			r.hold(hold, "crashed")
			r.startServer(host)
			r.restartEnded(host)
			counts["host crashes"]++
		case 2:
			r.freezeHost(host, true)
			r.hold(hold, "frozen")
			r.freezeHost(host, false)
			counts["freezes"]++
		case 3:
			if w := r.pick(rng, "worker"); w != nil {
				r.signal(w, syscall.SIGKILL)
				r.restart(w, roles.Options{Concurrency: 1})
				counts["worker kills"]++
			}
		case 4:
			if m := r.leadingMaster(); m != nil {
				r.signal(m, syscall.SIGKILL)
				r.restart(m, roles.Options{})
				counts["master kills"]++
			}
		}
		r.hold(r.timing.session/4+time.Duration(rng.Int64N(int64(r.timing.session/2))), "between faults")
	}
	r.waitLeader()
	r.waitCandidates(2)
	r.note("Faults injected: %d partitions, %d host crashes, %d freezes, %d worker kills, %d master kills.",
		counts["partitions"], counts["host crashes"], counts["freezes"], counts["worker kills"], counts["master kills"])
	r.expect("faults of every kind were injected", reads(), func(o *observation) (bool, string) {
		n := 0
		for _, c := range counts {
			n += c
		}
		return len(counts) == 5, fmt.Sprintf("%d faults: %v", n, counts)
	})
}

// restartEnded starts again, with their ids, the roles on host that the
// scenario ended and did not restart.
func (r *run) restartEnded(host string) {
	for _, p := range r.procs() {
		if p.Host != host || p.Ended.IsZero() || p.Role == "client" || r.restarted(p) {
			continue
		}
		o := roles.Options{}
		if p.Role == "worker" {
			o.Concurrency = 1
		}
		r.restart(p, o)
	}
}

// restarted tells whether a later process has p's id.
func (r *run) restarted(p *Proc) bool {
	for _, q := range r.procs() {
		if q.ID == p.ID && q.Started.After(p.Started) {
			return true
		}
	}
	return false
}

// pick returns a random live process of role, or nil.
func (r *run) pick(rng *rand.Rand, role string) *Proc {
	var live []*Proc
	for _, p := range r.procs() {
		if p.Role == role && p.Ended.IsZero() {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[rng.IntN(len(live))]
}

// leadingMaster is the live process of the master that leads now, or nil.
func (r *run) leadingMaster() *Proc {
	id := r.mon.status().Master
	for _, p := range r.procs() {
		if p.Role == "master" && p.ID == id && p.Ended.IsZero() {
			return p
		}
	}
	return nil
}

// freezeHost SIGSTOPs (or SIGCONTs) every process on host (ops.Freeze,
// ops.Thaw, as `zkctl freeze` and `thaw` do).
func (r *run) freezeHost(host string, freeze bool) Event {
	var op ops.Op = ops.Thaw{Host: host}
	if freeze {
		op = ops.Freeze{Host: host}
	}
	_, e, _ := r.do(op, "")
	return e
}
