package netfault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"zkctl/node/wire"
)

// Degrade applies a degradation of this host's outbound traffic to
// spec.Peers (all traffic but the exempt when empty), in addition to those
// already active. Delay needs sch_netem (and so does loss via netem);
// without it loss is dropped by nft numgen and delay is not applied. Rate
// is an htb class on each device the traffic leaves by. The result says,
// knob by knob, what was applied and how; when nothing could be, nothing
// is left behind and the error wraps ErrNothingApplied. With For > 0 a
// detached timer removes the degradation at its expiry, and its set
// elements expire in the kernel at the same time.
func (h Host) Degrade(ctx context.Context, spec DegradeSpec) (Degradation, error) {
	if err := spec.Validate(); err != nil {
		return Degradation{}, err
	}
	if spec.For > 0 && h.Dir == "" {
		return Degradation{}, fmt.Errorf("%w: degrade --for needs the host's dir for its timer", ErrBadSpec)
	}
	unlock, err := h.prepare()
	if err != nil {
		return Degradation{}, err
	}
	defer unlock()
	id, err := h.freeID(ctx)
	if err != nil {
		return Degradation{}, err
	}
	d := Degradation{ID: id, Peers: spec.Peers, All: len(spec.Peers) == 0, UntilHealed: spec.For == 0, Knobs: []Knob{}}
	tcKnobs, marked, netemLoss, err := h.applyTC(ctx, spec, id)
	if err != nil {
		h.rollback(ctx, id)
		return d, err
	}
	d.Knobs = append(d.Knobs, tcKnobs...)
	r := degradeRules{ID: id, Mark: marked}
	if spec.Loss > 0 && !netemLoss {
		r.Loss = spec.Loss
		d.Knobs = append(d.Knobs, Knob{Knob: "loss", Value: formatLoss(spec.Loss), Applied: true, Via: "nft numgen"})
	}
	if !anyApplied(d.Knobs) {
		h.rollback(ctx, id)
		return d, fmt.Errorf("degrade: %w: %s", ErrNothingApplied, knobList(d.Knobs))
	}
	script, err := renderDegrade(spec, r)
	if err == nil {
		err = h.nft(ctx, script)
	}
	if err != nil {
		h.rollback(ctx, id)
		return d, fmt.Errorf("degrade: %w", err)
	}
	if spec.For > 0 {
		at := time.Now().Add(spec.For)
		d.ExpiresAt = at.Truncate(time.Second)
		if d.TimerPID, err = h.startTimer(id, at); err != nil {
			return d, fmt.Errorf("degrade: applied, but %w (its nft elements still expire)", err)
		}
	}
	return d, nil
}

// freeID is the smallest id that no degradation, class or timer uses; a
// dead timer's pidfile is forgotten.
func (h Host) freeID(ctx context.Context) (int, error) {
	t, err := h.readTable(ctx)
	if err != nil {
		return 0, fmt.Errorf("degrade: %w", err)
	}
	degs, err := h.degStates(ctx, t, time.Now())
	if err != nil {
		return 0, fmt.Errorf("degrade: %w", err)
	}
	used := map[int]bool{}
	for _, d := range degs {
		used[d.ID] = true
	}
	for id := 1; id <= MaxID; id++ {
		if !used[id] {
			h.stopTimers(id)
			return id, nil
		}
	}
	return 0, fmt.Errorf("degrade: all %d degradation ids in use; heal first", MaxID)
}

// applyTC sets up the htb class (rate) and netem leaf (delay, and loss with
// it) of degradation id on every device the traffic leaves by. marked says
// whether any class was kept (the nft rules must then mark packets);
// netemLoss whether netem took the loss.
func (h Host) applyTC(ctx context.Context, spec DegradeSpec, id int) (knobs []Knob, marked, netemLoss bool, err error) {
	if spec.Rate == 0 && spec.Delay == 0 {
		return nil, false, false, nil // loss alone: nft numgen is enough
	}
	devs, err := h.routeDevs(ctx, spec.Peers)
	if err != nil {
		return nil, false, false, fmt.Errorf("degrade: %w", err)
	}
	netem := netemUntried
	for _, dev := range devs {
		ks, kept, err := h.applyDev(ctx, spec, id, dev, &netem)
		knobs = append(knobs, ks...)
		marked = marked || kept
		if err != nil {
			return knobs, marked, false, fmt.Errorf("degrade: %w", err)
		}
	}
	if netem == netemMissing {
		knobs = append(knobs, Knob{Knob: "delay", Value: spec.Delay.String(), Reason: "no sch_netem in this kernel"})
	}
	netemLoss = spec.Loss > 0 && netem == netemWorks
	if netemLoss {
		knobs = append(knobs, Knob{Knob: "loss", Value: formatLoss(spec.Loss), Applied: true, Via: "netem"})
	}
	return knobs, marked, netemLoss, nil
}

