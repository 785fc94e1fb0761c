package scenario

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"zkctl/node"
)

// Geometry of a timeline, in pixels.
const (
	svgWidth  = 1000
	labelW    = 175
	rightPad  = 20
	plotW     = svgWidth - labelW - rightPad
	laneTop   = 64
	laneH     = 22
	chartH    = 80
	legendRow = 16
)

// Colors of the timeline.
const (
	colLeader   = "#1f5fbf"
	colFollower = "#9dbde8"
	colNoServe  = "#f2a541"
	colDown     = "#dddddd"
	colMaster   = "#7b3fa0"
	colFenced   = "#d9c3e6"
	colDone     = "#2a9d3f"
	colResult   = "#2a8d9d"
	colFault    = "#d62728"
	colRestart  = "#2ca02c"
	colStopped  = "#ffbf80"
	colLife     = "#9a9a9a"
)

// Timeline draws a run as an SVG: a lane per ZooKeeper server (its mode
// over time) and per role process (its life, a master's terms, a worker's
// completions, a client's results), faults as numbered vertical lines, and
// below, the tasks done over time. Every mark has a tooltip.
func Timeline(r *Result) string {
	d := newDrawing(r)
	d.lanes()
	d.chart()
	d.axis()
	d.faults()
	d.legend()
	return d.String()
}

// drawing is a timeline being drawn.
type drawing struct {
	r      *Result
	b      strings.Builder
	t0, t1 time.Time
	rows   []laneInfo
	chartY int // top of the progress chart
	height int
	faultN []Event // numbered faults and restarts
}

// laneInfo is one row: a server or a process.
type laneInfo struct {
	label string
	host  string
	proc  string // process name; "" for a server
	y     int    // middle
}

func newDrawing(r *Result) *drawing {
	d := &drawing{r: r, t0: r.Start, t1: r.End}
	if !d.t1.After(d.t0) {
		d.t1 = d.t0.Add(time.Second)
	}
	d.t1 = d.t1.Add(d.t1.Sub(d.t0) / 50)
	if r.Samples != nil {
		for _, s := range r.Samples.Servers {
			d.rows = append(d.rows, laneInfo{label: "zookeeper " + s, host: s})
		}
	}
	seen := map[string]bool{}
	for _, role := range roleNames() {
		for _, p := range r.Procs {
			key := p.Host + " " + p.Name()
			if p.Role == role && !seen[key] {
				seen[key] = true
				d.rows = append(d.rows, laneInfo{label: p.Role + " " + p.ID, host: p.Host, proc: p.Name()})
			}
		}
	}
	for i := range d.rows {
		d.rows[i].y = laneTop + i*laneH + laneH/2
	}
	d.chartY = laneTop + len(d.rows)*laneH + 14
	for _, e := range r.Events {
		if e.Kind == KindFault || e.Kind == KindStart && e.Role == node.ZooKeeperName {
			d.faultN = append(d.faultN, e)
		}
	}
	d.height = d.chartY + chartH + 40 + legendRow*(len(d.faultN)+3)
	fmt.Fprintf(&d.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		svgWidth, d.height, svgWidth, d.height)
	fmt.Fprintf(&d.b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgWidth, d.height)
	title := fmt.Sprintf("%s — %s: %s", r.Scenario.Name, r.Verdict(), r.Scenario.What)
	d.text(10, 18, title, `font-size="14" font-weight="bold"`)
	return d
}

func (d *drawing) String() string { return d.b.String() + "</svg>\n" }

// x maps a time to a horizontal position, clamped to the plot.
func (d *drawing) x(t time.Time) float64 {
	f := float64(t.Sub(d.t0)) / float64(d.t1.Sub(d.t0))
	return labelW + math.Max(0, math.Min(1, f))*plotW
}

// The primitives. Each mark may carry a tooltip.

