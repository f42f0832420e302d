package solvers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/james-bowman/sparse"
	"github.com/james-bowman/sparse/blas"
)

// AxisILU0 is ILU(0) for the matrices of axis-only stencils: the
// off-diagonal entries lie on the diagonals ±s_1, …, ±s_d (s_k the stride of
// grid axis k, the 2d+1-point stencil), as in every operator of package
// operators without cross-diffusion or periodic sides. For such a pattern
// ILU(0) produces no fill inside the pattern: its factors are the strict
// lower and upper parts L and U of A with new pivots P (Saad, Iterative
// Methods, §10.3.3, "D-ILU"),
//
//	M = (P + L) P⁻¹ (P + U),   p_i = a_ii − Σ_{j<i} a_ij a_ji / p_j,
//
// so only the pivots are computed, and the factors are kept scaled by rows,
// L′ = P⁻¹L and U′ = P⁻¹U, in one array per diagonal.
//
// On a diffusion-dominated M-matrix — positive diagonal, no positive
// off-diagonal entry, and Σ |a_ij − a_ji| ≤ Σ (|a_ij| + |a_ji|) / 2 over the
// connections, which with exponential fitting means cell Péclet numbers
// mostly below 2 — Factor computes modified ILU(0) instead, unless Plain is
// set: the fill that ILU(0) drops from each column is added to the
// column's pivot,
//
//	p_i = a_ii − Σ_{j<i} (a_ji / p_j) Σ_{k>j} a_kj,
//
// so that M has the column sums of A, 1ᵀM = 1ᵀA (for the time-step
// matrices c I − γ L of a conservative generator, M conserves mass as A
// does). Its pivots are positive when the column sums of A are (Gustafsson's
// condition for MILU, transposed); should one not be, Factor falls back to
// ILU(0). On the transient benchmark P3 it needs a third fewer BiCGSTAB
// iterations than ILU(0); on drift-dominated operators ILU(0) is the better
// of the two, which is why the choice depends on the symmetry of A.
//
// Krylov uses it with Eisenstat's trick: with A′ = P⁻¹A = (I + L′) + (I + U′)
// − E and E = 2I − P⁻¹ diag(A), the split preconditioned operator is
//
//	(I + L′)⁻¹ A′ (I + U′)⁻¹ v = w + (I + L′)⁻¹ (v − E w),   w = (I + U′)⁻¹ v,
//
// two triangular sweeps and no product with A (Eisenstat, SIAM J. Sci.
// Stat. Comput. 2, 1981).
//
// On a grid whose first axis has unit stride, the sweeps run on two
// goroutines without changing a bit of the result: every grid line is cut in
// two halves of columns; in the forward sweep the left half of a line needs
// only left halves (the line before it and the planes below), and the right
// half needs besides the last cell of the left half of the same line — so
// the right halves follow the left ones half a line behind. The backward
// sweep is the mirror image.
//
// Factor fails when A is not such a matrix (more than MaxStencilOffsets
// diagonals, no main diagonal, a pattern in which ILU(0) would fill — as
// periodic wrap-around diagonals make it —, or a zero pivot).
type AxisILU0 struct {
	// Plain makes Factor compute ILU(0) also on diffusion-dominated
	// M-matrices (zero value: modified ILU(0) on those, see above).
	Plain bool

	modified bool // the pivots are those of modified ILU(0)
	n        int
	strides  []int // s_1 < … < s_d

	piv, inv []float64   // p_i and 1/p_i
	negE     []float64   // a_ii/p_i − 2, the diagonal of −E (a_ii while factoring)
	lo, hi   [][]float64 // lo[k][i] = a_{i,i−s_k}/p_i, hi[k][i] = a_{i,i+s_k}/p_i
	// For the 5-point stencil, the forward sweep of Eisenstat's product
	// reads negE[i], lo[0][i], lo[1][i] interleaved (one stream, and
	// fewer pointers for the register allocator to keep).
	fwd []float64

	w, tmp []float64 // workspaces of the sweeps (tmp: of Apply and Factor)
	// The values y of the forward sweep of Eisenstat's product: a ring of
	// s_d values (the rows the recurrence still needs) when the sweeps go
	// line by line, else a vector (ringLen 0).
	z       []float64
	ringLen int

	// The two-goroutine sweeps: lines of width columns, cut in [0, cut)
	// and [cut, width) (cut = 0: no split), the operation and its vectors,
	// and the progress of the leading half in lines.
	width, cut, lines int
	pairs             bool      // two lines at a time (5-point stencil)
	fork              *forkJoin // nil: sequential sweeps
	forkID            int
	op                int
	dst, src          []float64
	progLo, progHi    paddedCounter
	edgeLo, edgeHi    []float64 // per line: the leader's value next to the cut
}

