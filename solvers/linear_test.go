package solvers_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/james-bowman/sparse"
	"gonum.org/v1/gonum/mat"

	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
)

// randomSystem returns a random sparse, non-symmetric, diagonally dominant
// matrix with sorted column indices (like I − dt L), and its dense copy.
func randomSystem(rng *rand.Rand, n int, tri bool) (*sparse.CSR, *mat.Dense) {
	dense := mat.NewDense(n, n, nil)
	ip := []int{0}
	var ind []int
	var data []float64
	for i := 0; i < n; i++ {
		cols := map[int]bool{i: true}
		if tri {
			if i > 0 {
				cols[i-1] = true
			}
			if i < n-1 {
				cols[i+1] = true
			}
		} else {
			for k := 0; k < 4; k++ {
				cols[rng.IntN(n)] = true
			}
		}
		sum := 0.0
		for j := 0; j < n; j++ {
			if !cols[j] || j == i {
				continue
			}
			v := -rng.Float64()
			dense.Set(i, j, v)
			sum += -v
		}
		dense.Set(i, i, sum+0.1+rng.Float64())
		for j := 0; j < n; j++ {
			if cols[j] {
				ind = append(ind, j)
				data = append(data, dense.At(i, j))
			}
		}
		ip = append(ip, len(ind))
	}
	return sparse.NewCSR(n, n, ip, ind, data), dense
}

// Every linear method agrees with a dense LU solve to the accuracy its
// tolerance and the condition number allow.
func TestLinearSolversAgainstDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		tri  bool
		set  solvers.LinearSettings
	}{
		{"direct", true, solvers.LinearSettings{Method: solvers.Direct}},
		{"auto-tri", true, solvers.LinearSettings{}},
		{"bicgstab-ilu0", false, solvers.LinearSettings{Method: solvers.BiCGSTAB}},
		{"bicgstab-jacobi", false, solvers.LinearSettings{Method: solvers.BiCGSTAB, Preconditioner: solvers.Jacobi}},
		{"gmres-ilu0", false, solvers.LinearSettings{Method: solvers.GMRES, Restart: 10}},
		{"gmres-none", false, solvers.LinearSettings{Method: solvers.GMRES, Preconditioner: solvers.NoPreconditioner}},
	} {
		a, dense := randomSystem(rng, 200, tc.tri)
		b := make([]float64, 200)
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		var want mat.VecDense
		if err := want.SolveVec(dense, mat.NewVecDense(200, b)); err != nil {
			t.Fatal(err)
		}
		s, err := solvers.NewLinearSolver(a, &tc.set)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, 200)
		res, err := s.Solve(x, b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		worst := 0.0
		for i := range x {
			worst = math.Max(worst, math.Abs(x[i]-want.AtVec(i)))
		}
		t.Logf("%s: %d iterations, residual %.1e, max error %.1e", tc.name, res.Iterations, res.Residual, worst)
		// Diagonally dominant by 0.1: the condition number is below ~100,
		// so the error is below 100 × the 1e-10 residual tolerance.
		if worst > 1e-8 || res.Residual > 1e-10 {
			t.Errorf("%s: error %.2e, residual %.2e", tc.name, worst, res.Residual)
		}
	}
}

