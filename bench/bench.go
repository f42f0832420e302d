package bench

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
	"github.com/fokkerplanck/fokker/validation"
)

// Case names one benchmark run: a problem and its size.
type Case struct {
	Problem string // P1 … P5
	N       int    // cells per axis (P1: total cells; P4: particles)
	Variant string // P2: "" (auto) or "iterative"; P3: "euler" or "bdf2"
}

func (c Case) String() string {
	s := fmt.Sprintf("%s n=%d", c.Problem, c.N)
	if c.Variant != "" {
		s += " " + c.Variant
	}
	return s
}

// Result is the outcome of one case.
type Result struct {
	Case       string  `json:"case"`
	Seconds    float64 `json:"seconds"`    // total: assembly + solve (P4: simulation)
	Assembly   float64 `json:"assembly"`   // seconds
	Solve      float64 `json:"solve"`      // seconds
	Iterations int     `json:"iterations"` // linear iterations (all steps)
	Error      float64 `json:"error"`      // against the exact solution (see Describe)
	SpMV       float64 `json:"spmv"`       // seconds per matrix-vector product with the same operator
	SpMVEq     float64 `json:"spmv_eq"`    // Solve / SpMV
	Method     string  `json:"method"`     // what solved it
	Rate       float64 `json:"rate"`       // P4: particle-steps per second
	PeakMB     float64 `json:"peak_mb"`    // filled in by the runner
	Cells      int     `json:"cells"`
}

// Describe says what each problem's error measures.
var Describe = map[string]string{
	"P1": "L1 vs N(0, 0.5) at the cell centres",
	"P2": "L1 vs the Gibbs density exp(-U/D) (normalised on the grid)",
	"P3": "L1 vs the exact Gaussian at t = 1",
	"P4": "|sample variance − exact| at t = 1, per axis (max)",
	"P5": "max |variance − 0.5| over the axes",
}

// Run runs one case.
func Run(c Case) (Result, error) {
	switch c.Problem {
	case "P1":
		return p1(c)
	case "P2":
		return p2(c)
	case "P3":
		return p3(c)
	case "P4":
		return p4(c)
	case "P5":
		return p5(c)
	}
	return Result{}, fmt.Errorf("bench: unknown problem %q", c.Problem)
}

// spmvTime measures one product with op's matrix, as solvers does it.
func spmvTime(op *operators.Operator) float64 {
	n := op.Grid().Len()
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = 1
	}
	reps := max(3, 20_000_000/max(1, len(op.Matrix().RawMatrix().Data)))
	t := time.Now()
	for r := 0; r < reps; r++ {
		solvers.MulVec(y, op.Matrix(), x)
	}
	return time.Since(t).Seconds() / float64(reps)
}

func gaussianL1(g *grid.Grid, p []float64, mean, cov []float64) float64 {
	d := g.Dim()
	x := make([]float64, d)
	var inv mat.Dense
	if err := inv.Inverse(mat.NewDense(d, d, cov)); err != nil {
		return math.NaN()
	}
	det := mat.Det(mat.NewDense(d, d, cov))
	norm := 1 / math.Sqrt(math.Pow(2*math.Pi, float64(d))*det)
	s := 0.0
	for l := range p {
		g.Centre(x, l)
		q := 0.0
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				q += (x[i] - mean[i]) * inv.At(i, j) * (x[j] - mean[j])
			}
		}
		s += math.Abs(p[l]-norm*math.Exp(-q/2)) * g.Volume(l)
	}
	return s
}

func stationary(c Case, g *grid.Grid, m operators.Model) (Result, []float64, error) {
	r := Result{Case: c.String(), Cells: g.Len()}
	t0 := time.Now()
	op, err := operators.New(g, m, nil)
	if err != nil {
		return r, nil, err
	}
	r.Assembly = time.Since(t0).Seconds()
	p := make([]float64, g.Len())
	set := &solvers.StationarySettings{Linear: solvers.LinearSettings{Tolerance: 1e-10}}
	if c.Variant == "iterative" {
		set.NoDetailedBalance = true
	}
	t1 := time.Now()
	res, err := solvers.Stationary(p, op, set)
	if err != nil {
		return r, nil, err
	}
	r.Solve = time.Since(t1).Seconds()
	r.Seconds = r.Assembly + r.Solve
	r.Iterations = res.Linear.Iterations
	r.Method = res.Method
	r.SpMV = spmvTime(op)
	r.SpMVEq = r.Solve / r.SpMV
	return r, p, nil
}