// paddedCounter is an atomic counter on a cache line of its own: the
// follower polls it while the leader writes the lines next to it.
type paddedCounter struct {
	atomic.Int64
	_ [56]byte
}

var _ Preconditioner = (*AxisILU0)(nil)

// Operations of the sweeps.
const (
	opEisenstat = iota // dst = (I + L′)⁻¹ A′ (I + U′)⁻¹ src
	opLower            // dst = (I + L′)⁻¹ src
	opUpper            // dst = (I + U′)⁻¹ src
)

// minSplitWidth is the narrowest grid line whose sweeps are split in two.
const minSplitWidth = 32

// axisStrides returns the strides s_1 < … < s_d of the diagonals offs
// (sorted, with 0), or nil unless every fill entry of ILU(0) — at offset
// ±(s_l − s_k) for two strides — falls outside the pattern.
func axisStrides(offs []int) []int {
	s := []int{} // none for a diagonal matrix
	for _, o := range offs {
		if o < 0 {
			o = -o
		}
		if o != 0 && !slices.Contains(s, o) {
			s = append(s, o)
		}
	}
	slices.Sort(s)
	for _, a := range s {
		for _, b := range s {
			if _, found := slices.BinarySearch(offs, b-a); found && a != b {
				return nil
			}
		}
	}
	return s
}

// Factor implements Preconditioner.
func (p *AxisILU0) Factor(a *sparse.CSR) error {
	offs := stencilOffsets(a)
	if offs == nil {
		return fmt.Errorf("solvers: AxisILU0: more than %d diagonals", MaxStencilOffsets)
	}
	raw := a.RawMatrix()
	return p.factor(offs, raw.I, func() { p.load(raw) })
}

// factorDIA is Factor for a matrix in diagonal storage.
func (p *AxisILU0) factorDIA(m *diaMatrix) error {
	return p.factor(m.offs, m.n, func() { p.loadDIA(m) })
}

// factor computes the factors of the n×n matrix with diagonals offs that
// load copies into lo, hi and negE.
func (p *AxisILU0) factor(offs []int, n int, load func()) error {
	if _, ok := slices.BinarySearch(offs, 0); !ok {
		return errors.New("solvers: AxisILU0: no main diagonal")
	}
	strides := axisStrides(offs)
	if strides == nil {
		return fmt.Errorf("solvers: AxisILU0: diagonals %v are not those of an axis-only stencil", offs)
	}
	d := len(strides)
	p.n, p.strides = n, strides
	for _, v := range []*[]float64{&p.piv, &p.inv, &p.negE, &p.w} {
		*v = resize(*v, n)
	}
	p.lo = resizeRows(p.lo, d, n)
	p.hi = resizeRows(p.hi, d, n)
	load()
	p.setSplit()
	p.ringLen = 0
	if p.width > 0 {
		p.ringLen = p.reach()
	}
	if p.ringLen > 0 {
		p.z = resize(p.z, p.ringLen)
	} else {
		p.z = resize(p.z, n)
	}
	p.modified = !p.Plain && p.diffusive()
	if p.modified {
		if p.pivots() == nil {
			p.interleave()
			return nil
		}
		// A pivot came out non-positive: plain ILU(0) after all.
		load()
		p.modified = false
	}
	if err := p.pivots(); err != nil {
		return err
	}
	p.interleave()
	return nil
}

// loadDIA copies m into the diagonals lo and hi and its main diagonal into
// negE.
func (p *AxisILU0) loadDIA(m *diaMatrix) {
	K := len(m.offs)
	for t, o := range m.offs {
		var dst []float64
		switch {
		case o == 0:
			dst = p.negE
		case o < 0:
			dst = p.lo[slices.Index(p.strides, -o)]
		default:
			dst = p.hi[slices.Index(p.strides, o)]
		}
		for i := range dst {
			dst[i] = m.v[i*K+t]
		}
	}
}

// load copies a into the diagonals lo and hi and its main diagonal into
// negE.
func (p *AxisILU0) load(raw *blas.SparseMatrix) {
	lo, hi, diagonal, strides := p.lo, p.hi, p.negE, p.strides
	for k := range strides {
		clear(lo[k])
		clear(hi[k])
	}
	clear(diagonal)
	// Where each entry of a row goes (its diagonal as ±(k+1), 0 for the
	// main one), reused while the rows repeat the pattern of the row
	// before.
	var dest [MaxStencilOffsets]int
	prevLo, prevHi := 0, 0
	for i := 0; i < p.n; i++ {
		a, b := raw.Indptr[i], raw.Indptr[i+1]
		if b-a > len(dest) || i == 0 || !samePattern(raw.Ind, prevLo, prevHi, a, b) {
			prevLo, prevHi = 0, 0
			for q := a; q < b; q++ {
				o, v := raw.Ind[q]-i, raw.Data[q]
				switch {
				case o == 0:
					diagonal[i] += v
				case o < 0:
					lo[slices.Index(strides, -o)][i] += v
				default:
					hi[slices.Index(strides, o)][i] += v
				}
				if b-a <= len(dest) {
					dest[q-a] = 0
					if o < 0 {
						dest[q-a] = -1 - slices.Index(strides, -o)
					} else if o > 0 {
						dest[q-a] = 1 + slices.Index(strides, o)
					}
				}
			}
			if b-a <= len(dest) {
				prevLo, prevHi = a, b
			}
			continue
		}
		for q, v := range raw.Data[a:b] {
			switch t := dest[q]; {
			case t == 0:
				diagonal[i] += v
			case t < 0:
				lo[-1-t][i] += v
			default:
				hi[t-1][i] += v
			}
		}
		prevLo, prevHi = a, b
	}
}