// A cyclic tridiagonal system is solved directly via Sherman–Morrison.
func TestCyclicTridiagonal(t *testing.T) {
	n := 50
	dense := mat.NewDense(n, n, nil)
	var ip, ind []int
	var data []float64
	ip = append(ip, 0)
	for i := 0; i < n; i++ {
		row := map[int]float64{i: 3, (i + 1) % n: -1.2, (i + n - 1) % n: -0.7}
		for j := 0; j < n; j++ {
			if v, ok := row[j]; ok {
				ind = append(ind, j)
				data = append(data, v)
				dense.Set(i, j, v)
			}
		}
		ip = append(ip, len(ind))
	}
	a := sparse.NewCSR(n, n, ip, ind, data)
	b := make([]float64, n)
	for i := range b {
		b[i] = math.Sin(float64(i))
	}
	s, err := solvers.NewLinearSolver(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*solvers.Tridiagonal); !ok {
		t.Fatalf("Auto chose %T for a cyclic tridiagonal matrix", s)
	}
	x := make([]float64, n)
	res, err := s.Solve(x, b)
	if err != nil {
		t.Fatal(err)
	}
	var want mat.VecDense
	want.SolveVec(dense, mat.NewVecDense(n, b))
	for i := range x {
		if math.Abs(x[i]-want.AtVec(i)) > 1e-13 {
			t.Fatalf("x[%d] = %v, want %v", i, x[i], want.AtVec(i))
		}
	}
	if res.Residual > 1e-14 {
		t.Errorf("residual %g", res.Residual)
	}
}

// A solve that cannot converge says so.
func TestKrylovReportsFailure(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a, _ := randomSystem(rng, 100, false)
	s, err := solvers.NewLinearSolver(a, &solvers.LinearSettings{Method: solvers.GMRES, Preconditioner: solvers.NoPreconditioner, MaxIterations: 2, Tolerance: 1e-14})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]float64, 100)
	b[0] = 1
	res, err := s.Solve(make([]float64, 100), b)
	if err == nil || res.Status != solvers.MaxIterations {
		t.Errorf("status %v, error %v: want an iteration-limit error", res.Status, err)
	}
}

// The multigrid preconditioner gives the same stationary density as ILU(0)
// on a non-reversible problem (the iterative path), in far fewer iterations.
func TestMultigridStationary(t *testing.T) {
	g := ouGrid(t, 128)
	op := mustOperator(t, g, ouModel(), nil)
	var ps [][]float64
	var its []int
	for _, pc := range []solvers.PreconditionerKind{solvers.ILU0, solvers.MG} {
		p := make([]float64, g.Len())
		res, err := solvers.Stationary(p, op, &solvers.StationarySettings{Linear: solvers.LinearSettings{Preconditioner: pc}})
		if err != nil {
			t.Fatalf("%v: %v", pc, err)
		}
		t.Logf("%v: %s, %d iterations, balance %.1e", pc, res.Method, res.Linear.Iterations, res.Residual)
		ps = append(ps, p)
		its = append(its, res.Linear.Iterations)
	}
	diff, mx := 0.0, 0.0
	for i := range ps[0] {
		diff = math.Max(diff, math.Abs(ps[0][i]-ps[1][i]))
		mx = math.Max(mx, ps[0][i])
	}
	// Both solve to 1e-12 and are refined: they agree to round-off times the
	// conditioning of the pinned system.
	if diff > 1e-10*mx {
		t.Errorf("ILU(0) and multigrid densities differ by %.2e of the maximum", diff/mx)
	}
	if its[1] >= its[0] {
		t.Errorf("multigrid took %d iterations, ILU(0) %d", its[1], its[0])
	}
}

