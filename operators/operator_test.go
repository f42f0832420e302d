package operators_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// smoothRandom returns a random smooth function on R^d: a sum of a few
// low-frequency cosines.
func smoothRandom(rng *rand.Rand, d int) func(x []float64) float64 {
	type mode struct {
		k     []float64
		phase float64
		amp   float64
	}
	var ms []mode
	for i := 0; i < 4; i++ {
		k := make([]float64, d)
		for j := range k {
			k[j] = 3 * rng.NormFloat64()
		}
		ms = append(ms, mode{k, 2 * math.Pi * rng.Float64(), rng.NormFloat64()})
	}
	return func(x []float64) float64 {
		s := 0.0
		for _, m := range ms {
			a := m.phase
			for j := range x {
				a += m.k[j] * x[j]
			}
			s += m.amp * math.Cos(a)
		}
		return s
	}
}

// randomModel draws a model with smooth random drift and diffusion: D is
// diagonal with entries exp(f) (positive), or full: D = B B^T/20 + 0.2 I
// with a smooth random B (anisotropy up to about 20, which Selling's
// decomposition resolves with short stencils).
func randomModel(rng *rand.Rand, d int, full bool, conv operators.Convention) operators.Model {
	drift := make([]func([]float64) float64, d)
	for i := range drift {
		drift[i] = smoothRandom(rng, d)
	}
	b := make([]func([]float64) float64, d*d)
	for i := range b {
		b[i] = smoothRandom(rng, d)
	}
	m := operators.Model{
		Dim: d,
		Drift: func(dst, x []float64, _ float64) {
			for i := range dst {
				dst[i] = 5 * drift[i](x)
			}
		},
		Convention: conv,
		Diagonal:   !full,
	}
	if full {
		m.Diffusion = func(dst, x []float64, _ float64) {
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					s := 0.0
					for k := 0; k < d; k++ {
						s += b[i*d+k](x) * b[j*d+k](x)
					}
					dst[i*d+j] = s / 20
				}
				dst[i*d+i] += 0.2
			}
		}
	} else {
		m.Diffusion = func(dst, x []float64, _ float64) {
			for i := 0; i < d; i++ {
				dst[i*d+i] = math.Exp(b[i](x))
			}
		}
	}
	return m
}

// Acceptance 7: volume-weighted columns of L sum to zero with reflecting and
// periodic boundaries (conservation), and every off-diagonal entry is
// non-negative with exponential fitting (M-matrix property) — for diagonal
// D as required, and also for full D through Selling's decomposition.
func TestConservationAndMMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	crossTrials := 0
	defer func() {
		// The full-D trials must exercise cross (diagonal) stencil
		// directions, or this test says nothing about Selling's scheme.
		if crossTrials < 4 {
			t.Errorf("only %d trials used cross directions", crossTrials)
		}
	}()
	for trial := 0; trial < 24; trial++ {
		d := 1 + trial%3
		full := d > 1 && trial%2 == 0
		conv := operators.Convention(trial % 3)
		var axes []grid.Axis
		for k := 0; k < d; k++ {
			n := 9 + rng.IntN(8)
			var a grid.Axis
			if rng.IntN(2) == 0 {
				a = grid.Uniform(string(rune('x'+k)), -1, 1, n)
			} else {
				// Stretched: sorted random faces.
				e := make([]float64, n+1)
				for i := range e {
					e[i] = -1 + 2*(float64(i)+0.4*rng.Float64())/float64(n)
				}
				e[0], e[n] = -1, 1
				a = grid.Stretched(string(rune('x'+k)), e)
			}
			if rng.IntN(3) == 0 {
				a = a.WithBoundary(grid.Periodic, grid.Periodic)
			}
			axes = append(axes, a)
		}
		g, err := grid.New(axes...)
		if err != nil {
			t.Fatal(err)
		}
		op, err := operators.New(g, randomModel(rng, d, full, conv), nil)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		raw := op.Matrix().RawMatrix()
		vol := op.Volumes()
		n := g.Len()
		colSum := make([]float64, n)
		colScale := make([]float64, n)
		for i := 0; i < n; i++ {
			for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
				j := raw.Ind[k]
				v := raw.Data[k]
				colSum[j] += vol[i] * v
				colScale[j] += math.Abs(vol[i] * v)
				if j != i && v < 0 {
					t.Fatalf("trial %d (d=%d full=%v %v): L[%d][%d] = %g < 0", trial, d, full, conv, i, j, v)
				}
				if j == i && v > 0 {
					t.Fatalf("trial %d: positive diagonal %g", trial, v)
				}
			}
		}
		for j := range colSum {
			// Each column sum is a sum of a few dozen terms of both signs:
			// round-off of order 1e-15 of their magnitude.
			if math.Abs(colSum[j]) > 1e-13*colScale[j] {
				t.Fatalf("trial %d: column %d sums to %g (scale %g)", trial, j, colSum[j], colScale[j])
			}
		}
		if op.Stats().CrossDirections > 0 {
			crossTrials++
		}
		if st := op.Stats(); st.NegativeOffDiagonals != 0 {
			t.Fatalf("trial %d: stats report %d negative off-diagonals", trial, st.NegativeOffDiagonals)
		}
	}
}

