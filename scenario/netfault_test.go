package scenario_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/testlab"
	"zkctl/node/netfault"
	"zkctl/ops"
	"zkctl/scenario"
)

// reach tells whether host i of the lab can open a TCP connection to
// addr:port within a second.
func reach(lab *testlab.Lab, i int, addr string, port int) bool {
	cmd := lab.Exec(i, "timeout", "1", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", addr, port))
	return cmd.Run() == nil
}

// noRulesLeft fails t when any host's ruleset or qdiscs hold anything of
// zkctl's (the table inet zkctl, a 7a6b: qdisc).
func noRulesLeft(t *testing.T, lab *testlab.Lab) {
	t.Helper()
	for i, h := range lab.Hosts {
		rules, err := lab.Exec(i, "nft", "list", "ruleset").CombinedOutput()
		if err != nil {
			t.Errorf("%s: nft list ruleset: %v: %s", h.Name, err, rules)
		}
		if strings.Contains(string(rules), "table inet "+netfault.TableName) {
			t.Errorf("%s: zkctl's nft table is left:\n%s", h.Name, rules)
		}
		qd, err := lab.Exec(i, "tc", "qdisc", "show").CombinedOutput()
		if err != nil {
			t.Errorf("%s: tc qdisc show: %v: %s", h.Name, err, qd)
		}
		if strings.Contains(string(qd), netfault.QdiscHandle) {
			t.Errorf("%s: a zkctl qdisc is left:\n%s", h.Name, qd)
		}
	}
}

func mustHost(t *testing.T, c *controller.Cluster, name string) inventory.Host {
	t.Helper()
	h, ok := c.Inv.Host(name)
	if !ok {
		t.Fatalf("no host %s", name)
	}
	return h
}

// notes joins a record's notes as "host: msg" lines.
func notes(rec ops.Record) string {
	var b strings.Builder
	for _, n := range rec.Notes {
		fmt.Fprintf(&b, "%s: %s\n", n.Host, n.Msg)
	}
	return b.String()
}

// testNetOps: partitions cut what they say and nothing else (the
// controller and SSH stay), status lists them with their expiry, heal
// leaves nothing, degrade says what it applied, refusals touch nothing.
func testNetOps(t *testing.T, lab *testlab.Lab, c *controller.Cluster) {
	ctx := context.Background()
	for _, h := range c.Inv.Hosts {
		if _, err := (ops.StartServer{Host: h.Name}).Run(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	port := c.Inv.Hosts[0].ClientPort
	a := func(i int) string { return lab.Hosts[i].Addr }
	deadline := time.Now().Add(20 * time.Second)
	for !reach(lab, 1, a(0), port) || !reach(lab, 0, a(2), port) {
		if time.Now().After(deadline) {
			t.Fatal("before any partition the hosts do not reach each other's ZooKeeper port")
		}
		time.Sleep(200 * time.Millisecond)
	}

	rec, err := ops.Partition{Hosts: []string{"vm1"}}.Run(ctx, c)
	if err != nil {
		t.Fatalf("partition vm1: %v", err)
	}
	out := notes(rec)
	for _, w := range []string{"vm1: cut " + a(1) + " (vm2) both ways until healed", "vm1: cut " + a(2) + " (vm3) both ways until healed"} {
		if !strings.Contains(out, w) {
			t.Errorf("partition notes %q do not say %q", out, w)
		}
	}
	if reach(lab, 1, a(0), port) || reach(lab, 0, a(2), port) {
		t.Error("vm1 and vm2/vm3 still reach each other across the partition")
	}
	if !reach(lab, 1, a(2), port) {
		t.Error("vm2 no longer reaches vm3: the partition cut more than vm1")
	}
	if conn, err := net.DialTimeout("tcp", c.Inv.Hosts[0].ClientAddr(), time.Second); err != nil {
		t.Errorf("the controller is cut off from vm1's ZooKeeper: %v", err)
	} else {
		conn.Close()
	}
	if rows := deploy.Status(ctx, c).Net; len(rows) != 2 || rows[0].Host != "vm1" || rows[0].Fault != "partition" || !rows[0].ExpiresAt.IsZero() {
		t.Errorf("status: want vm1's two cuts until healed, got %+v", rows)
	}

	rec, err = ops.Partition{Hosts: []string{"vm2"}, From: []string{"vm3"}, OneWay: true, For: 30 * time.Second}.Run(ctx, c)
	if err != nil || !strings.Contains(notes(rec), "vm2: cut "+a(2)+" (vm3) outbound until ") {
		t.Errorf("one-way partition: %v, notes %q", err, notes(rec))
	}
	st, err := c.NetStatusOn(ctx, mustHost(t, c, "vm2"))
	if err != nil || len(st.Partitions) != 1 || st.Partitions[0].Direction != netfault.DirOut ||
		time.Until(st.Partitions[0].ExpiresAt) > 31*time.Second || time.Until(st.Partitions[0].ExpiresAt) < 20*time.Second {
		t.Errorf("vm2 status: want one outbound cut expiring in 30s, got %+v, %v", st, err)
	}

	rec, err = ops.Heal{}.Run(ctx, c)
	if err != nil || strings.Count(notes(rec), "healed") != 3 {
		t.Errorf("heal: %v, notes %q", err, notes(rec))
	}
	noRulesLeft(t, lab)
	if !reach(lab, 1, a(0), port) || !reach(lab, 0, a(2), port) || !reach(lab, 2, a(1), port) {
		t.Error("after heal the hosts do not reach each other")
	}

	rec, err = ops.Degrade{Host: "vm2", Delay: 20 * time.Millisecond, Loss: 10, Rate: "1mbit", For: 30 * time.Second}.Run(ctx, c)
	out = notes(rec)
	for _, w := range []string{"vm2: delay 20ms: not applied", "vm2: loss 10% via nft numgen", "vm2: rate 1mbit via htb on eth0", "degradation 1 of the traffic to vm1, vm3, until "} {
		if !strings.Contains(out, w) {
			t.Errorf("degrade notes %q do not say %q (err %v)", out, w, err)
		}
	}
	if rows := deploy.Status(ctx, c).Net; len(rows) != 1 || rows[0].Fault != "degrade 1" || !strings.Contains(rows[0].Detail, "loss 10% via nft numgen") {
		t.Errorf("status: want vm2's degradation, got %+v", rows)
	}
	if _, err := (ops.Heal{Hosts: []string{"vm2"}}).Run(ctx, c); err != nil {
		t.Error(err)
	}
	noRulesLeft(t, lab)

	for _, op := range []ops.Op{
		ops.Partition{Hosts: []string{"vm1", "vm2", "vm3"}},
		ops.Partition{Hosts: []string{"vm1"}, From: []string{"vm1"}},
		ops.Partition{Hosts: []string{"vm4"}},
		ops.Degrade{Host: "vm1", Loss: 150},
		ops.Degrade{Host: "vm1", Rate: "fast"},
	} {
		if _, err := op.Run(ctx, c); !ops.IsRefused(err) {
			t.Errorf("%s: want a refusal, got %v", op.Title(), err)
		}
	}
	noRulesLeft(t, lab)
}

// testInterrupt: a scenario interrupted (its context cancelled, as SIGINT
// does) while a host is cut off heals every host before it returns.
func testInterrupt(t *testing.T, lab *testlab.Lab, c *controller.Cluster) {
	sc, _ := scenario.Lookup("master-partition")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			for i := range lab.Hosts {
				if out, _ := lab.Exec(i, "nft", "list", "set", "inet", netfault.TableName, "cut_in4").CombinedOutput(); strings.Contains(string(out), "elements") {
					cancel()
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	res := (&scenario.Runner{Cluster: c}).Run(ctx, []*scenario.Scenario{sc})
	if ctx.Err() == nil {
		t.Fatal("the scenario ended before any host was cut off")
	}
	if len(res) != 1 || res[0].Err == nil {
		t.Fatalf("want an interrupted scenario, got %+v", res)
	}
	healed := false
	for _, ch := range res[0].Checks {
		if ch.Name == "every network fault healed" {
			healed = ch.OK
		}
	}
	if !healed {
		t.Errorf("no passing heal check in %+v", res[0].Checks)
	}
	// The history checks judge the history up to the interrupt.
	judged := false
	for _, ch := range res[0].Checks {
		if ch.Name == "history: never two masters at once" {
			judged = ch.OK && ch.Skipped == "" && strings.Contains(ch.Detail, "up to the run's stop")
		}
	}
	if !judged {
		t.Errorf("the interrupted run's history was not judged: %+v", res[0].Checks)
	}
	noRulesLeft(t, lab)
}

// TestNetSkippedOnLoopback: on local hosts (127.0.0.1) the network
// scenarios are skipped with the reason, the others run.
func TestNetSkippedOnLoopback(t *testing.T) {
	inv, err := inventory.Load(localInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	c := controller.NewCluster(inv, controller.NewUI(nil), nil)
	all, _ := scenario.Select([]string{"all"})
	run, skipped := scenario.Runnable(context.Background(), c, all)
	if len(skipped) != 5 || len(run) != len(all)-5 {
		t.Fatalf("want the 5 network scenarios skipped, got %d run, %d skipped", len(run), len(skipped))
	}
	for _, s := range skipped {
		if !s.Scenario.Net || !strings.Contains(s.Reason, ops.LoopbackReason) {
			t.Errorf("%s skipped for %q", s.Scenario.Name, s.Reason)
		}
	}
	for _, s := range run {
		if s.Net {
			t.Errorf("network scenario %s would run on loopback", s.Name)
		}
	}
}
