package solvers

import (
	"errors"
	"fmt"
	"slices"

	"github.com/james-bowman/sparse"
	"gonum.org/v1/gonum/mat"
)

// Multigrid is an aggregation multigrid preconditioner for matrices on
// structured grids: cells are aggregated 2 (×2 ×2) at a time along the grid
// axes, coarse matrices are Galerkin products A_c = R A P with piecewise
// constant prolongation P and restriction R = P^T (so the coarse operators of
// a conservative generator stay conservative M-matrices), ILU(0) smooths on
// every level, and the coarsest level (at most CoarseSize unknowns) is solved
// directly. One application is a V(1,1)- or W(1,1)-cycle. Coarse-grid
// corrections may be scaled by a fixed over-correction factor, which
// compensates the energy of piecewise constant interpolation in V-cycles
// (Vaněk, Blaheta; Notay 2010); the preconditioner stays linear, so it can be
// used with BiCGSTAB or GMRES.
type Multigrid struct {
	// Shape is the grid shape (row-major, last axis fastest). It must be
	// set before Factor.
	Shape []int
	// CoarseSize is the largest coarsest level solved directly (zero
	// value: 600).
	CoarseSize int
	// OverCorrection scales coarse corrections (zero value: 1.6 in 1D, 1.8
	// in 2D and 3D, suited to V-cycles; W-cycles need none: 1).
	OverCorrection float64
	// Gamma is the number of coarse-grid corrections per level: 1 for a
	// V-cycle, 2 for a W-cycle (zero value: 2).
	Gamma int

	levels []*mgLevel
	lu     mat.LU
	cb, cx *mat.VecDense
}

type mgLevel struct {
	ip, ind []int
	data    []float64
	n       int
	shape   []int
	agg     []int32 // fine cell -> coarse cell
	nc      int
	smooth  ILU0Preconditioner
	a       *sparse.CSR
	r, x, t []float64 // workspaces
	bc, xc  []float64 // coarse right-hand side and solution
}

var _ Preconditioner = (*Multigrid)(nil)

// Factor implements Preconditioner: it builds the hierarchy for a.
func (m *Multigrid) Factor(a *sparse.CSR) error {
	raw := a.RawMatrix()
	n := raw.I
	if len(m.Shape) == 0 {
		return errors.New("solvers: Multigrid: grid shape not set")
	}
	total := 1
	for _, s := range m.Shape {
		total *= s
	}
	if total != n {
		return fmt.Errorf("solvers: Multigrid: shape %v has %d cells, matrix has %d rows", m.Shape, total, n)
	}
	coarse := m.CoarseSize
	if coarse <= 0 {
		coarse = 600
	}
	m.levels = m.levels[:0]
	lv := &mgLevel{ip: raw.Indptr, ind: raw.Ind, data: raw.Data, n: n, shape: slices.Clone(m.Shape), a: a}
	for {
		m.levels = append(m.levels, lv)
		lv.r = resize(lv.r, lv.n)
		lv.x = resize(lv.x, lv.n)
		lv.t = resize(lv.t, lv.n)
		if lv.n <= coarse || !lv.coarsenable() {
			break
		}
		if err := lv.smooth.Factor(lv.a); err != nil {
			return fmt.Errorf("solvers: Multigrid level %d: %w", len(m.levels)-1, err)
		}
		next := lv.galerkin()
		lv.bc = resize(lv.bc, next.n)
		lv.xc = resize(lv.xc, next.n)
		lv = next
	}
	// Dense LU of the coarsest level.
	last := m.levels[len(m.levels)-1]
	dense := mat.NewDense(last.n, last.n, nil)
	for i := 0; i < last.n; i++ {
		for k := last.ip[i]; k < last.ip[i+1]; k++ {
			dense.Set(i, last.ind[k], dense.At(i, last.ind[k])+last.data[k])
		}
	}
	m.lu.Factorize(dense)
	if c := m.lu.Cond(); c > 1e15 {
		return fmt.Errorf("solvers: Multigrid: coarsest matrix (%d unknowns) is singular (condition %.1e)", last.n, c)
	}
	m.cb = mat.NewVecDense(last.n, nil)
	m.cx = mat.NewVecDense(last.n, nil)
	return nil
}

// Levels returns the number of levels and the size of each.
func (m *Multigrid) Levels() []int {
	s := make([]int, len(m.levels))
	for i, l := range m.levels {
		s[i] = l.n
	}
	return s
}

