package deploy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"zkctl/controller"
)

// ClusterStatus is what `zkctl status` shows.
type ClusterStatus struct {
	Servers []ServerRow `json:"servers"`
	Roles   []RoleRow   `json:"roles"`
	Net     []NetRow    `json:"network_faults,omitempty"`
	// Versions: the hosts of each ZooKeeper version the servers report
	// (srvr); Mixed when they report more than one.
	Versions map[string][]string `json:"versions,omitempty"`
	Mixed    bool                `json:"mixed_versions,omitempty"`
	App      *AppState           `json:"app,omitempty"`
	AppErr   string              `json:"app_error,omitempty"`
}

// ServerRow is one ZooKeeper server.
type ServerRow struct {
	Host        string `json:"host"`
	Address     string `json:"address"`
	Mode        string `json:"mode"`
	Version     string `json:"version,omitempty"` // the server's own (srvr), "" when it does not answer
	Zxid        string `json:"zxid"`
	Connections int    `json:"connections"`
	PID         int    `json:"pid"`
	Process     string `json:"process"`
	Observer    bool   `json:"observer,omitempty"`
	RoleOnly    bool   `json:"role_only,omitempty"`      // zookeeper = false: no server on this host
	Pending     bool   `json:"config_pending,omitempty"` // runs another configuration than deployed: a roll applies it
	Error       string `json:"error,omitempty"`
	// NeedsStart: the server process is not running (after a reboot,
	// say): `zkctl start zookeeper` starts it.
	NeedsStart bool `json:"needs_start,omitempty"`
}

// RoleRow is one role process.
type RoleRow struct {
	Host  string `json:"host"`
	Role  string `json:"role"`
	ID    string `json:"id"`
	PID   int    `json:"pid"`
	State string `json:"state"`
}

// Status gathers the servers' modes, the role processes and, when the
// ensemble answers, the application's state.
func Status(ctx context.Context, cc *controller.Cluster) ClusterStatus {
	c := &cluster{cc}
	var cs ClusterStatus
	sts, err := c.Statuses(ctx, c.Inv.Hosts)
	for _, h := range c.Inv.Hosts {
		st, ok := sts[h.Name]
		row := ServerRow{Host: h.Name, Address: h.ClientAddr(), Mode: "unreachable", Observer: h.Observer, RoleOnly: h.RoleOnly}
		if ok {
			row.Mode, row.Connections, row.PID, row.Process = st.Server.Mode, st.Server.Connections, st.ZooKeeper.PID, st.ZooKeeper.State
			row.Version = st.Server.Version
			row.Pending = st.ConfigPending
			row.Zxid, row.NeedsStart = "-", !h.RoleOnly && serverDown(st)
			if h.RoleOnly {
				row.Mode, row.Address, row.PID = "role-only", "-", 0
			} else if st.Server.Mode != "down" && st.Server.Mode != "error" {
				row.Zxid = "0x" + strconv.FormatInt(st.Server.Zxid, 16)
			}
			for _, p := range st.Roles {
				cs.Roles = append(cs.Roles, RoleRow{Host: h.Name, Role: p.Role, ID: p.ID, PID: p.PID, State: p.State})
			}
		} else if err != nil {
			row.Error = hostErr(err, h.Name)
		}
		cs.Servers = append(cs.Servers, row)
	}
	cs.Versions, cs.Mixed = serverVersions(cs.Servers)
	cs.Net = c.netFaults(ctx)
	cs.App, err = c.appState(ctx)
	if err != nil {
		cs.AppErr = err.Error()
	}
	return cs
}

