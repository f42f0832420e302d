package validation

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// determinismCases are small problems covering every code path: the fused
// constant-diagonal kernel, constant full D, Heun, a varying diagonal D
// through the Model adapter, a varying full D with numerical div D,
// absorbing sides with the bridge, and a periodic axis.
func determinismCases(t *testing.T) map[string]Problem {
	box := mustGrid(t, grid.Uniform("x", -3, 3, 24), grid.Uniform("y", -3, 3, 20))
	ring := mustGrid(t, grid.Uniform("x", 0, 1, 16).WithBoundary(grid.Periodic, grid.Periodic), grid.Uniform("y", 0, 1, 8).WithBoundary(grid.Absorbing, grid.Reflecting))
	ng := mustGrid(t, grid.Uniform("y1", 0.5, 2, 12), grid.Uniform("y2", 0, 1, 12))
	uniform := func(g *grid.Grid) []float64 {
		p := make([]float64, g.Len())
		for i := range p {
			p[i] = 1
		}
		return p
	}
	full := operators.Model{
		Dim:   2,
		Drift: operators.LinearDrift(2, []float64{1, 0.5, -0.5, 1}),
		Diffusion: func(dst, x []float64, _ float64) {
			s := 1 / (1 + x[0]*x[0])
			dst[0], dst[1], dst[2], dst[3] = 0.3+0.3*s, 0.1*s, 0.1*s, 0.2+0.1*x[1]*x[1]
		},
	}
	return map[string]Problem{
		"fused":     {Grid: box, Coefficients: Linear{A: []float64{1, 0, 0, 2}, D: []float64{0.5, 0, 0, 0.5}}, Initial: uniform(box), Times: []float64{0.3, 0.5}},
		"constfull": {Grid: box, Coefficients: Linear{A: []float64{1, 1, -1, 1}, D: []float64{0.5, 0.1, 0.1, 0.3}}, Initial: uniform(box), Times: []float64{0.5}},
		"heun":      {Grid: ng, Coefficients: noiseGradient{}, Convention: operators.Stratonovich, Initial: uniform(ng), Times: []float64{0.5}},
		"model":     {Grid: ng, Coefficients: FromModel(noiseGradientModel(operators.AntiIto), ng), Convention: operators.AntiIto, Initial: uniform(ng), Times: []float64{0.5}},
		"fullvary":  {Grid: box, Coefficients: FromModel(full, box), Convention: operators.AntiIto, Initial: uniform(box), Times: []float64{0.5}},
		"absorbing": {Grid: ring, Coefficients: Linear{A: []float64{0, 0, 0, 0}, B: []float64{1, 0}, D: []float64{0.05, 0, 0, 0.05}}, Initial: uniform(ring), Times: []float64{0.2, 0.5}},
	}
}

func sameResult(t *testing.T, name string, a, b *Result) {
	t.Helper()
	for s := range a.Snapshots {
		x, y := &a.Snapshots[s], &b.Snapshots[s]
		if x.Alive != y.Alive || !slices.Equal(x.Counts, y.Counts) {
			t.Errorf("%s, snapshot %d: histograms differ (alive %d vs %d)", name, s, x.Alive, y.Alive)
		}
		// Bitwise equality of the floating-point sums (NaN never occurs
		// here with two or more survivors).
		if !slices.Equal(x.Mean, y.Mean) || !slices.Equal(x.Cov, y.Cov) || !slices.Equal(x.Observables, y.Observables) {
			t.Errorf("%s, snapshot %d: moments differ: %v %v vs %v %v", name, s, x.Mean, x.Cov, y.Mean, y.Cov)
		}
	}
}