func (lv *mgLevel) coarsenable() bool {
	for _, s := range lv.shape {
		if s > 1 {
			return true
		}
	}
	return false
}

// galerkin aggregates 2 cells per axis and returns the coarse level with
// A_c = P^T A P.
func (lv *mgLevel) galerkin() *mgLevel {
	d := len(lv.shape)
	cs := make([]int, d)
	for k, s := range lv.shape {
		cs[k] = (s + 1) / 2
	}
	nc := 1
	for _, s := range cs {
		nc *= s
	}
	lv.nc = nc
	lv.agg = make([]int32, lv.n)
	idx := make([]int, d)
	for l := 0; l < lv.n; l++ {
		c := 0
		for k := 0; k < d; k++ {
			c = c*cs[k] + idx[k]/2
		}
		lv.agg[l] = int32(c)
		for k := d - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < lv.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	// Fine rows of each aggregate.
	start := make([]int, nc+1)
	for _, c := range lv.agg {
		start[c+1]++
	}
	for c := 0; c < nc; c++ {
		start[c+1] += start[c]
	}
	members := make([]int, lv.n)
	pos := slices.Clone(start[:nc])
	for l, c := range lv.agg {
		members[pos[c]] = l
		pos[c]++
	}
	// Coarse rows with a dense accumulator.
	acc := make([]float64, nc)
	mark := make([]int, nc)
	for i := range mark {
		mark[i] = -1
	}
	ip := make([]int, nc+1)
	var ind []int
	var data []float64
	var cols []int
	for c := 0; c < nc; c++ {
		cols = cols[:0]
		for _, i := range members[start[c]:start[c+1]] {
			for k := lv.ip[i]; k < lv.ip[i+1]; k++ {
				j := int(lv.agg[lv.ind[k]])
				if mark[j] != c {
					mark[j] = c
					acc[j] = 0
					cols = append(cols, j)
				}
				acc[j] += lv.data[k]
			}
		}
		slices.Sort(cols)
		for _, j := range cols {
			ind = append(ind, j)
			data = append(data, acc[j])
		}
		ip[c+1] = len(ind)
	}
	a := sparse.NewCSR(nc, nc, ip, ind, data)
	return &mgLevel{ip: ip, ind: ind, data: data, n: nc, shape: cs, a: a}
}

// Apply implements Preconditioner: one V-cycle for A x = r from x = 0.
func (m *Multigrid) Apply(dst, r []float64) {
	m.cycle(0, dst, r)
}

func (m *Multigrid) cycle(l int, x, b []float64) {
	lv := m.levels[l]
	if l == len(m.levels)-1 {
		copy(m.cb.RawVector().Data, b)
		if err := m.cx.SolveVec(&m.lu, m.cb); err != nil {
			clear(x)
			return
		}
		copy(x, m.cx.RawVector().Data)
		return
	}
	omega := m.OverCorrection
	if omega == 0 {
		omega = 1.8
		if len(lv.shape) == 1 {
			omega = 1.6
		}
	}
	// Pre-smoothing from zero, residual, restriction.
	lv.smooth.Apply(x, b)
	mulRows(lv.r, lv.ip, lv.ind, lv.data, x, 0, lv.n)
	clear(lv.bc)
	for i := 0; i < lv.n; i++ {
		lv.r[i] = b[i] - lv.r[i]
		lv.bc[lv.agg[i]] += lv.r[i]
	}
	m.cycle(l+1, lv.xc, lv.bc)
	for i := 0; i < lv.n; i++ {
		x[i] += omega * lv.xc[lv.agg[i]]
	}
	if m.Gamma > 1 && l+2 < len(m.levels) {
		// W-cycle: a second coarse correction on the new residual.
		mulRows(lv.r, lv.ip, lv.ind, lv.data, x, 0, lv.n)
		clear(lv.bc)
		for i := 0; i < lv.n; i++ {
			lv.bc[lv.agg[i]] += b[i] - lv.r[i]
		}
		m.cycle(l+1, lv.xc, lv.bc)
		for i := 0; i < lv.n; i++ {
			x[i] += omega * lv.xc[lv.agg[i]]
		}
	}
	// Post-smoothing.
	mulRows(lv.r, lv.ip, lv.ind, lv.data, x, 0, lv.n)
	for i := 0; i < lv.n; i++ {
		lv.r[i] = b[i] - lv.r[i]
	}
	lv.smooth.Apply(lv.t, lv.r)
	for i := 0; i < lv.n; i++ {
		x[i] += lv.t[i]
	}
}