// Multigrid-preconditioned BDF2 steps agree with ILU(0)-preconditioned ones.
func TestMultigridTransient(t *testing.T) {
	g := ouGrid(t, 96)
	var ps [][]float64
	for _, pc := range []solvers.PreconditionerKind{solvers.ILU0, solvers.MG} {
		op := mustOperator(t, g, ouModel(), nil)
		p := gaussianCells(g, ouM0, ouS0)
		st, err := solvers.NewStepper(op, &solvers.StepSettings{Method: solvers.BDF2, Dt: 0.02, Linear: solvers.LinearSettings{Preconditioner: pc, Tolerance: 1e-12}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Run(p, 0, []float64{0.5})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d linear iterations over %d steps", pc, res.LinearIterations, res.Steps)
		ps = append(ps, p)
	}
	if d := l1(g, ps[0], ps[1]); d > 1e-10 {
		t.Errorf("L1 difference %.2e", d)
	}
}

// Block-Jacobi ILU(0) (parallel application) solves the same system.
func TestBlockILU(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	a, dense := randomSystem(rng, 300, false)
	b := make([]float64, 300)
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	var want mat.VecDense
	want.SolveVec(dense, mat.NewVecDense(300, b))
	for _, blocks := range []int{1, 2, 3} {
		k := &solvers.Krylov{Settings: solvers.LinearSettings{Method: solvers.BiCGSTAB}}
		k.SetPreconditioner(&solvers.ILU0Preconditioner{Blocks: blocks})
		if err := k.Factor(a); err != nil {
			t.Fatal(err)
		}
		x := make([]float64, 300)
		res, err := k.Solve(x, b)
		if err != nil {
			t.Fatalf("blocks %d: %v", blocks, err)
		}
		for i := range x {
			if math.Abs(x[i]-want.AtVec(i)) > 1e-8 {
				t.Fatalf("blocks %d: x[%d] = %v, want %v", blocks, i, x[i], want.AtVec(i))
			}
		}
		t.Logf("blocks %d: %d iterations", blocks, res.Iterations)
	}
}

// StencilILU0 (diagonal storage) and AxisILU0 (where the stencil is
// axis-only; modified ILU(0) on these diffusion-dominated matrices, with
// Eisenstat's trick) precondition the operators' matrices like
// ILU0Preconditioner: the same solution, and no more iterations (the
// stencil pattern includes a few extra explicit zeros at grid boundaries).
func TestStencilILU0(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    operators.Model
		n    int
		axis bool // an axis-only stencil (5 points)
	}{
		{"2D rotation, full D", ouModel(), 48, false},
		{"2D isotropic", operators.Model{Dim: 2, Drift: operators.LinearDrift(2, []float64{1, 1, -1, 1}), Diffusion: operators.IsotropicDiffusion(2, 0.5), Diagonal: true}, 64, true},
	} {
		g := ouGrid(t, tc.n)
		op := mustOperator(t, g, tc.m, nil)
		raw := op.Matrix().RawMatrix()
		data := make([]float64, len(raw.Data))
		for k, v := range raw.Data {
			data[k] = -0.02 * v
		}
		for i := 0; i < raw.I; i++ {
			for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
				if raw.Ind[k] == i {
					data[k]++
				}
			}
		}
		a := sparse.NewCSR(raw.I, raw.I, raw.Indptr, raw.Ind, data)
		b := gaussianCells(g, ouM0, ouS0)
		var xs [][]float64
		var its []int
		pcs := []solvers.Preconditioner{&solvers.ILU0Preconditioner{}, &solvers.StencilILU0{}}
		if tc.axis {
			pcs = append(pcs, &solvers.AxisILU0{})
		}
		for _, pc := range pcs {
			k := &solvers.Krylov{Settings: solvers.LinearSettings{Method: solvers.BiCGSTAB, Tolerance: 1e-12}}
			k.SetPreconditioner(pc)
			if err := k.Factor(a); err != nil {
				t.Fatal(err)
			}
			x := make([]float64, len(b))
			res, err := k.Solve(x, b)
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, x)
			its = append(its, res.Iterations)
		}
		for k := 1; k < len(xs); k++ {
			diff, mx := 0.0, 0.0
			for i := range xs[0] {
				diff = math.Max(diff, math.Abs(xs[0][i]-xs[k][i]))
				mx = math.Max(mx, math.Abs(xs[0][i]))
			}
			t.Logf("%s: iterations CSR %d, %T %d; max difference %.1e of the maximum", tc.name, its[0], pcs[k], its[k], diff/mx)
			// All solve to 1e-12 relative residual of a well-conditioned
			// system.
			if diff > 1e-9*mx || its[k] > its[0]+1 {
				t.Errorf("%s: %T: difference %.2e, iterations %v", tc.name, pcs[k], diff/mx, its)
			}
		}
	}
}
