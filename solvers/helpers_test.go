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

// mustStationary computes the stationary density by the default path
// (detailed balance where the process is reversible) and by the iterative
// path, checks both balance to round-off and agree, and returns the default.
func mustStationary(t testing.TB, op *operators.Operator) []float64 {
	t.Helper()
	p := make([]float64, op.Grid().Len())
	res, err := solvers.Stationary(p, op, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float64, len(p))
	resIt, err := solvers.Stationary(q, op, &solvers.StationarySettings{NoDetailedBalance: true})
	if err != nil {
		t.Fatal(err)
	}
	// The balance defect is at the level of the linear solver's tolerance.
	if res.Residual > 1e-9 || resIt.Residual > 1e-9 {
		t.Fatalf("stationary balance defects %g (%s), %g (iterative)", res.Residual, res.Method, resIt.Residual)
	}
	// Both are accurate to round-off relative to the maximum (the iterative
	// one after refinement); allow the conditioning of the pinned system.
	mx, diff := 0.0, 0.0
	for i := range p {
		mx = math.Max(mx, p[i])
		diff = math.Max(diff, math.Abs(p[i]-q[i]))
	}
	if diff > 1e-10*mx {
		t.Fatalf("%s and iterative stationary densities differ by %.2e of the maximum", res.Method, diff/mx)
	}
	t.Logf("stationary: %s (balance %.1e); iterative agrees to %.1e", res.Method, res.Residual, diff/mx)
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
