package solvers

import (
	"errors"
	"math"
	"time"

	"github.com/james-bowman/sparse"
)

// Tridiagonal solves tridiagonal and cyclic tridiagonal systems directly
// (Thomas algorithm, Sherman–Morrison for the corners) in O(n). Without
// pivoting it is stable for the column diagonally dominant matrices of
// finite-volume generators (I − dt L, and L with a pinned row).
type Tridiagonal struct {
	n             int
	lo, dg, up    []float64 // bands; lo[0] and up[n-1] unused
	alpha, beta   float64   // corners A[n-1][0] and A[0][n-1]
	gamma         float64
	cp, dinv      []float64 // factorisation: modified super-diagonal and pivots
	z             []float64 // Sherman–Morrison correction vector
	zfact         float64
	work          []float64
	cyclic        bool
	factoredCount int
}

var _ LinearSolver = (*Tridiagonal)(nil)

// Factor implements LinearSolver.
func (t *Tridiagonal) Factor(a *sparse.CSR) error {
	r := a.RawMatrix()
	n := r.I
	if r.J != n {
		panic("solvers: Tridiagonal needs a square matrix")
	}
	if !isTridiagonal(a) {
		return errors.New("solvers: Tridiagonal: matrix is not (cyclic) tridiagonal")
	}
	t.n = n
	t.lo = resize(t.lo, n)
	t.dg = resize(t.dg, n)
	t.up = resize(t.up, n)
	clear(t.lo)
	clear(t.dg)
	clear(t.up)
	t.alpha, t.beta = 0, 0
	for i := 0; i < n; i++ {
		for k := r.Indptr[i]; k < r.Indptr[i+1]; k++ {
			j, v := r.Ind[k], r.Data[k]
			switch {
			case j == i:
				t.dg[i] += v
			case j == i-1:
				t.lo[i] += v
			case j == i+1:
				t.up[i] += v
			case i == 0 && j == n-1:
				t.beta += v
			case i == n-1 && j == 0:
				t.alpha += v
			}
		}
	}
	if n == 2 {
		// Corners coincide with the off-diagonals.
		t.up[0] += t.beta
		t.lo[1] += t.alpha
		t.alpha, t.beta = 0, 0
	}
	t.cyclic = t.alpha != 0 || t.beta != 0
	t.cp = resize(t.cp, n)
	t.dinv = resize(t.dinv, n)
	t.work = resize(t.work, n)
	b0, bn := t.dg[0], t.dg[n-1]
	if t.cyclic {
		t.gamma = -t.dg[0]
		if t.gamma == 0 {
			t.gamma = -1
		}
		t.dg[0] -= t.gamma
		t.dg[n-1] -= t.alpha * t.beta / t.gamma
	}
	// Forward elimination of the bands.
	piv := t.dg[0]
	for i := 0; i < n; i++ {
		if i > 0 {
			piv = t.dg[i] - t.lo[i]*t.cp[i-1]
		}
		if piv == 0 || math.IsNaN(piv) || math.IsInf(piv, 0) {
			t.dg[0], t.dg[n-1] = b0, bn
			return errors.New("solvers: Tridiagonal: zero pivot (singular matrix)")
		}
		t.dinv[i] = 1 / piv
		t.cp[i] = t.up[i] * t.dinv[i]
	}
	t.dg[0], t.dg[n-1] = b0, bn
	if t.cyclic {
		t.z = resize(t.z, n)
		clear(t.z)
		t.z[0] = t.gamma
		t.z[n-1] = t.alpha
		t.solveBands(t.z)
		den := 1 + t.z[0] + t.beta*t.z[n-1]/t.gamma
		if den == 0 {
			return errors.New("solvers: Tridiagonal: singular cyclic system")
		}
		t.zfact = 1 / den
	}
	t.factoredCount++
	return nil
}

// solveBands overwrites x with the solution of the factored band system.
func (t *Tridiagonal) solveBands(x []float64) {
	n := t.n
	x[0] *= t.dinv[0]
	for i := 1; i < n; i++ {
		x[i] = (x[i] - t.lo[i]*x[i-1]) * t.dinv[i]
	}
	for i := n - 2; i >= 0; i-- {
		x[i] -= t.cp[i] * x[i+1]
	}
}

// Solve implements LinearSolver. It allocates nothing.
func (t *Tridiagonal) Solve(x, b []float64) (LinearResult, error) {
	start := time.Now()
	if len(x) != t.n || len(b) != t.n {
		panic("solvers: wrong vector length")
	}
	copy(x, b)
	t.solveBands(x)
	if t.cyclic {
		f := (x[0] + t.beta*x[t.n-1]/t.gamma) * t.zfact
		for i := range x {
			x[i] -= f * t.z[i]
		}
	}
	// True residual, from the stored bands.
	n := t.n
	rs, bs := 0.0, 0.0
	for i := 0; i < n; i++ {
		ax := t.dg[i] * x[i]
		if i > 0 {
			ax += t.lo[i] * x[i-1]
		}
		if i < n-1 {
			ax += t.up[i] * x[i+1]
		}
		if i == 0 {
			ax += t.beta * x[n-1]
		}
		if i == n-1 {
			ax += t.alpha * x[0]
		}
		r := b[i] - ax
		rs += r * r
		bs += b[i] * b[i]
	}
	res := LinearResult{Status: Converged, Iterations: 1, Residual: relres(rs, bs), Duration: time.Since(start)}
	if math.IsNaN(res.Residual) {
		res.Status = NotFinite
		return res, res.Status.Err()
	}
	return res, nil
}

func relres(rs, bs float64) float64 {
	if bs == 0 {
		return math.Sqrt(rs)
	}
	return math.Sqrt(rs / bs)
}