// diffusive reports whether the loaded matrix is an M-matrix (positive
// diagonal, no positive off-diagonal entry) with nearly symmetric
// off-diagonal part: Σ |a_ij − a_ji| ≤ Σ (|a_ij| + |a_ji|) / 2 over the
// connections. With exponential fitting a connection's asymmetry is
// tanh(|Pe|/2), Pe its cell Péclet number: the sums compare as above when
// the Péclet numbers are mostly below 2, a diffusion-dominated operator.
func (p *AxisILU0) diffusive() bool {
	num, den := 0.0, 0.0
	for i := 0; i < p.n; i++ {
		if !(p.negE[i] > 0) {
			return false
		}
		for k, sk := range p.strides {
			aij := p.hi[k][i]
			if aij > 0 || p.lo[k][i] > 0 {
				return false
			}
			if j := i + sk; j < p.n {
				aji := p.lo[k][j]
				num += math.Abs(aij - aji)
				den += math.Abs(aij) + math.Abs(aji)
			}
		}
	}
	return den > 0 && num <= den/2
}

// pivots computes the pivots from the loaded matrix and scales the rows
// by them, in place: each row once its pivot is known (the later rows'
// pivots need the scaled entries a_ji/p_j). With p.modified the dropped
// fill of each column is added to its pivot (see AxisILU0), and a pivot
// that is not positive is an error.
func (p *AxisILU0) pivots() error {
	lo, hi, diag, strides, n := p.lo, p.hi, p.negE, p.strides, p.n
	// The sums of the strictly lower parts of the columns, Σ_{k>j} a_kj,
	// in the sweeps' workspace.
	var colLow []float64
	if p.modified {
		colLow = p.w
		clear(colLow)
		for i := 0; i < n; i++ {
			for k, sk := range strides {
				if j := i - sk; j >= 0 {
					colLow[j] += lo[k][i]
				}
			}
		}
	}
	for i := 0; i < n; i++ {
		s := diag[i]
		for k, sk := range strides {
			if j := i - sk; j >= 0 {
				if p.modified {
					s -= hi[k][j] * colLow[j]
				} else {
					s -= hi[k][j] * lo[k][i]
				}
			}
		}
		if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) || p.modified && s < 0 {
			return fmt.Errorf("solvers: AxisILU0: zero pivot in row %d", i)
		}
		r := 1 / s
		diag[i] = diag[i]*r - 2
		p.piv[i], p.inv[i] = s, r
		for k := range strides {
			lo[k][i] *= r
			hi[k][i] *= r
		}
	}
	return nil
}

// interleave fills p.fwd for the 5-point stencil.
func (p *AxisILU0) interleave() {
	p.fwd = p.fwd[:0]
	if len(p.strides) != 2 {
		return
	}
	p.fwd = slices.Grow(p.fwd, 3*p.n)[:3*p.n]
	for i := range p.n {
		p.fwd[3*i], p.fwd[3*i+1], p.fwd[3*i+2] = p.negE[i], p.lo[0][i], p.lo[1][i]
	}
}

// setFork makes the sweeps run on f's two goroutines (nil: sequentially).
func (p *AxisILU0) setFork(f *forkJoin) {
	if f != nil && f != p.fork {
		p.forkID = f.register(p.half)
	}
	p.fork = f
}

