package validation

import (
	"testing"

	"github.com/fokkerplanck/fokker/grid"
)

var benchSink *Result

// benchmarkOU2D runs the 2D Ornstein–Uhlenbeck process mu = −x, D = ½ I
// with Euler–Maruyama at dt = 1e-3 for the given number of steps, and
// reports particle-steps per second.
func benchmarkOU2D(b *testing.B, particles, steps, threads int) {
	g, err := grid.New(grid.Uniform("x", -5, 5, 64), grid.Uniform("y", -5, 5, 64))
	if err != nil {
		b.Fatal(err)
	}
	p := Problem{
		Grid:         g,
		Coefficients: Linear{A: []float64{1, 0, 0, 1}, D: []float64{0.5, 0, 0, 0.5}},
		Initial:      make([]float64, g.Len()),
		Times:        []float64{float64(steps) * 1e-3},
	}
	for i := range p.Initial {
		p.Initial[i] = 1
	}
	s := &Settings{Particles: particles, Dt: 1e-3, Scheme: EulerMaruyama, Seed: 1, Threads: threads}
	var ps int64
	for b.Loop() {
		r, err := Simulate(p, s)
		if err != nil {
			b.Fatal(err)
		}
		ps += r.ParticleSteps
		benchSink = r
	}
	b.ReportMetric(float64(ps)/b.Elapsed().Seconds(), "particle-steps/s")
}

func BenchmarkEulerMaruyamaOU2D(b *testing.B)          { benchmarkOU2D(b, 1000000, 500, 0) }
func BenchmarkEulerMaruyamaOU2DOneThread(b *testing.B) { benchmarkOU2D(b, 1000000, 500, 1) }
