package solvers

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/james-bowman/sparse"
)

// StencilILU0 is ILU(0) for matrices whose entries all lie on a few
// diagonals (fixed column offsets j − i), as the operators of structured
// grids do: the factors are stored by row and offset ("DIA" layout), so the
// triangular solves run without index indirection. The pattern is the union
// of the diagonals — at grid boundaries it holds a few explicit zeros that
// the CSR pattern lacks, which makes the factorisation, if anything, a little
// more complete than ILU0Preconditioner's. Factor fails (and NewStencilILU0
// returns nil) when the matrix has more than MaxStencilOffsets diagonals.
type StencilILU0 struct {
	n     int
	offs  []int     // sorted offsets; offs[diag] == 0
	diag  int       // index of the main diagonal in offs
	lu    []float64 // n×K, row-major: L strictly left of diag, U from diag on
	where map[int]int
	comb  []int // comb[k*K+u]: index of offs[k]+offs[u], or −1
	nlo   int   // number of offsets below the diagonal
}

// MaxStencilOffsets bounds the number of diagonals StencilILU0 handles.
const MaxStencilOffsets = 32

var _ Preconditioner = (*StencilILU0)(nil)

// stencilOffsets returns the sorted distinct offsets j − i of a's entries,
// or nil if there are more than MaxStencilOffsets.
func stencilOffsets(a *sparse.CSR) []int {
	raw := a.RawMatrix()
	var offs []int // sorted
	// Rows mostly repeat the pattern of the row before: compare with it
	// before searching.
	prevLo, prevHi := 0, 0
	for i := 0; i < raw.I; i++ {
		lo, hi := raw.Indptr[i], raw.Indptr[i+1]
		if i > 0 && samePattern(raw.Ind, prevLo, prevHi, lo, hi) {
			prevLo, prevHi = lo, hi
			continue
		}
		for k := lo; k < hi; k++ {
			o := raw.Ind[k] - i
			t, found := slices.BinarySearch(offs, o)
			if !found {
				if len(offs) == MaxStencilOffsets {
					return nil
				}
				offs = slices.Insert(offs, t, o)
			}
		}
		prevLo, prevHi = lo, hi
	}
	return offs
}

// samePattern reports whether the row in ind[lo:hi] has the column offsets
// of the row before it, in ind[plo:phi].
func samePattern(ind []int, plo, phi, lo, hi int) bool {
	if hi-lo != phi-plo {
		return false
	}
	prev, row := ind[plo:phi], ind[lo:hi]
	for k, j := range row {
		if j-prev[k] != 1 {
			return false
		}
	}
	return true
}

// Factor implements Preconditioner.
func (p *StencilILU0) Factor(a *sparse.CSR) error {
	raw := a.RawMatrix()
	n := raw.I
	offs := stencilOffsets(a)
	if offs == nil {
		return fmt.Errorf("solvers: StencilILU0: more than %d diagonals", MaxStencilOffsets)
	}
	d, ok := slices.BinarySearch(offs, 0)
	if !ok {
		return errors.New("solvers: StencilILU0: no main diagonal")
	}
	K := len(offs)
	p.n, p.offs, p.diag, p.nlo = n, offs, d, d
	p.where = make(map[int]int, K)
	for k, o := range offs {
		p.where[o] = k
	}
	p.comb = make([]int, K*K)
	for k := range offs {
		for u := range offs {
			t, ok := p.where[offs[k]+offs[u]]
			if !ok {
				t = -1
			}
			p.comb[k*K+u] = t
		}
	}
	if cap(p.lu) < n*K {
		p.lu = make([]float64, n*K)
	}
	lu := p.lu[:n*K]
	p.lu = lu
	clear(lu)
	for i := 0; i < n; i++ {
		for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
			lu[i*K+p.where[raw.Ind[k]-i]] += raw.Data[k]
		}
	}
	// IKJ elimination restricted to the diagonals: for row i and each lower
	// entry (i, j = i + offs[k]), divide by the pivot of row j and subtract
	// row j's upper part where it falls on one of row i's diagonals.
	for i := 0; i < n; i++ {
		ri := lu[i*K : (i+1)*K]
		for k := 0; k < d; k++ {
			j := i + offs[k]
			if j < 0 || ri[k] == 0 {
				continue
			}
			rj := lu[j*K : (j+1)*K]
			m := ri[k] / rj[d] // row j's pivot, not yet inverted
			ri[k] = m
			comb := p.comb[k*K : (k+1)*K]
			for u := d + 1; u < K; u++ {
				if t := comb[u]; t >= 0 && rj[u] != 0 {
					ri[t] -= m * rj[u]
				}
			}
		}
		if piv := ri[d]; piv == 0 || math.IsNaN(piv) || math.IsInf(piv, 0) {
			return fmt.Errorf("solvers: StencilILU0: zero pivot in row %d", i)
		}
	}
	// Keep the reciprocal pivots: the backward sweep is a chain of
	// dependent rows, and a multiplication is several times shorter than a
	// division on that chain.
	for i := 0; i < n; i++ {
		lu[i*K+d] = 1 / lu[i*K+d]
	}
	return nil
}