// P1: 1D OU stationary, mu = −x, D = 0.5 on [−6, 6], reflecting.
func p1(c Case) (Result, error) {
	g, _ := grid.New(grid.Uniform("x", -6, 6, c.N))
	m := operators.Model{Dim: 1, Drift: operators.LinearDrift(1, []float64{1}), Diffusion: operators.IsotropicDiffusion(1, 0.5), Diagonal: true}
	r, p, err := stationary(c, g, m)
	if err != nil {
		return r, err
	}
	r.Error = gaussianL1(g, p, []float64{0}, []float64{0.5})
	return r, nil
}

// P2: 2D double well stationary, U = (x²−1)² + y²/2, D = 0.5 I on [−3, 3]².
func p2(c Case) (Result, error) {
	g, _ := grid.New(grid.Uniform("x", -3, 3, c.N), grid.Uniform("y", -3, 3, c.N))
	u := func(x []float64, _ float64) float64 { a := x[0]*x[0] - 1; return a*a + x[1]*x[1]/2 }
	m := operators.Model{Dim: 2, Potential: u, Diffusion: operators.IsotropicDiffusion(2, 0.5), Diagonal: true}
	r, p, err := stationary(c, g, m)
	if err != nil {
		return r, err
	}
	q := make([]float64, g.Len())
	x := make([]float64, 2)
	for l := range q {
		g.Centre(x, l)
		q[l] = math.Exp(-u(x, 0) / 0.5)
	}
	z := g.Mass(q)
	s := 0.0
	for l := range q {
		s += math.Abs(p[l]-q[l]/z) * g.Volume(l)
	}
	r.Error = s
	return r, nil
}

// P3: 2D rotation OU transient, mu = −A x, A = [[1, 1], [−1, 1]], D = 0.5 I
// on [−4, 4]², Gaussian start at (1.5, 0) with covariance 0.05 I, to t = 1
// in 100 steps.
func p3(c Case) (Result, error) {
	r := Result{Case: c.String()}
	g, _ := grid.New(grid.Uniform("x", -4, 4, c.N), grid.Uniform("y", -4, 4, c.N))
	r.Cells = g.Len()
	a := []float64{1, 1, -1, 1}
	m := operators.Model{Dim: 2, Drift: operators.LinearDrift(2, a), Diffusion: operators.IsotropicDiffusion(2, 0.5), Diagonal: true}
	t0 := time.Now()
	op, err := operators.New(g, m, nil)
	if err != nil {
		return r, err
	}
	// The stepper builds its matrices from the operator's connections (no
	// CSR matrix of L is laid out; solvers/axis_system.go).
	r.Assembly = time.Since(t0).Seconds()
	p := make([]float64, g.Len())
	x := make([]float64, 2)
	for l := range p {
		g.Centre(x, l)
		p[l] = math.Exp(-((x[0]-1.5)*(x[0]-1.5) + x[1]*x[1]) / (2 * 0.05))
	}
	mass := g.Mass(p)
	for l := range p {
		p[l] /= mass
	}
	method := solvers.BackwardEuler
	if c.Variant == "bdf2" {
		method = solvers.BDF2
	}
	st, err := solvers.NewStepper(op, &solvers.StepSettings{Method: method, Dt: 0.01, Linear: solvers.LinearSettings{Tolerance: 1e-8}})
	if err != nil {
		return r, err
	}
	t1 := time.Now()
	res, err := st.Run(p, 0, []float64{1})
	if err != nil {
		return r, err
	}
	r.Solve = time.Since(t1).Seconds()
	r.Seconds = r.Assembly + r.Solve
	r.Iterations = res.LinearIterations
	r.Method = method.String()
	r.SpMV = spmvTime(op)
	r.SpMVEq = r.Solve / r.SpMV
	mean, cov := ouMoments(a, []float64{1.5, 0}, []float64{0.05, 0, 0, 0.05}, []float64{0.5, 0, 0, 0.5}, 1)
	r.Error = gaussianL1(g, p, mean, cov)
	return r, nil
}