// Same seed, same result, whatever the number of threads: each chunk has
// its own stream and the sums are taken in chunk order.
func TestDeterministicAcrossThreads(t *testing.T) {
	obs := []func([]float64) float64{func(x []float64) float64 { return x[0] * x[1] }}
	for name, p := range determinismCases(t) {
		set := Settings{Particles: 20000, ChunkSize: 1000, Dt: 0.01, Seed: 42, Observables: obs}
		set.Threads = 1
		r1 := mustSimulate(t, p, &set)
		set.Threads = 2
		r2 := mustSimulate(t, p, &set)
		sameResult(t, name, r1, r2)
		if r1.Snapshots[len(r1.Snapshots)-1].Alive < 1000 {
			t.Errorf("%s: only %d particles survive", name, r1.Snapshots[0].Alive)
		}
		set.Seed = 43
		r3 := mustSimulate(t, p, &set)
		if slices.Equal(r1.Snapshots[0].Counts, r3.Snapshots[0].Counts) {
			t.Errorf("%s: seeds 42 and 43 give the same histogram", name)
		}
	}
}

// The fused Ornstein–Uhlenbeck kernel draws the same numbers and computes
// the same expressions as the general path.
func TestFusedMatchesGeneral(t *testing.T) {
	cases := determinismCases(t)
	for _, name := range []string{"fused", "absorbing"} {
		p := cases[name]
		set := Settings{Particles: 20000, ChunkSize: 1000, Dt: 0.02, Seed: 7}
		a := mustSimulate(t, p, &set)
		set.noFuse = true
		b := mustSimulate(t, p, &set)
		sameResult(t, name, a, b)
	}
}

