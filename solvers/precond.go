package solvers

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/james-bowman/sparse"
)

// Preconditioner approximates the inverse of a matrix: Apply writes M⁻¹ r
// into dst. dst and r do not alias.
type Preconditioner interface {
	Factor(a *sparse.CSR) error
	Apply(dst, r []float64)
}

var (
	_ Preconditioner = (*JacobiPreconditioner)(nil)
	_ Preconditioner = (*ILU0Preconditioner)(nil)
	_ Preconditioner = identity{}
)

type identity struct{}

func (identity) Factor(*sparse.CSR) error { return nil }
func (identity) Apply(dst, r []float64)   { copy(dst, r) }

// JacobiPreconditioner is M = diag(A).
type JacobiPreconditioner struct {
	inv []float64
}

// Factor implements Preconditioner.
func (p *JacobiPreconditioner) Factor(a *sparse.CSR) error {
	r := a.RawMatrix()
	p.inv = resize(p.inv, r.I)
	for i := 0; i < r.I; i++ {
		d := 0.0
		for k := r.Indptr[i]; k < r.Indptr[i+1]; k++ {
			if r.Ind[k] == i {
				d += r.Data[k]
			}
		}
		if d == 0 {
			return fmt.Errorf("solvers: Jacobi: zero diagonal in row %d", i)
		}
		p.inv[i] = 1 / d
	}
	return nil
}

// Apply implements Preconditioner.
func (p *JacobiPreconditioner) Apply(dst, r []float64) {
	for i, v := range r {
		dst[i] = v * p.inv[i]
	}
}

// ILU0Preconditioner is the incomplete LU factorisation of A restricted to
// the sparsity pattern of A (Saad, Iterative Methods, §10.3). Column indices
// in each row must be sorted (as in every CSR built by package operators).
//
// With Blocks > 1 it is block-Jacobi ILU(0): the rows are split into Blocks
// contiguous ranges, couplings between ranges are dropped, and the blocks are
// factored and applied in parallel. Its application is Blocks times faster,
// but the preconditioner is weaker where the solution varies across a block
// boundary: on the transient benchmark P3 (a narrow Gaussian crossing the
// middle of the grid) two blocks doubled the iterations, so the default is
// one block (docs/performance.md).
type ILU0Preconditioner struct {
	// Blocks is the number of independent diagonal blocks (zero value: 1).
	Blocks int

	n      int
	indptr []int
	ind    []int
	lu     []float64 // L (unit lower, strictly below the diagonal) and U
	diag   []int     // position of the diagonal in each row
	hi     []int     // end of the in-block entries of each row
	lo     []int     // start of the in-block entries of each row
	iw     []int
	bounds []int
	inv    []float64 // reciprocal pivots (a multiplication on the backward chain)
}

// Factor implements Preconditioner. It reuses memory when the pattern is
// unchanged.
func (p *ILU0Preconditioner) Factor(a *sparse.CSR) error {
	r := a.RawMatrix()
	n := r.I
	p.n = n
	p.indptr = r.Indptr
	p.ind = r.Ind
	p.lu = resize(p.lu, len(r.Data))
	copy(p.lu, r.Data)
	if cap(p.diag) < n {
		p.diag = make([]int, n)
		p.lo = make([]int, n)
		p.hi = make([]int, n)
		p.iw = make([]int, n)
	}
	p.diag, p.lo, p.hi, p.iw = p.diag[:n], p.lo[:n], p.hi[:n], p.iw[:n]
	nb := max(1, p.Blocks)
	p.bounds = p.bounds[:0]
	for b := 0; b <= nb; b++ {
		p.bounds = append(p.bounds, b*n/nb)
	}
	for i := range p.iw {
		p.iw[i] = -1
	}
	ip, ind, lu := p.indptr, p.ind, p.lu
	errs := make([]error, nb)
	factor := func(b int) {
		blo, bhi := p.bounds[b], p.bounds[b+1]
		for i := blo; i < bhi; i++ {
			// The in-block entries of row i: columns in [blo, bhi).
			k0, k1 := ip[i], ip[i+1]
			for k0 < k1 && ind[k0] < blo {
				k0++
			}
			for k1 > k0 && ind[k1-1] >= bhi {
				k1--
			}
			p.lo[i], p.hi[i] = k0, k1
			p.diag[i] = -1
			for k := k0; k < k1; k++ {
				p.iw[ind[k]] = k
				if ind[k] == i {
					p.diag[i] = k
				}
			}
			if p.diag[i] < 0 {
				errs[b] = fmt.Errorf("solvers: ILU(0): no diagonal entry in row %d", i)
				return
			}
			for k := k0; k < k1; k++ {
				j := ind[k]
				if j >= i {
					break
				}
				lu[k] /= lu[p.diag[j]]
				m := lu[k]
				for kk := p.diag[j] + 1; kk < p.hi[j]; kk++ {
					if w := p.iw[ind[kk]]; w >= 0 {
						lu[w] -= m * lu[kk]
					}
				}
			}
			d := lu[p.diag[i]]
			if d == 0 || math.IsNaN(d) || math.IsInf(d, 0) {
				errs[b] = errors.New("solvers: ILU(0): zero pivot")
				return
			}
			for k := k0; k < k1; k++ {
				p.iw[ind[k]] = -1
			}
		}
	}
	p.each(factor)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	p.inv = resize(p.inv, n)
	for i := range p.inv {
		p.inv[i] = 1 / lu[p.diag[i]]
	}
	return nil
}

// each runs fn for every block, in parallel when there are several.
func (p *ILU0Preconditioner) each(fn func(b int)) {
	nb := len(p.bounds) - 1
	if nb == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(nb)
	for b := 0; b < nb; b++ {
		go func(b int) {
			defer wg.Done()
			fn(b)
		}(b)
	}
	wg.Wait()
}

// Apply implements Preconditioner: dst = U⁻¹ L⁻¹ r, block by block.
func (p *ILU0Preconditioner) Apply(dst, r []float64) {
	if len(p.bounds) == 2 {
		p.applyBlock(dst, r, 0, p.n)
		return
	}
	p.each(func(b int) { p.applyBlock(dst, r, p.bounds[b], p.bounds[b+1]) })
}

func (p *ILU0Preconditioner) applyBlock(dst, r []float64, blo, bhi int) {
	ind, lu := p.ind, p.lu
	for i := blo; i < bhi; i++ {
		s := r[i]
		for k := p.lo[i]; k < p.diag[i]; k++ {
			s -= lu[k] * dst[ind[k]]
		}
		dst[i] = s
	}
	for i := bhi - 1; i >= blo; i-- {
		s := dst[i]
		for k := p.diag[i] + 1; k < p.hi[i]; k++ {
			s -= lu[k] * dst[ind[k]]
		}
		dst[i] = s * p.inv[i]
	}
}

func newPreconditioner(k PreconditionerKind, shape []int, n int) Preconditioner {
	if k == AutoPreconditioner {
		k = ILU0
		if n >= 1<<15 && len(shape) > 0 {
			k = MG
		}
	}
	if k == ILU0 {
		return &autoILU0{}
	}
	switch k {
	case MG:
		return &Multigrid{Shape: shape, Gamma: 2, OverCorrection: 1}
	case Jacobi:
		return &JacobiPreconditioner{}
	case NoPreconditioner:
		return identity{}
	}
	return &ILU0Preconditioner{}
}
