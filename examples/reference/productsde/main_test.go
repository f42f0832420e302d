package main

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fokkerplanck/fokker/sgd"
	"github.com/fokkerplanck/fokker/spec"
)

// setup loads a reference spec with a small grid (the coefficients do not
// depend on it).
func setup(t *testing.T, path string) (*spec.Spec, *sgd.Setup) {
	t.Helper()
	s, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Grid.Cells = []int{8, 8}
	st, err := sgd.FromSpec(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// The closed-form coefficients of productsde are fokker's: drift and
// diffusion against Landscape.Model, which sums over the data rows, at
// points off the grid.
func TestMomentsMatchLandscape(t *testing.T) {
	for _, path := range []string{"../sgd_product2d_small_eta.toml", "../sgd_product2d_frozen_small_eta.toml"} {
		s, st := setup(t, path)
		m, err := newMoments(s, st)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := sgd.Evaluate(st.Grid, st.Loss, st.Data, 1)
		if err != nil {
			t.Fatal(err)
		}
		model, err := ls.Model(st.Config)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		mu, d := make([]float64, 2), make([]float64, 4)
		for k := 0; k < 20; k++ {
			a, b := 0.3+2.5*r.Float64(), 0.3+2.5*r.Float64()
			model.Drift(mu, []float64{a, b}, 0)
			model.Diffusion(d, []float64{a, b}, 0)
			mean := m.mean(a * b)
			v, va, vb := m.variance(a*b), b, a
			if m.frozen {
				v, va, vb = m.fvar, m.fb, m.fa
			}
			// D = (eta/2n) Var ξ (va, vb)(va, vb)ᵀ.
			h := m.eta / (2 * float64(m.batch)) * v
			want := []float64{h * va * va, h * va * vb, h * vb * va, h * vb * vb}
			for i, w := range []float64{-mean * b, -mean * a} {
				if math.Abs(mu[i]-w) > 1e-12*(1+math.Abs(w)) {
					t.Errorf("%s (%g, %g): drift[%d] %v, closed form %v", path, a, b, i, mu[i], w)
				}
			}
			for i := range want {
				if math.Abs(d[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
					t.Errorf("%s (%g, %g): D[%d] %v, closed form %v", path, a, b, i, d[i], want[i])
				}
			}
		}
	}
}

// Every step of the product model moves along (b, a), so w = a² − b²
// changes as w' = w (1 − s²) with s the scalar step (docs/sgd.md): a check
// that both components of each kind of step carry the same scalar.
func TestStepAlongValleyNormal(t *testing.T) {
	s, st := setup(t, "../sgd_product2d_small_eta.toml")
	m, err := newMoments(s, st)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for e := ensemble(0); e < nEnsembles; e++ {
		for k := 0; k < 100; k++ {
			a, b := 0.3+2.5*r.Float64(), 0.3+2.5*r.Float64()
			a1, b1 := m.step(e, a, b, m.eta, r)
			sa, sb := (a1-a)/b, (b1-b)/a
			if math.Abs(sa-sb) > 1e-12 {
				t.Fatalf("%s step from (%g, %g): %v along b, %v along a", ensembleNames[e], a, b, sa, sb)
			}
			w, w1 := a*a-b*b, a1*a1-b1*b1
			if math.Abs(w1-w*(1-sa*sa)) > 1e-12*(1+math.Abs(w)) {
				t.Fatalf("%s: w %v → %v, want %v", ensembleNames[e], w, w1, w*(1-sa*sa))
			}
		}
	}
}
