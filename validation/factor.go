package validation

import "math"

// FactorPSD writes into f (d×d, row-major) a factor of the symmetric
// positive semi-definite matrix a (d×d, row-major, only its lower triangle
// is read): f fᵀ = a. It is Cholesky's method with diagonal pivoting
// (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §10.3),
// f = P L, stopped when the largest remaining pivot falls to
// 2d·ε·max_i a_ii, the level of the round-off of the elimination: a rank-deficient a — rank one, zero — gets a factor of its
// rank, and round-off that makes a slightly indefinite is clipped, without
// NaN. work needs length d*d. d = 1 and 2 are written out.
func FactorPSD(f, a, work []float64, d int) {
	switch d {
	case 1:
		f[0] = sqrtPos(a[0])
		return
	case 2:
		a00, a10, a11 := a[0], a[2], a[3]
		if a00 >= a11 {
			if !(a00 > 0) {
				f[0], f[1], f[2], f[3] = 0, 0, 0, 0
				return
			}
			l00 := math.Sqrt(a00)
			l10 := a10 / l00
			f[0], f[1] = l00, 0
			f[2], f[3] = l10, schurRoot(a11-l10*l10, a00)
			return
		}
		if !(a11 > 0) {
			f[0], f[1], f[2], f[3] = 0, 0, 0, 0
			return
		}
		l11 := math.Sqrt(a11)
		l01 := a10 / l11
		f[0], f[1] = l01, schurRoot(a00-l01*l01, a11)
		f[2], f[3] = l11, 0
		return
	}
	// Schur complement in work (lower triangle), permutation in perm.
	var permBuf [8]int
	perm := permBuf[:0]
	if d <= len(permBuf) {
		perm = permBuf[:d]
	} else {
		perm = make([]int, d)
	}
	maxDiag := 0.0
	for i := 0; i < d; i++ {
		perm[i] = i
		for k := 0; k <= i; k++ {
			work[i*d+k] = a[i*d+k]
			work[k*d+i] = a[i*d+k]
		}
		maxDiag = math.Max(maxDiag, work[i*d+i])
	}
	clear(f[:d*d])
	tol := 2 * float64(d) * 0x1p-52 * maxDiag
	// l is stored in work's lower triangle as it is computed.
	rank := 0
	for j := 0; j < d; j++ {
		p, best := j, work[j*d+j]
		for i := j + 1; i < d; i++ {
			if v := work[i*d+i]; v > best {
				p, best = i, v
			}
		}
		if !(best > tol) {
			break
		}
		if p != j {
			// Swap rows and columns j and p of the symmetric matrix (both
			// triangles are kept) and of the computed columns of L.
			for k := 0; k < d; k++ {
				work[j*d+k], work[p*d+k] = work[p*d+k], work[j*d+k]
			}
			for k := 0; k < d; k++ {
				work[k*d+j], work[k*d+p] = work[k*d+p], work[k*d+j]
			}
			perm[j], perm[p] = perm[p], perm[j]
		}
		ljj := math.Sqrt(work[j*d+j])
		work[j*d+j] = ljj
		for i := j + 1; i < d; i++ {
			work[i*d+j] /= ljj
		}
		for i := j + 1; i < d; i++ {
			lij := work[i*d+j]
			for k := j + 1; k <= i; k++ {
				work[i*d+k] -= lij * work[k*d+j]
			}
			// Keep the upper triangle equal, for the symmetric swaps.
			for k := j + 1; k < i; k++ {
				work[k*d+i] = work[i*d+k]
			}
		}
		rank = j + 1
	}
	for i := 0; i < d; i++ {
		for j := 0; j < rank && j <= i; j++ {
			f[perm[i]*d+j] = work[i*d+j]
		}
	}
}

// schurRoot returns the square root of the last pivot r of a 2×2
// factorisation whose first pivot is p ≥ |r|, or zero if r is at the level
// of the round-off of the elimination (2ε p): the square root would turn
// that round-off into an entry of order sqrt(ε p) — a rank-one matrix
// would leak noise into its null direction.
func schurRoot(r, p float64) float64 {
	if r <= 2*0x1p-52*p {
		return 0
	}
	return math.Sqrt(r)
}

// sqrtPos returns sqrt(max(v, 0)), NaN for NaN (math.Max is not inlined on
// amd64, and this is in the particle loops).
func sqrtPos(v float64) float64 {
	if v < 0 {
		return 0
	}
	return math.Sqrt(v)
}