// What is known of sch_netem while a degradation is applied.
const (
	netemUntried = iota
	netemWorks
	netemMissing
)

// applyDev makes degradation id's class and filter on dev, and its netem
// leaf when a delay is asked and netem is not known to be missing (the
// first refusal sets *netem). A class that carries nothing is removed
// again; kept says whether one stays.
func (h Host) applyDev(ctx context.Context, spec DegradeSpec, id int, dev string, netem *int) (knobs []Knob, kept bool, err error) {
	reason, err := h.ensureRoot(ctx, dev)
	if err != nil || reason != "" {
		return notApplied(spec, reason), false, err
	}
	rate := spec.Rate
	if rate == 0 {
		rate = noRateCeiling
	}
	if _, err := h.run(ctx, "", "tc", tcClassArgs(dev, id, rate)...); err != nil {
		return nil, false, err
	}
	if _, err := h.run(ctx, "", "tc", tcFilterArgs(dev, id)...); err != nil {
		return nil, true, err
	}
	if spec.Rate > 0 {
		knobs = append(knobs, Knob{Knob: "rate", Value: FormatRate(spec.Rate), Applied: true, Via: "htb on " + dev})
	}
	if spec.Delay > 0 && *netem != netemMissing {
		_, err := h.run(ctx, "", "tc", tcNetemArgs(dev, id, spec.Delay, spec.Loss)...)
		switch {
		case isUnknownQdisc(err):
			*netem = netemMissing
		case err != nil:
			return knobs, true, err
		default:
			*netem = netemWorks
			return append(knobs, Knob{Knob: "delay", Value: spec.Delay.String(), Applied: true, Via: "netem on " + dev}), true, nil
		}
	}
	if spec.Rate == 0 { // the class was only for netem
		return knobs, false, h.removeFromDev(ctx, dev, id)
	}
	return knobs, true, nil
}

// notApplied lists the tc knobs of spec as not applied, for reason.
func notApplied(spec DegradeSpec, reason string) []Knob {
	if reason == "" {
		return nil
	}
	var ks []Knob
	if spec.Rate > 0 {
		ks = append(ks, Knob{Knob: "rate", Value: FormatRate(spec.Rate), Reason: reason})
	}
	if spec.Delay > 0 {
		ks = append(ks, Knob{Knob: "delay", Value: spec.Delay.String(), Reason: reason})
	}
	return ks
}

// rollback removes whatever part of degradation id was made.
func (h Host) rollback(ctx context.Context, id int) {
	d := &degState{Degradation: Degradation{ID: id}}
	if t, err := h.readTable(ctx); err == nil {
		if s := degradations(t, time.Now())[id]; s != nil {
			d = s
		}
	}
	_ = h.removeDegradation(ctx, d)
}

func anyApplied(ks []Knob) bool {
	for _, k := range ks {
		if k.Applied {
			return true
		}
	}
	return false
}

func knobList(ks []Knob) string {
	s := ""
	for i, k := range ks {
		if i > 0 {
			s += "; "
		}
		s += k.String()
	}
	return s
}

// degradeCalls adds the degradation calls to the agent's handlers.
func degradeCalls(hs wire.Handlers) {
	wire.Handle[DegradeSpec](hs)
	wire.Handle[ClearRequest](hs)
}

// Call implements wire.Request.
func (DegradeSpec) Call() string { return "net degrade" }

// Serve degrades the outbound traffic of the host in dir.
func (s DegradeSpec) Serve(ctx context.Context, dir string) (Degradation, error) {
	return Host{Dir: dir}.Degrade(ctx, s)
}

// ClearRequest removes every degradation (partitions stay).
type ClearRequest struct{}

// Cleared are the ids of the degradations a ClearRequest removed.
type Cleared struct {
	Cleared []int `json:"cleared"`
}

// Call implements wire.Request.
func (ClearRequest) Call() string { return "net degrade --clear" }

// Serve clears the degradations of the host in dir.
func (ClearRequest) Serve(ctx context.Context, dir string) (Cleared, error) {
	ids, err := Host{Dir: dir}.ClearDegradations(ctx)
	return Cleared{Cleared: ids}, err
}

// row is the degradation as a line of `zkctl status`.
func (d Degradation) row() Row {
	var knobs []string
	for _, k := range d.Knobs {
		knobs = append(knobs, k.String())
	}
	to := "all traffic"
	if !d.All {
		to = "to " + strings.Join(d.Peers, ",")
	}
	return Row{Fault: fmt.Sprintf("degrade %d", d.ID), Detail: strings.Join(knobs, "; ") + " (" + to + ")", ExpiresAt: d.ExpiresAt}
}