// The time loop allocates nothing.
func TestStepAllocatesNothing(t *testing.T) {
	for name, p := range determinismCases(t) {
		pl, err := newPlan(p, &Settings{Particles: 4096, Dt: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		w := newWorker(pl)
		w.rng = newStream(1, 0)
		w.n = 4096
		w.initial(0)
		tm := 0.0
		allocs := testing.AllocsPerRun(20, func() {
			w.step(tm, 0.001)
			tm += 0.001
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per step", name, allocs)
		}
	}
}

// Noise-floor calibration: histograms sampled directly from P
// (multinomial) have mean L1 equal to L1Floor (exact), mean squared
// Hellinger equal to Hellinger2Floor, mean KS equal to KSFloor (Gaussian
// limit), and the standard deviation of L1 close to L1FloorSD (which
// neglects the negative covariances: within 10%).
func TestNoiseFloorCalibration(t *testing.T) {
	const K, reps = 60, 1500
	g := mustGrid(t, grid.Uniform("x", 0, 1, K))
	// Cell probabilities from 1e-4 to 5%: small-count cells included.
	P := make([]float64, K)
	for i := range P {
		P[i] = math.Exp(-0.5*math.Pow(float64(i-20)/8, 2)) + 1e-3
	}
	tot := 0.0
	for _, v := range P {
		tot += v
	}
	cum := make([]float64, K)
	acc := 0.0
	for i := range P {
		P[i] /= tot
		acc += P[i]
		cum[i] = acc
	}
	p := make([]float64, K)
	for i := range p {
		p[i] = P[i] / g.Volume(i)
	}
	for _, n := range []int64{300, 20000} {
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		var l1, l1sq, h2, ks float64
		var small int
		for r := 0; r < reps; r++ {
			s := Snapshot{Particles: n, Alive: n, Counts: make([]int64, K)}
			for j := int64(0); j < n; j++ {
				i, _ := slices.BinarySearch(cum, rng.Float64())
				s.Counts[min(i, K-1)]++
			}
			c := Compare(g, p, &s, &Criteria{KSReplicates: 200})
			l1 += c.L1
			l1sq += c.L1 * c.L1
			h2 += c.Hellinger2
			ks += c.KS
			if c.ChiSquarePValue < 0.01 {
				small++
			}
		}
		c := Compare(g, p, &Snapshot{Particles: n, Alive: n, Counts: make([]int64, K)}, nil)
		ml1 := l1 / reps
		sd := math.Sqrt(l1sq/reps - ml1*ml1)
		normal := 0.0
		for _, q := range P {
			normal += math.Sqrt(2 * q * (1 - q) / (math.Pi * float64(n)))
		}
		t.Logf("N=%d: mean L1 %.5f vs floor %.5f (normal approximation %.5f), sd %.5f vs %.5f; Hellinger² %.3e vs %.3e; KS %.4f vs %.4f; chi² p < 0.01 in %.2f%%",
			n, ml1, c.L1Floor, normal, sd, c.L1FloorSD, h2/reps, c.Hellinger2Floor, ks/reps, c.KSFloor, 100*float64(small)/reps)
		// Four standard errors of the mean of reps draws.
		if se := sd / math.Sqrt(reps); math.Abs(ml1-c.L1Floor) > 4*se {
			t.Errorf("N=%d: mean L1 %.6f, floor %.6f (standard error %.1e)", n, ml1, c.L1Floor, se)
		}
		if math.Abs(sd/c.L1FloorSD-1) > 0.1 {
			t.Errorf("N=%d: L1 sd %.5f, predicted %.5f", n, sd, c.L1FloorSD)
		}
		// Hellinger² and KS: relative 5% (their relative spread is ≈ 20%
		// per draw, so the means of 1500 draws are within 2%; the KS floor
		// is the Gaussian limit, good to O(1/sqrt(N P))).
		if math.Abs(h2/reps/c.Hellinger2Floor-1) > 0.05 {
			t.Errorf("N=%d: mean Hellinger² %.4e, floor %.4e", n, h2/reps, c.Hellinger2Floor)
		}
		if math.Abs(ks/reps/c.KSFloor-1) > 0.05 {
			t.Errorf("N=%d: mean KS %.4e, floor %.4e", n, ks/reps, c.KSFloor)
		}
		// The chi-square test holds its level: p < 0.01 in ≈ 1% of draws
		// (binomial sd 0.26% at 1500 draws; 3% allows for the
		// approximation at 5 expected per group).
		if f := float64(small) / reps; f > 0.03 {
			t.Errorf("N=%d: chi² p < 0.01 in %.1f%% of exact samples", n, 100*f)
		}
	}
}

// de Moivre's closed form against the direct sum.
func TestBinomialMAD(t *testing.T) {
	for _, tc := range []struct {
		n int64
		p float64
	}{{1, 0.5}, {2, 0.5}, {10, 0.03}, {50, 0.5}, {200, 0.013}, {1000, 0.37}, {5000, 1e-4}} {
		direct, sq := 0.0, 0.0
		mu := float64(tc.n) * tc.p
		for k := int64(0); k <= tc.n; k++ {
			lc, _ := math.Lgamma(float64(tc.n + 1))
			l1, _ := math.Lgamma(float64(k + 1))
			l2, _ := math.Lgamma(float64(tc.n - k + 1))
			pk := math.Exp(lc - l1 - l2 + float64(k)*math.Log(tc.p) + float64(tc.n-k)*math.Log1p(-tc.p))
			direct += pk * math.Abs(float64(k)-mu)
			d := math.Sqrt(float64(k)/float64(tc.n)) - math.Sqrt(tc.p)
			sq += pk * d * d
		}
		if got := BinomialMAD(tc.n, tc.p); math.Abs(got-direct) > 1e-10*(1+direct) {
			t.Errorf("BinomialMAD(%d, %g) = %.15g, direct sum %.15g", tc.n, tc.p, got, direct)
		}
		if got := sqrtDev(tc.n, tc.p); math.Abs(got-sq) > 1e-10*sq {
			t.Errorf("sqrtDev(%d, %g) = %.15g, direct sum %.15g", tc.n, tc.p, got, sq)
		}
	}
	// The large-count expansion against the exact sum just below its
	// threshold (relative error O((N P)^-2) ≈ 1e-6 there).
	n, p := int64(100000), 0.00999
	exact := sqrtDev(n, p)
	fn, q := float64(n), 1-p
	approx := q/(4*fn) - (q*(1-2*p)/8-15*q*q/64)/(fn*fn*p)
	if math.Abs(approx/exact-1) > 3e-6 {
		t.Errorf("expansion %.12g, exact %.12g", approx, exact)
	}
}

// The generator: math/rand/v2's PCG seeds each stream, and the ziggurat
// produces standard normals (moments, tail mass, Kolmogorov–Smirnov).
func TestNormalGenerator(t *testing.T) {
	w := newStream(5, 9)
	if want := rand.NewPCG(5, 9).Uint64(); w.s != want {
		t.Fatalf("stream state %x, want rand.NewPCG(5, 9).Uint64() = %x", w.s, want)
	}
	const n = 4000000
	x := make([]float64, n)
	w.fillNorm(x[:n/2])
	for i := n / 2; i < n; i++ {
		x[i] = w.Norm()
	}
	var m1, m2, m4 float64
	tail3, tail4 := 0, 0
	for _, v := range x {
		m1 += v
		m2 += v * v
		m4 += v * v * v * v
		if math.Abs(v) > 3 {
			tail3++
		}
		if math.Abs(v) > zigR {
			tail4++
		}
	}
	m1, m2, m4 = m1/n, m2/n, m4/n
	// Standard errors: 1/sqrt(n) = 5e-4 (mean), sqrt(2/n) = 7e-4
	// (variance), sqrt(96/n) = 5e-3 (fourth moment); allow 5.
	if math.Abs(m1) > 5*5e-4 || math.Abs(m2-1) > 5*7e-4 || math.Abs(m4-3) > 5*5e-3 {
		t.Errorf("moments %.5f %.5f %.5f, want 0, 1, 3", m1, m2, m4)
	}
	for _, tc := range []struct {
		c     float64
		count int
	}{{3, tail3}, {zigR, tail4}} {
		want := n * math.Erfc(tc.c/math.Sqrt2)
		if math.Abs(float64(tc.count)-want) > 5*math.Sqrt(want) {
			t.Errorf("|x| > %g: %d draws, want %.0f", tc.c, tc.count, want)
		}
	}
	slices.Sort(x)
	d := 0.0
	for i, v := range x {
		f := 0.5 * math.Erfc(-v/math.Sqrt2)
		d = math.Max(d, math.Max(math.Abs(f-float64(i)/n), math.Abs(f-float64(i+1)/n)))
	}
	// Kolmogorov's 0.1% critical value is 1.95/sqrt(n).
	if d > 1.95/math.Sqrt(n) {
		t.Errorf("KS distance %.2e > %.2e", d, 1.95/math.Sqrt(n))
	}
}

// FactorPSD gives f fᵀ = a, without NaN for semi-definite and singular a.
func TestFactorPSD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(name string, a []float64, d int) {
		t.Helper()
		f := make([]float64, d*d)
		FactorPSD(f, a, make([]float64, d*d), d)
		scale := 0.0
		for i := 0; i < d; i++ {
			scale = math.Max(scale, math.Abs(a[i*d+i]))
		}
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				s := 0.0
				for k := 0; k < d; k++ {
					s += f[i*d+k] * f[j*d+k]
				}
				if math.IsNaN(s) || math.Abs(s-a[i*d+j]) > 1e-12*(scale+1e-300)+1e-300 {
					t.Errorf("%s (d=%d): (f fᵀ)[%d,%d] = %g, want %g", name, d, i, j, s, a[i*d+j])
				}
			}
		}
	}
	for d := 1; d <= 5; d++ {
		// Random positive definite, and rank one.
		b := make([]float64, d*d)
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		a := make([]float64, d*d)
		r1 := make([]float64, d*d)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				for k := 0; k < d; k++ {
					a[i*d+j] += b[i*d+k] * b[j*d+k]
				}
				r1[i*d+j] = b[i] * b[j]
			}
		}
		check("positive definite", a, d)
		check("rank one", r1, d)
		check("zero", make([]float64, d*d), d)
	}
	// Rank one with an exact zero pivot first, and a round-off indefinite
	// matrix (eigenvalue −1e-17).
	check("rank one, zero first", []float64{0, 0, 0, 1}, 2)
	check("rank one, 3D", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, 3)
	f := make([]float64, 4)
	FactorPSD(f, []float64{1, 1, 1, 1 - 1e-17}, nil, 2)
	for _, v := range f {
		if math.IsNaN(v) {
			t.Fatalf("NaN factor of a slightly indefinite matrix: %v", f)
		}
	}
}