// setSplit decides whether the sweeps can be split by columns: unit first
// stride, the matrix a whole number of lines of s_2 rows, the other strides
// whole numbers of lines, and no entry coupling the end of one line to the
// start of the next.
func (p *AxisILU0) setSplit() {
	p.width, p.cut, p.lines, p.pairs = 0, 0, 0, false
	s := p.strides
	if len(s) < 2 || s[0] != 1 || s[1] < minSplitWidth || p.n%s[1] != 0 {
		return
	}
	w := s[1]
	for _, sk := range s[2:] {
		if sk%w != 0 {
			return
		}
	}
	for i := 0; i < p.n; i += w {
		if p.lo[0][i] != 0 || p.hi[0][i+w-1] != 0 {
			return
		}
	}
	// The cut on a cache line boundary (8 values) where the line is wide
	// enough: the halves then share no cache line.
	cut := w / 2
	if cut >= 8 {
		cut &^= 7
	}
	p.width, p.cut, p.lines = w, cut, p.n/w
	p.pairs = len(s) == 2
	p.edgeLo = resize(p.edgeLo, p.lines)
	p.edgeHi = resize(p.edgeHi, p.lines)
}

func resizeRows(s [][]float64, d, n int) [][]float64 {
	if len(s) != d {
		s = make([][]float64, d)
	}
	for k := range s {
		s[k] = resize(s[k], n)
	}
	return s
}

// Apply implements Preconditioner: dst = M⁻¹ r = (I + U′)⁻¹ (I + L′)⁻¹ P⁻¹ r.
func (p *AxisILU0) Apply(dst, r []float64) {
	p.tmp = resize(p.tmp, p.n)
	for i, v := range r {
		p.tmp[i] = v * p.inv[i]
	}
	p.lower(p.tmp, p.tmp)
	p.upper(dst, p.tmp)
}

// lower computes dst = (I + L′)⁻¹ src; dst may be src.
func (p *AxisILU0) lower(dst, src []float64) { p.sweep(opLower, dst, src) }

// upper computes dst = (I + U′)⁻¹ src; dst may be src.
func (p *AxisILU0) upper(dst, src []float64) { p.sweep(opUpper, dst, src) }

// eisenstat computes dst = (I + L′)⁻¹ A′ (I + U′)⁻¹ src. dst and src must
// not alias.
func (p *AxisILU0) eisenstat(dst, src []float64) { p.sweep(opEisenstat, dst, src) }

// parallel reports whether the sweeps are split over two goroutines when
// the fork runs.
func (p *AxisILU0) parallel() bool { return p.cut > 0 && p.n >= parallelSweepRows }

// parallelSweepRows is the size from which the sweeps are split (below it
// the half-line hand-overs cost more than they save).
const parallelSweepRows = 1 << 14

func (p *AxisILU0) sweep(op int, dst, src []float64) {
	p.op, p.dst, p.src = op, dst, src
	if !p.parallel() || p.fork == nil {
		p.half(-1)
		return
	}
	p.progLo.Store(0)
	p.progHi.Store(0)
	p.fork.runCoupled(p.forkID)
}

// half runs the left (h = 0) or right (h = 1) columns of the operation
// p.op, or all of it (h = −1).
func (p *AxisILU0) half(h int) {
	switch p.op {
	case opEisenstat:
		// w = (I + U′)⁻¹ src, then dst = w + (I + L′)⁻¹ (src − E w).
		p.backward(h, p.w, p.src)
		p.forward(h, opEisenstat)
	case opLower:
		p.forward(h, opLower)
	case opUpper:
		p.backward(h, p.dst, p.src)
	}
}

// pipeLines is how many lines the leading half completes between two
// reports of its progress: a report is an atomic store, a full memory
// barrier that waits for the cache line the follower polls, about as long
// as a line takes.
const pipeLines = 8

// columns returns the columns [c0, c1) of half h of a grid line: [0, cut),
// [cut, width), or the whole line for h = −1.
func (p *AxisILU0) columns(h int) (c0, c1 int) {
	switch h {
	case 0:
		return 0, p.cut
	case 1:
		return p.cut, p.width
	}
	return 0, p.width
}

// forward runs the forward sweep of op (opLower or opEisenstat) over the
// columns of half h (all columns for h = −1), line by line, two lines at a
// time where the kernels allow; the right half follows the left one, which
// leaves the last value of each of its lines in p.edgeLo.
func (p *AxisILU0) forward(h, op int) {
	if p.width == 0 {
		p.upRows(op, 0, p.n, 0)
		return
	}
	w := p.width
	c0, c1 := p.columns(h)
	// The first lines hold rows with neighbours below row 0.
	first := (p.reach() + w - 1) / w
	done, told := int64(0), 0
	for l := 0; l < p.lines; {
		m := 1
		if p.pairs && l >= first && l+1 < p.lines {
			m = 2
		}
		var pa, pb float64 // the first column has no neighbour before it
		if h == 1 {
			for done < int64(l+m) {
				if done = p.progLo.Load(); done < int64(l+m) {
					spinPause()
				}
			}
			pa, pb = p.edgeLo[l], p.edgeLo[l+m-1]
		}
		lo, hi := l*w+c0, l*w+c1
		switch {
		case m == 1:
			pa = p.upRows(op, lo, hi, pa)
		case op == opEisenstat:
			// The line below, this one and the next share the ring's
			// slots.
			y := p.z[lo%p.ringLen:][:hi-lo]
			pa, pb = eisenstat2x(y, y, y, p.dst, p.src, p.w, p.fwd, w, lo, hi, pa, pb)
		default:
			pa, pb = lower2x(p.dst, p.src, p.lo[0], p.lo[1], w, lo, hi, pa, pb)
		}
		if h == 0 {
			p.edgeLo[l] = pa
			if m == 2 {
				p.edgeLo[l+1] = pb
			}
		}
		l += m
		if h == 0 && (l/pipeLines > told/pipeLines || l == p.lines) {
			p.progLo.Store(int64(l))
			told = l
		}
	}
}

