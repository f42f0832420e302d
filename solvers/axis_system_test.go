package solvers

import (
	"math"
	"testing"

	"github.com/james-bowman/sparse"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// axisTestOperators returns axis-only operators: a 2D rotation with
// exponential fitting on a uniform grid, and a 3D stretched grid with a
// nonlinear drift and a varying diagonal D.
func axisTestOperators(t *testing.T) map[string]*operators.Operator {
	t.Helper()
	ops := map[string]*operators.Operator{}
	g2, err := grid.New(grid.Uniform("x", -4, 4, 40), grid.Uniform("y", -3, 5, 30))
	if err != nil {
		t.Fatal(err)
	}
	m2 := operators.Model{Dim: 2, Drift: operators.LinearDrift(2, []float64{1, 1, -1, 1}), Diffusion: operators.IsotropicDiffusion(2, 0.5), Diagonal: true}
	edges := func(lo, hi float64, n int) []float64 {
		e := make([]float64, n+1)
		for i := range e {
			s := float64(i) / float64(n)
			e[i] = lo + (hi-lo)*s*s*(3-2*s) // denser at both ends
		}
		return e
	}
	g3, err := grid.New(grid.Stretched("x", edges(-2, 2, 8)), grid.Stretched("y", edges(-1, 3, 9)), grid.Uniform("z", -2, 2, 10))
	if err != nil {
		t.Fatal(err)
	}
	m3 := operators.Model{
		Dim: 3,
		Drift: func(dst, x []float64, _ float64) {
			dst[0], dst[1], dst[2] = -x[0]*x[0]*x[0], 1-x[1], -3*x[2]+x[0]
		},
		Diffusion: func(dst, x []float64, _ float64) {
			clear(dst)
			dst[0], dst[4], dst[8] = 0.2+x[1]*x[1], 0.5, 0.1+0.05*x[0]*x[0]
		},
		Diagonal: true,
	}
	for name, c := range map[string]struct {
		g *grid.Grid
		m operators.Model
	}{"2D rotation": {g2, m2}, "3D stretched": {g3, m3}} {
		op, err := operators.New(c.g, c.m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !axisOnly(op) {
			t.Fatalf("%s: not axis-only", name)
		}
		ops[name] = op
	}
	return ops
}

// setAxis builds c I − gamma L from the operator's connections: it must be
// the matrix the CSR route gives (op.Matrix(), then diagonal storage), to
// round-off — the main diagonal sums the same terms, possibly in another
// order.
func TestSetAxisMatchesCSR(t *testing.T) {
	const c, gamma = 1.5, 0.01
	for name, op := range axisTestOperators(t) {
		var got diaMatrix
		got.setAxis(op, c, gamma)
		raw := op.Matrix().RawMatrix()
		data := make([]float64, len(raw.Data))
		for i := 0; i < raw.I; i++ {
			for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
				data[k] = -gamma * raw.Data[k]
				if raw.Ind[k] == i {
					data[k] += c
				}
			}
		}
		var want diaMatrix
		if !want.set(sparse.NewCSR(raw.I, raw.J, raw.Indptr, raw.Ind, data)) {
			t.Fatalf("%s: the CSR matrix has too many diagonals", name)
		}
		if len(got.offs) != len(want.offs) || got.n != want.n {
			t.Fatalf("%s: offsets %v (n %d), want %v (n %d)", name, got.offs, got.n, want.offs, want.n)
		}
		for k := range got.offs {
			if got.offs[k] != want.offs[k] {
				t.Fatalf("%s: offsets %v, want %v", name, got.offs, want.offs)
			}
		}
		K := len(got.offs)
		worst := 0.0
		for i := 0; i < got.n; i++ {
			scale := 0.0
			for k := 0; k < K; k++ {
				scale = math.Max(scale, math.Abs(want.v[i*K+k]))
			}
			for k := 0; k < K; k++ {
				worst = math.Max(worst, math.Abs(got.v[i*K+k]-want.v[i*K+k])/scale)
			}
		}
		// A few roundings of the diagonal's sum of 2d terms.
		if worst > 8*0x1p-52 {
			t.Errorf("%s: largest difference %.3g of a row's largest entry", name, worst)
		}
	}
}

// A stepper on an axis-only operator keeps no CSR matrix and gives the
// densities of the general route (Jacobi-preconditioned BiCGSTAB on the CSR
// matrix) to within the linear solver's tolerance.
func TestStepperAxisRoute(t *testing.T) {
	for name, op := range axisTestOperators(t) {
		g := op.Grid()
		p0 := make([]float64, g.Len())
		x := make([]float64, g.Dim())
		for l := range p0 {
			g.Centre(x, l)
			r2 := 0.0
			for _, v := range x {
				r2 += (v - 0.5) * (v - 0.5)
			}
			p0[l] = math.Exp(-r2)
		}
		mass := g.Mass(p0)
		for l := range p0 {
			p0[l] /= mass
		}
		for _, method := range []TimeMethod{BackwardEuler, BDF2} {
			run := func(pc PreconditionerKind) ([]float64, *Stepper) {
				st, err := NewStepper(op, &StepSettings{Method: method, Dt: 0.05, Linear: LinearSettings{Tolerance: 1e-12, Preconditioner: pc}})
				if err != nil {
					t.Fatal(err)
				}
				p := append([]float64(nil), p0...)
				if _, err := st.Run(p, 0, []float64{0.5}); err != nil {
					t.Fatal(err)
				}
				return p, st
			}
			p, st := run(ILU0)
			if !st.axis || st.a != nil || st.u != nil {
				t.Errorf("%s, %v: the stepper took the CSR route (axis %v)", name, method, st.axis)
			}
			q, st2 := run(Jacobi)
			if st2.axis {
				t.Errorf("%s, %v: Jacobi took the axis route", name, method)
			}
			d, s := 0.0, 0.0
			for l := range p {
				d += math.Abs(p[l]-q[l]) * g.Volume(l)
				s += math.Abs(q[l]) * g.Volume(l)
			}
			// Ten steps solved to 1e-12 relative residual each.
			if d > 1e-9*s {
				t.Errorf("%s, %v: L1 difference %.3g between the routes", name, method, d/s)
			}
			if m := g.Mass(p); math.Abs(m-1) > 1e-13 {
				t.Errorf("%s, %v: mass %.16g", name, method, m)
			}
		}
	}
}

// When AxisILU0 refuses the step matrix, the stepper falls back to the CSR
// route instead of failing outright; here c = gamma = 0 makes the matrix
// zero, which every route refuses, with an error and no panic.
func TestStepperAxisFallback(t *testing.T) {
	op := axisTestOperators(t)["2D rotation"]
	st, err := NewStepper(op, &StepSettings{Method: BackwardEuler, Dt: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if !st.axis {
		t.Fatal("not on the axis route")
	}
	n := op.Grid().Len()
	x, b := make([]float64, n), make([]float64, n)
	for i := range b {
		b[i] = 1
	}
	if err := st.solve(x, b, 0, 0, 0); err == nil {
		t.Error("zero matrix: no error")
	}
	if st.axis || st.a == nil || st.u == nil {
		t.Errorf("after the refusal: axis %v, CSR matrix %v, u %v", st.axis, st.a != nil, st.u != nil)
	}
	// The CSR route then solves a proper step: (I − dt L) x = b keeps the
	// mass of b.
	if err := st.solve(x, b, 0, 1, 0.05); err != nil {
		t.Fatal(err)
	}
	g := op.Grid()
	if mx, mb := g.Mass(x), g.Mass(b); math.Abs(mx-mb) > 1e-12*mb {
		t.Errorf("mass %v after the step, %v before", mx, mb)
	}
}
