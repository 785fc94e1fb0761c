package scenario

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"
)

func machineResults() []*Result {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return []*Result{
		{Scenario: &Scenario{Name: "c1w2m1"}, Start: start, Took: 2 * time.Second, Checks: []Check{
			{Name: "every task completed exactly once", OK: true, Detail: "40 tasks"},
			{Name: "no orphan znodes", OK: false, Detail: "/data/c1-3 left"},
		}, Metrics: Metrics{Submitted: 40, Completed: 40, Reassigns: []Timing{{D: 2100 * time.Millisecond, OK: true}, {Then: "never"}}}},
		{Scenario: &Scenario{Name: "standalone"}, Start: start, Took: time.Second, Err: errors.New("reset: vm1 down")},
	}
}

// TestJUnitStructure: the XML has what CI readers look for: testsuites >
// testsuite (name, tests, failures, errors, time) > testcase (name,
// classname, time) > failure (message, type) or error.
func TestJUnitStructure(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, machineResults(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Time     string `xml:"time,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if !strings.HasPrefix(b.String(), "<?xml") {
		t.Fatalf("no XML header: %q", b.String()[:20])
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 || len(doc.Suites) != 2 {
		t.Fatalf("totals tests=%d failures=%d errors=%d suites=%d\n%s", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites), b.String())
	}
	s := doc.Suites[0]
	if s.Name != "c1w2m1" || s.Tests != 2 || s.Failures != 1 || s.Time != "2.000" {
		t.Errorf("suite %+v", s)
	}
	if c := s.Cases[0]; c.Failure != nil || c.Classname != "zkctl.scenario.c1w2m1" || c.Name != "every task completed exactly once" {
		t.Errorf("passing case %+v", c)
	}
	if f := s.Cases[1].Failure; f == nil || f.Message != "/data/c1-3 left" || !strings.Contains(f.Text, "no orphan znodes") {
		t.Errorf("failing case %+v", s.Cases[1])
	}
	if e := doc.Suites[1].Cases[0].Error; e == nil || e.Message != "reset: vm1 down" || doc.Suites[1].Errors != 1 {
		t.Errorf("run error %+v", doc.Suites[1])
	}
}

func TestJSONLines(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, machineResults()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per scenario", len(lines))
	}
	var j JSONResult
	if err := json.Unmarshal([]byte(lines[0]), &j); err != nil {
		t.Fatal(err)
	}
	if j.Scenario != "c1w2m1" || j.Verdict != "FAIL" || len(j.Checks) != 2 || j.Checks[1].OK ||
		j.Checks[1].Detail != "/data/c1-3 left" || j.Measures.Submitted != 40 || len(j.Measures.Reassigns) != 1 || j.Measures.Reassigns[0] != 2.1 {
		t.Errorf("%+v", j)
	}
	if err := json.Unmarshal([]byte(lines[1]), &j); err != nil || j.Error != "reset: vm1 down" || j.Verdict != "FAIL" {
		t.Errorf("%+v %v", j, err)
	}
}