// backward computes dst = (I + U′)⁻¹ src over the columns of half h (all
// for h = −1), line by line from the last, two at a time where the kernels
// allow; the left half follows the right one, which leaves the first value
// of each of its lines in p.edgeHi.
func (p *AxisILU0) backward(h int, dst, src []float64) {
	if p.width == 0 {
		p.upperRows(dst, src, 0, p.n, 0)
		return
	}
	w := p.width
	c0, c1 := p.columns(h)
	// The last lines hold rows with neighbours beyond row n − 1.
	edge := p.lines - (p.reach()+w-1)/w
	done, told := int64(0), 0
	for l := p.lines - 1; l >= 0; {
		m := 1
		if p.pairs && l < edge && l >= 1 {
			m = 2
		}
		var na, nb float64 // the last column has no neighbour after it
		if h == 0 {
			need := int64(p.lines - l + m - 1)
			for done < need {
				if done = p.progHi.Load(); done < need {
					spinPause()
				}
			}
			na, nb = p.edgeHi[l], p.edgeHi[l-m+1]
		}
		lo, hi := l*w+c0, l*w+c1
		if m == 1 {
			p.upperRows(dst, src, lo, hi, na)
		} else {
			upper2x(dst, src, p.hi[0], p.hi[1], w, lo, hi, na, nb)
		}
		if h == 1 {
			for k := l; k > l-m; k-- {
				p.edgeHi[k] = dst[k*w+c0]
			}
		}
		l -= m
		if h == 1 && ((p.lines-l-1)/pipeLines > told/pipeLines || l < 0) {
			told = p.lines - l - 1
			p.progHi.Store(int64(told))
		}
	}
}

// upRows runs the forward sweep of op over the rows lo, …, hi−1 and returns
// the recurrence's last value; prev is the value before row lo on the
// unit-stride diagonal (0: lo − 1 is not read, its entry being zero or
// absent).
func (p *AxisILU0) upRows(op, lo, hi int, prev float64) float64 {
	if op == opEisenstat {
		return p.eisenstatRows(p.dst, p.src, lo, hi, prev)
	}
	return p.lowerRows(p.dst, p.src, lo, hi, prev)
}

// lowerRows computes dst[i] = src[i] − Σ_k lo[k][i] dst[i−s_k] for i = lo,
// …, hi−1 in turn, with prev in place of dst[lo−1] when s_1 = 1 (the
// sequential sweep passes 0 for lo = 0), and returns dst[hi−1]. dst may be
// src.
func (p *AxisILU0) lowerRows(dst, src []float64, lo, hi int, prev float64) float64 {
	s := p.strides
	// Rows below s_d lack a neighbour on some diagonal.
	if e := min(hi, p.reach()); lo < e {
		lowerGeneric(dst, src, p.lo, s, lo, e, prev)
		prev, lo = dst[e-1], e
	}
	switch {
	case lo >= hi:
	case len(s) == 2 && s[0] == 1:
		prev = lower2(dst, src, p.lo[0], p.lo[1], s[1], lo, hi, prev)
	case len(s) == 3 && s[0] == 1:
		prev = lower3(dst, src, p.lo[0], p.lo[1], p.lo[2], s[1], s[2], lo, hi, prev)
	default:
		lowerGeneric(dst, src, p.lo, s, lo, hi, prev)
		prev = dst[hi-1]
	}
	return prev
}

// upperRows computes dst[i] = src[i] − Σ_k hi[k][i] dst[i+s_k] for i =
// hi−1, …, lo in turn, with next in place of dst[hi] when s_1 = 1. dst may
// be src.
func (p *AxisILU0) upperRows(dst, src []float64, lo, hi int, next float64) {
	s := p.strides
	// Rows from n − s_d on lack a neighbour on some diagonal.
	if e := max(lo, p.n-p.reach()); e < hi {
		upperGeneric(dst, src, p.hi, s, e, hi, next)
		next, hi = dst[e], e
	}
	switch {
	case lo >= hi:
	case len(s) == 2 && s[0] == 1:
		upper2(dst, src, p.hi[0], p.hi[1], s[1], lo, hi, next)
	case len(s) == 3 && s[0] == 1:
		upper3(dst, src, p.hi[0], p.hi[1], p.hi[2], s[1], s[2], lo, hi, next)
	default:
		upperGeneric(dst, src, p.hi, s, lo, hi, next)
	}
}

