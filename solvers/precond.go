package solvers

import (
	"errors"
	"fmt"
	"math"

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
type ILU0Preconditioner struct {
	n      int
	indptr []int
	ind    []int
	lu     []float64 // L (unit lower, strictly below the diagonal) and U
	diag   []int     // position of the diagonal in each row
	iw     []int
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
		p.iw = make([]int, n)
	}
	p.diag = p.diag[:n]
	p.iw = p.iw[:n]
	for i := range p.iw {
		p.iw[i] = -1
	}
	ip, ind, lu := p.indptr, p.ind, p.lu
	for i := 0; i < n; i++ {
		p.diag[i] = -1
		for k := ip[i]; k < ip[i+1]; k++ {
			p.iw[ind[k]] = k
			if ind[k] == i {
				p.diag[i] = k
			}
		}
		if p.diag[i] < 0 {
			return fmt.Errorf("solvers: ILU(0): no diagonal entry in row %d", i)
		}
		for k := ip[i]; k < ip[i+1]; k++ {
			j := ind[k]
			if j >= i {
				break
			}
			piv := lu[p.diag[j]]
			lu[k] /= piv
			m := lu[k]
			for kk := p.diag[j] + 1; kk < ip[j+1]; kk++ {
				if w := p.iw[ind[kk]]; w >= 0 {
					lu[w] -= m * lu[kk]
				}
			}
		}
		d := lu[p.diag[i]]
		if d == 0 || math.IsNaN(d) || math.IsInf(d, 0) {
			return errors.New("solvers: ILU(0): zero pivot")
		}
		for k := ip[i]; k < ip[i+1]; k++ {
			p.iw[ind[k]] = -1
		}
	}
	return nil
}

// Apply implements Preconditioner: dst = U⁻¹ L⁻¹ r.
func (p *ILU0Preconditioner) Apply(dst, r []float64) {
	ip, ind, lu := p.indptr, p.ind, p.lu
	n := p.n
	for i := 0; i < n; i++ {
		s := r[i]
		for k := ip[i]; k < p.diag[i]; k++ {
			s -= lu[k] * dst[ind[k]]
		}
		dst[i] = s
	}
	for i := n - 1; i >= 0; i-- {
		s := dst[i]
		for k := p.diag[i] + 1; k < ip[i+1]; k++ {
			s -= lu[k] * dst[ind[k]]
		}
		dst[i] = s / lu[p.diag[i]]
	}
}

func newPreconditioner(k PreconditionerKind, shape []int, n int) Preconditioner {
	if k == AutoPreconditioner {
		k = ILU0
		if n >= 1<<15 && len(shape) > 0 {
			k = MG
		}
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
