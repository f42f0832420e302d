package problem_test

import (
	"math"
	"testing"

	"github.com/fokkerplanck/fokker/examples"
	"github.com/fokkerplanck/fokker/problem"
	"github.com/fokkerplanck/fokker/spec"
)

func build(t *testing.T, name string) *problem.Problem {
	t.Helper()
	b, _ := examples.Spec(name)
	s, err := spec.Parse(b, name+".toml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := problem.Build(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Coefficient evaluation from compiled expressions allocates nothing: it
// runs at every cell and face of every assembly.
func TestModelAllocs(t *testing.T) {
	p := build(t, "rotation2d")
	x := []float64{0.3, -0.2}
	dst := make([]float64, 4)
	if a := testing.AllocsPerRun(100, func() {
		p.Model.Drift(dst[:2], x, 0)
		p.Model.Diffusion(dst, x, 0)
	}); a != 0 {
		t.Errorf("%v allocations per evaluation", a)
	}
	if p.Model.Diagonal || p.Model.TimeDependent {
		t.Errorf("rotation2d: diagonal=%v time-dependent=%v", p.Model.Diagonal, p.Model.TimeDependent)
	}
	q := build(t, "doublewell2d")
	if a := testing.AllocsPerRun(100, func() { q.Model.Potential(x, 0) }); a != 0 {
		t.Errorf("%v allocations per potential evaluation", a)
	}
	if !q.Model.Diagonal {
		t.Error("doublewell2d: scalar D not diagonal")
	}
}

// The batch coefficients agree with the scalar model at random points, and
// report the structure the particle code uses.
func TestCoefficients(t *testing.T) {
	for _, name := range []string{"rotation2d", "doublewell2d", "cir1d", "noise_gradient2d", "ou3d"} {
		p := build(t, name)
		c, err := p.Coefficients()
		if err != nil {
			t.Fatal(err)
		}
		d := p.Grid.Dim()
		const n = 7
		x := make([][]float64, d)
		for k := range x {
			x[k] = make([]float64, n)
			for i := range x[k] {
				lo, hi := p.Grid.Lower(k), p.Grid.Upper(k)
				x[k][i] = lo + (hi-lo)*(0.1+0.8*float64(i)/n)
			}
		}
		mu := make([][]float64, d)
		for k := range mu {
			mu[k] = make([]float64, n)
		}
		dd := make([][]float64, d*d)
		for k := range dd {
			dd[k] = make([]float64, n)
		}
		c.DriftBatch(mu, x, 0.3)
		c.DiffusionBatch(dd, x, 0.3)
		pt := make([]float64, d)
		want := make([]float64, d)
		wd := make([]float64, d*d)
		for i := 0; i < n; i++ {
			for k := range pt {
				pt[k] = x[k][i]
			}
			clear(want)
			if p.Model.Drift != nil {
				p.Model.Drift(want, pt, 0.3)
			}
			if p.Model.Potential != nil {
				// −grad U by central differences.
				for k := range pt {
					h := 1e-6
					pt[k] += h
					up := p.Model.Potential(pt, 0.3)
					pt[k] -= 2 * h
					um := p.Model.Potential(pt, 0.3)
					pt[k] += h
					want[k] -= (up - um) / (2 * h)
				}
			}
			p.Model.Diffusion(wd, pt, 0.3)
			for k := range want {
				if math.Abs(mu[k][i]-want[k]) > 1e-7*(1+math.Abs(want[k])) {
					t.Errorf("%s: drift[%d] at %v = %v, want %v", name, k, pt, mu[k][i], want[k])
				}
			}
			for k := range wd {
				if math.Abs(dd[k][i]-wd[k]) > 1e-15*(1+math.Abs(wd[k])) {
					t.Errorf("%s: D[%d] = %v, want %v", name, k, dd[k][i], wd[k])
				}
			}
		}
		_, constD := c.ConstantDiffusion()
		_, _, affine := c.Affine()
		t.Logf("%s: constant D %v, diagonal %v, affine drift %v", name, constD, c.Diagonal(), affine)
		switch name {
		case "rotation2d", "ou3d":
			if !constD || !affine {
				t.Errorf("%s: constant D %v, affine %v", name, constD, affine)
			}
		case "cir1d", "noise_gradient2d":
			if constD {
				t.Errorf("%s: D reported constant", name)
			}
		}
	}
}