// eisenstatRows is the forward sweep of Eisenstat's product for the rows
// lo, …, hi−1 in turn: y = (I + L′)⁻¹ (v − E w), with w = p.w and prev in
// place of y[lo−1], and dst = w + y. It returns y[hi−1]. Going line by line,
// the rows lie on one line.
func (p *AxisILU0) eisenstatRows(dst, v []float64, lo, hi int, prev float64) float64 {
	s := p.strides
	if e := min(hi, p.reach()); lo < e {
		prev = p.eisenstatGeneric(dst, v, lo, e, prev)
		lo = e
	}
	switch {
	case lo >= hi:
	case len(s) == 2 && s[0] == 1:
		prev = eisenstat2(p.ys(lo, hi), p.ys(lo-s[1], hi-s[1]), dst, v, p.w, p.fwd, lo, hi, prev)
	case len(s) == 3 && s[0] == 1:
		prev = eisenstat3(p.ys(lo, hi), p.ys(lo-s[1], hi-s[1]), p.ys(lo-s[2], hi-s[2]), dst, v, p.negE, p.w, p.lo[0], p.lo[1], p.lo[2], lo, hi, prev)
	default:
		prev = p.eisenstatGeneric(dst, v, lo, hi, prev)
	}
	return prev
}

// ys returns the storage of y for the rows lo, …, hi−1 (on one line when
// y is a ring).
func (p *AxisILU0) ys(lo, hi int) []float64 {
	if p.ringLen == 0 {
		return p.z[lo:hi]
	}
	return p.z[lo%p.ringLen:][:hi-lo]
}

// eisenstatGeneric is eisenstatRows for any strides, with index checks.
func (p *AxisILU0) eisenstatGeneric(dst, v []float64, lo, hi int, prev float64) float64 {
	y, r := p.z, p.ringLen
	at := func(j int) int {
		if r > 0 {
			return j % r
		}
		return j
	}
	for i := lo; i < hi; i++ {
		t := v[i] + p.negE[i]*p.w[i]
		for k, sk := range p.strides {
			switch j := i - sk; {
			case i == lo && sk == 1:
				t -= p.lo[k][i] * prev
			case j >= 0:
				t -= p.lo[k][i] * y[at(j)]
			}
		}
		y[at(i)] = t
		dst[i] = p.w[i] + t
		prev = t
	}
	return prev
}

// reach is the largest stride (0 for a diagonal matrix).
func (p *AxisILU0) reach() int {
	if len(p.strides) == 0 {
		return 0
	}
	return p.strides[len(p.strides)-1]
}

// The generic sweeps take the neighbour of their first row on a unit
// stride from prev (next), not from dst: in a split sweep it belongs to the
// other half.

func lowerGeneric(dst, src []float64, c [][]float64, strides []int, lo, hi int, prev float64) {
	for i := lo; i < hi; i++ {
		s := src[i]
		for k, sk := range strides {
			switch j := i - sk; {
			case i == lo && sk == 1:
				s -= c[k][i] * prev
			case j >= 0:
				s -= c[k][i] * dst[j]
			}
		}
		dst[i] = s
	}
}

func upperGeneric(dst, src []float64, c [][]float64, strides []int, lo, hi int, next float64) {
	n := len(dst)
	for i := hi - 1; i >= lo; i-- {
		s := src[i]
		for k, sk := range strides {
			switch j := i + sk; {
			case i == hi-1 && sk == 1:
				s -= c[k][i] * next
			case j < n:
				s -= c[k][i] * dst[j]
			}
		}
		dst[i] = s
	}
}

// The sweeps of the 5-point (…2) and 7-point (…3) stencils with unit first
// stride, on rows whose neighbours all exist: straight-line code, the
// previous row's value kept in a register and combined by one fused
// multiply-add (the chain of dependent rows is the critical path), and
// every slice cut to the rows' length so that no index is checked in the
// loop.

func lower2(dst, src, c1, c2 []float64, s2, lo, hi int, prev float64) float64 {
	d := dst[lo:hi]
	b2, src := dst[lo-s2 : hi-s2][:len(d)], src[lo:hi][:len(d)]
	c1, c2 = c1[lo:hi][:len(d)], c2[lo:hi][:len(d)]
	for j := range d {
		prev = math.FMA(-c1[j], prev, src[j]-c2[j]*b2[j])
		d[j] = prev
	}
	return prev
}

