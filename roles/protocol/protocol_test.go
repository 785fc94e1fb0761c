package protocol

import (
	"strings"
	"testing"
	"time"
)

func TestParsePayload(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"0.25", 250 * time.Millisecond, ""},
		{" 1\n", time.Second, ""},
		{"0", 0, ""},
		{"3600", time.Hour, ""},
		{"1e-3", time.Millisecond, ""},
		{"", 0, "empty payload"},
		{"abc", 0, "not a number"},
		{"NaN", 0, "not a number"},
		{"+Inf", 0, "not a number"},
		{"-0.5", 0, "outside [0, 3600]"},
		{"3600.5", 0, "outside [0, 3600]"},
		{"1s", 0, "not a number"},
		{strings.Repeat("x", 3<<20), 0, "payload of 3145728 bytes"},
		{"\x00\xff", 0, "not a number"},
	}
	for _, tt := range tests {
		got, err := ParsePayload([]byte(tt.in))
		name := tt.in
		if len(name) > 20 {
			name = name[:20]
		}
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParsePayload(%q): %v", name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParsePayload(%q) error = %v, want %q", name, err, tt.wantErr)
		case got != tt.want:
			t.Errorf("ParsePayload(%q) = %v, want %v", name, got, tt.want)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("ParsePayload(%q): error of %d bytes", name, len(err.Error()))
		}
	}
}

func TestFormatPayloadRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 250 * time.Millisecond, 1500 * time.Millisecond, time.Hour} {
		got, err := ParsePayload([]byte(FormatPayload(d)))
		if err != nil || got != d {
			t.Errorf("round trip %v: %q -> %v, %v", d, FormatPayload(d), got, err)
		}
	}
	if got := FormatPayload(250 * time.Millisecond); got != "0.25" {
		t.Errorf("FormatPayload(250ms) = %q, want 0.25", got)
	}
}

func TestResults(t *testing.T) {
	if got := OKResult("w1"); got != "ok w1" {
		t.Errorf("OKResult = %q", got)
	}
	if got := ErrorResult("bad"); got != "error: bad" {
		t.Errorf("ErrorResult = %q", got)
	}
	for _, tt := range []struct {
		in     string
		ok     bool
		detail string
	}{{"ok w1", true, "w1"}, {"error: bad", false, "bad"}, {"junk", false, "junk"}} {
		ok, detail := ParseResult(tt.in)
		if ok != tt.ok || detail != tt.detail {
			t.Errorf("ParseResult(%q) = %v %q", tt.in, ok, detail)
		}
	}
}

func TestPaths(t *testing.T) {
	for got, want := range map[string]string{
		ElectionPrefix("m1"):  "/election/m1_",
		Worker("w"):           "/workers/w",
		WorkerAlive("w"):      "/workers_eph/w",
		Assignment("w", "t"):  "/workers/w/t",
		Task("t"):             "/tasks/t",
		Data("t"):             "/data/t",
		Result("t"):           "/results/t",
		TaskName("client", 7): "client-7",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestParseTaskName(t *testing.T) {
	for _, tt := range []struct {
		in     string
		client string
		n      int
		ok     bool
	}{
		{"c-1", "c", 1, true},
		{"my-client-12", "my-client", 12, true},
		{"c-", "", 0, false},
		{"-1", "", 0, false},
		{"c-x", "", 0, false},
		{"c--1", "c-", 1, true},
		{"c-+1", "", 0, false},
		{"plain", "", 0, false},
	} {
		client, n, ok := ParseTaskName(tt.in)
		if client != tt.client || n != tt.n || ok != tt.ok {
			t.Errorf("ParseTaskName(%q) = %q %d %v", tt.in, client, n, ok)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", "a\x00", strings.Repeat("a", 256)} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) = nil", bad)
		}
	}
	for _, good := range []string{"w1", "client-1", "m.2", "_x"} {
		if err := CheckName(good); err != nil {
			t.Errorf("CheckName(%q) = %v", good, err)
		}
	}
}

func TestMasterInfoJSON(t *testing.T) {
	since := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	m := MasterInfo{ID: "m1", Host: "vm1", PID: 42, Since: since}
	data := string(m.Marshal())
	want := `{"id":"m1","host":"vm1","pid":42,"since":"2024-05-01T12:00:00Z"}`
	if data != want {
		t.Fatalf("Marshal = %s, want %s", data, want)
	}
	back, err := ParseMasterInfo([]byte(data))
	if err != nil || back != m {
		t.Fatalf("ParseMasterInfo = %+v, %v", back, err)
	}
	if _, err := ParseMasterInfo([]byte("{")); err == nil {
		t.Fatal("ParseMasterInfo accepted bad JSON")
	}
}