func hostErr(err error, host string) string {
	for _, e := range unwrapAll(err) {
		if he, ok := e.(*controller.HostError); ok && he.Host == host {
			return he.Error()
		}
	}
	return ""
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (c *cluster) appState(ctx context.Context) (*AppState, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := c.Connect(ctx, c.Inv.ServerHosts())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return readAppState(conn)
}

// PrintStatus writes cs as tables, or as JSON.
func PrintStatus(w io.Writer, cs ClusterStatus, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(cs)
	}
	rows := make([][]string, len(cs.Servers))
	var pending []string
	for i, s := range cs.Servers {
		pid := "-"
		if s.PID > 0 {
			pid = fmt.Sprintf("%d (%s)", s.PID, s.Process)
		}
		mode := s.Mode
		if s.Observer && mode != "observer" {
			mode += " (observer)"
		}
		if s.Pending {
			mode += ", roll pending"
			pending = append(pending, s.Host)
		}
		rows[i] = []string{s.Host, s.Address, mode, cmp.Or(s.Version, "-"), s.Zxid, strconv.Itoa(s.Connections), pid}
		if s.Error != "" {
			rows[i] = append(rows[i], s.Error)
		}
	}
	controller.Table(w, []string{"HOST", "ZOOKEEPER", "MODE", "VERSION", "ZXID", "CONNS", "PID"}, rows)
	if line := versionsLine(cs.Versions, cs.Mixed); line != "" {
		fmt.Fprintln(w, line)
	}
	if down := needStart(cs.Servers); len(down) > 0 {
		fmt.Fprintf(w, "no server runs on %s: `zkctl start zookeeper` starts every server that is down and waits for quorum\n", strings.Join(down, ", "))
	}
	if len(pending) > 0 {
		fmt.Fprintf(w, "a roll is pending: %s run another configuration than the one deployed; zkctl restart zookeeper applies it\n", strings.Join(pending, ", "))
	}
	fmt.Fprintln(w)
	printApp(w, cs)
	fmt.Fprintln(w)
	printNet(w, cs.Net)
	rows = rows[:0]
	sort.Slice(cs.Roles, func(i, j int) bool {
		return cs.Roles[i].Host+cs.Roles[i].Role+cs.Roles[i].ID < cs.Roles[j].Host+cs.Roles[j].Role+cs.Roles[j].ID
	})
	for _, r := range cs.Roles {
		rows = append(rows, []string{r.Host, r.Role, r.ID, strconv.Itoa(r.PID), r.State})
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "no role processes")
		return nil
	}
	controller.Table(w, []string{"HOST", "ROLE", "ID", "PID", "STATE"}, rows)
	return nil
}

// needStart names the hosts whose server needs a start.
func needStart(rows []ServerRow) []string {
	var out []string
	for _, r := range rows {
		if r.NeedsStart {
			out = append(out, r.Host)
		}
	}
	return out
}

func printApp(w io.Writer, cs ClusterStatus) {
	if cs.App == nil {
		fmt.Fprintf(w, "application: unavailable (%s)\n", cs.AppErr)
		return
	}
	a := cs.App
	master := "none"
	if a.Master != nil {
		master = fmt.Sprintf("%s on %s (pid %d, since %s)", a.Master.ID, a.Master.Host, a.Master.PID, a.Master.Since.Format(time.TimeOnly))
	}
	fmt.Fprintf(w, "master: %s   candidates: %d\n", master, a.Candidates)
	fmt.Fprintf(w, "tasks: %d pending, %d assigned, %d results waiting\n", a.Pending, a.Assigned, a.Results)
	if len(a.Workers) == 0 {
		fmt.Fprintln(w, "workers: none")
		return
	}
	var rows [][]string
	for _, wk := range a.Workers {
		live := "alive"
		if !wk.Alive {
			live = "gone"
		}
		capacity := "-"
		if wk.Capacity > 0 {
			capacity = strconv.Itoa(wk.Capacity)
		}
		rows = append(rows, []string{wk.ID, live, capacity, strconv.Itoa(wk.Assigned)})
	}
	controller.Table(w, []string{"WORKER", "STATE", "CAPACITY", "ASSIGNED"}, rows)
}
