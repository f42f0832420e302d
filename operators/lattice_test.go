package operators

import (
	"math"
	"testing"
)

// fitOf returns sum lambda e e^T of the terms.
func fitOf(terms []sellingTerm) [4]float64 {
	var m [4]float64
	for _, t := range terms {
		a, b := float64(t.e[0]), float64(t.e[1])
		m[0] += t.lambda * a * a
		m[1] += t.lambda * a * b
		m[2] += t.lambda * a * b
		m[3] += t.lambda * b * b
	}
	return m
}

func TestNearestLatticeExact(t *testing.T) {
	// Matrices that have an exact non-negative decomposition on short
	// vectors are reproduced to round-off.
	for _, m := range [][]float64{
		{9, 3, 3, 1},       // (3,1)(3,1)ᵀ, rank one
		{1, 0, 0, 0},       // axis
		{2, 1, 1, 2},       // Selling: (1,1) and the axes
		{5, -2, -2, 1},     // (2,−1)(2,−1)ᵀ + (1,0)(1,0)ᵀ
		{0.3, 0.1, 0.1, 1}, // diagonally dominant
	} {
		terms, rel := nearestLattice(nil, m, 4)
		f := fitOf(terms)
		for i := range f {
			if math.Abs(f[i]-m[i]) > 1e-12 {
				t.Errorf("m = %v: fit %v (rel %.2g)", m, f, rel)
				break
			}
		}
		if rel > 1e-12 || len(terms) > 3 {
			t.Errorf("m = %v: rel %.3g, %d terms", m, rel, len(terms))
		}
		for _, tm := range terms {
			if tm.lambda < 0 {
				t.Errorf("m = %v: negative weight %v", m, tm)
			}
		}
	}
}

// A rank-one D along an irrational direction u: the fit's error falls as
// the stencil bound r grows, and the diffusion it adds across u (the leak
// n·m~·n, n ⊥ u, relative to |m|) is much smaller than the Frobenius error:
// the fit mostly turns u onto a nearby lattice direction.
func TestNearestLatticeRankOne(t *testing.T) {
	for _, phi := range []float64{0.3, 1.0, math.Pi / 7, 2.2} {
		u := [2]float64{math.Cos(phi), math.Sin(phi)}
		n := [2]float64{-u[1], u[0]}
		m := []float64{u[0] * u[0], u[0] * u[1], u[0] * u[1], u[1] * u[1]}
		prev := math.Inf(1)
		for _, r := range []int{2, 4, 8, 16} {
			terms, rel := nearestLattice(nil, m, r)
			f := fitOf(terms)
			leak := n[0]*(f[0]*n[0]+f[1]*n[1]) + n[1]*(f[2]*n[0]+f[3]*n[1])
			t.Logf("phi %.3f r %2d: rel error %.2e, leak %.2e, %d terms", phi, r, rel, leak, len(terms))
			if rel > prev*1.0001 {
				t.Errorf("phi %.3f r %d: error %.3g grew from %.3g", phi, r, rel, prev)
			}
			prev = rel
			if leak < -1e-15 || leak > rel {
				t.Errorf("phi %.3f r %d: leak %.3g outside [0, rel error %.3g]", phi, r, leak, rel)
			}
			for _, tm := range terms {
				if tm.lambda < 0 || tm.e.normInf(2) > r {
					t.Errorf("bad term %v", tm)
				}
			}
		}
		// Dirichlet: some |e| ≤ r is within 1/(|e| r) of u, so the
		// error at r = 16 is a few 1e-3 at most.
		if prev > 1e-2 {
			t.Errorf("phi %.3f: error %.3g at r = 16", phi, prev)
		}
	}
}