// Apply implements Preconditioner: dst = U⁻¹ L⁻¹ r.
func (p *StencilILU0) Apply(dst, r []float64) {
	n, K, d, offs, lu := p.n, len(p.offs), p.diag, p.offs, p.lu
	// Rows far enough from both ends have every neighbour inside: no bound
	// checks there.
	lo := 0
	if d > 0 {
		lo = -offs[0]
	}
	hi := n
	if d < K-1 {
		hi = n - offs[K-1]
	}
	for i := 0; i < n; i++ {
		s := r[i]
		row := lu[i*K : i*K+d]
		if i >= lo {
			for k, v := range row {
				s -= v * dst[i+offs[k]]
			}
		} else {
			for k, v := range row {
				if j := i + offs[k]; j >= 0 {
					s -= v * dst[j]
				}
			}
		}
		dst[i] = s
	}
	for i := n - 1; i >= 0; i-- {
		s := dst[i]
		row := lu[i*K+d : (i+1)*K]
		if i < hi {
			for u := 1; u < len(row); u++ {
				s -= row[u] * dst[i+offs[d+u]]
			}
		} else {
			for u := 1; u < len(row); u++ {
				if j := i + offs[d+u]; j < n {
					s -= row[u] * dst[j]
				}
			}
		}
		dst[i] = s * row[0]
	}
}

// autoILU0 is ILU(0) for axis-only stencils (AxisILU0) when it applies, in
// diagonal storage when the matrix has few diagonals (faster triangular
// solves), in CSR storage otherwise.
type autoILU0 struct {
	axis    AxisILU0
	stencil StencilILU0
	csr     ILU0Preconditioner
	use     Preconditioner
}

func (p *autoILU0) Factor(a *sparse.CSR) error {
	if err := p.axis.Factor(a); err == nil {
		p.use = &p.axis
		return nil
	}
	if err := p.stencil.Factor(a); err == nil {
		p.use = &p.stencil
		return nil
	}
	p.use = &p.csr
	return p.csr.Factor(a)
}

func (p *autoILU0) Apply(dst, r []float64) { p.use.Apply(dst, r) }

// diaMatrix is a copy of a CSR matrix by rows and diagonals, for products
// without index indirection on stencil matrices.
type diaMatrix struct {
	n    int
	offs []int
	v    []float64 // n×K, row-major
}

// set copies a into m if a has at most MaxStencilOffsets diagonals, and
// reports whether it did.
func (m *diaMatrix) set(a *sparse.CSR) bool {
	offs := stencilOffsets(a)
	if offs == nil {
		return false
	}
	raw := a.RawMatrix()
	n, K := raw.I, len(offs)
	m.n, m.offs = n, offs
	if cap(m.v) < n*K {
		m.v = make([]float64, n*K)
	}
	m.v = m.v[:n*K]
	clear(m.v)
	// The positions on the diagonals of the row before, reused while the
	// rows repeat its pattern.
	var pos [MaxStencilOffsets]int
	prevLo, prevHi := 0, 0
	for i := 0; i < n; i++ {
		row := m.v[i*K : (i+1)*K]
		lo, hi := raw.Indptr[i], raw.Indptr[i+1]
		if hi-lo > len(pos) {
			// Duplicate entries: no reuse.
			for k := lo; k < hi; k++ {
				t, _ := slices.BinarySearch(offs, raw.Ind[k]-i)
				row[t] += raw.Data[k]
			}
			prevLo, prevHi = 0, 0
			continue
		}
		if i == 0 || !samePattern(raw.Ind, prevLo, prevHi, lo, hi) {
			for k := lo; k < hi; k++ {
				pos[k-lo], _ = slices.BinarySearch(offs, raw.Ind[k]-i)
			}
		}
		for k, v := range raw.Data[lo:hi] {
			row[pos[k]] += v
		}
		prevLo, prevHi = lo, hi
	}
	return true
}

