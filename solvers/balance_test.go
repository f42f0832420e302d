package solvers

import (
	"math"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// gibbs returns the normalised density exp(−U/D) at the cell centres of g,
// computed from U − min U so that it neither overflows nor loses the cells
// near the minimum.
func gibbs(g *grid.Grid, u func(x []float64) float64, d float64) []float64 {
	n := g.Len()
	x := make([]float64, g.Dim())
	e := make([]float64, n)
	umin := math.Inf(1)
	for l := range e {
		g.Centre(x, l)
		e[l] = u(x)
		umin = math.Min(umin, e[l])
	}
	for l := range e {
		e[l] = math.Exp(-(e[l] - umin) / d)
	}
	mass := g.Mass(e)
	for l := range e {
		e[l] /= mass
	}
	return e
}

// The comb of axisBalancer finds the Gibbs density of a gradient system —
// for constant isotropic D the discrete stationary density is exp(−U/D) at
// the centres — over more than 1e200 (so that chunks are cut and joined
// through mantissa and exponent) and across worker ranges (cells ≥
// parallelRows), in 1D and 2D, and agrees with the breadth-first search in
// log space of csrBalance.
func TestAxisBalanceGibbs(t *testing.T) {
	for _, c := range []struct {
		name string
		axes []grid.Axis
		u    func(x []float64) float64
		d    float64
	}{
		// U/D spans 0..1800 (densities down to e^-1800 ≈ 1e-782).
		{"1D wide", []grid.Axis{grid.Uniform("x", -3, 3, 3*parallelRows/2)}, func(x []float64) float64 { return 100 * x[0] * x[0] }, 1},
		{"1D double well", []grid.Axis{grid.Uniform("x", -2, 2, 4000)}, func(x []float64) float64 { a := x[0]*x[0] - 1; return 30 * a * a }, 0.05},
		{"2D wide", []grid.Axis{grid.Uniform("x", -3, 3, 250), grid.Uniform("y", -3, 3, 200)}, func(x []float64) float64 { return 50 * (x[0]*x[0] + x[1]*x[1]) }, 0.5},
		{"3D periodic", []grid.Axis{grid.Uniform("x", 0, 1, 20).WithBoundary(grid.Periodic, grid.Periodic), grid.Uniform("y", -1, 1, 30), grid.Uniform("z", -1, 1, 40)},
			func(x []float64) float64 { return math.Cos(2*math.Pi*x[0]) + 20*x[1]*x[1] + 40*x[2]*x[2]*x[2]*x[2] }, 0.05},
	} {
		g, err := grid.New(c.axes...)
		if err != nil {
			t.Fatal(err)
		}
		m := operators.Model{Dim: g.Dim(), Potential: func(x []float64, _ float64) float64 { return c.u(x) }, Diffusion: operators.IsotropicDiffusion(g.Dim(), c.d), Diagonal: true}
		op, err := operators.New(g, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := g.Len()
		p := make([]float64, n)
		var bl axisBalancer
		if s := bl.solve(p, op); s != balanced {
			t.Fatalf("%s: outcome %d", c.name, s)
		}
		chunks := 0
		for _, w := range bl.chunks {
			chunks += len(w)
		}
		want := gibbs(g, c.u, c.d)
		mx := 0.0
		for _, v := range want {
			mx = math.Max(mx, v)
		}
		// Each ratio of the propagation is the exponential of a potential
		// difference to an ulp or two; along a path of up to n cells the
		// relative errors add up to n ulps at most. Densities below
		// 1e-290 of the largest are not compared: they are subnormal or
		// zero in both.
		tol := float64(n) * 0x1p-52
		worst := 0.0
		for l := range p {
			if want[l] < 1e-290*mx {
				continue
			}
			worst = math.Max(worst, math.Abs(p[l]-want[l])/want[l])
		}
		if worst > tol {
			t.Errorf("%s: largest relative error vs exp(−U/D) %.3g > %.3g", c.name, worst, tol)
		}
		// The row defect is round-off.
		if bl.defect > 1e-13 {
			t.Errorf("%s: balance defect %.3g", c.name, bl.defect)
		}
		q := make([]float64, n)
		_, _, ok := csrBalance(q, op)
		if !ok {
			t.Fatalf("%s: csrBalance failed", c.name)
		}
		diff := 0.0
		for l := range p {
			if want[l] >= 1e-290*mx {
				diff = math.Max(diff, math.Abs(p[l]-q[l])/q[l])
			}
		}
		t.Logf("%s: %d cells, %d chunks, error vs Gibbs %.3g, vs csrBalance %.3g, defect %.3g", c.name, n, chunks, worst, diff, bl.defect)
		// csrBalance works in log space: its relative error is an ulp of
		// the log-density, summed along its paths, times the log-density
		// range (up to 1800 here).
		if diff > 2000*tol {
			t.Errorf("%s: axis and CSR propagations differ by %.3g", c.name, diff)
		}
	}
}

// Processes that are not reversible, or not irreducible over two-way
// connections, are refused (and solved iteratively by Stationary).
func TestAxisBalanceRefuses(t *testing.T) {
	ring, _ := grid.New(grid.Uniform("x", 0, 1, 100).WithBoundary(grid.Periodic, grid.Periodic))
	line, _ := grid.New(grid.Uniform("x", -1, 1, 100))
	for _, c := range []struct {
		name string
		g    *grid.Grid
		m    operators.Model
	}{
		// A constant drift around a ring: a circulating current.
		{"ring", ring, operators.Model{Dim: 1, Drift: func(dst, _ []float64, _ float64) { dst[0] = 1 }, Diffusion: operators.IsotropicDiffusion(1, 0.1)}},
		// No diffusion on the right half: one-way connections there.
		{"one-way", line, operators.Model{Dim: 1, Drift: func(dst, x []float64, _ float64) { dst[0] = -x[0] }, Diffusion: func(dst, x []float64, _ float64) { dst[0] = math.Max(0, -x[0]) }}},
	} {
		op, err := operators.New(c.g, c.m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := detailedBalance(make([]float64, c.g.Len()), op); ok {
			t.Errorf("%s: detailed balance accepted", c.name)
		}
	}
}

var benchSink float64

// benchmarkBalanceOU1D solves benchmark P1 (the Ornstein–Uhlenbeck process
// mu = −x, D = ½ on [−6, 6], n cells) by detailed balance, including the
// check of every row, and reports ns per cell.
func benchmarkBalanceOU1D(b *testing.B, n int) {
	g, err := grid.New(grid.Uniform("x", -6, 6, n))
	if err != nil {
		b.Fatal(err)
	}
	m := operators.Model{Dim: 1, Drift: operators.LinearDrift(1, []float64{1}), Diffusion: operators.IsotropicDiffusion(1, 0.5), Diagonal: true}
	op, err := operators.New(g, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]float64, n)
	for b.Loop() {
		defect, _, ok := detailedBalance(p, op)
		if !ok {
			b.Fatal("not reversible")
		}
		benchSink = defect
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/cell")
}

func BenchmarkBalanceOU1D1e5(b *testing.B) { benchmarkBalanceOU1D(b, 100_000) }
func BenchmarkBalanceOU1D1e6(b *testing.B) { benchmarkBalanceOU1D(b, 1_000_000) }
