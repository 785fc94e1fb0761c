package zktest

import "testing"

func TestEnsembleElectsLeaderAndSurvivesFollowerLoss(t *testing.T) {
	e := Start(t, 3)
	leader := e.Leader()
	if leader < 0 {
		t.Fatal("no leader")
	}
	follower := (leader + 1) % 3
	if m := e.Status(follower).Mode; m != "follower" {
		t.Fatalf("server %d mode %q, want follower", follower+1, m)
	}
	e.Kill(follower)
	if m := e.Status(follower).Mode; m != "down" {
		t.Fatalf("killed server mode %q, want down", m)
	}
	if e.Leader() != leader {
		t.Fatalf("leader changed after a follower died")
	}
	e.Start(follower)
	e.WaitQuorum()
}