// mulVec computes dst = A x, split over goroutines for large matrices.
func (m *diaMatrix) mulVec(dst, x []float64) {
	parallelRange(m.n, func(lo, hi int) { m.rows(dst, x, lo, hi) })
}

func (m *diaMatrix) rows(dst, x []float64, lo, hi int) {
	n, K, offs := m.n, len(m.offs), m.offs
	// Rows with every neighbour inside, in straight-line code for 3, 5 and
	// 7 diagonals; the sums are formed in the same order either way.
	a, b := max(lo, -offs[0]), min(hi, n-offs[K-1])
	if a >= b || (K != 3 && K != 5 && K != 7) {
		m.rowsGeneric(dst, x, lo, hi)
		return
	}
	m.rowsGeneric(dst, x, lo, a)
	switch K {
	case 3:
		diaRows3(dst[a:b], x, m.v[3*a:3*b], offs, a)
	case 5:
		diaRows5(dst[a:b], x, m.v[5*a:5*b], offs, a)
	case 7:
		diaRows7(dst[a:b], x, m.v[7*a:7*b], offs, a)
	}
	m.rowsGeneric(dst, x, b, hi)
}

func (m *diaMatrix) rowsGeneric(dst, x []float64, lo, hi int) {
	n, K, offs, v := m.n, len(m.offs), m.offs, m.v
	for i := lo; i < hi; i++ {
		row := v[i*K : (i+1)*K]
		s := 0.0
		for k, a := range row {
			if j := i + offs[k]; j >= 0 && j < n {
				s += a * x[j]
			}
		}
		dst[i] = s
	}
}

// diaRows3, diaRows5 and diaRows7 compute dst[j] = Σ_k v[K j + k] x[a + j +
// offs[k]] for rows whose neighbours are all inside x.
func diaRows3(dst, x, v []float64, offs []int, a int) {
	m := len(dst)
	x0, x1, x2 := x[a+offs[0]:][:m], x[a+offs[1]:][:m], x[a+offs[2]:][:m]
	v = v[:3*m]
	for j := range dst {
		r := v[3*j : 3*j+3]
		s := 0.0
		s += r[0] * x0[j]
		s += r[1] * x1[j]
		s += r[2] * x2[j]
		dst[j] = s
	}
}

func diaRows5(dst, x, v []float64, offs []int, a int) {
	m := len(dst)
	x0, x1, x2 := x[a+offs[0]:][:m], x[a+offs[1]:][:m], x[a+offs[2]:][:m]
	x3, x4 := x[a+offs[3]:][:m], x[a+offs[4]:][:m]
	v = v[:5*m]
	for j := range dst {
		r := v[5*j : 5*j+5]
		s := 0.0
		s += r[0] * x0[j]
		s += r[1] * x1[j]
		s += r[2] * x2[j]
		s += r[3] * x3[j]
		s += r[4] * x4[j]
		dst[j] = s
	}
}

func diaRows7(dst, x, v []float64, offs []int, a int) {
	m := len(dst)
	x0, x1, x2 := x[a+offs[0]:][:m], x[a+offs[1]:][:m], x[a+offs[2]:][:m]
	x3, x4, x5 := x[a+offs[3]:][:m], x[a+offs[4]:][:m], x[a+offs[5]:][:m]
	x6 := x[a+offs[6]:][:m]
	v = v[:7*m]
	for j := range dst {
		r := v[7*j : 7*j+7]
		s := 0.0
		s += r[0] * x0[j]
		s += r[1] * x1[j]
		s += r[2] * x2[j]
		s += r[3] * x3[j]
		s += r[4] * x4[j]
		s += r[5] * x5[j]
		s += r[6] * x6[j]
		dst[j] = s
	}
}

