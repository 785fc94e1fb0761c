package scenario

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// TestMarkZkctlSpecific: a check that reads a foreign role's log events,
// as it declares them, is not judged; one that reads only zkctl's roles or
// ZooKeeper is judged; one that declares nothing is taken to read every
// role; history checks read ZooKeeper alone.
func TestMarkZkctlSpecific(t *testing.T) {
	base := func() []Check {
		return []Check{
			{Name: "never two masters at once", reads: reads("master")},
			{Name: "every task completed exactly once", reads: reads("worker", "client")},
			{Name: "no orphan znodes", reads: reads()},
			{Name: "the old leader rejoins as a candidate", reads: reads("master")},
			{Name: "a check that declares nothing"}, // every role
			{Name: "history: never two masters at once", reads: reads()},
		}
	}
	cases := []struct {
		foreign []string
		skipped []bool
	}{
		{nil, []bool{false, false, false, false, false, false}},
		{[]string{"master"}, []bool{true, false, false, true, true, false}},
		{[]string{"worker"}, []bool{false, true, false, false, true, false}},
		{[]string{"client", "master", "worker"}, []bool{true, true, false, true, true, false}},
	}
	for _, tc := range cases {
		got := markZkctlSpecific(base(), tc.foreign)
		for i, c := range got {
			if (c.Skipped != "") != tc.skipped[i] {
				t.Errorf("foreign %v: %q skipped=%q, want skipped %v", tc.foreign, c.Name, c.Skipped, tc.skipped[i])
			}
			if c.Skipped != "" && !strings.HasPrefix(c.Skipped, "zkctl-specific") {
				t.Errorf("reason %q", c.Skipped)
			}
		}
	}
}

// TestSkippedVerdict: a skipped check neither passes nor fails the run,
// and JSON, JUnit and the report say it was skipped and why.
func TestSkippedVerdict(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r := &Result{Scenario: &Scenario{Name: "master-lag"}, Start: start, Took: time.Second, Checks: []Check{
		{Name: "history: never two masters at once", OK: true, Detail: "42 master writes"},
		{Name: "the old leader rejoins as a candidate", OK: false, Detail: "no joined event", Skipped: "zkctl-specific: reads zkctl's master events"},
	}}
	if !r.Passed() || len(r.Failed()) != 0 {
		t.Fatalf("a skipped check failed the run: %v", r.Failed())
	}
	r.Checks[0].OK = false
	if r.Passed() || len(r.Failed()) != 1 {
		t.Fatalf("a broken history check beside a skipped one: passed=%v failed=%v", r.Passed(), r.Failed())
	}
	r.Checks[0].OK = true

	var md bytes.Buffer
	section(&md, r, "", "")
	if !strings.Contains(md.String(), "- ⏭️ **the old leader rejoins as a candidate**: not judged: zkctl-specific") {
		t.Errorf("report:\n%s", md.String())
	}

	var j bytes.Buffer
	if err := WriteJSON(&j, []*Result{r}); err != nil {
		t.Fatal(err)
	}
	var jr JSONResult
	if err := json.Unmarshal(j.Bytes(), &jr); err != nil || jr.Verdict != "PASS" || jr.Checks[1].Skipped == "" || jr.Checks[0].Skipped != "" {
		t.Fatalf("json %+v %v", jr, err)
	}

	var x bytes.Buffer
	if err := WriteJUnit(&x, []*Result{r}, time.Second); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Skipped  int `xml:"skipped,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Suites[0]
	if s.Skipped != 1 || s.Failures != 0 || s.Cases[0].Skipped != nil || s.Cases[1].Skipped == nil ||
		s.Cases[1].Failure != nil || !strings.Contains(s.Cases[1].Skipped.Message, "zkctl-specific") {
		t.Fatalf("junit:\n%s", x.String())
	}
}
