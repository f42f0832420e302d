package sgd_test

import (
	"context"
	"math"
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