func upper2(dst, src, c1, c2 []float64, s2, lo, hi int, next float64) {
	d := dst[lo:hi]
	a2, src := dst[lo+s2 : hi+s2][:len(d)], src[lo:hi][:len(d)]
	c1, c2 = c1[lo:hi][:len(d)], c2[lo:hi][:len(d)]
	for j := len(d) - 1; j >= 0; j-- {
		next = math.FMA(-c1[j], next, src[j]-c2[j]*a2[j])
		d[j] = next
	}
}

// eisenstat2 and eisenstat3 take the storage of y for the rows (y) and for
// their neighbours below (y2, y3), which may be the same slots of a ring
// (each is read before it is written); eisenstat2 takes the coefficients
// interleaved (AxisILU0.fwd).
func eisenstat2(y, y2, dst, v, w, f []float64, lo, hi int, prev float64) float64 {
	y2 = y2[:len(y)]
	out, v, w := dst[lo:hi][:len(y)], v[lo:hi][:len(y)], w[lo:hi][:len(y)]
	f = f[3*lo : 3*hi][:3*len(y)]
	for j := range y {
		c := f[3*j : 3*j+3 : 3*j+3]
		prev = v[j] + c[0]*w[j] - c[2]*y2[j] - c[1]*prev
		y[j] = prev
		out[j] = w[j] + prev
	}
	return prev
}

func lower3(dst, src, c1, c2, c3 []float64, s2, s3, lo, hi int, prev float64) float64 {
	d := dst[lo:hi]
	b2, b3, src := dst[lo-s2 : hi-s2][:len(d)], dst[lo-s3 : hi-s3][:len(d)], src[lo:hi][:len(d)]
	c1, c2, c3 = c1[lo:hi][:len(d)], c2[lo:hi][:len(d)], c3[lo:hi][:len(d)]
	for j := range d {
		prev = math.FMA(-c1[j], prev, src[j]-c3[j]*b3[j]-c2[j]*b2[j])
		d[j] = prev
	}
	return prev
}

func upper3(dst, src, c1, c2, c3 []float64, s2, s3, lo, hi int, next float64) {
	d := dst[lo:hi]
	a2, a3, src := dst[lo+s2 : hi+s2][:len(d)], dst[lo+s3 : hi+s3][:len(d)], src[lo:hi][:len(d)]
	c1, c2, c3 = c1[lo:hi][:len(d)], c2[lo:hi][:len(d)], c3[lo:hi][:len(d)]
	for j := len(d) - 1; j >= 0; j-- {
		next = math.FMA(-c1[j], next, src[j]-c3[j]*a3[j]-c2[j]*a2[j])
		d[j] = next
	}
}

func eisenstat3(y, y2, y3, dst, v, negE, w, c1, c2, c3 []float64, lo, hi int, prev float64) float64 {
	y2, y3 = y2[:len(y)], y3[:len(y)]
	out, v, negE, w := dst[lo:hi][:len(y)], v[lo:hi][:len(y)], negE[lo:hi][:len(y)], w[lo:hi][:len(y)]
	c1, c2, c3 = c1[lo:hi][:len(y)], c2[lo:hi][:len(y)], c3[lo:hi][:len(y)]
	for j := range y {
		prev = v[j] + negE[j]*w[j] - c3[j]*y3[j] - c2[j]*y2[j] - c1[j]*prev
		y[j] = prev
		out[j] = w[j] + prev
	}
	return prev
}

// lower2x, upper2x and eisenstat2x are lower2, upper2 and eisenstat2 on
// two grid lines at once, the second one column behind the first (it needs
// the first line's value in its column): two independent chains of
// dependent rows, which the processor overlaps. lo, hi are the rows of the
// first line (the second is lo+s2, hi+s2 for lower2x and eisenstat2x, and
// lo−s2, hi−s2 for upper2x); pa, pb stand for the values before each
// line's first row, and the forward sweeps return the lines' last values.
// eisenstat2x takes the storage of y for the first line, the second and the
// line below the first (the same slots of a ring, see eisenstat2).

func lower2x(dst, src, c1, c2 []float64, s2, lo, hi int, pa, pb float64) (float64, float64) {
	dA := dst[lo:hi]
	m := len(dA)
	if m == 0 {
		return pa, pb
	}
	dB, bA := dst[lo+s2 : hi+s2][:m], dst[lo-s2 : hi-s2][:m]
	sA, sB := src[lo:hi][:m], src[lo+s2 : hi+s2][:m]
	a1, a2 := c1[lo:hi][:m], c2[lo:hi][:m]
	b1, b2 := c1[lo+s2 : hi+s2][:m], c2[lo+s2 : hi+s2][:m]
	pa = math.FMA(-a1[0], pa, sA[0]-a2[0]*bA[0])
	dA[0] = pa
	for j := 1; j < m; j++ {
		a := math.FMA(-a1[j], pa, sA[j]-a2[j]*bA[j])
		pb = math.FMA(-b1[j-1], pb, sB[j-1]-b2[j-1]*pa)
		pa = a
		dA[j], dB[j-1] = a, pb
	}
	pb = math.FMA(-b1[m-1], pb, sB[m-1]-b2[m-1]*pa)
	dB[m-1] = pb
	return pa, pb
}

