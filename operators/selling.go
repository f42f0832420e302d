package operators

import (
	"errors"
	"math"
)

// A stencil offset: an integer vector of cell steps, at most 3 components in
// use (Selling's decomposition is implemented for d ≤ 3).
type offset [maxSellingDim]int

const maxSellingDim = 3

// canonical returns ±e with its first non-zero component positive.
func (e offset) canonical(d int) offset {
	for k := 0; k < d; k++ {
		if e[k] > 0 {
			return e
		}
		if e[k] < 0 {
			for j := 0; j < d; j++ {
				e[j] = -e[j]
			}
			return e
		}
	}
	return e
}

// axis returns k if e is the unit vector along axis k, else -1.
func (e offset) axis(d int) int {
	k := -1
	for j := 0; j < d; j++ {
		switch e[j] {
		case 0:
		case 1:
			if k >= 0 {
				return -1
			}
			k = j
		default:
			return -1
		}
	}
	return k
}

// norm1 returns the largest absolute component of e.
func (e offset) normInf(d int) int {
	m := 0
	for j := 0; j < d; j++ {
		if a := e[j]; a > m {
			m = a
		} else if -a > m {
			m = -a
		}
	}
	return m
}

var errSellingIterations = errors.New("Selling's reduction did not terminate")

// sellingTerm is one term lambda e e^T of a decomposition.
type sellingTerm struct {
	e      offset
	lambda float64
}

// selling decomposes the symmetric positive semi-definite matrix m (d×d,
// row-major, d = 2 or 3) as m = sum_i lambda_i e_i e_i^T with lambda_i ≥ 0
// and e_i integer vectors (Selling 1874; Conway & Sloane 1992; Fehrenbach &
// Mirebeau 2014). The result has d(d+1)/2 terms, some possibly zero; terms
// are appended to dst. The vectors grow with the anisotropy of m; the
// reduction gives up after maxIter steps, which happens only for nearly
// singular m with an irrational kernel direction.
func selling(dst []sellingTerm, m []float64, d, maxIter int) ([]sellingTerm, error) {
	dot := func(u, v offset) float64 {
		s := 0.0
		for i := 0; i < d; i++ {
			if u[i] == 0 {
				continue
			}
			for j := 0; j < d; j++ {
				s += float64(u[i]) * m[i*d+j] * float64(v[j])
			}
		}
		return s
	}
	// Tolerance for the obtuseness test: round-off in the inner products.
	scale := 0.0
	for i := 0; i < d; i++ {
		scale = math.Max(scale, math.Abs(m[i*d+i]))
	}
	switch d {
	case 2:
		b := [3]offset{{1, 0}, {0, 1}, {-1, -1}}
		for it := 0; ; it++ {
			tol := 1e-13 * scale * float64(b[0].normInf(2)*b[1].normInf(2)+1)
			done := true
			for i := 0; i < 3 && done; i++ {
				for j := i + 1; j < 3; j++ {
					if dot(b[i], b[j]) > tol {
						// (b_i, b_j, b_k) <- (−b_i, b_j, b_i − b_j)
						k := 3 - i - j
						bi, bj := b[i], b[j]
						for c := 0; c < 2; c++ {
							b[i][c] = -bi[c]
							b[k][c] = bi[c] - bj[c]
						}
						done = false
						break
					}
				}
			}
			if done {
				break
			}
			if it >= maxIter {
				return dst, errSellingIterations
			}
		}
		for i := 0; i < 3; i++ {
			j, k := (i+1)%3, (i+2)%3
			// e_i is perpendicular to b_i; lambda_i = −<b_j, m b_k>.
			e := offset{-b[i][1], b[i][0]}
			dst = append(dst, sellingTerm{e.canonical(2), math.Max(0, -dot(b[j], b[k]))})
		}
		return dst, nil
	case 3:
		b := [4]offset{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {-1, -1, -1}}
		for it := 0; ; it++ {
			mx := 1
			for i := range b {
				mx = max(mx, b[i].normInf(3))
			}
			tol := 1e-13 * scale * float64(mx*mx)
			done := true
		search:
			for i := 0; i < 4; i++ {
				for j := i + 1; j < 4; j++ {
					if dot(b[i], b[j]) > tol {
						// (b_i, b_j, b_k, b_l) <- (−b_i, b_j, b_k + b_i, b_l + b_i)
						for k := 0; k < 4; k++ {
							if k != i && k != j {
								for c := 0; c < 3; c++ {
									b[k][c] += b[i][c]
								}
							}
						}
						for c := 0; c < 3; c++ {
							b[i][c] = -b[i][c]
						}
						done = false
						break search
					}
				}
			}
			if done {
				break
			}
			if it >= maxIter {
				return dst, errSellingIterations
			}
		}
		for i := 0; i < 4; i++ {
			for j := i + 1; j < 4; j++ {
				var kl [2]int
				n := 0
				for k := 0; k < 4; k++ {
					if k != i && k != j {
						kl[n] = k
						n++
					}
				}
				u, v := b[kl[0]], b[kl[1]]
				e := offset{u[1]*v[2] - u[2]*v[1], u[2]*v[0] - u[0]*v[2], u[0]*v[1] - u[1]*v[0]}
				dst = append(dst, sellingTerm{e.canonical(3), math.Max(0, -dot(b[i], b[j]))})
			}
		}
		return dst, nil
	}
	panic("operators: Selling's decomposition needs d = 2 or 3")
}
