package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) tick(d time.Duration) { c.t = c.t.Add(d) }

func TestProgressTerminalRedrawsInPlace(t *testing.T) {
	var out bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	p := newProgressWith(&out, "copy", 200, progressOptions{TTY: true, Now: clk.now})
	p.Add(10) // too soon after the start: not drawn
	clk.tick(150 * time.Millisecond)
	p.Set(-1, 40, "events") // 50
	clk.tick(10 * time.Millisecond)
	p.Add(50) // too soon: not drawn
	clk.tick(200 * time.Millisecond)
	p.Set(-1, 100, "deliveries") // 200
	p.Finish()
	want := "\rcopy [######------------------]  25% 50/200 (events)" +
		"\rcopy [########################] 100% 200/200 (deliveries)" +
		"\rcopy [########################] 100% 200/200 (deliveries)\n"
	if out.String() != want {
		t.Errorf("terminal output\n%q\nwant\n%q", out.String(), want)
	}
}

func TestProgressTerminalClearsALongerLine(t *testing.T) {
	var out bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	p := newProgressWith(&out, "bench", 0, progressOptions{TTY: true, Now: clk.now})
	clk.tick(time.Second)
	p.Set(5, 0, "a long note")
	p.note = ""
	p.Finish()
	want := "\rbench 5 (a long note)" + "\rbench 5" + strings.Repeat(" ", len(" (a long note)")) + "\n"
	if out.String() != want {
		t.Errorf("terminal output %q, want %q", out.String(), want)
	}
}

func TestProgressPlainLinesArePeriodic(t *testing.T) {
	var out bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	p := newProgressWith(&out, "replay", 4, progressOptions{Every: 2 * time.Second, Now: clk.now})
	for range 4 {
		clk.tick(time.Second)
		p.Add(1)
	}
	p.Finish()
	want := "replay [############------------]  50% 2/4\n" +
		"replay [########################] 100% 4/4\n" +
		"replay [########################] 100% 4/4\n"
	if out.String() != want {
		t.Errorf("plain output\n%q\nwant\n%q", out.String(), want)
	}
}

func TestProgressOffWritesNothing(t *testing.T) {
	var out bytes.Buffer
	p := newProgressWith(&out, "migrate", 10, progressOptions{Off: true, TTY: true})
	p.Add(10)
	p.Finish()
	var nilP *progress
	nilP.Add(1)
	nilP.Finish()
	if out.Len() != 0 {
		t.Errorf("quiet progress wrote %q", out.String())
	}
}

func TestIsTerminalFalseForBuffersAndFiles(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}