func upper2x(dst, src, c1, c2 []float64, s2, lo, hi int, na, nb float64) {
	dA := dst[lo:hi]
	m := len(dA)
	if m == 0 {
		return
	}
	dB, aA := dst[lo-s2 : hi-s2][:m], dst[lo+s2 : hi+s2][:m]
	sA, sB := src[lo:hi][:m], src[lo-s2 : hi-s2][:m]
	a1, a2 := c1[lo:hi][:m], c2[lo:hi][:m]
	b1, b2 := c1[lo-s2 : hi-s2][:m], c2[lo-s2 : hi-s2][:m]
	na = math.FMA(-a1[m-1], na, sA[m-1]-a2[m-1]*aA[m-1])
	dA[m-1] = na
	for j := m - 2; j >= 0; j-- {
		a := math.FMA(-a1[j], na, sA[j]-a2[j]*aA[j])
		nb = math.FMA(-b1[j+1], nb, sB[j+1]-b2[j+1]*na)
		na = a
		dA[j], dB[j+1] = a, nb
	}
	dB[0] = math.FMA(-b1[0], nb, sB[0]-b2[0]*na)
}

func eisenstat2x(yA, yB, bA, dst, v, w, f []float64, s2, lo, hi int, pa, pb float64) (float64, float64) {
	m := len(yA)
	if m == 0 {
		return pa, pb
	}
	yB, bA = yB[:m], bA[:m]
	oA, oB := dst[lo:hi][:m], dst[lo+s2 : hi+s2][:m]
	vA, vB := v[lo:hi][:m], v[lo+s2 : hi+s2][:m]
	wA, wB := w[lo:hi][:m], w[lo+s2 : hi+s2][:m]
	fA, fB := f[3*lo : 3*hi][:3*m], f[3*(lo+s2) : 3*(hi+s2)][:3*m]
	pa = vA[0] + fA[0]*wA[0] - fA[2]*bA[0] - fA[1]*pa
	yA[0], oA[0] = pa, wA[0]+pa
	for j := 1; j < m; j++ {
		a, b := fA[3*j:3*j+3:3*j+3], fB[3*j-3:3*j:3*j]
		ya := vA[j] + a[0]*wA[j] - a[2]*bA[j] - a[1]*pa
		pb = vB[j-1] + b[0]*wB[j-1] - b[2]*pa - b[1]*pb
		pa = ya
		yA[j], oA[j] = ya, wA[j]+ya
		yB[j-1], oB[j-1] = pb, wB[j-1]+pb
	}
	b := fB[3*m-3 : 3*m : 3*m]
	pb = vB[m-1] + b[0]*wB[m-1] - b[2]*pa - b[1]*pb
	yB[m-1], oB[m-1] = pb, wB[m-1]+pb
	return pa, pb
}

// residualNormRows returns Σ_{lo ≤ i < hi} ((P (I + L′) r′)_i)²: the
// squared norm of the residual b − A x, over these rows, when r′ is the
// residual (I + L′)⁻¹ P⁻¹ (b − A x) of the split preconditioned system.
func (p *AxisILU0) residualNormRows(r []float64, lo, hi int) float64 {
	ss := 0.0
	e := min(hi, p.reach())
	for i := lo; i < e; i++ {
		s := r[i]
		for k, sk := range p.strides {
			if j := i - sk; j >= 0 {
				s += p.lo[k][i] * r[j]
			}
		}
		s *= p.piv[i]
		ss += s * s
	}
	if lo = max(lo, e); lo >= hi {
		return ss
	}
	if s := p.strides; len(s) == 2 && s[0] == 1 {
		rr, b1, b2 := r[lo:hi], r[lo-1:hi-1], r[lo-s[1]:hi-s[1]]
		b1, b2 = b1[:len(rr)], b2[:len(rr)]
		c1, c2, piv := p.lo[0][lo:hi][:len(rr)], p.lo[1][lo:hi][:len(rr)], p.piv[lo:hi][:len(rr)]
		for j := range rr {
			t := (rr[j] + c1[j]*b1[j] + c2[j]*b2[j]) * piv[j]
			ss += t * t
		}
		return ss
	}
	for i := lo; i < hi; i++ {
		s := r[i]
		for k, sk := range p.strides {
			s += p.lo[k][i] * r[i-sk]
		}
		s *= p.piv[i]
		ss += s * s
	}
	return ss
}