// ouMoments returns the exact mean and covariance of dX = −A X dt +
// sqrt(2D) dW at time t.
func ouMoments(a, m0, s0, d []float64, t float64) ([]float64, []float64) {
	n := len(m0)
	am := mat.NewDense(n, n, append([]float64(nil), a...))
	var e mat.Dense
	neg := mat.NewDense(n, n, nil)
	neg.Scale(-t, am)
	e.Exp(neg)
	var m mat.VecDense
	m.MulVec(&e, mat.NewVecDense(n, append([]float64(nil), m0...)))
	// Stationary S from (A⊗I + I⊗A) vec S = vec 2D.
	id := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		id.Set(i, i, 1)
	}
	var k1, k2, k mat.Dense
	k1.Kronecker(am, id)
	k2.Kronecker(id, am)
	k.Add(&k1, &k2)
	q := make([]float64, n*n)
	for i := range q {
		q[i] = 2 * d[i]
	}
	var sv mat.VecDense
	sv.SolveVec(&k, mat.NewVecDense(n*n, q))
	s := mat.NewDense(n, n, sv.RawVector().Data)
	var diff, tmp, c mat.Dense
	diff.Sub(mat.NewDense(n, n, append([]float64(nil), s0...)), s)
	tmp.Mul(&e, &diff)
	c.Mul(&tmp, e.T())
	c.Add(&c, s)
	return m.RawVector().Data, c.RawMatrix().Data
}

// P4: particles, 2D OU mu = −x, D = 0.5 I, N particles, 1000
// Euler–Maruyama steps of 1e-3.
func p4(c Case) (Result, error) {
	r := Result{Case: c.String()}
	g, _ := grid.New(grid.Uniform("x", -6, 6, 64), grid.Uniform("y", -6, 6, 64))
	pos := make([][]float64, 2)
	for k := range pos {
		pos[k] = make([]float64, c.N) // all particles start at the origin
	}
	prob := validation.Problem{Grid: g, Coefficients: validation.Linear{A: []float64{1, 0, 0, 1}, D: []float64{0.5, 0, 0, 0.5}}, Positions: pos, Times: []float64{1}}
	t0 := time.Now()
	res, err := validation.Simulate(prob, &validation.Settings{Dt: 1e-3, Seed: 1, Scheme: validation.EulerMaruyama})
	if err != nil {
		return r, err
	}
	r.Seconds = time.Since(t0).Seconds()
	r.Solve = r.Seconds
	r.Rate = float64(res.ParticleSteps) / res.Duration.Seconds()
	r.Method = fmt.Sprintf("euler-maruyama, %d threads", res.Threads)
	sn := res.Snapshots[0]
	want := 0.5 * (1 - math.Exp(-2))
	r.Error = math.Max(math.Abs(sn.Cov[0]-want), math.Abs(sn.Cov[3]-want))
	return r, nil
}

// P5: 3D OU stationary, mu = −x, D = 0.5 I on [−5, 5]³.
func p5(c Case) (Result, error) {
	ax := func(s string) grid.Axis { return grid.Uniform(s, -5, 5, c.N) }
	g, _ := grid.New(ax("x"), ax("y"), ax("z"))
	m := operators.Model{Dim: 3, Drift: operators.LinearDrift(3, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}), Diffusion: operators.IsotropicDiffusion(3, 0.5), Diagonal: true}
	r, p, err := stationary(c, g, m)
	if err != nil {
		return r, err
	}
	cov := make([]float64, 9)
	g.Moments(p, make([]float64, 3), cov)
	for k := 0; k < 3; k++ {
		r.Error = math.Max(r.Error, math.Abs(cov[4*k]-0.5))
	}
	return r, nil
}
