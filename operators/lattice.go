package operators

import (
	"math"
	"sync"
)

// nearestLattice approximates the symmetric positive semi-definite 2×2
// matrix m (row-major, in cell units) by sum_i lambda_i e_i e_i^T with
// lambda_i ≥ 0 and e_i primitive integer vectors of largest component at
// most r: the non-negative least-squares fit in the Frobenius norm over all
// such vectors (Lawson & Hanson's active-set algorithm; at most three terms
// are non-zero). It appends the terms to dst and returns the relative error
// ||m~ − m||_F / ||m||_F of the fit.
//
// It is the fallback for a D that Selling's decomposition cannot represent
// with stencils of length r: a strongly anisotropic or rank-one D whose
// direction is not a short lattice direction. The fit turns the principal
// direction of D by at most the angle to the nearest lattice direction of
// length ≤ r (of order 1/r² for most directions, by Dirichlet's
// approximation theorem), so that the diffusion added across the principal
// direction — the harm of such a fit when D has rank one — is of relative
// order 1/r⁴, against 1/r² for an isotropic regularisation that needs the
// same stencil length.
func nearestLattice(dst []sellingTerm, m []float64, r int) ([]sellingTerm, float64) {
	cand := latticeCandidates(r)
	// Coordinates of a symmetric matrix in which the Euclidean norm is the
	// Frobenius norm: (m00, sqrt2 m01, m11).
	target := [3]float64{m[0], math.Sqrt2 * m[1], m[3]}
	tn := math.Sqrt(target[0]*target[0] + target[1]*target[1] + target[2]*target[2])
	if tn == 0 {
		return dst, 0
	}
	for i := range target {
		target[i] /= tn
	}
	var (
		active [3]int // indices into cand of the passive (free) set
		na     int
		x      [3]float64
	)
	resid := target
	for iter := 0; iter < 30; iter++ {
		// The candidate with the largest positive correlation with the
		// residual enters.
		best, bestG := -1, 1e-14
		for j := range cand {
			c := &cand[j]
			g := c.v[0]*resid[0] + c.v[1]*resid[1] + c.v[2]*resid[2]
			if g > bestG && !isActive(active[:na], j) {
				best, bestG = j, g
			}
		}
		if best < 0 || na == 3 {
			break
		}
		active[na] = best
		x[na] = 0
		na++
		// Solve the unconstrained least-squares problem on the active set;
		// step back towards the previous feasible x while it has negative
		// components (they leave the set).
		for {
			var z [3]float64
			if !lsq(z[:na], cand, active[:na], target) {
				na--
				break
			}
			neg := false
			for i := 0; i < na; i++ {
				if z[i] <= 0 {
					neg = true
				}
			}
			if !neg {
				copy(x[:na], z[:na])
				break
			}
			alpha := 1.0
			for i := 0; i < na; i++ {
				if z[i] <= 0 {
					alpha = math.Min(alpha, x[i]/(x[i]-z[i]))
				}
			}
			k := 0
			for i := 0; i < na; i++ {
				xi := x[i] + alpha*(z[i]-x[i])
				if xi > 1e-15 {
					active[k], x[k] = active[i], xi
					k++
				}
			}
			na = k
			if na == 0 {
				break
			}
		}
		resid = target
		for i := 0; i < na; i++ {
			v := cand[active[i]].v
			for c := range resid {
				resid[c] -= x[i] * v[c]
			}
		}
	}
	for i := 0; i < na; i++ {
		e := cand[active[i]].e
		n2 := float64(e[0]*e[0] + e[1]*e[1])
		dst = append(dst, sellingTerm{e, x[i] * tn / n2})
	}
	return dst, math.Sqrt(resid[0]*resid[0] + resid[1]*resid[1] + resid[2]*resid[2])
}

func isActive(a []int, j int) bool {
	for _, i := range a {
		if i == j {
			return true
		}
	}
	return false
}

// lsq solves min ||sum_i z_i cand[a_i].v − t|| by the normal equations
// (at most 3×3); false if the vectors are linearly dependent.
func lsq(z []float64, cand []latticeCandidate, a []int, t [3]float64) bool {
	n := len(a)
	var g [3][4]float64
	for i := 0; i < n; i++ {
		vi := cand[a[i]].v
		for j := 0; j < n; j++ {
			vj := cand[a[j]].v
			g[i][j] = vi[0]*vj[0] + vi[1]*vj[1] + vi[2]*vj[2]
		}
		g[i][3] = vi[0]*t[0] + vi[1]*t[1] + vi[2]*t[2]
	}
	// Gaussian elimination with partial pivoting.
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(g[r][c]) > math.Abs(g[p][c]) {
				p = r
			}
		}
		if g[p][c] == 0 {
			return false
		}
		g[c], g[p] = g[p], g[c]
		for r := c + 1; r < n; r++ {
			f := g[r][c] / g[c][c]
			for k := c; k < n; k++ {
				g[r][k] -= f * g[c][k]
			}
			g[r][3] -= f * g[c][3]
		}
	}
	for i := n - 1; i >= 0; i-- {
		s := g[i][3]
		for k := i + 1; k < n; k++ {
			s -= g[i][k] * z[k]
		}
		z[i] = s / g[i][i]
	}
	return true
}

// latticeCandidate is a primitive lattice vector e with the unit-norm
// coordinates v of e e^T / |e e^T|_F.
type latticeCandidate struct {
	e offset
	v [3]float64
}

var latticeCache sync.Map // r → []latticeCandidate

// latticeCandidates returns the primitive vectors of the half plane with
// largest component at most r.
func latticeCandidates(r int) []latticeCandidate {
	if c, ok := latticeCache.Load(r); ok {
		return c.([]latticeCandidate)
	}
	var out []latticeCandidate
	for i := 0; i <= r; i++ {
		for j := -r; j <= r; j++ {
			if (i == 0 && j <= 0) || gcd(i, abs(j)) != 1 {
				continue
			}
			e := offset{i, j}
			a, b := float64(i), float64(j)
			n := a*a + b*b // |e e^T|_F = |e|²
			out = append(out, latticeCandidate{e.canonical(2), [3]float64{a * a / n, math.Sqrt2 * a * b / n, b * b / n}})
		}
	}
	latticeCache.Store(r, out)
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}
