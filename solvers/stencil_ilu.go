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
	seen := map[int]bool{}
	var offs []int
	for i := 0; i < raw.I; i++ {
		for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
			o := raw.Ind[k] - i
			if !seen[o] {
				seen[o] = true
				offs = append(offs, o)
				if len(offs) > MaxStencilOffsets {
					return nil
				}
			}
		}
	}
	slices.Sort(offs)
	return offs
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

// autoILU0 is ILU(0) in diagonal storage when the matrix has few diagonals
// (faster triangular solves), in CSR storage otherwise.
type autoILU0 struct {
	stencil StencilILU0
	csr     ILU0Preconditioner
	use     Preconditioner
}

func (p *autoILU0) Factor(a *sparse.CSR) error {
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
	where := make(map[int]int, K)
	for k, o := range offs {
		where[o] = k
	}
	m.n, m.offs = n, offs
	if cap(m.v) < n*K {
		m.v = make([]float64, n*K)
	}
	m.v = m.v[:n*K]
	clear(m.v)
	for i := 0; i < n; i++ {
		for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
			m.v[i*K+where[raw.Ind[k]-i]] += raw.Data[k]
		}
	}
	return true
}

// mulVec computes dst = A x, split over goroutines for large matrices.
func (m *diaMatrix) mulVec(dst, x []float64) {
	parallelRange(m.n, func(lo, hi int) { m.rows(dst, x, lo, hi) })
}

func (m *diaMatrix) rows(dst, x []float64, lo, hi int) {
	n, K, offs, v := m.n, len(m.offs), m.offs, m.v
	first, last := -offs[0], n-offs[K-1] // rows with every neighbour inside
	for i := lo; i < hi; i++ {
		row := v[i*K : (i+1)*K]
		s := 0.0
		if i >= first && i < last {
			for k, a := range row {
				s += a * x[i+offs[k]]
			}
		} else {
			for k, a := range row {
				if j := i + offs[k]; j >= 0 && j < n {
					s += a * x[j]
				}
			}
		}
		dst[i] = s
	}
}
