package netfault

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// element is one set element: an address or prefix and its expiry.
type element struct {
	Val       string
	Permanent bool          // no timeout
	Expires   time.Duration // left before the kernel removes it
}

// nftSet and nftRule are the parts of `nft -j list table` that zkctl reads.
type nftSet struct {
	Name  string
	Elems []element
}

type nftRule struct {
	Chain   string
	Handle  int
	Comment string
}

type nftTable struct {
	Sets  []nftSet
	Rules []nftRule
}

// parseTable reads `nft -j list table inet zkctl`.
func parseTable(data []byte) (nftTable, error) {
	var doc struct {
		Nftables []struct {
			Set *struct {
				Name string            `json:"name"`
				Elem []json.RawMessage `json:"elem"`
			} `json:"set"`
			Rule *struct {
				Chain   string `json:"chain"`
				Handle  int    `json:"handle"`
				Comment string `json:"comment"`
			} `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nftTable{}, fmt.Errorf("read nft table: %w", err)
	}
	var t nftTable
	for _, o := range doc.Nftables {
		if o.Set != nil {
			s := nftSet{Name: o.Set.Name}
			for _, raw := range o.Set.Elem {
				e, err := parseElem(raw)
				if err != nil {
					return nftTable{}, fmt.Errorf("set %s: %w", s.Name, err)
				}
				s.Elems = append(s.Elems, e)
			}
			t.Sets = append(t.Sets, s)
		}
		if o.Rule != nil {
			t.Rules = append(t.Rules, nftRule{Chain: o.Rule.Chain, Handle: o.Rule.Handle, Comment: o.Rule.Comment})
		}
	}
	return t, nil
}

// parseElem reads the element forms nft prints: "10.0.0.1",
// {"prefix": …}, {"range": […]}, and {"elem": {"val": …, "timeout": s, "expires": s}}.
func parseElem(raw json.RawMessage) (element, error) {
	var wrapped struct {
		Elem *struct {
			Val     json.RawMessage `json:"val"`
			Timeout float64         `json:"timeout"`
			Expires float64         `json:"expires"`
		} `json:"elem"`
	}
	if json.Unmarshal(raw, &wrapped) == nil && wrapped.Elem != nil {
		v, err := parseVal(wrapped.Elem.Val)
		if err != nil {
			return element{}, err
		}
		e := element{Val: v, Permanent: wrapped.Elem.Timeout == 0}
		e.Expires = time.Duration(wrapped.Elem.Expires * float64(time.Second))
		return e, nil
	}
	v, err := parseVal(raw)
	return element{Val: v, Permanent: true}, err
}

func parseVal(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var p struct {
		Prefix *struct {
			Addr string `json:"addr"`
			Len  int    `json:"len"`
		} `json:"prefix"`
		Range []string `json:"range"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("element %s: %w", raw, err)
	}
	switch {
	case p.Prefix != nil:
		return fmt.Sprintf("%s/%d", p.Prefix.Addr, p.Prefix.Len), nil
	case len(p.Range) == 2:
		return p.Range[0] + "-" + p.Range[1], nil
	}
	return "", fmt.Errorf("element %s: unknown form", raw)
}

var (
	cutSetName    = regexp.MustCompile(`^cut_(in|out)[46]$`)
	degSetName    = regexp.MustCompile(`^deg([0-9]+)_[46]$`)
	lossCommentRE = regexp.MustCompile(`^zkctl deg ([0-9]+) loss (\S+)$`)
)

// cuts turns the partition sets into one Cut per peer and direction,
// merging a peer's in and out entries when their expiries agree (±1s).
func cuts(t nftTable, now time.Time) []Cut {
	type entry struct{ in, out *element }
	byPeer := map[string]*entry{}
	for _, s := range t.Sets {
		m := cutSetName.FindStringSubmatch(s.Name)
		if m == nil {
			continue
		}
		for i := range s.Elems {
			e := &s.Elems[i]
			en := byPeer[e.Val]
			if en == nil {
				en = &entry{}
				byPeer[e.Val] = en
			}
			if m[1] == "in" {
				en.in = e
			} else {
				en.out = e
			}
		}
	}
	var out []Cut
	for peer, en := range byPeer {
		switch {
		case en.in != nil && en.out != nil && sameExpiry(*en.in, *en.out):
			out = append(out, cutOf(peer, DirBoth, laterOf(*en.in, *en.out), now))
		default:
			if en.in != nil {
				out = append(out, cutOf(peer, DirIn, *en.in, now))
			}
			if en.out != nil {
				out = append(out, cutOf(peer, DirOut, *en.out, now))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Peer != out[j].Peer {
			return out[i].Peer < out[j].Peer
		}
		return out[i].Direction < out[j].Direction
	})
	return out
}

func sameExpiry(a, b element) bool {
	if a.Permanent || b.Permanent {
		return a.Permanent == b.Permanent
	}
	d := a.Expires - b.Expires
	return d <= time.Second && d >= -time.Second
}

func laterOf(a, b element) element {
	if b.Expires > a.Expires {
		return b
	}
	return a
}

func cutOf(peer, dir string, e element, now time.Time) Cut {
	c := Cut{Peer: peer, Direction: dir, UntilHealed: e.Permanent}
	if !e.Permanent {
		c.ExpiresAt = now.Add(e.Expires).Truncate(time.Second)
	}
	return c
}

// degState is a degradation as the nft table holds it.
type degState struct {
	Degradation
	sets    []string
	rules   []int // handles in the degrade chain
	expired bool  // its sets exist but the kernel expired every element
}

// degradations groups the deg<n>_4/6 sets and the degrade chain's rules by id.
func degradations(t nftTable, now time.Time) map[int]*degState {
	out := map[int]*degState{}
	get := func(id int) *degState {
		if out[id] == nil {
			out[id] = &degState{Degradation: Degradation{ID: id, Knobs: []Knob{}}, expired: true}
		}
		return out[id]
	}
	for _, s := range t.Sets {
		m := degSetName.FindStringSubmatch(s.Name)
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[1])
		d := get(id)
		d.sets = append(d.sets, s.Name)
		for _, e := range s.Elems {
			d.expired = false
			if e.Val == "0.0.0.0/0" || e.Val == "::/0" {
				d.All = true
			} else {
				d.Peers = append(d.Peers, e.Val)
			}
			if e.Permanent {
				d.UntilHealed = true
			} else if at := now.Add(e.Expires).Truncate(time.Second); at.After(d.ExpiresAt) {
				d.ExpiresAt = at
			}
		}
	}
	for _, r := range t.Rules {
		if r.Chain != chainDegrade {
			continue
		}
		if m := lossCommentRE.FindStringSubmatch(r.Comment); m != nil {
			id, _ := strconv.Atoi(m[1])
			d := get(id)
			d.rules = append(d.rules, r.Handle)
			if !hasKnob(d.Knobs, "loss") {
				d.Knobs = append(d.Knobs, Knob{Knob: "loss", Value: m[2], Applied: true, Via: "nft numgen"})
			}
			continue
		}
		var id int
		if _, err := fmt.Sscanf(r.Comment, "zkctl deg %d mark", &id); err == nil {
			d := get(id)
			d.rules = append(d.rules, r.Handle)
		}
	}
	for _, d := range out {
		if d.UntilHealed {
			d.ExpiresAt = time.Time{}
		}
		sort.Strings(d.Peers)
	}
	return out
}

func hasKnob(ks []Knob, name string) bool {
	for _, k := range ks {
		if k.Knob == name {
			return true
		}
	}
	return false
}

// hasTable reports whether zkctl's table exists.
func (h Host) hasTable(ctx context.Context) (bool, error) {
	out, err := h.run(ctx, "", "nft", "-j", "list", "tables")
	if err != nil {
		return false, err
	}
	var doc struct {
		Nftables []struct {
			Table *struct {
				Family string `json:"family"`
				Name   string `json:"name"`
			} `json:"table"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return false, fmt.Errorf("nft list tables: %w", err)
	}
	for _, o := range doc.Nftables {
		if o.Table != nil && o.Table.Family == family && o.Table.Name == TableName {
			return true, nil
		}
	}
	return false, nil
}

// readTable lists zkctl's table (empty when it does not exist).
func (h Host) readTable(ctx context.Context) (nftTable, error) {
	ok, err := h.hasTable(ctx)
	if err != nil || !ok {
		return nftTable{}, err
	}
	out, err := h.run(ctx, "", "nft", "-j", "list", "table", family, TableName)
	if err != nil {
		return nftTable{}, err
	}
	return parseTable(out)
}
