package scenario

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// The scenario results in forms a machine reads: JSON lines (one object a
// scenario, `zkctl scenario --json`) and JUnit XML (`--junit FILE`, one
// testcase a check), the format CI systems (GitHub Actions reporters,
// GitLab, Jenkins) show as tests.

// JSONResult is one scenario as `--json` prints it.
type JSONResult struct {
	Scenario string      `json:"scenario"`
	Verdict  string      `json:"verdict"` // PASS or FAIL
	Error    string      `json:"error,omitempty"`
	Seconds  float64     `json:"seconds"`
	Hosts    []string    `json:"hosts"`
	Servers  []string    `json:"servers"`
	Checks   []JSONCheck `json:"checks"`
	Measures JSONMeasure `json:"measures"`
}

// JSONCheck is one check of a JSONResult.
type JSONCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Skipped is why the check was not judged ("zkctl-specific: …").
	Skipped string `json:"skipped,omitempty"`
}

// JSONMeasure is what a run measured, times in seconds (a failover that
// was not answered is left out of its list).
type JSONMeasure struct {
	Submitted    int            `json:"submitted"`
	Completed    int            `json:"completed"`
	Dropped      int            `json:"dropped"`
	PerSecond    float64        `json:"tasks_per_second"`
	LongestPause float64        `json:"longest_pause_seconds"`
	Failovers    []float64      `json:"failover_seconds"`
	Reassigns    []float64      `json:"reassign_seconds"`
	Elections    []float64      `json:"zk_election_seconds"`
	Split        map[string]int `json:"completed_by_worker,omitempty"`
}

// JSON returns r as `--json` prints it.
func (r *Result) JSON() JSONResult {
	j := JSONResult{Scenario: r.Scenario.Name, Verdict: r.Verdict(), Seconds: round3(r.Took.Seconds()),
		Hosts: r.Hosts, Servers: r.Servers, Checks: []JSONCheck{}}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	for _, c := range r.Checks {
		j.Checks = append(j.Checks, JSONCheck{Name: c.Name, OK: c.OK, Detail: c.Detail, Skipped: c.Skipped})
	}
	m := r.Metrics
	j.Measures = JSONMeasure{Submitted: m.Submitted, Completed: m.Completed, Dropped: m.Dropped,
		PerSecond: round3(m.PerSecond), LongestPause: round3(m.Pause.D().Seconds()),
		Failovers: timingSeconds(m.Failovers), Reassigns: timingSeconds(m.Reassigns), Elections: timingSeconds(m.Elections)}
	if len(m.Split) > 0 {
		j.Measures.Split = map[string]int{}
		for _, s := range m.Split {
			j.Measures.Split[s.Worker] = s.Tasks
		}
	}
	return j
}

func timingSeconds(ts []Timing) []float64 {
	out := []float64{}
	for _, t := range ts {
		if t.OK {
			out = append(out, round3(t.D.Seconds()))
		}
	}
	return out
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// WriteJSON writes one JSON line per result.
func WriteJSON(w io.Writer, results []*Result) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		if err := enc.Encode(r.JSON()); err != nil {
			return err
		}
	}
	return nil
}

// The JUnit XML elements, as the common readers expect them: testsuites >
// testsuite (one a scenario) > testcase (one a check) > failure.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr"`
		Cases     []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the results as JUnit XML: a testsuite per scenario, a
// testcase per check, a failure element (with the check's detail) per
// broken check; a scenario that could not run to its end has one more
// testcase with an error element.
func WriteJUnit(w io.Writer, results []*Result, took time.Duration) error {
	all := junitSuites{Name: "zkctl scenario", Time: secs(took)}
	for _, r := range results {
		s := junitSuite{Name: r.Scenario.Name, Time: secs(r.Took), Timestamp: r.Start.UTC().Format("2006-01-02T15:04:05")}
		class := "zkctl.scenario." + r.Scenario.Name
		for _, c := range r.Checks {
			tc := junitCase{Name: c.Name, Classname: class, Time: "0"}
			switch {
			case c.Skipped != "":
				tc.Skipped = &junitSkipped{Message: c.Skipped}
				s.Skipped++
			case !c.OK:
				tc.Failure = &junitProblem{Message: c.Detail, Type: "check", Text: c.Name + ": " + c.Detail}
				s.Failures++
			}
			s.Cases = append(s.Cases, tc)
		}
		if r.Err != nil {
			s.Cases = append(s.Cases, junitCase{Name: "the scenario runs to its end", Classname: class, Time: secs(r.Took),
				Error: &junitProblem{Message: r.Err.Error(), Type: "run", Text: r.Err.Error()}})
			s.Errors++
		}
		s.Tests = len(s.Cases)
		all.Tests, all.Failures, all.Errors = all.Tests+s.Tests, all.Failures+s.Failures, all.Errors+s.Errors
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
