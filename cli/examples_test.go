package cli_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Every built-in example runs through the CLI, and its key figure is
// asserted against an exact result. Tolerances come from the Foundation's
// measured errors at the example's resolution (docs/numerics.md).
func TestExamplesThroughCLI(t *testing.T) {
	dir := t.TempDir()
	run := func(cmd, name string) string {
		spec := writeExample(t, dir, name)
		out := filepath.Join(dir, name+"-"+cmd+".h5")
		mustRun(t, "--quiet", cmd, spec, "-o", out)
		return out
	}

	t.Run("ou1d", func(t *testing.T) {
		f := openFile(t, run("run", "ou1d"))
		ts := f.Times()
		if len(ts) != 31 || ts[30] != 3 {
			t.Fatalf("times %v", ts)
		}
		// Adaptive BDF2 (local tolerance 1e-6) leaves the spatial error:
		// second order in h/sigma, with h = 0.025 and the initial sigma =
		// 0.22, measured 4.7e-4 at t = 0.1 and falling as the density
		// widens; 1e-3 bounds it at every snapshot.
		for i := range ts {
			if e := exactL1(t, f, i); e > 1e-3 {
				t.Errorf("t=%g: L1 vs exact %.3e", ts[i], e)
			}
		}
		m, _ := f.Moments(30)
		v := 0.5 - 0.45*math.Exp(-6)
		if math.Abs(m.Mean[0]-2*math.Exp(-3)) > 1e-4 || math.Abs(m.Cov[0]-v) > 1e-4 {
			t.Errorf("t=3: mean %v var %v, want %v %v", m.Mean[0], m.Cov[0], 2*math.Exp(-3), v)
		}
	})

	t.Run("cir1d", func(t *testing.T) {
		f := openFile(t, run("steady", "cir1d"))
		// Acceptance 1 of the Foundation: L1 ≤ 5e-5 at 1000 cells.
		if e := exactL1(t, f, -1); e > 5e-5 {
			t.Errorf("L1 vs Gamma(2,2) %.3e", e)
		}
		f2 := openFile(t, run("run", "cir1d"))
		m, _ := f2.Moments(len(f2.Times()) - 1)
		if math.Abs(m.Mass-1) > 1e-12 {
			t.Errorf("mass %v", m.Mass)
		}
	})

	t.Run("doublewell2d", func(t *testing.T) {
		f := openFile(t, run("steady", "doublewell2d"))
		// Gibbs density to round-off (exact potential differences).
		if e := exactL1(t, f, -1); e > 1e-11 {
			t.Errorf("L1 vs Gibbs %.3e", e)
		}
		f2 := openFile(t, run("run", "doublewell2d"))
		if n := len(f2.Times()); n != 11 {
			t.Errorf("%d snapshots", n)
		}
	})

	t.Run("rotation2d", func(t *testing.T) {
		f := openFile(t, run("run", "rotation2d"))
		ts := f.Times()
		i := len(ts) - 1
		m, _ := f.Moments(i)
		mean, cov := rotationExact(ts[i])
		// 128² cells on [−4, 4]² with BDF2 dt = 0.01: the Foundation's
		// transient test measured moment errors 2.4e-3 at h = 0.078 and
		// dt = 0.0125 with second-order convergence; 4e-3 bounds them.
		for k := range mean {
			if math.Abs(m.Mean[k]-mean[k]) > 4e-3 {
				t.Errorf("mean[%d] = %v, want %v", k, m.Mean[k], mean[k])
			}
		}
		for k := range cov {
			if math.Abs(m.Cov[k]-cov[k]) > 4e-3 {
				t.Errorf("cov[%d] = %v, want %v", k, m.Cov[k], cov[k])
			}
		}
		f2 := openFile(t, run("steady", "rotation2d"))
		sm, _ := f2.StationaryMoments()
		want := []float64{0.4, 0.1, 0.1, 0.4}
		for k := range want {
			if math.Abs(sm.Cov[k]-want[k]) > 4e-3 {
				t.Errorf("stationary cov %v, want %v", sm.Cov, want)
				break
			}
		}
	})

	t.Run("noise_gradient2d", func(t *testing.T) {
		f := openFile(t, run("steady", "noise_gradient2d"))
		// 1/y1 to round-off.
		if e := exactL1(t, f, -1); e > 1e-12 {
			t.Errorf("L1 vs 1/y1 %.3e", e)
		}
		f2 := openFile(t, run("run", "noise_gradient2d"))
		m, _ := f2.Moments(len(f2.Times()) - 1)
		if math.Abs(m.Mass-1) > 1e-12 {
			t.Errorf("mass %v", m.Mass)
		}
		// Probability has drifted towards low noise (small y1).
		m0, _ := f2.Moments(0)
		if !(m.Mean[0] < m0.Mean[0]-0.05) {
			t.Errorf("mean y1 %v -> %v: no drift towards low noise", m0.Mean[0], m.Mean[0])
		}
	})

	t.Run("ring1d", func(t *testing.T) {
		f := openFile(t, run("run", "ring1d"))
		ts := f.Times()
		for i := range ts {
			m, _ := f.Moments(i)
			if math.Abs(m.Mass-1) > 1e-12 {
				t.Errorf("t=%g: mass %.15f", ts[i], m.Mass)
			}
			// 400 cells, BDF2 dt = 0.005: the ring test measured O(h²)
			// errors of 2e-4 in position and 2e-3 in variance at this h.
			if e := exactL1(t, f, i); e > 5e-3 {
				t.Errorf("t=%g: L1 vs exact %.3e", ts[i], e)
			}
		}
	})

	t.Run("absorbing1d", func(t *testing.T) {
		f := openFile(t, run("run", "absorbing1d"))
		for i, tt := range f.Times() {
			m, _ := f.Moments(i)
			want := math.Exp(-0.1 * math.Pi * math.Pi * tt)
			// Acceptance 4: within 1e-3 relative.
			if math.Abs(m.Mass-want)/want > 1e-3 {
				t.Errorf("t=%g: mass %v, want %v", tt, m.Mass, want)
			}
		}
		code, _, errs := fokker(t, "steady", filepath.Join(dir, "absorbing1d.toml"), "-o", filepath.Join(dir, "abs-steady.h5"))
		if code != 2 || !strings.Contains(errs, "no stationary density") {
			t.Errorf("steady with absorbing sides: exit %d, %q", code, errs)
		}
	})

	t.Run("ou3d", func(t *testing.T) {
		f := openFile(t, run("steady", "ou3d"))
		m, _ := f.StationaryMoments()
		for k := 0; k < 3; k++ {
			if math.Abs(m.Cov[4*k]-0.5)/0.5 > 0.01 {
				t.Errorf("variance %d = %v", k, m.Cov[4*k])
			}
		}
		if testing.Short() {
			return
		}
		f2 := openFile(t, run("run", "ou3d"))
		if n := len(f2.Times()); n != 6 {
			t.Errorf("%d snapshots", n)
		}
	})
}

// rotationExact returns the exact moments of the rotation2d example.
func rotationExact(t float64) ([]float64, []float64) {
	a := mat.NewDense(2, 2, []float64{-t, -t, t, -t}) // −A t, A = [[1, 1], [−1, 1]]
	var e mat.Dense
	e.Exp(a)
	var m mat.VecDense
	m.MulVec(&e, mat.NewVecDense(2, []float64{1.5, 0}))
	s := mat.NewDense(2, 2, []float64{0.4, 0.1, 0.1, 0.4})
	var d, tmp, c mat.Dense
	d.Sub(mat.NewDense(2, 2, []float64{0.05, 0, 0, 0.05}), s)
	tmp.Mul(&e, &d)
	c.Mul(&tmp, e.T())
	c.Add(&c, s)
	return m.RawVector().Data, c.RawMatrix().Data
}
