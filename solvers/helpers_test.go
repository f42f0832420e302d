package solvers_test

import (
	"math"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
)

// mustGrid builds a grid or fails the test.
func mustGrid(t testing.TB, axes ...grid.Axis) *grid.Grid {
	t.Helper()
	g, err := grid.New(axes...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustOperator(t testing.TB, g *grid.Grid, m operators.Model, s *operators.Settings) *operators.Operator {
	t.Helper()
	op, err := operators.New(g, m, s)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func mustStationary(t testing.TB, op *operators.Operator) []float64 {
	t.Helper()
	p := make([]float64, op.Grid().Len())
	res, err := solvers.Stationary(p, op, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The balance defect is at the level of the linear solver's tolerance.
	if res.Residual > 1e-9 {
		t.Fatalf("stationary balance defect %g", res.Residual)
	}
	return p
}

// l1CellAverages returns sum |p_i − (F(b_i) − F(a_i))/w_i| w_i on a 1D grid,
// with F the exact cumulative distribution.
func l1CellAverages(g *grid.Grid, p []float64, cdf func(float64) float64) float64 {
	e := g.Edges(0)
	s := 0.0
	for i := range p {
		w := e[i+1] - e[i]
		s += math.Abs(p[i]*w - (cdf(e[i+1]) - cdf(e[i])))
	}
	return s
}

// checkDensity asserts mass 1 (relative tol) and p ≥ 0.
func checkDensity(t testing.TB, g *grid.Grid, p []float64, massTol float64) {
	t.Helper()
	if m := g.Mass(p); math.Abs(m-1) > massTol {
		t.Errorf("mass = %.17g, want 1 within %g", m, massTol)
	}
	for i, v := range p {
		if v < 0 {
			t.Fatalf("negative density %g at cell %d", v, i)
		}
	}
}

// order returns log2(e1/e2), the observed order of a halving.
func order(e1, e2 float64) float64 { return math.Log2(e1 / e2) }

// l1Points returns sum |p_i − f(x_i)| V_i over the cells of any grid.
func l1Points(g *grid.Grid, p []float64, f func(float64) float64) float64 {
	x := make([]float64, g.Dim())
	s := 0.0
	for i := range p {
		g.Centre(x, i)
		s += math.Abs(p[i]-f(x[0])) * g.Volume(i)
	}
	return s
}
