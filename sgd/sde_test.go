package sgd_test

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/sgd"
)

// The SDE ensemble of u = (theta − x)²/2, an Ornstein–Uhlenbeck process
// dtheta = −(theta − x̄) dt + sqrt(eta Var x/n) dW. Its Euler–Maruyama chain
// at step h has a known law from a point: mean x̄ + (theta0 − x̄)(1 − h)^k,
// variance s² h (1 − (1 − h)^2k)/(1 − (1 − h)²) with s² = eta Var x/n (the
// interpolated coefficients are exact here: a linear mean gradient and a
// constant covariance). Mean and variance of 40 000 chains against it,
// within 4 standard errors.
func TestSDEEnsembleOU(t *testing.T) {
	d := gaussianData(t, 500, 0.5, 9)
	g, err := grid.New(grid.Uniform("theta", -3, 5, 400))
	if err != nil {
		t.Fatal(err)
	}
	l, err := sgd.NewLoss("0.5*(theta - x)^2", []string{"theta"}, d.Names, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := sgd.Evaluate(g, l, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	x := d.Column("x")
	var xm, xv float64
	for _, v := range x {
		xm += v / float64(len(x))
	}
	for _, v := range x {
		xv += (v - xm) * (v - xm) / float64(len(x))
	}
	const (
		eta, batch, sub, steps, chains = 0.1, 2, 10, 20, 40000
		theta0                         = 2.0
	)
	c := sgd.Config{LearningRate: eta, BatchSize: batch}
	res, err := ls.Simulate(context.Background(), c, &sgd.ChainSettings{
		Chains: chains, Record: []int{steps}, Seed: 5, Start: []float64{theta0},
		SDESubsteps: sub, KeepPositions: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := eta / sub
	k := float64(steps * sub)
	s2 := eta * xv / batch
	wantMean := xm + (theta0-xm)*math.Pow(1-h, k)
	wantVar := s2 * h * (1 - math.Pow(1-h, 2*k)) / (1 - (1-h)*(1-h))
	pos := res.Positions[0]
	var m, v float64
	for _, p := range pos {
		m += p / float64(len(pos))
	}
	for _, p := range pos {
		v += (p - m) * (p - m) / float64(len(pos)-1)
	}
	if se := math.Sqrt(wantVar / chains); math.Abs(m-wantMean) > 4*se {
		t.Errorf("mean %.6g, Euler–Maruyama law %.6g (standard error %.2g)", m, wantMean, se)
	}
	if se := wantVar * math.Sqrt(2.0/chains); math.Abs(v-wantVar) > 4*se {
		t.Errorf("variance %.6g, Euler–Maruyama law %.6g (standard error %.2g)", v, wantVar, se)
	}
	if res.ChainSteps != chains*steps {
		t.Errorf("%d chain steps, want %d", res.ChainSteps, chains*steps)
	}
}

// BenchmarkSDEEnsemble times the SDE ensemble of the product model on
// 200² and 800² grids (50 data rows: the landscape is set-up, not timed);
// ns/substep is the time per particle and Euler–Maruyama step.
func BenchmarkSDEEnsemble(b *testing.B) {
	d := gaussianData(b, 50, 1, 3)
	for _, cells := range []int{200, 800} {
		b.Run(strconv.Itoa(cells), func(b *testing.B) {
			g, err := grid.New(grid.Uniform("a", -2.5, 2.5, cells), grid.Uniform("b", -2.5, 2.5, cells))
			if err != nil {
				b.Fatal(err)
			}
			l, err := sgd.NewLoss("0.5*(a*b*x - y)^2", []string{"a", "b"}, d.Names, nil)
			if err != nil {
				b.Fatal(err)
			}
			ls, err := sgd.Evaluate(g, l, d, 0)
			if err != nil {
				b.Fatal(err)
			}
			c := sgd.Config{LearningRate: 0.05, BatchSize: 1}
			set := &sgd.ChainSettings{Chains: 2048, Record: []int{20}, Seed: 1, Start: []float64{2, 0.5}, SDESubsteps: sgd.SDESubsteps, Threads: 1}
			b.ResetTimer()
			for range b.N {
				if _, err := ls.Simulate(context.Background(), c, set); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(2048*20*sgd.SDESubsteps), "ns/substep")
		})
	}
}

// The SDE ensemble, like the chains, depends on the seed and the chunk
// size, not on the number of threads, and its step loop does not allocate.
func TestSDEEnsembleDeterministic(t *testing.T) {
	d := gaussianData(t, 200, 0.5, 4)
	ls := linreg(t, 50, d, 0)
	c := sgd.Config{LearningRate: 0.1, BatchSize: 3}
	run := func(threads, steps int) *sgd.ChainResult {
		res, err := ls.Simulate(context.Background(), c, &sgd.ChainSettings{Chains: 3000, ChunkSize: 256, Record: []int{steps}, Threads: threads, Seed: 3, Start: []float64{2}, SDESubsteps: 4})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(1, 100), run(2, 100)
	for l := range a.Histograms[0].Counts {
		if a.Histograms[0].Counts[l] != b.Histograms[0].Counts[l] {
			t.Fatalf("cell %d: %d (1 thread) vs %d (2 threads)", l, a.Histograms[0].Counts[l], b.Histograms[0].Counts[l])
		}
	}
	short := testing.AllocsPerRun(2, func() { run(1, 10) })
	long := testing.AllocsPerRun(2, func() { run(1, 200) })
	if long > short {
		t.Errorf("allocations grow with the steps: %v for 10 steps, %v for 200", short, long)
	}
}