// Cell lookup on uniform and stretched axes against a linear search.
func TestCellLookup(t *testing.T) {
	e := []float64{-1, -0.9, -0.5, 0, 0.1, 0.15, 2}
	g := mustGrid(t, grid.Stretched("x", e), grid.Uniform("y", 0, 3, 7))
	pl, err := newPlan(Problem{Grid: g, Coefficients: Linear{A: make([]float64, 4), D: []float64{1, 0, 0, 1}}, Positions: pointStart(2, 1, 0, 0), Times: []float64{1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(pl)
	rng := rand.New(rand.NewPCG(3, 4))
	pts := [][2]float64{{-1, 0}, {2, 3}, {0, 1.5}, {0.1, 3}, {-0.9, 2.9999}}
	for range 2000 {
		pts = append(pts, [2]float64{-1 + 3*rng.Float64(), 3 * rng.Float64()})
	}
	for _, p := range pts {
		w.x[0][0], w.x[1][0] = p[0], p[1]
		got, _ := w.cell(0)
		i := 0
		for i+1 < len(e)-1 && p[0] >= e[i+1] {
			i++
		}
		j := min(int(p[1]/3*7), 6)
		if want := g.Index([]int{i, j}); got != want {
			t.Errorf("point %v: cell %d, want %d", p, got, want)
		}
	}
	w.x[0][0] = math.NaN()
	if l, k := w.cell(0); l >= 0 || k != 0 {
		t.Errorf("NaN position: cell %d (axis %d), want −1 (axis 0)", l, k)
	}
}

func TestSimulateErrors(t *testing.T) {
	g := mustGrid(t, grid.Uniform("x", 0, 1, 4), grid.Uniform("y", 0, 1, 4))
	ok := Linear{A: make([]float64, 4), D: []float64{1, 0, 0, 1}}
	init := make([]float64, 16)
	init[5] = 1
	fullVarying := FromModel(operators.Model{Dim: 2, Diffusion: func(dst, x []float64, _ float64) {
		dst[0], dst[1], dst[2], dst[3] = 1+x[0], 0.1, 0.1, 1
	}}, g)
	nan := FromModel(operators.Model{Dim: 2, Drift: func(dst, x []float64, _ float64) { dst[0], dst[1] = math.NaN(), 0 }, Diffusion: operators.IsotropicDiffusion(2, 1)}, g)
	for _, tc := range []struct {
		name string
		p    Problem
		s    *Settings
		want string
	}{
		{"no grid", Problem{Coefficients: ok, Initial: init, Times: []float64{1}}, nil, "no grid"},
		{"dimension", Problem{Grid: g, Coefficients: Linear{A: []float64{0}, D: []float64{1}}, Initial: init, Times: []float64{1}}, nil, "dimension"},
		{"times", Problem{Grid: g, Coefficients: ok, Initial: init, Times: []float64{1, 0.5}}, nil, "increasing"},
		{"no law", Problem{Grid: g, Coefficients: ok, Times: []float64{1}}, nil, "initial law"},
		{"outside", Problem{Grid: g, Coefficients: ok, Positions: pointStart(2, 3, 0.5, 1.5), Times: []float64{1}}, nil, "outside"},
		{"heun full", Problem{Grid: g, Coefficients: fullVarying, Initial: init, Times: []float64{1}}, &Settings{Scheme: Heun}, "diagonal or constant"},
		{"nan", Problem{Grid: g, Coefficients: nan, Initial: init, Times: []float64{1}}, &Settings{Particles: 100}, "left the domain"},
		{"negative dt", Problem{Grid: g, Coefficients: ok, Initial: init, Times: []float64{1}}, &Settings{Dt: -1}, "time step"},
	} {
		_, err := Simulate(tc.p, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "validation: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
