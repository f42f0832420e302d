package operators_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// The axis connections describe L: with reflecting and periodic sides and a
// diagonal D, (L p)_l V_l is the sum of the fluxes a p_l − b p_q into cell l
// minus those out of it, for any p — so AxisFluxes and the lazily laid-out
// CSR matrix (MulVecTo) agree.
func TestAxisFluxesReconstructL(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 3))
	for trial := 0; trial < 18; trial++ {
		d := 1 + trial%3
		var axes []grid.Axis
		for k := 0; k < d; k++ {
			n := 1 + rng.IntN(9)
			if d == 1 {
				n = 5000 + rng.IntN(5000) // split over workers
			}
			a := grid.Uniform(string(rune('x'+k)), -1, 1, n)
			if rng.IntN(2) == 0 {
				a = a.WithBoundary(grid.Periodic, grid.Periodic)
			}
			axes = append(axes, a)
		}
		g, err := grid.New(axes...)
		if err != nil {
			t.Fatal(err)
		}
		conv := operators.Convention(trial % 3)
		m := randomModel(rng, d, false, conv)
		if trial%4 == 1 {
			m.Potential = func(x []float64, _ float64) float64 { return x[0] * x[0] * x[0] }
		}
		op, err := operators.New(g, m, &operators.Settings{Scheme: operators.Scheme(trial % 3)})
		if err != nil {
			t.Fatal(err)
		}
		n := g.Len()
		p := make([]float64, n)
		for i := range p {
			p[i] = rng.Float64()
		}
		want := make([]float64, n) // (L p) V from the fluxes
		scale := make([]float64, n)
		shape, strides := g.Shape(), g.Strides()
		idx := make([]int, d)
		for l := 0; l < n; l++ {
			g.MultiIndex(idx, l)
			for k := 0; k < d; k++ {
				a, b := op.AxisFluxes(k)
				q := -1
				switch {
				case idx[k]+1 < shape[k]:
					q = l + strides[k]
				case g.Periodic(k) && shape[k] > 1:
					q = l - idx[k]*strides[k]
				}
				if q < 0 {
					if a[l] != 0 || b[l] != 0 {
						t.Fatalf("trial %d: cell %d has no upper neighbour along %d but coefficients %g, %g", trial, l, k, a[l], b[l])
					}
					continue
				}
				f := a[l]*p[l] - b[l]*p[q]
				want[l] -= f
				want[q] += f
				scale[l] += math.Abs(a[l]*p[l]) + math.Abs(b[l]*p[q])
				scale[q] += math.Abs(a[l]*p[l]) + math.Abs(b[l]*p[q])
			}
		}
		got := make([]float64, n)
		op.MulVecTo(got, p)
		vol := op.Volumes()
		for l := range got {
			// A handful of terms, each divided by the volume and multiplied
			// back: round-off of order 1e-16 of their magnitudes.
			if e := math.Abs(got[l]*vol[l] - want[l]); e > 1e-14*scale[l] {
				t.Fatalf("trial %d (d=%d): row %d: (L p) V = %g from the matrix, %g from the fluxes", trial, d, l, got[l]*vol[l], want[l])
			}
		}
	}
}

// A 1D operator lays out its matrix when it is first asked for; Assemble
// then overwrites the values in place without allocating (on one worker:
// more start goroutines), and they equal those of an operator assembled at
// that time, on two workers, before its matrix existed.
func TestLazyMatrixAssemble(t *testing.T) {
	g, _ := grid.New(grid.Uniform("x", -2, 2, 10000))
	m := operators.Model{
		Dim:           1,
		Drift:         func(dst, x []float64, t float64) { dst[0] = -x[0] * (1 + math.Sin(t)) },
		Diffusion:     func(dst, x []float64, t float64) { dst[0] = 1 + 0.5*math.Cos(t+x[0]) },
		TimeDependent: true,
	}
	op, err := operators.New(g, m, &operators.Settings{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw := op.Matrix().RawMatrix()
	first := &raw.Data[0]
	tt := 0.0
	allocs := testing.AllocsPerRun(5, func() {
		tt += 0.3
		if _, err := op.Assemble(tt); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Assemble allocated %v times per call", allocs)
	}
	if &op.Matrix().RawMatrix().Data[0] != first {
		t.Error("Assemble replaced the value array")
	}
	fresh, err := operators.New(g, m, &operators.Settings{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Assemble(tt); err != nil {
		t.Fatal(err)
	}
	want := fresh.Matrix().RawMatrix()
	for k, v := range raw.Data {
		if v != want.Data[k] || raw.Ind[k] != want.Ind[k] {
			t.Fatalf("entry %d: %g (column %d) in place, %g (column %d) fresh", k, v, raw.Ind[k], want.Data[k], want.Ind[k])
		}
	}
}
