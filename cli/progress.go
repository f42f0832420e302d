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
	e          *env
	start      time.Time
	t0, end    float64
	bar        *progressbar.ProgressBar
	enabled    bool
	lastUpdate time.Time
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
	if !p.enabled {
		return
	}
	now := time.Now()
	if p.bar == nil {
		if now.Sub(p.start) < progressDelay {
			return
		}
		p.bar = progressbar.NewOptions(1000,
			progressbar.OptionSetWriter(p.e.stderr),
			progressbar.OptionSetDescription("t"),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	frac := (t - p.t0) / (p.end - p.t0)
	p.bar.Set(int(1000 * frac))
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
