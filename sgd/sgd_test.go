package sgd_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/sgd"
	"github.com/fokkerplanck/fokker/spec"
)

// gaussianData returns N rows x ~ N(0,1), y = x + sigma ξ (seeded).
func gaussianData(t testing.TB, n int, sigma float64, seed uint64) *sgd.Data {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
		y[i] = x[i] + sigma*r.NormFloat64()
	}
	d, err := sgd.NewData([]string{"x", "y"}, [][]float64{x, y})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The symbolic gradient and Hessian against hand-derived ones and central
// finite differences.
func TestGradientAndHessian(t *testing.T) {
	cases := []struct {
		loss string
		grad func(a, b, x, y float64) [2]float64
	}{
		{"0.5*(a*b*x - y)^2", func(a, b, x, y float64) [2]float64 {
			r := a*b*x - y
			return [2]float64{r * b * x, r * a * x}
		}},
		{"log(1 + exp(-y*(a*x + b)))", func(a, b, x, y float64) [2]float64 {
			s := 1 / (1 + math.Exp(y*(a*x+b)))
			return [2]float64{-y * x * s, -y * s}
		}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		l, err := sgd.NewLoss(c.loss, []string{"a", "b"}, []string{"x", "y"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 20; k++ {
			v := []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), math.Copysign(1, r.NormFloat64())}
			want := c.grad(v[0], v[1], v[2], v[3])
			for i := 0; i < 2; i++ {
				got := l.Grad[i].Eval(v)
				// Hand-derived: equal to round-off.
				if math.Abs(got-want[i]) > 1e-12*(1+math.Abs(want[i])) {
					t.Errorf("%s: ∂%d at %v = %v, want %v", c.loss, i, v, got, want[i])
				}
				// Central differences, h = 1e-5: truncation 1e-10, round-off 1e-11.
				fd := func(e interface{ Eval([]float64) float64 }, j int) float64 {
					p, m := append([]float64(nil), v...), append([]float64(nil), v...)
					p[j] += 1e-5
					m[j] -= 1e-5
					return (e.Eval(p) - e.Eval(m)) / 2e-5
				}
				if g := fd(l.U, i); math.Abs(g-got) > 1e-7*(1+math.Abs(got)) {
					t.Errorf("%s: ∂%d = %v, finite difference %v", c.loss, i, got, g)
				}
				for j := i; j < 2; j++ {
					h := l.Hess[sgd.SymIndex(2, i, j)].Eval(v)
					if g := fd(l.Grad[i], j); math.Abs(g-h) > 1e-6*(1+math.Abs(h)) {
						t.Errorf("%s: ∂%d∂%d = %v, finite difference %v", c.loss, i, j, h, g)
					}
				}
			}
		}
	}
}

func TestReadCSV(t *testing.T) {
	d, err := sgd.ReadCSV(strings.NewReader("# comment\nx, y\n1, 2\n 3,4.5\n\n-1e-3, 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || d.Column("y")[1] != 4.5 || d.Column("x")[2] != -1e-3 {
		t.Errorf("parsed %+v", d)
	}
	for _, c := range []struct{ text, want string }{
		{"x,y\n1,2\n3,abc\n", `line 3, column "y": "abc" is not a number`},
		{"x,y\n1,2,3\n", "wrong number of fields"},
		{"", "empty file"},
		{"x,x\n1,2\n", `duplicate column "x"`},
		{"x,y\n", "no rows"},
		{"x,y\n1,NaN\n", "not finite"},
	} {
		_, err := sgd.ReadCSV(strings.NewReader(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
}

func TestGenerate(t *testing.T) {
	cols := map[string]string{"x": "normal(0, 1)", "a_y": "2*x + normal(0, s)", "u": "uniform(-1, 3)"}
	d1, err := sgd.Generate(20000, 5, cols, map[string]float64{"s": 0.5})
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := sgd.Generate(20000, 5, cols, map[string]float64{"s": 0.5})
	d3, _ := sgd.Generate(20000, 6, cols, map[string]float64{"s": 0.5})
	x, y, u := d1.Column("x"), d1.Column("a_y"), d1.Column("u")
	if x[17] != d2.Column("x")[17] || y[9] != d2.Column("a_y")[9] {
		t.Error("same seed, different data")
	}
	if x[17] == d3.Column("x")[17] {
		t.Error("different seeds, same data")
	}
	// a_y depends on x although it sorts first: the residual y − 2x is
	// N(0, 0.25) and independent of x. Tolerances: 5 standard errors.
	var mx, vx, mr, vr, cxr float64
	n := float64(d1.Len())
	for i := range x {
		r := y[i] - 2*x[i]
		mx += x[i] / n
		mr += r / n
		vx += x[i] * x[i] / n
		vr += r * r / n
		cxr += x[i] * r / n
		if u[i] < -1 || u[i] >= 3 {
			t.Fatalf("uniform(-1, 3) drew %v", u[i])
		}
	}
	se := 5 / math.Sqrt(n)
	if math.Abs(mx) > se || math.Abs(vx-1) > 1.5*se*math.Sqrt(2) || math.Abs(mr) > 0.5*se || math.Abs(vr-0.25) > 0.25*se*math.Sqrt(2) || math.Abs(cxr) > 0.5*se {
		t.Errorf("moments: mean x %v var x %v, residual mean %v var %v cov %v", mx, vx, mr, vr, cxr)
	}
	for _, c := range []struct {
		cols map[string]string
		want string
	}{
		{map[string]string{"x": "y + 1", "y": "x"}, "cycle"},
		{map[string]string{"x": "x + normal(0, 1)"}, "refers to itself"},
		{map[string]string{"x": "normal(0)"}, "normal takes 2 arguments"},
		{map[string]string{"x": "normal(0, 1"}, "unbalanced"},
		{map[string]string{"x": "z"}, `unknown variable "z"`},
		{map[string]string{"x": "log(uniform(-1, 0))"}, "is NaN in row"},
	} {
		_, err := sgd.Generate(10, 1, c.cols, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.cols, err, c.want)
		}
	}
}

// linreg returns the landscape of u = (theta x − y)²/2 on a 1D grid.
func linreg(t testing.TB, cells int, d *sgd.Data, threads int) *sgd.Landscape {
	t.Helper()
	g, err := grid.New(grid.Uniform("theta", -3, 5, cells))
	if err != nil {
		t.Fatal(err)
	}
	l, err := sgd.NewLoss("0.5*(theta*x - y)^2", []string{"theta"}, d.Names, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := sgd.Evaluate(g, l, d, threads)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// The landscape's statistics at the cell centres are the sample mean and
// covariance of the per-sample gradients, whatever the number of threads,
// and the model's coefficients at faces and elsewhere match them.
func TestLandscape(t *testing.T) {
	d := gaussianData(t, 500, 0.5, 1)
	ls1 := linreg(t, 40, d, 1)
	ls2 := linreg(t, 40, d, 2)
	g := ls1.Grid()
	x, y := d.Column("x"), d.Column("y")
	for _, l := range []int{0, 17, 39} {
		theta := g.Centres(0)[l]
		var m, v float64
		for i := range x {
			m += (theta*x[i] - y[i]) * x[i]
		}
		m /= float64(len(x))
		for i := range x {
			r := (theta*x[i]-y[i])*x[i] - m
			v += r * r
		}
		v /= float64(len(x))
		if got := ls1.Gradient(0)[l]; math.Abs(got-m) > 1e-12*(1+math.Abs(m)) {
			t.Errorf("cell %d: mean gradient %v, want %v", l, got, m)
		}
		if got := ls1.Covariance(0, 0)[l]; math.Abs(got-v) > 1e-12*v {
			t.Errorf("cell %d: variance %v, want %v", l, got, v)
		}
		if ls1.Covariance(0, 0)[l] != ls2.Covariance(0, 0)[l] || ls1.Gradient(0)[l] != ls2.Gradient(0)[l] {
			t.Errorf("cell %d: 1 and 2 threads differ", l)
		}
	}
	c := sgd.Config{LearningRate: 0.1, BatchSize: 4}
	m, err := ls1.Model(c)
	if err != nil {
		t.Fatal(err)
	}
	mu := make([]float64, 1)
	dm := make([]float64, 1)
	for _, th := range []float64{g.Edges(0)[7], 0.123456, g.Centres(0)[3]} {
		_, grad, cov, err := ls1.StatsAt([]float64{th})
		if err != nil {
			t.Fatal(err)
		}
		m.Drift(mu, []float64{th}, 0)
		m.Diffusion(dm, []float64{th}, 0)
		if math.Abs(mu[0]+grad[0]) > 1e-12*(1+math.Abs(grad[0])) || math.Abs(dm[0]-c.Scale(d.Len())*cov[0]) > 1e-12*dm[0] {
			t.Errorf("theta=%v: mu %v D %v, want %v %v", th, mu[0], dm[0], -grad[0], c.Scale(d.Len())*cov[0])
		}
	}
	// The noise-induced drift −D' of the quadratic D by central
	// differences, exact in the interior.
	f, err := ls1.Fields(c)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ls1.Quadratic1D()
	if err != nil {
		t.Fatal(err)
	}
	s := c.Scale(d.Len())
	for l := 1; l < g.Len()-1; l++ {
		th := g.Centres(0)[l]
		want := -s * (2*q.VarH*th - 2*q.CovHC)
		if math.Abs(f.NoiseDrift[0][l]-want) > 1e-9*(1+math.Abs(want)) {
			t.Fatalf("cell %d: −D' = %v, want %v", l, f.NoiseDrift[0][l], want)
		}
	}
}

// One SGD step from a fixed point: the spread of theta_1 is eta² times the
// variance of the batch-mean gradient, Σ/n with replacement and
// (Σ/n)(N − n)/(N − 1) without.
func TestBatchVariance(t *testing.T) {
	d := gaussianData(t, 20, 0.5, 3)
	ls := linreg(t, 80, d, 0)
	const eta, n = 0.01, 5
	theta0 := 0.3
	_, _, cov, _ := ls.StatsAt([]float64{theta0})
	for _, smp := range []sgd.Sampling{sgd.WithReplacement, sgd.WithoutReplacement} {
		c := sgd.Config{LearningRate: eta, BatchSize: n, Sampling: smp}
		res, err := ls.Simulate(context.Background(), c, &sgd.ChainSettings{Chains: 200000, Record: []int{1}, Start: []float64{theta0}, KeepPositions: true, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		p := res.Positions[0]
		var m, v float64
		for _, x := range p {
			m += x
		}
		m /= float64(len(p))
		for _, x := range p {
			v += (x - m) * (x - m)
		}
		v /= float64(len(p))
		want := eta * eta * cov[0] / n * c.NoiseFactor(d.Len())
		// Relative standard error of a variance from 2e5 draws of a
		// near-Gaussian: sqrt(2/2e5) = 0.3%; 2% allows for the kurtosis of
		// a 20-row data set.
		if math.Abs(v/want-1) > 0.02 {
			t.Errorf("%v: variance %.6g, want %.6g (factor %v)", smp, v, want, c.NoiseFactor(d.Len()))
		}
	}
}

// Chains are a function of the seed and the chunk size only, and the step
// loop allocates nothing.
func TestChainsDeterministic(t *testing.T) {
	d := gaussianData(t, 200, 0.5, 4)
	ls := linreg(t, 50, d, 0)
	c := sgd.Config{LearningRate: 0.1, BatchSize: 3, Sampling: sgd.WithoutReplacement}
	run := func(threads, steps int) *sgd.ChainResult {
		res, err := ls.Simulate(context.Background(), c, &sgd.ChainSettings{Chains: 5000, ChunkSize: 256, Record: []int{steps / 2, steps}, Threads: threads, Seed: 3, Start: []float64{2}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(1, 200), run(2, 200)
	for h := range a.Histograms {
		for l := range a.Histograms[h].Counts {
			if a.Histograms[h].Counts[l] != b.Histograms[h].Counts[l] {
				t.Fatalf("histogram %d cell %d: %d (1 thread) vs %d (2 threads)", h, l, a.Histograms[h].Counts[l], b.Histograms[h].Counts[l])
			}
		}
	}
	short := testing.AllocsPerRun(2, func() { run(1, 10) })
	long := testing.AllocsPerRun(2, func() { run(1, 400) })
	if long > short {
		t.Errorf("allocations grow with the steps: %v for 10 steps, %v for 400", short, long)
	}
}

// The Kesten index of a large Gaussian data set approaches the population
// value, the root of E|1 − eta χ²_1|^alpha = 1 (quadrature), and the FP
// index is 1 + 2n E[x²]/(eta Var x²) → 1 + n/eta.
func TestTailIndices(t *testing.T) {
	d := gaussianData(t, 200000, 0.5, 11)
	g, _ := grid.New(grid.Uniform("theta", -1, 3, 4))
	l, _ := sgd.NewLoss("0.5*(theta*x - y)^2", []string{"theta"}, d.Names, nil)
	ls, err := sgd.Evaluate(g, l, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ls.Quadratic1D()
	if err != nil {
		t.Fatal(err)
	}
	const eta = 0.5
	c := sgd.Config{LearningRate: eta, BatchSize: 1}
	alpha, err := q.Kesten(c)
	if err != nil {
		t.Fatal(err)
	}
	// E|1 − eta x²|^a = 2 ∫_0^∞ |1 − eta x²|^a φ(x) dx, split at the kink
	// x = 1/sqrt(eta).
	phiN := distuv.UnitNormal
	moment := func(a float64) float64 {
		f := func(x float64) float64 { return 2 * math.Pow(math.Abs(1-eta*x*x), a) * phiN.Prob(x) }
		k := 1 / math.Sqrt(eta)
		v := 0.0
		for _, iv := range [][2]float64{{0, k}, {k, 2 * k}, {2 * k, 12}} {
			v += quad.Fixed(f, iv[0], iv[1], 200, nil, 0)
		}
		return v
	}
	lo, hi := 1.0, 10.0
	for i := 0; i < 50; i++ {
		m := 0.5 * (lo + hi)
		if moment(m) < 1 {
			lo = m
		} else {
			hi = m
		}
	}
	pop := 0.5 * (lo + hi) // 2.9044
	// The data set's index differs from the population one by sampling
	// error in the rare |1 − eta x²| > 1 events (x² > 4: 4.6% of 2e5 rows):
	// measured within 0.05.
	if math.Abs(alpha-pop) > 0.05 || math.Abs(pop-2.9044) > 0.001 {
		t.Errorf("Kesten index %v, population %v (2.9044)", alpha, pop)
	}
	if fp := q.TailIndexFP(c); math.Abs(fp-(1+2*q.MeanH/(eta*q.VarH))) > 1e-12 || math.Abs(fp-3) > 0.05 {
		t.Errorf("FP index %v, want 1 + 2Eh/(eta Var h) ≈ 3", fp)
	}
	// Small eta on a finite data set: |1 − eta x²| < 1 for every row, the
	// chain is bounded, no power law.
	if a, _ := q.Kesten(sgd.Config{LearningRate: 0.05, BatchSize: 1}); !math.IsInf(a, 1) {
		t.Errorf("Kesten index at eta = 0.05: %v, want +Inf", a)
	}
	// Batches of 2: the binned convolution against Monte Carlo over
	// batches (4e6 draws; standard error of the root ≈ 0.02).
	c2 := sgd.Config{LearningRate: 0.8, BatchSize: 2}
	a2, err := q.Kesten(c2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	const M = 4000000
	lm := make([]float64, M)
	for i := range lm {
		h := 0.5 * (q.H[r.IntN(len(q.H))] + q.H[r.IntN(len(q.H))])
		lm[i] = math.Log(math.Abs(1 - c2.LearningRate*h))
	}
	phi := func(a float64) float64 {
		s := 0.0
		for _, v := range lm {
			s += math.Exp(a * v)
		}
		return s / M
	}
	lo, hi = 0.5, 20
	for i := 0; i < 40; i++ {
		m := 0.5 * (lo + hi)
		if phi(m) < 1 {
			lo = m
		} else {
			hi = m
		}
	}
	if math.Abs(a2-lo) > 0.1 {
		t.Errorf("Kesten index n=2: convolution %v, Monte Carlo %v", a2, lo)
	}
}

// The O(eta) correction on a quadratic loss with Gaussian-like additive
// noise: SGD's stationary variance is eta Σ/(n h (2 − eta h)) exactly; the
// first-order SDE misses it by eta h/2 relative, SGD's law to first order
// by O((eta h)²).
func TestCorrectionVariance(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	x := make([]float64, 4000)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	d, _ := sgd.NewData([]string{"x"}, [][]float64{x})
	text := `[grid]
axes = ["theta"]
lower = [-1.5]
upper = [1.5]
cells = [3000]
[sgd]
loss = "0.5*2*(theta - x)^2"
data = "unused.csv"
learning_rate = 0.05
batch_size = 2
`
	s, err := spec.Parse([]byte(text), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sgd.FromSpecData(s, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := sgd.Evaluate(st.Grid, st.Loss, st.Data, 0)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := st.Solve(context.Background(), ls, st.Config, true)
	if err != nil {
		t.Fatal(err)
	}
	var mx, vx float64
	for _, v := range x {
		mx += v
	}
	mx /= float64(len(x))
	for _, v := range x {
		vx += (v - mx) * (v - mx)
	}
	vx /= float64(len(x))
	const h, eta, n = 2.0, 0.05, 2.0
	exact := eta * h * h * vx / (n * h * (2 - eta*h))
	vr := func(p []float64) float64 {
		mean, cov := make([]float64, 1), make([]float64, 1)
		st.Grid.Moments(p, mean, cov)
		return cov[0]
	}
	v1, vc := vr(sol.Densities[0]), vr(sol.Corrected[0])
	// First order: relative error eta h/2 = 5%.
	if e := v1/exact - 1; math.Abs(e+0.05) > 0.005 {
		t.Errorf("first-order variance %v, exact %v: relative error %v, want ≈ −0.05", v1, exact, e)
	}
	// Corrected: O((eta h)²) = 1e-2 · small constant; grid error (h/sd)² ≈ 1e-5.
	if e := vc/exact - 1; math.Abs(e) > 0.003 {
		t.Errorf("corrected variance %v, exact %v: relative error %v", vc, exact, e)
	}
}

// A data set written by h5py (not a fokker file) loads, with its column
// names from an attribute; hostile files give clear errors.
func TestLoadHDF5FromPython(t *testing.T) {
	py := "/usr/bin/python3"
	dir := t.TempDir()
	path := dir + "/d.h5"
	script := `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    d = f.create_dataset("samples/xy", data=np.array([[1.0, 2.0], [3.0, 4.5], [-1.0, 0.25]]))
    d.attrs["columns"] = np.array(["x", "y"], dtype=h5py.string_dtype())
    f.create_dataset("flat", data=np.arange(4.0))
`
	if out, err := exec.Command(py, "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("h5py (run make test, which installs python3-h5py): %v\n%s", err, out)
	}
	d, err := sgd.LoadHDF5(path, "/samples/xy", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || strings.Join(d.Names, ",") != "x,y" || d.Column("y")[1] != 4.5 {
		t.Fatalf("loaded %d rows, columns %v", d.Len(), d.Names)
	}
	for _, c := range []struct{ file, ds, want string }{
		{path, "/flat", "want a 2-D dataset"},
		{path, "/nothing", "no dataset"},
		{dir + "/missing.h5", "/x", "missing.h5"},
	} {
		if _, err := sgd.LoadHDF5(c.file, c.ds, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:%s: error %v, want %q", c.file, c.ds, err, c.want)
		}
	}
	os.WriteFile(dir+"/text.h5", []byte("plain text"), 0o644)
	if _, err := sgd.LoadHDF5(dir+"/text.h5", "/x", nil); err == nil || !strings.Contains(err.Error(), "not an HDF5 file") {
		t.Errorf("text file: %v", err)
	}
}