// residualRows computes r_i = (b − A x)_i scale_i on the rows lo, …, hi−1
// and returns the sum of their (b − A x)_i², in one pass.
func (m *diaMatrix) residualRows(r, x, b, scale []float64, lo, hi int) float64 {
	n, K, offs := m.n, len(m.offs), m.offs
	a, e := max(lo, -offs[0]), min(hi, n-offs[K-1])
	if a >= e || (K != 3 && K != 5 && K != 7) {
		a, e = hi, hi
	}
	ss := m.residualGeneric(r, x, b, scale, lo, a)
	switch K {
	case 3:
		ss += diaResidual3(r[a:e], x, b[a:e], scale[a:e], m.v[3*a:3*e], offs, a)
	case 5:
		ss += diaResidual5(r[a:e], x, b[a:e], scale[a:e], m.v[5*a:5*e], offs, a)
	case 7:
		ss += diaResidual7(r[a:e], x, b[a:e], scale[a:e], m.v[7*a:7*e], offs, a)
	}
	return ss + m.residualGeneric(r, x, b, scale, e, hi)
}

func (m *diaMatrix) residualGeneric(r, x, b, scale []float64, lo, hi int) float64 {
	m.rowsGeneric(r, x, lo, hi)
	ss := 0.0
	for i := lo; i < hi; i++ {
		s := b[i] - r[i]
		r[i] = s * scale[i]
		ss += s * s
	}
	return ss
}

// diaResidual3, diaResidual5 and diaResidual7 compute r[j] = (b[j] − Σ_k
// v[K j + k] x[a + j + offs[k]]) scale[j] for rows whose neighbours are all
// inside x, and return the sum of the unscaled residuals squared.
func diaResidual3(r, x, b, scale, v []float64, offs []int, a int) float64 {
	m := len(r)
	x0, x1, x2 := x[a+offs[0]:][:m], x[a+offs[1]:][:m], x[a+offs[2]:][:m]
	b, scale, v = b[:m], scale[:m], v[:3*m]
	ss := 0.0
	for j := range r {
		w := v[3*j : 3*j+3]
		s := b[j] - (w[0]*x0[j] + w[1]*x1[j] + w[2]*x2[j])
		r[j] = s * scale[j]
		ss += s * s
	}
	return ss
}

func diaResidual5(r, x, b, scale, v []float64, offs []int, a int) float64 {
	m := len(r)
	x0, x1, x2 := x[a+offs[0]:][:m], x[a+offs[1]:][:m], x[a+offs[2]:][:m]
	x3, x4 := x[a+offs[3]:][:m], x[a+offs[4]:][:m]
	b, scale, v = b[:m], scale[:m], v[:5*m]
	ss := 0.0
	for j := range r {
		w := v[5*j : 5*j+5]
		s := b[j] - (w[0]*x0[j] + w[1]*x1[j] + w[2]*x2[j] + w[3]*x3[j] + w[4]*x4[j])
		r[j] = s * scale[j]
		ss += s * s
	}
	return ss
}

func diaResidual7(r, x, b, scale, v []float64, offs []int, a int) float64 {
	m := len(r)
	x0, x1, x2 := x[a+offs[0]:][:m], x[a+offs[1]:][:m], x[a+offs[2]:][:m]
	x3, x4, x5 := x[a+offs[3]:][:m], x[a+offs[4]:][:m], x[a+offs[5]:][:m]
	x6 := x[a+offs[6]:][:m]
	b, scale, v = b[:m], scale[:m], v[:7*m]
	ss := 0.0
	for j := range r {
		w := v[7*j : 7*j+7]
		s := b[j] - (w[0]*x0[j] + w[1]*x1[j] + w[2]*x2[j] + w[3]*x3[j] + w[4]*x4[j] + w[5]*x5[j] + w[6]*x6[j])
		r[j] = s * scale[j]
		ss += s * s
	}
	return ss
}
