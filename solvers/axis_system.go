package solvers

import (
	"slices"

	"github.com/fokkerplanck/fokker/operators"
)

// Time-step matrices c I − gamma L of axis-only operators, built straight
// from the operator's connections into diagonal storage: no CSR matrix of L
// or of c I − gamma L is ever laid out. On the transient benchmark P3 that
// is 8.5 MB of the 28 MB a run used to touch, and fresh memory is not free
// (docs/performance.md: about 3–7 ms per MB on the benchmark machine).

// axisOnly reports whether L of op is made of its axis connections alone
// (Operator.AxisFluxes) and does not change in time: a grid of two or more
// dimensions without periodic or absorbing sides, no cross-diffusion
// directions, a time-independent model.
func axisOnly(op *operators.Operator) bool {
	g := op.Grid()
	if g.Dim() < 2 || g.HasAbsorbing() || op.Stats().CrossDirections > 0 || op.Model().TimeDependent {
		return false
	}
	for k := 0; k < g.Dim(); k++ {
		if g.Periodic(k) {
			return false
		}
	}
	return true
}

// setAxis sets m to c I − gamma L for an operator with axisOnly(op), the
// diagonals at ±(stride of each axis) and 0, an entry zero where a cell has
// no neighbour. Row l of L V is, with a, b the axis fluxes
// (Operator.AxisFluxes) and q = l ± s_k:
//
//	(L p)_l V_l = Σ_k a_k[l−s_k] p_{l−s_k} + b_k[l] p_{l+s_k} − (a_k[l] + b_k[l−s_k]) p_l.
func (m *diaMatrix) setAxis(op *operators.Operator, c, gamma float64) {
	g := op.Grid()
	d, n := g.Dim(), g.Len()
	strides := g.Strides()
	m.n = n
	m.offs = m.offs[:0]
	for _, s := range strides {
		m.offs = append(m.offs, -s, s)
	}
	m.offs = append(m.offs, 0)
	slices.Sort(m.offs)
	K := 2*d + 1
	if cap(m.v) < n*K {
		m.v = make([]float64, n*K)
	}
	m.v = m.v[:n*K]
	vol := op.Volumes()
	// The main diagonal holds Σ (a_k[l] + b_k[l−s_k]) until the last axis.
	for k := 0; k < d; k++ {
		a, b := op.AxisFluxes(k)
		s := strides[k]
		lo, _ := slices.BinarySearch(m.offs, -s)
		hi, _ := slices.BinarySearch(m.offs, s)
		for l := 0; l < n; l++ {
			row := m.v[l*K : (l+1)*K]
			out := a[l]
			row[hi] = -gamma * (b[l] / vol[l])
			row[lo] = 0
			if l >= s {
				// a_k, b_k of a cell without an upper neighbour along k
				// are zero: so is this entry then.
				row[lo] = -gamma * (a[l-s] / vol[l])
				out += b[l-s]
			}
			if k == 0 {
				row[d] = out
			} else {
				row[d] += out
			}
		}
	}
	for l := 0; l < n; l++ {
		m.v[l*K+d] = c + gamma*(m.v[l*K+d]/vol[l])
	}
}

// factorDIA is Factor for the matrix m of an axis-only stencil in diagonal
// storage, preconditioned by AxisILU0 (the preconditioner ILU0 chooses for
// such a matrix). Products use the diagonals; no CSR matrix is kept. m's
// storage is shared, not copied.
func (k *Krylov) factorDIA(m *diaMatrix) error {
	k.a = nil
	k.n = m.n
	k.dia = *m
	k.useDIA = true
	ax, ok := k.prec.(*AxisILU0)
	if !ok {
		ax = &AxisILU0{}
		k.prec = ax
	}
	k.split = nil
	if err := ax.factorDIA(m); err != nil {
		return err
	}
	k.split = ax
	return nil
}
