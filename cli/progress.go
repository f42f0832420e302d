package cli

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a bar with ETA on stderr for runs that last more than a
// second, when stderr is a terminal or --progress is given, and never with
// --quiet.
type progress struct {
	e       *env
	start   time.Time
	t0, end float64
	bar     *progressbar.ProgressBar
	enabled bool
	name    string // the phase shown
}

const progressDelay = time.Second

func newProgress(e *env, end, t0 float64) *progress {
	enabled := !e.quiet && e.progress
	if !e.quiet && !enabled {
		if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			enabled = true
		}
	}
	return &progress{e: e, start: time.Now(), t0: t0, end: end, enabled: enabled}
}

func (p *progress) update(t float64) {
	p.phase("t", (t-p.t0)/(p.end-p.t0))
}

// phase shows the fraction frac of the named phase done (a pipeline of
// phases, as `fokker sgd` runs: the bar restarts with each phase, and its
// time estimate is the phase's).
func (p *progress) phase(name string, frac float64) {
	if !p.enabled {
		return
	}
	if p.bar == nil {
		if time.Since(p.start) < progressDelay {
			return
		}
		p.bar = progressbar.NewOptions(1000,
			progressbar.OptionSetWriter(p.e.stderr),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		p.name = name
	}
	if name != p.name {
		p.bar.Reset()
		p.bar.Describe(name)
		p.name = name
	}
	p.bar.Set(int(1000 * min(max(frac, 0), 1)))
}

// finish clears the bar; later updates show nothing.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	p.enabled = false
}
