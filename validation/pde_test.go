package validation

import (
	"math"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// The acceptance tests: particle ensembles against fokker's PDE densities
// for the same process, within the noise floor of the particle histogram.
// Each runs the particles at a sequence of time steps: the coarse ones show
// the Euler–Maruyama bias (a chi-square excess that falls like dt², as the
// density bias is O(dt)), the finest must be consistent (L1 ≤ 1.5 × noise
// floor and chi-square p ≥ 1e-3) at 10^6 particles.

// excess returns the chi-square excess in standard deviations,
// (X² − df)/sqrt(2 df): the sampling noise makes it O(1), a bias b per
// cell adds N sum b²/P.
func excess(c *Comparison) float64 {
	return (c.ChiSquare - float64(c.ChiSquareDF)) / math.Sqrt(2*float64(c.ChiSquareDF))
}

// dtStudy runs prob at each dt (coarse to fine) and compares every
// snapshot with the PDE densities. It requires the finest run to be
// consistent at every snapshot and, if shrink is set, the bias to be
// detected at the coarsest step (excess > 5) and to fall as dt does.
func dtStudy(t *testing.T, prob Problem, pde [][]float64, dts []float64, set Settings, shrink bool) []Comparison {
	t.Helper()
	var last []Comparison
	prev := math.Inf(1)
	for j, dt := range dts {
		set.Dt = dt
		r := mustSimulate(t, prob, &set)
		last = last[:0]
		worst := math.Inf(-1)
		for s := range prob.Times {
			c := Compare(prob.Grid, pde[s], &r.Snapshots[s], nil)
			t.Logf("dt=%-7g t=%-4g N=%d (%v, %v): %v; chi² excess %.1fσ", dt, prob.Times[s], r.Particles, r.Scheme, r.Duration.Round(1e6), c.String(), excess(&c))
			last = append(last, c)
			worst = math.Max(worst, excess(&c))
		}
		if shrink {
			if j == 0 && worst < 5 {
				t.Errorf("dt=%g: the time-step bias is not detected (chi² excess %.1fσ); the study shows nothing", dt, worst)
			}
			// Halving dt divides the excess by about 4 while it is
			// bias-dominated; once at the noise level it only has to stay
			// there.
			if worst > 3 && worst > prev {
				t.Errorf("dt=%g: chi² excess %.1fσ did not fall from %.1fσ", dt, worst, prev)
			}
		}
		prev = worst
	}
	for s, c := range last {
		if !c.Consistent {
			t.Errorf("t=%g, dt=%g: particles and PDE inconsistent: %v", prob.Times[s], dts[len(dts)-1], c.String())
		}
	}
	return last
}

// 1D Ornstein–Uhlenbeck mu = −x, D = ½, from a Gaussian bump, against BDF2
// on 240 cells (spatial error O(h²) ≈ 1e-4 relative, far below the
// per-cell sampling noise of 1% at 10^6 particles).
func TestOU1DAgainstPDE(t *testing.T) {
	g := mustGrid(t, grid.Uniform("x", -6, 6, 240))
	m := operators.Model{Dim: 1, Drift: operators.LinearDrift(1, []float64{1}), Diffusion: operators.IsotropicDiffusion(1, 0.5)}
	p0 := cellDensity(g, gauss1(1.5, 0.3))
	times := []float64{0.25, 1}
	pde := pdeTransient(t, g, m, p0, 1e-3, times)
	prob := Problem{Grid: g, Coefficients: Linear{A: []float64{1}, D: []float64{0.5}}, Initial: p0, Times: times}
	// At dt = 0.0025 the bias still shows on average over seeds (mean L1
	// ratio 1.07 over 8 seeds at t = 1); at 0.001 it does not (0.996).
	dtStudy(t, prob, pde, []float64{0.04, 0.01, 0.001}, Settings{Particles: 1000000, Seed: 1}, true)
}

// Cox–Ingersoll–Ross mu = 1 − x, D = x/2 on [0, 10] (reflecting; D
// vanishes at the wall, where Euler–Maruyama uses sqrt(max(2D, 0)) and the
// mirror keeps x ≥ 0), through the operators.Model adapter.
func TestCIRAgainstPDE(t *testing.T) {
	g := mustGrid(t, grid.Uniform("x", 0, 10, 500))
	m := operators.Model{
		Dim:       1,
		Drift:     func(dst, x []float64, _ float64) { dst[0] = 1 - x[0] },
		Diffusion: func(dst, x []float64, _ float64) { dst[0] = x[0] / 2 },
	}
	p0 := cellDensity(g, gauss1(0.6, 0.25))
	times := []float64{0.25, 1}
	pde := pdeTransient(t, g, m, p0, 1e-3, times)
	prob := Problem{Grid: g, Coefficients: FromModel(m, g), Initial: p0, Times: times}
	dtStudy(t, prob, pde, []float64{0.04, 0.0025}, Settings{Particles: 1000000, Seed: 2}, true)
}

// The 2D Ornstein–Uhlenbeck process with rotation and a full constant D,
// mu = −A x with A = [[1, 1], [−1, 1]], D = [[0.5, 0.1], [0.1, 0.3]], from
// a Gaussian at (1.5, 0), against BDF2 on 128² cells (the scheme's
// covariance error there is ≈ 1e-3, below the sampling noise at 10^6
// particles in 16384 cells).
func TestRotationOU2DAgainstPDE(t *testing.T) {
	a := []float64{1, 1, -1, 1}
	dm := []float64{0.5, 0.1, 0.1, 0.3}
	n := 128
	g := mustGrid(t, grid.Uniform("x", -4, 4, n), grid.Uniform("y", -4, 4, n))
	m := operators.Model{Dim: 2, Drift: operators.LinearDrift(2, a), Diffusion: operators.ConstantDiffusion(dm)}
	p0 := cellDensity(g, func(x []float64) float64 {
		u, v := (x[0]-1.5)/0.25, x[1]/0.25
		return math.Exp(-0.5 * (u*u + v*v))
	})
	times := []float64{0.5, 1.5}
	pde := pdeTransient(t, g, m, p0, 5e-3, times)
	prob := Problem{Grid: g, Coefficients: Linear{A: a, D: dm}, Initial: p0, Times: times}
	dtStudy(t, prob, pde, []float64{0.04, 0.0025}, Settings{Particles: 1000000, Seed: 3}, true)
}

// noiseGradient is mu = 0, D = y1 I in 2D, written directly against the
// batch interface (as a compiled expression would be).
type noiseGradient struct{}

func (noiseGradient) Dim() int       { return 2 }
func (noiseGradient) Diagonal() bool { return true }
func (noiseGradient) DriftBatch(dst, _ [][]float64, _ float64) {
	clear(dst[0])
	clear(dst[1])
}
func (noiseGradient) DiffusionBatch(dst, x [][]float64, _ float64) {
	copy(dst[0], x[0])
	copy(dst[3], x[0])
}

func noiseGradientModel(c operators.Convention) operators.Model {
	return operators.Model{
		Dim: 2,
		Diffusion: func(dst, x []float64, _ float64) {
			dst[0], dst[1], dst[2], dst[3] = x[0], 0, 0, x[0]
		},
		Diagonal:   true,
		Convention: c,
	}
}

// The pure noise gradient mu = 0, D = y1 I on [0.5, 2]×[0, 1] (reflecting):
// the stationary density is D^(alpha−1), 1/y1 for Itô, 1/sqrt(y1) for
// Stratonovich, uniform for anti-Itô. Particles start uniform and relax for
// T = 1.5 (the slowest mode decays like exp(−5.5 t), leaving 3e-4 of the
// initial difference), then meet the PDE's stationary density — each
// convention with its matching scheme: Euler–Maruyama (Itô), Heun
// (Stratonovich), Euler–Maruyama on mu + div D (anti-Itô; div D by
// differences of D).
func TestNoiseGradientAgainstPDE(t *testing.T) {
	g := mustGrid(t, grid.Uniform("y1", 0.5, 2, 32), grid.Uniform("y2", 0, 1, 32))
	uniform := make([]float64, g.Len())
	for i := range uniform {
		uniform[i] = 1
	}
	for _, tc := range []struct {
		conv      operators.Convention
		dts       []float64
		particles int
	}{
		{operators.Ito, []float64{0.01, 0.0025}, 1000000},
		{operators.Stratonovich, []float64{0.005}, 300000},
		{operators.AntiIto, []float64{0.005}, 300000},
	} {
		t.Run(tc.conv.String(), func(t *testing.T) {
			pde := pdeStationary(t, g, noiseGradientModel(tc.conv))
			prob := Problem{Grid: g, Coefficients: noiseGradient{}, Convention: tc.conv, Initial: uniform, Times: []float64{1.5}}
			dtStudy(t, prob, [][]float64{pde}, tc.dts, Settings{Particles: tc.particles, Seed: 4}, len(tc.dts) > 1)
		})
	}
}

// A wrong pairing is caught: Itô's noise-gradient PDE (stationary 1/y1)
// against Stratonovich particles (Heun with drift mu = 0, which converge to
// 1/sqrt(y1)), started from the PDE's density: the L1 distance is three
// times its floor and the chi-square p-value zero.
func TestWrongConventionCaught(t *testing.T) {
	g := mustGrid(t, grid.Uniform("y1", 0.5, 2, 32), grid.Uniform("y2", 0, 1, 32))
	pde := pdeStationary(t, g, noiseGradientModel(operators.Ito))
	prob := Problem{Grid: g, Coefficients: noiseGradient{}, Convention: operators.Stratonovich, Initial: pde, Times: []float64{1.5}}
	r := mustSimulate(t, prob, &Settings{Particles: 200000, Dt: 0.005, Scheme: Heun, Seed: 5})
	c := Compare(g, pde, &r.Snapshots[0], nil)
	t.Logf("Itô PDE vs Stratonovich (Heun) particles: %v", c.String())
	if c.Consistent {
		t.Fatalf("mismatched conventions reported consistent: %v", c.String())
	}
	// The densities differ by a factor sqrt(y1) ∈ [0.7, 1.4]: L1 ≈ 0.15,
	// against a floor of ≈ 0.06 at 2e5 particles in 1024 cells.
	if c.Ratio() < 2 {
		t.Errorf("L1/floor = %.3g: the mismatch should stand far above the noise", c.Ratio())
	}
}

// A ring: constant drift c = 1 and D = 0.05 on the periodic [0, 2π), from a
// wrapped Gaussian, against BDF2 on 800 cells. Euler–Maruyama is exact for
// constant coefficients, so there is no time-step bias to show: one coarse
// step size suffices.
func TestPeriodicRingAgainstPDE(t *testing.T) {
	g := mustGrid(t, grid.Uniform("theta", 0, 2*math.Pi, 800).WithBoundary(grid.Periodic, grid.Periodic))
	m := operators.Model{Dim: 1, Drift: func(dst, _ []float64, _ float64) { dst[0] = 1 }, Diffusion: operators.IsotropicDiffusion(1, 0.05)}
	p0 := cellDensity(g, func(x []float64) float64 {
		s := 0.0
		for k := -3; k <= 3; k++ {
			z := (x[0] - 1 + 2*math.Pi*float64(k)) / 0.2
			s += math.Exp(-0.5 * z * z)
		}
		return s
	})
	times := []float64{2, 6}
	pde := pdeTransient(t, g, m, p0, 2e-3, times)
	prob := Problem{Grid: g, Coefficients: Linear{A: []float64{0}, B: []float64{1}, D: []float64{0.05}}, Initial: p0, Times: times}
	dtStudy(t, prob, pde, []float64{0.05}, Settings{Particles: 1000000, Seed: 6}, false)
}

// Pure diffusion D = 0.7 on [0, 2] with absorbing ends, from a bump at 0.7:
// the survival fraction against the PDE mass (binomial standard error) and
// the sub-probability histograms, at 10^6 particles. With the Brownian-
// bridge test Euler–Maruyama has no bias here (the bridge crossing
// probability is exact for constant D at one wall). Without it the
// survival is biased upwards by O(sqrt(dt)) (Gobet 2000; the wall
// effectively moves out by 0.5826 sqrt(2 D dt)): the study shows the bias
// falling by about 2 for each 4× smaller dt.
func TestAbsorbingAgainstPDE(t *testing.T) {
	g := mustGrid(t, grid.Uniform("x", 0, 2, 400).WithBoundary(grid.Absorbing, grid.Absorbing))
	m := operators.Model{Dim: 1, Diffusion: operators.IsotropicDiffusion(1, 0.7)}
	p0 := cellDensity(g, gauss1(0.7, 0.25))
	times := []float64{0.05, 0.2, 0.5}
	pde := pdeTransient(t, g, m, p0, 2.5e-4, times)
	prob := Problem{Grid: g, Coefficients: Linear{A: []float64{0}, D: []float64{0.7}}, Initial: p0, Times: times}
	cs := dtStudy(t, prob, pde, []float64{0.01}, Settings{Particles: 1000000, Seed: 7}, false)
	for s, c := range cs {
		if c.Mass > 0.9 && s == len(cs)-1 {
			t.Fatalf("mass %.3f at t=%g: the test does not absorb much", c.Mass, times[s])
		}
	}

	// Without the bridge.
	var bias []float64
	for _, dt := range []float64{0.01, 0.0025, 0.000625} {
		r := mustSimulate(t, prob, &Settings{Particles: 200000, Dt: dt, Seed: 8, NoBridge: true})
		c := Compare(g, pde[2], &r.Snapshots[2], nil)
		b := c.Survival - c.Mass
		t.Logf("no bridge, dt=%g: survival %.5f vs mass %.5f: bias %.4f (%.1f standard errors): %v", dt, c.Survival, c.Mass, b, b/c.SurvivalErr, c.String())
		bias = append(bias, b)
		if dt == 0.01 && c.Consistent {
			t.Errorf("dt=%g without bridge: the survival bias is not detected: %v", dt, c.String())
		}
	}
	for i := 1; i < len(bias); i++ {
		// Order ½: a 4× smaller step halves the bias (±30%, the bias at the
		// finest step is ~10 standard errors).
		if q := bias[i-1] / bias[i]; q < 1.4 || q > 2.8 {
			t.Errorf("survival bias ratio %.3g for a 4× smaller step, want ≈ 2 (order ½)", q)
		}
	}
}

// Time-dependent coefficients: mu = −x + 2 sin(3t), D = ½ + ¼ cos(2t),
// through the Model adapter (evaluated at each step's time), against the
// PDE stepper, which re-assembles the operator at every step.
func TestTimeDependentAgainstPDE(t *testing.T) {
	if testing.Short() {
		t.Skip("beyond the acceptance set; skipped in -short mode")
	}
	g := mustGrid(t, grid.Uniform("x", -5, 5, 200))
	m := operators.Model{
		Dim:           1,
		Drift:         func(dst, x []float64, t float64) { dst[0] = -x[0] + 2*math.Sin(3*t) },
		Diffusion:     func(dst, _ []float64, t float64) { dst[0] = 0.5 + 0.25*math.Cos(2*t) },
		TimeDependent: true,
	}
	p0 := cellDensity(g, gauss1(0, 0.3))
	times := []float64{0.5, 1.5}
	pde := pdeTransient(t, g, m, p0, 1e-3, times)
	prob := Problem{Grid: g, Coefficients: FromModel(m, g), Initial: p0, Times: times}
	dtStudy(t, prob, pde, []float64{0.05, 0.0025}, Settings{Particles: 300000, Seed: 9}, true)
}

// Milstein (diagonal noise) on CIR, where sigma = sqrt(x) varies, and on
// the Itô noise gradient: consistent with the PDE like Euler–Maruyama.
func TestMilsteinAgainstPDE(t *testing.T) {
	if testing.Short() {
		t.Skip("beyond the acceptance set; skipped in -short mode")
	}
	g := mustGrid(t, grid.Uniform("x", 0, 10, 500))
	m := operators.Model{
		Dim:       1,
		Drift:     func(dst, x []float64, _ float64) { dst[0] = 1 - x[0] },
		Diffusion: func(dst, x []float64, _ float64) { dst[0] = x[0] / 2 },
	}
	p0 := cellDensity(g, gauss1(0.6, 0.25))
	times := []float64{1}
	pde := pdeTransient(t, g, m, p0, 1e-3, times)
	prob := Problem{Grid: g, Coefficients: FromModel(m, g), Initial: p0, Times: times}
	dtStudy(t, prob, pde, []float64{0.005}, Settings{Particles: 300000, Seed: 10, Scheme: Milstein}, false)

	ng := mustGrid(t, grid.Uniform("y1", 0.5, 2, 32), grid.Uniform("y2", 0, 1, 32))
	uniform := make([]float64, ng.Len())
	for i := range uniform {
		uniform[i] = 1
	}
	pdeNG := pdeStationary(t, ng, noiseGradientModel(operators.Ito))
	probNG := Problem{Grid: ng, Coefficients: noiseGradient{}, Initial: uniform, Times: []float64{1.5}}
	dtStudy(t, probNG, [][]float64{pdeNG}, []float64{0.005}, Settings{Particles: 300000, Seed: 10, Scheme: Milstein}, false)
}

// A full, varying D: mu = −x, D(x) = [[0.3 + 0.3 s, 0.1 s], [0.1 s, 0.25 +
// 0.05 y²]] with s = 1/(1 + x²), Itô and anti-Itô (div D by differences of
// a full D), particles started from the PDE's stationary density: the
// dynamics must keep them there. Euler–Maruyama factors 2D at every
// particle and step.
func TestFullVaryingDiffusionAgainstPDE(t *testing.T) {
	if testing.Short() {
		t.Skip("beyond the acceptance set; skipped in -short mode")
	}
	g := mustGrid(t, grid.Uniform("x", -4, 4, 64), grid.Uniform("y", -4, 4, 64))
	for _, conv := range []operators.Convention{operators.Ito, operators.AntiIto} {
		m := operators.Model{
			Dim:   2,
			Drift: operators.LinearDrift(2, []float64{1, 0, 0, 1}),
			Diffusion: func(dst, x []float64, _ float64) {
				s := 1 / (1 + x[0]*x[0])
				dst[0], dst[1], dst[2], dst[3] = 0.3+0.3*s, 0.1*s, 0.1*s, 0.25+0.05*x[1]*x[1]
			},
			Convention: conv,
		}
		t.Run(conv.String(), func(t *testing.T) {
			pde := pdeStationary(t, g, m)
			prob := Problem{Grid: g, Coefficients: FromModel(m, g), Convention: conv, Initial: pde, Times: []float64{1}}
			dtStudy(t, prob, [][]float64{pde}, []float64{0.005}, Settings{Particles: 150000, Seed: 12}, false)
		})
	}
}

// A rank-one, varying D = (1 + ½ sin x) v vᵀ with v = (1, 1)/sqrt(2): the
// noise moves particles along v only. Started on the diagonal they stay on
// it exactly (the factor of a rank-one matrix has one nonzero column), and
// nothing is NaN.
func TestRankOneDiffusion(t *testing.T) {
	g := mustGrid(t, grid.Uniform("x", -20, 20, 40), grid.Uniform("y", -20, 20, 40))
	m := operators.Model{
		Dim: 2,
		Diffusion: func(dst, x []float64, _ float64) {
			s := 0.5 * (1 + 0.5*math.Sin(x[0]))
			dst[0], dst[1], dst[2], dst[3] = s, s, s, s
		},
	}
	off := func(x []float64) float64 { return (x[0] - x[1]) * (x[0] - x[1]) }
	r := mustSimulate(t, Problem{Grid: g, Coefficients: FromModel(m, g), Positions: pointStart(2, 20000, 0.3, 0.3), Times: []float64{1}},
		&Settings{Dt: 0.01, Seed: 1, Observables: []func([]float64) float64{off}})
	s := r.Snapshots[0]
	t.Logf("rank one: mean %v, covariance %v, mean (x − y)² %g", s.Mean, s.Cov, s.Observables[0].Value)
	// On the diagonal the two coordinates receive the same increment up
	// to round-off of the factor's two entries (≈ 1e-16 per step).
	if s.Observables[0].Value > 1e-20 {
		t.Errorf("particles left the diagonal: mean (x − y)² = %g", s.Observables[0].Value)
	}
	// Variance along v: 2 ∫ E[1 + ½ sin X] dt ≈ 2 ± 0.5; each coordinate
	// carries half of it.
	if v := s.Cov[0]; math.IsNaN(v) || v < 0.6 || v > 1.4 {
		t.Errorf("variance %g, want ≈ 1", v)
	}
}
