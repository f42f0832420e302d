package validation

import (
	"math"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
)

func mustGrid(t testing.TB, axes ...grid.Axis) *grid.Grid {
	t.Helper()
	g, err := grid.New(axes...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustSimulate(t testing.TB, p Problem, s *Settings) *Result {
	t.Helper()
	r, err := Simulate(p, s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pdeStationary returns the stationary density of m on g.
func pdeStationary(t testing.TB, g *grid.Grid, m operators.Model) []float64 {
	t.Helper()
	op, err := operators.New(g, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, g.Len())
	if _, err := solvers.Stationary(p, op, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// pdeTransient returns the densities of m on g at times, from p0 at t = 0,
// by BDF2 with step dt.
func pdeTransient(t testing.TB, g *grid.Grid, m operators.Model, p0 []float64, dt float64, times []float64) [][]float64 {
	t.Helper()
	op, err := operators.New(g, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := solvers.NewStepper(op, &solvers.StepSettings{Method: solvers.BDF2, Dt: dt, Linear: solvers.LinearSettings{Tolerance: 1e-12}})
	if err != nil {
		t.Fatal(err)
	}
	p := append([]float64(nil), p0...)
	out := make([][]float64, len(times))
	obs := solvers.ObserverFunc(func(s *solvers.State) error {
		if s.Output >= 0 {
			out[s.Output] = append([]float64(nil), s.P...)
		}
		return nil
	})
	if _, err := st.Run(p, 0, times, obs); err != nil {
		t.Fatal(err)
	}
	return out
}

// cellDensity returns f at the cell centres of g, normalised to mass one.
func cellDensity(g *grid.Grid, f func(x []float64) float64) []float64 {
	p := make([]float64, g.Len())
	x := make([]float64, g.Dim())
	for i := range p {
		g.Centre(x, i)
		p[i] = f(x)
	}
	m := g.Mass(p)
	for i := range p {
		p[i] /= m
	}
	return p
}

func gauss1(mean, sd float64) func(x []float64) float64 {
	return func(x []float64) float64 {
		z := (x[0] - mean) / sd
		return math.Exp(-0.5 * z * z)
	}
}
