package deploy

import (
	"fmt"
	"slices"
	"strings"
)

// The gate a roll waits at after restarting a server, before it takes the
// next one out. All of it must hold at one poll:
//
//   - the server answers srvr as a voter (follower or leader) or, for an
//     observer, as an observer;
//   - its conf is the configuration it was given (node.ConfMismatches);
//   - some server leads, and the leader's mntr shows zk_synced_followers
//     back at the number of the other voters (observers are not counted
//     there: an observer is checked by its own mode and zxid);
//   - the server's zxid has reached the zxid the leader had when the
//     server first answered as a member again (it has caught up).

// gateView is one poll's view of the restarted server and the leader.
type gateView struct {
	mode       string   // the restarted server's srvr mode
	zxid       int64    // its zxid
	conf       []string // its conf's differences from the wanted configuration; nil: matches
	confErr    string   // why its conf could not be read, "" when it was
	leader     string   // the host that leads, "" for none
	synced     int      // the leader's zk_synced_followers, -1 when unread
	rejoinZxid int64    // the leader's zxid when the server rejoined, -1 before it has
	wantMode   []string // the modes the server may answer in
	wantSynced int      // the voters less one; -1 for a standalone server (no leader)
	standalone bool
}

// check says whether the gate holds and, when not, what it waits for.
func (v gateView) check() (bool, string) {
	if !slices.Contains(v.wantMode, v.mode) {
		return false, fmt.Sprintf("srvr mode %s, want %s", v.mode, strings.Join(v.wantMode, " or "))
	}
	if v.confErr != "" {
		return false, "conf unreadable: " + v.confErr
	}
	if len(v.conf) > 0 {
		return false, "conf differs from the new configuration: " + strings.Join(v.conf, "; ")
	}
	if v.standalone {
		return true, ""
	}
	if v.leader == "" {
		return false, "no server leads"
	}
	if v.synced != v.wantSynced {
		return false, fmt.Sprintf("leader %s has %d synced followers, want %d", v.leader, v.synced, v.wantSynced)
	}
	if v.rejoinZxid < 0 || v.zxid < v.rejoinZxid {
		return false, fmt.Sprintf("zxid %#x behind the leader's %#x at rejoin", v.zxid, v.rejoinZxid)
	}
	return true, ""
}
