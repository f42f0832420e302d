package solvers

import (
	"math"

	"github.com/james-bowman/sparse"
)

// residualCompensated computes r = b − A x with each row's sum evaluated in
// twice the working precision (error-free products by FMA and Knuth's
// TwoSum, as in Ogita, Rump & Oishi's Dot2), so that the residual of a nearly
// exact solution is not lost to cancellation. It returns ||r||₂.
func residualCompensated(r []float64, a *sparse.CSR, x, b []float64) float64 {
	raw := a.RawMatrix()
	ip, ind, data := raw.Indptr, raw.Ind, raw.Data
	s2 := 0.0
	for i := range r {
		s, c := b[i], 0.0
		for k := ip[i]; k < ip[i+1]; k++ {
			p := -data[k] * x[ind[k]]
			pe := math.FMA(-data[k], x[ind[k]], -p) // exact: p + pe = −a x
			t := s + p
			z := t - s
			c += (s - (t - z)) + (p - z) + pe
			s = t
		}
		r[i] = s + c
		s2 += r[i] * r[i]
	}
	return math.Sqrt(s2)
}

// refine improves the solution x of A x = b by mixed-precision iterative
// refinement: residuals in doubled precision, corrections from solver with a
// loose tolerance. Each round reduces the forward error by about the inner
// tolerance times the condition number, down to the working precision
// (Higham, Accuracy and Stability, ch. 12). It returns the last compensated
// relative residual.
func refine(solver LinearSolver, a *sparse.CSR, x, b []float64, rounds int) (float64, int, error) {
	n := len(x)
	r := make([]float64, n)
	dx := make([]float64, n)
	bn := norm2(b)
	if bn == 0 {
		bn = 1
	}
	its := 0
	if k, ok := solver.(*Krylov); ok {
		// Corrections need only a few digits each.
		saved := k.Settings.Tolerance
		k.Settings.Tolerance = 1e-6
		defer func() { k.Settings.Tolerance = saved }()
	}
	rel := residualCompensated(r, a, x, b) / bn
	for k := 0; k < rounds && rel > 0; k++ {
		clear(dx)
		res, err := solver.Solve(dx, r)
		its += res.Iterations
		if err != nil {
			return rel, its, err
		}
		for i := range x {
			x[i] += dx[i]
		}
		rel = residualCompensated(r, a, x, b) / bn
	}
	return rel, its, nil
}
