package validation

import (
	"math"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

func pointStart(d, n int, x ...float64) [][]float64 {
	p := make([][]float64, d)
	for k := range p {
		p[k] = make([]float64, n)
		for i := range p[k] {
			p[k][i] = x[k]
		}
	}
	return p
}

func square(x []float64) float64 { return x[0] * x[0] }

// Euler–Maruyama's weak order, measured on E[X_1²] from X_0 = 1.
//
// OU, mu = −x, D = ½: E X_1² = ½ + ½e^-2 exactly. The Euler–Maruyama
// second moment obeys s' = (1 − h)² s + h, whose error at t = 1 is ≈ 0.18 h
// (0.0046 at h = 0.025 against a standard error of 5e-4 at 2·10^6
// particles).
//
// CIR, mu = 1 − x, D = x/2 on [0, 10] (reflecting): E X_1² = 1 + (e^-1 −
// e^-2) + ½(1 − e^-1)² (the wall at 10 is out of reach). The mirror at 0
// acts when a step overshoots; the symmetrized Euler scheme keeps weak
// order 1 (Bossy, Gobet & Talay 2004).
func TestWeakOrderEulerMaruyama(t *testing.T) {
	const n = 2000000
	dts := []float64{0.1, 0.05, 0.025, 0.0125}
	ou := mustGrid(t, grid.Uniform("x", -8, 8, 16))
	cirGrid := mustGrid(t, grid.Uniform("x", 0, 10, 16))
	cir := operators.Model{
		Dim:       1,
		Drift:     func(dst, x []float64, _ float64) { dst[0] = 1 - x[0] },
		Diffusion: func(dst, x []float64, _ float64) { dst[0] = x[0] / 2 },
	}
	e1, e2 := math.Exp(-1), math.Exp(-2)
	for _, tc := range []struct {
		name  string
		prob  Problem
		exact float64
	}{
		{"OU", Problem{Grid: ou, Coefficients: Linear{A: []float64{1}, D: []float64{0.5}}, Positions: pointStart(1, n, 1), Times: []float64{1}}, 0.5 + 0.5*e2},
		{"CIR", Problem{Grid: cirGrid, Coefficients: FromModel(cir, cirGrid), Positions: pointStart(1, n, 1), Times: []float64{1}}, 1 + (e1 - e2) + 0.5*(1-e1)*(1-e1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := WeakOrder(tc.prob, &Settings{Seed: 11, Scheme: EulerMaruyama}, square, tc.exact, dts)
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range w.Bias {
				t.Logf("dt=%-7g E X² = %.6f ± %.1e, bias %+.5f (%.1f standard errors)", w.Dts[i], w.Values[i].Value, w.Values[i].StdErr, b.Value, b.Value/b.StdErr)
			}
			t.Logf("%s: %v", tc.name, w)
			// Order 1 within three standard errors of the fit, and the fit
			// precise enough to tell order 1 from ½ and 2.
			if math.Abs(w.Order-1) > 3*w.OrderErr || w.OrderErr > 0.15 {
				t.Errorf("%s: weak order %.3f ± %.3f, want 1", tc.name, w.Order, w.OrderErr)
			}
		})
	}
}