// Time-dependent coefficients are re-assembled into the same arrays.
func TestAssembleInPlace(t *testing.T) {
	g, _ := grid.New(grid.Uniform("x", -1, 1, 30), grid.Uniform("y", -1, 1, 20))
	m := operators.Model{
		Dim: 2,
		Drift: func(dst, x []float64, t float64) {
			dst[0] = -x[0] * (1 + math.Sin(t))
			dst[1] = -x[1]
		},
		Diffusion: func(dst, x []float64, t float64) {
			dst[0], dst[1], dst[2], dst[3] = 1+0.5*math.Cos(t), 0.2, 0.2, 1
		},
		TimeDependent: true,
	}
	op, err := operators.New(g, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := op.Matrix().RawMatrix()
	before := &raw.Data[0]
	v0 := append([]float64(nil), raw.Data...)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := op.Assemble(op.Time() + 0.3); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Assemble allocated %v times per call", allocs)
	}
	raw2 := op.Matrix().RawMatrix()
	if &raw2.Data[0] != before {
		t.Error("Assemble replaced the value array")
	}
	same := true
	for i := range v0 {
		if v0[i] != raw2.Data[i] {
			same = false
		}
	}
	if same {
		t.Error("values did not change with t")
	}
}

// Bad coefficients are reported with the point.
func TestBadCoefficients(t *testing.T) {
	g, _ := grid.New(grid.Uniform("x", -1, 1, 10), grid.Uniform("y", -1, 1, 10))
	cases := []struct {
		name string
		m    operators.Model
	}{
		{"nan drift", operators.Model{Dim: 2, Drift: func(dst, x []float64, _ float64) { dst[0] = math.Log(x[0]) }, Diffusion: operators.IsotropicDiffusion(2, 1)}},
		{"negative D", operators.Model{Dim: 2, Diffusion: func(dst, x []float64, _ float64) { dst[0], dst[3] = x[0], 1 }}},
		{"indefinite D", operators.Model{Dim: 2, Diffusion: operators.ConstantDiffusion([]float64{1, 2, 2, 1})}},
		{"asymmetric D", operators.Model{Dim: 2, Diffusion: operators.ConstantDiffusion([]float64{1, 0.1, 0.2, 1})}},
	}
	for _, c := range cases {
		_, err := operators.New(g, c.m, nil)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
}

// Periodic axes of one and two cells: no self-connection, and both faces of
// a two-cell ring connect the same pair (one matrix entry, two fluxes).
func TestTinyPeriodic(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		g, err := grid.New(grid.Uniform("x", 0, 1, n).WithBoundary(grid.Periodic, grid.Periodic), grid.Uniform("y", 0, 1, 3))
		if err != nil {
			t.Fatal(err)
		}
		op, err := operators.New(g, operators.Model{Dim: 2, Drift: func(dst, x []float64, _ float64) { dst[0] = 1 }, Diffusion: operators.IsotropicDiffusion(2, 0.1)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw := op.Matrix().RawMatrix()
		vol := op.Volumes()
		for j := 0; j < raw.I; j++ {
			s := 0.0
			for i := 0; i < raw.I; i++ {
				s += vol[i] * op.Matrix().At(i, j)
			}
			if math.Abs(s) > 1e-12 {
				t.Errorf("n=%d: column %d sums to %g", n, j, s)
			}
		}
		for i := 0; i < raw.I; i++ {
			row := raw.Ind[raw.Indptr[i]:raw.Indptr[i+1]]
			for k := 1; k < len(row); k++ {
				if row[k] <= row[k-1] {
					t.Errorf("n=%d: row %d columns %v not strictly increasing", n, i, row)
				}
			}
		}
	}
}
