package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressOptions configure a progress renderer.
type progressOptions struct {
	// Off renders nothing (--quiet, --json).
	Off bool
	// TTY redraws one line with \r; otherwise a plain line is written at
	// most every Every, and one at the end.
	TTY bool
	// Every is the least time between two plain lines; default 2 s.
	Every time.Duration
	// Redraw is the least time between two redraws on a terminal; default 100 ms.
	Redraw time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// progress renders the progress of a long operation (replay, bench,
// migrate) to a writer, normally stderr. It is safe for concurrent use.
type progress struct {
	w     io.Writer
	o     progressOptions
	label string
	total int64

	mu    sync.Mutex
	done  int64
	note  string
	drawn time.Time // last output
	width int       // length of the last line drawn on a terminal
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress returns a renderer of label's progress towards total (0
// when unknown) on stderr: redrawn in place on a terminal, periodic plain
// lines otherwise, nothing when quiet.
func newProgress(stderr io.Writer, label string, total int64, quiet bool) *progress {
	return newProgressWith(stderr, label, total, progressOptions{Off: quiet, TTY: isTerminal(stderr)})
}

// newProgressWith is newProgress with every option given (tests).
func newProgressWith(w io.Writer, label string, total int64, o progressOptions) *progress {
	if o.Every <= 0 {
		o.Every = 2 * time.Second
	}
	if o.Redraw <= 0 {
		o.Redraw = 100 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &progress{w: w, o: o, label: label, total: total, drawn: o.Now()}
}

// Add counts n more units done and redraws when it is time.
func (p *progress) Add(n int64) { p.Set(-1, n, "") }

// Set sets the units done (unless done < 0, then adds add) and the note
// shown after the counts (unless note is empty), and redraws when it is time.
func (p *progress) Set(done, add int64, note string) {
	if p == nil || p.o.Off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if done >= 0 {
		p.done = done
	}
	p.done += add
	if note != "" {
		p.note = note
	}
	now := p.o.Now()
	wait := p.o.Every
	if p.o.TTY {
		wait = p.o.Redraw
	}
	if now.Sub(p.drawn) >= wait {
		p.draw(now, false)
	}
}

// Finish draws the final state and ends the line.
func (p *progress) Finish() {
	if p == nil || p.o.Off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(p.o.Now(), true)
}

// draw writes the current state. p.mu is held.
func (p *progress) draw(now time.Time, final bool) {
	p.drawn = now
	line := p.line()
	if !p.o.TTY {
		fmt.Fprintln(p.w, line)
		return
	}
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r%s%s%s", line, pad, end)
}

// barWidth is the number of cells of the bar.
const barWidth = 24

// line returns the text of the current state, e.g.
// "replay [#########---------------]  38% 380/1000 (52 deliveries)".
func (p *progress) line() string {
	var b strings.Builder
	b.WriteString(p.label)
	if p.total > 0 {
		done := min(p.done, p.total)
		cells := int(done * barWidth / p.total)
		fmt.Fprintf(&b, " [%s%s] %3d%% %d/%d", strings.Repeat("#", cells), strings.Repeat("-", barWidth-cells),
			done*100/p.total, p.done, p.total)
	} else {
		fmt.Fprintf(&b, " %d", p.done)
	}
	if p.note != "" {
		b.WriteString(" (" + p.note + ")")
	}
	return b.String()
}