func (d *drawing) text(x, y float64, s, attrs string) {
	fmt.Fprintf(&d.b, `<text x="%.1f" y="%.1f" %s>%s</text>`+"\n", x, y, attrs, html.EscapeString(s))
}

func (d *drawing) rect(x, y, w, h float64, fill, tip string) {
	fmt.Fprintf(&d.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">%s</rect>`+"\n", x, y, math.Max(w, 1), h, fill, tooltip(tip))
}

func (d *drawing) line(x1, y1, x2, y2 float64, stroke string, width float64, extra, tip string) {
	fmt.Fprintf(&d.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f" %s>%s</line>`+"\n",
		x1, y1, x2, y2, stroke, width, extra, tooltip(tip))
}

func (d *drawing) path(p, fill, stroke, tip string) {
	fmt.Fprintf(&d.b, `<path d="%s" fill="%s" stroke="%s">%s</path>`+"\n", p, fill, stroke, tooltip(tip))
}

func tooltip(s string) string {
	if s == "" {
		return ""
	}
	return "<title>" + html.EscapeString(s) + "</title>"
}

// lanes draws every lane: label, then its content.
func (d *drawing) lanes() {
	for i, l := range d.rows {
		y := float64(l.y)
		if i%2 == 0 {
			d.rect(labelW, y-laneH/2, plotW, laneH, "#f7f7f7", "")
		}
		d.text(8, y+4, l.label, "")
		if l.proc == "" {
			d.serverLane(i, l)
		} else {
			d.procLane(l)
		}
	}
}

// serverLane draws a server's mode over time from the srvr samples.
func (d *drawing) serverLane(i int, l laneInfo) {
	ss := d.r.Samples.Server
	y := float64(l.y) - 6
	for k := 0; k < len(ss); {
		mode := ss[k].Modes[i]
		j := k + 1
		for j < len(ss) && ss[j].Modes[i] == mode {
			j++
		}
		end := d.t1
		if j < len(ss) {
			end = ss[j].At
		}
		tip := fmt.Sprintf("%s: %s from %s to %s", l.host, mode, rel(d.t0, ss[k].At), rel(d.t0, end))
		d.rect(d.x(ss[k].At), y, d.x(end)-d.x(ss[k].At), 12, modeColor(mode), tip)
		k = j
	}
}

func modeColor(mode string) string {
	switch mode {
	case "leader", "standalone":
		return colLeader
	case "follower":
		return colFollower
	case "down":
		return colDown
	}
	return colNoServe
}

// procLane draws a process: its lives, stops, terms and marks.
func (d *drawing) procLane(l laneInfo) {
	y := float64(l.y)
	var from time.Time
	var stopped time.Time
	for _, e := range d.r.Events {
		if e.Host != l.host || e.Proc != l.proc {
			continue
		}
		switch {
		case e.Kind == KindStart:
			from = e.At
		case e.Kind == KindFault && e.Attrs["signal"] == "SIGSTOP":
			stopped = e.At
		case e.Kind == KindFault && e.Attrs["signal"] == "SIGCONT" && !stopped.IsZero():
			d.rect(d.x(stopped), y-7, d.x(e.At)-d.x(stopped), 14, colStopped, "stopped (SIGSTOP) "+rel(d.t0, stopped)+" to "+rel(d.t0, e.At))
			stopped = time.Time{}
		case (endsProcess(e) && e.Attrs["signal"] != "SIGSTOP" || e.Kind == KindAllIn) && !from.IsZero():
			d.line(d.x(from), y, d.x(e.At), y, colLife, 2, "", "")
			from = time.Time{}
		}
	}
	if !from.IsZero() {
		d.line(d.x(from), y, d.x(d.t1), y, colLife, 2, "", "")
	}
	ts := terms(d.r.Events)
	for i, t := range ts {
		if t.Proc != l.proc || t.Host != l.host {
			continue
		}
		end := t.End
		if end.IsZero() {
			end = d.t1
		}
		fenced, why := (&observation{res: d.r}).fenceOf(t, ts[i+1:])
		if fenced.IsZero() || !fenced.Before(end) {
			tip := fmt.Sprintf("%s leads (session %s) %s to %s, %d writes", t.ID, t.Session, rel(d.t0, t.Elected), rel(d.t0, end), t.Writes)
			d.rect(d.x(t.Elected), y-5, d.x(end)-d.x(t.Elected), 10, colMaster, tip)
			continue
		}
		// Fenced: it leads until its last successful write; after, its
		// writes could no longer land, whatever it believed.
		last := t.Elected
		if t.LastWrite.After(last) && t.LastWrite.Before(fenced) {
			last = t.LastWrite
		}
		tip := fmt.Sprintf("%s leads (session %s) %s to its last successful write at %s, %d writes", t.ID, t.Session, rel(d.t0, t.Elected), rel(d.t0, last), t.Writes)
		d.rect(d.x(t.Elected), y-5, d.x(last)-d.x(t.Elected), 10, colMaster, tip)
		tip = fmt.Sprintf("%s fenced %s to %s: no write of it lands after %s (%s at %s)", t.ID, rel(d.t0, last), rel(d.t0, end), rel(d.t0, last), why, rel(d.t0, fenced))
		d.rect(d.x(last), y-3, d.x(end)-d.x(last), 6, colFenced, tip)
	}
	for _, e := range d.r.Events {
		if e.Host == l.host && e.Proc == l.proc {
			d.mark(e, d.x(e.At), y)
		}
	}
}

// mark draws the symbol of one event on its lane.
func (d *drawing) mark(e Event, x, y float64) {
	tip := rel(d.t0, e.At) + " " + eventText(e)
	switch e.Kind {
	case KindElected:
		d.path(fmt.Sprintf("M%.1f %.1f l6 6 l-6 6 l-6 -6 z", x, y-6), "#ffd23f", colMaster, tip)
	case KindStepDown:
		d.path(fmt.Sprintf("M%.1f %.1f l10 10 m0 -10 l-10 10", x-5, y-5), "none", colFault, tip)
	case KindFenced:
		fmt.Fprintf(&d.b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s">%s</circle>`+"\n", x, y, colFault, tooltip(tip))
	case KindWorkerGone:
		d.path(fmt.Sprintf("M%.1f %.1f l5 9 l-10 0 z", x, y-5), "#ff7f0e", "#b35900", tip)
	case KindCompleted:
		d.line(x, y-7, x, y+7, colDone, 1.5, "", tip)
	case KindDropped:
		d.line(x, y-7, x, y+7, "#ff7f0e", 2, "", tip)
	case KindResult:
		d.line(x, y-5, x, y+5, colResult, 1, "", tip)
	case KindSubmitted, KindCleaned:
		d.path(fmt.Sprintf("M%.1f %.1f l0 12 l8 -6 z", x, y-6), colResult, "none", tip)
	case KindRegistered, KindJoined:
		fmt.Fprintf(&d.b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="white" stroke="#333">%s</circle>`+"\n", x, y, tooltip(tip))
	case KindError:
		d.text(x-2, y+4, "!", `fill="`+colFault+`" font-weight="bold"`)
	}
}

// chart draws the tasks done over time, and shades when ZooKeeper did not
// answer the monitor.
func (d *drawing) chart() {
	top, bottom := float64(d.chartY), float64(d.chartY+chartH)
	d.rect(labelW, top, plotW, chartH, "#fbfbfb", "")
	d.text(8, top+14, "tasks done", "")
	done := filter(d.r.Events, KindCompleted)
	d.text(8, top+28, fmt.Sprintf("(%d)", len(done)), `fill="#666"`)
	if d.r.Samples != nil {
		d.outages(top)
	}
	if len(done) == 0 {
		return
	}
	scale := (chartH - 6) / float64(len(done))
	pts := []string{fmt.Sprintf("%.1f,%.1f", d.x(d.t0), bottom)}
	for i, e := range done {
		x := d.x(e.At)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, bottom-float64(i)*scale), fmt.Sprintf("%.1f,%.1f", x, bottom-float64(i+1)*scale))
	}
	pts = append(pts, fmt.Sprintf("%.1f,%.1f", d.x(d.t1), bottom-float64(len(done))*scale))
	fmt.Fprintf(&d.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.Join(pts, " "), colDone)
}

// outages shades the stretches where the monitor's reads failed.
func (d *drawing) outages(top float64) {
	app := d.r.Samples.App
	for k := 0; k < len(app); k++ {
		if app[k].OK {
			continue
		}
		j := k
		for j < len(app) && !app[j].OK {
			j++
		}
		end := d.t1
		if j < len(app) {
			end = app[j].At
		}
		tip := fmt.Sprintf("ZooKeeper did not answer from %s to %s", rel(d.t0, app[k].At), rel(d.t0, end))
		d.rect(d.x(app[k].At), top, d.x(end)-d.x(app[k].At), chartH, "#f6c6c6", tip)
		k = j
	}
}

// axis draws the time grid and its labels.
func (d *drawing) axis() {
	span := d.t1.Sub(d.t0).Seconds()
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 20, 30, 60} {
		step = s
		if span/s <= 15 {
			break
		}
	}
	bottom := float64(d.chartY + chartH)
	for s := 0.0; s <= span; s += step {
		x := d.x(d.t0.Add(time.Duration(s * float64(time.Second))))
		d.line(x, laneTop-4, x, bottom, "#cccccc", 0.5, `stroke-dasharray="2,3"`, "")
		d.text(x-6, bottom+14, fmt.Sprintf("%gs", s), `fill="#555"`)
	}
}

// faults draws each fault and server restart as a numbered vertical line.
func (d *drawing) faults() {
	bottom := float64(d.chartY + chartH)
	lastX, level := -100.0, 0
	for i, e := range d.faultN {
		x := d.x(e.At)
		col := colFault
		if e.Kind == KindStart || e.Attrs["signal"] == "SIGCONT" || e.Attrs["fault"] == "heal" {
			col = colRestart
		}
		if x-lastX < 16 {
			level = 1 - level // markers close together: alternate two heights
		} else {
			level = 0
		}
		lastX = x
		y := float64(laneTop - 14 - 16*level)
		d.line(x, y, x, bottom, col, 1.2, `stroke-dasharray="5,3"`, rel(d.t0, e.At)+" "+e.Msg)
		fmt.Fprintf(&d.b, `<circle cx="%.1f" cy="%.1f" r="7" fill="%s"/>`+"\n", x, y, col)
		d.text(x-3.5, y+4, fmt.Sprint(i+1), `fill="white" font-size="10" font-weight="bold"`)
	}
}

// legend lists the numbered faults and explains the marks.
func (d *drawing) legend() {
	y := float64(d.chartY + chartH + 34)
	for i, e := range d.faultN {
		d.text(labelW, y, fmt.Sprintf("%d  %s  %s", i+1, rel(d.t0, e.At), e.Msg), "")
		y += legendRow
	}
	key := []struct{ color, text string }{
		{colLeader, "ZooKeeper leader"}, {colFollower, "follower"}, {colNoServe, "not serving"}, {colDown, "down"},
		{colMaster, "master term"}, {colFenced, "master fenced (after its last successful write)"}, {colStopped, "SIGSTOPped"}, {colDone, "task completed"}, {colResult, "result seen / submitted"},
		{"#f6c6c6", "ZooKeeper not answering"},
	}
	x := float64(8)
	y += 4
	for _, k := range key {
		w := 30 + float64(len(k.text))*6.6
		if x+w > svgWidth {
			x, y = 8, y+legendRow
		}
		d.rect(x, y-9, 10, 10, k.color, "")
		d.text(x+14, y, k.text, "")
		x += w
	}
}
