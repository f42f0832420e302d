package operators

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/james-bowman/sparse"

	"github.com/fokkerplanck/fokker/grid"
)

// Settings configures the discretisation. A nil *Settings means the zero
// value, whose every field documents its default.
type Settings struct {
	// Scheme is the normal flux (zero value: Exponential).
	Scheme Scheme

	// MaxSellingSteps bounds the reduction steps of Selling's decomposition
	// of a full diffusion tensor at one point (zero value: 1000). The number
	// of steps grows like the square root of the anisotropy of D.
	MaxSellingSteps int

	// MaxStencil bounds the length (largest component, in cells) of the
	// lattice directions used for cross diffusion (zero value: 8; at most
	// MaxStencilLimit). A tensor that needs longer directions is too
	// anisotropic for the grid: the assembly fails, naming the point.
	MaxStencil int

	// Regularization, if positive, adds Regularization·tr(D)/d·I to a full
	// D before it is decomposed, so that a rank-deficient D gets a finite
	// stencil. It changes the equation; zero (the default) means none.
	Regularization float64

	// LatticeFit, for d = 2, replaces a Selling decomposition that would
	// need directions longer than MaxStencil (a strongly anisotropic or
	// rank-deficient D) by the non-negative least-squares fit of D on the
	// lattice directions of length at most MaxStencil (nearestLattice): for
	// a rank-one D it adds the least diffusion across the principal
	// direction that a stencil of that length can, of relative order
	// 1/MaxStencil⁴ for most directions against 1/MaxStencil² for a
	// Regularization that gives the same stencil length. It changes the
	// equation where it acts; Stats.MaxFitError reports the largest relative
	// (Frobenius) change of D, which falls as MaxStencil grows.
	LatticeFit bool

	// Workers is the number of goroutines used for assembly (zero value:
	// GOMAXPROCS). The result does not depend on it.
	Workers int
}

func (s *Settings) maxSteps() int {
	if s == nil || s.MaxSellingSteps <= 0 {
		return 1000
	}
	return s.MaxSellingSteps
}

// MaxStencilLimit is the largest Settings.MaxStencil accepted. The lattice
// fit searches all ~1.2·r² primitive directions of length ≤ r at each point
// it acts on, and a direction longer than 64 cells couples cells too far
// apart to be a local discretisation: refine the grid instead.
const MaxStencilLimit = 64

func (s *Settings) maxStencil() int {
	if s == nil || s.MaxStencil <= 0 {
		return 8
	}
	return s.MaxStencil
}

// Operator is the finite-volume generator L of a Fokker–Planck equation on a
// grid: dp/dt = L p for the vector p of cell-average densities.
//
// It is built once for a grid and a model (New), after which Assemble
// re-evaluates the coefficients at another time and overwrites the matrix
// values in place, without allocating, as long as the set of stencil
// directions does not change.
//
// The operator is held as its connections (AxisFluxes); the CSR matrix is
// laid out from them when it is first asked for (Matrix, MulVecTo) and kept
// up to date by Assemble from then on. Operators with cross connections or
// the Central scheme build it at once.
type Operator struct {
	g        *grid.Grid
	m        Model
	scheme   Scheme
	set      Settings
	alpha    float64
	d, n     int
	shape    []int
	strides  []int
	periodic []bool // per axis
	workers  int
	// line: a 1D operator, whose D and U are evaluated at the centres as
	// the connections are computed (kappa and pot stay nil).
	line bool

	vol []float64 // cell volumes (in 1D the grid's widths)

	// Stencil directions: offs[0:d] are the axes; further entries are cross
	// directions from Selling's decomposition.
	offs []offset
	// kappa[o][l] is the diffusion weight of direction o at cell l, in
	// units of D (the variance rate along the unit vector of o). Nil in 1D.
	kappa [][]float64
	pot   []float64 // U at cell centres, if Potential != nil (nil in 1D)

	// For models with full D and a Drift: mw[k][l] = (D⁺ mu)_k at cell l and
	// mperp[k][l] the part of mu outside the range of D (see metricSolve).
	metric bool
	mw     [][]float64
	mperp  [][]float64

	// The connection from cell l along direction o carries the flux
	// F = fa[o][l] p_l − fb[o][l] p_target (mass per unit time). Axis
	// targets follow from the grid; cross targets are tgt[o-d][l] (−1: no
	// connection), with the weight at the target read from direction
	// tqo[o-d][l] (different after a mirror at a wall). outflow[l] is the
	// rate of mass leaving cell l through absorbing sides (nil if the grid
	// has none).
	fa, fb  [][]float64
	tgt     [][]int32
	tqo     [][]int16
	outflow []float64

	// The CSR matrix, nil until it is first needed; matMu guards its lazy
	// construction.
	matMu    sync.Mutex
	mat      *sparse.CSR
	indptr   []int
	ind      []int
	data     []float64
	diagSlot []int32

	scratch []workerScratch
	changed bool // a new stencil direction appeared in evalCells
	stats   Stats
	t       float64
}

// workerScratch is one goroutine's workspace.
type workerScratch struct {
	x, mu, dm []float64
	idx       []int
	terms     []sellingTerm
	peclet    float64
	fitErr    float64 // largest relative change of D by LatticeFit
	err       error
	errCell   int
}

// Stats describes the last assembly.
type Stats struct {
	// Time of the coefficients.
	Time float64
	// MaxPeclet is the largest |cell Péclet number| over the connections
	// (effective drift times distance over face diffusion). Where it exceeds
	// 2 the Central scheme loses positivity.
	MaxPeclet float64
	// CrossDirections is the number of non-axis stencil directions in use.
	CrossDirections int
	// MaxStencil is the length of the longest stencil direction (1 for the
	// axis stencil).
	MaxStencil int
	// NegativeOffDiagonals counts off-diagonal entries of L below zero (by
	// more than round-off): each is a place where the scheme may create
	// negative densities. It is always zero for the Exponential and Upwind
	// schemes.
	NegativeOffDiagonals int
	// MinOffDiagonal is the most negative off-diagonal entry relative to the
	// diagonal of its row (0 if none is negative).
	MinOffDiagonal float64
	// MaxFitError is the largest relative (Frobenius) change of D made by
	// Settings.LatticeFit (0 where Selling's decomposition was used).
	MaxFitError float64
}

// New builds the operator of model m on grid g and assembles it at t = 0.
func New(g *grid.Grid, m Model, s *Settings) (*Operator, error) {
	d := g.Dim()
	if m.Dim != d {
		return nil, fmt.Errorf("operators: model has dimension %d, grid has %d", m.Dim, d)
	}
	if m.Diffusion == nil {
		return nil, errors.New("operators: model has no Diffusion")
	}
	if !m.Diagonal && d > maxSellingDim {
		return nil, fmt.Errorf("operators: full diffusion tensors are supported up to %d dimensions (declare Diagonal for d = %d)", maxSellingDim, d)
	}
	op := &Operator{g: g, m: m, d: d, n: g.Len(), alpha: m.Convention.Alpha(), shape: g.Shape(), strides: g.Strides()}
	for k := 0; k < d; k++ {
		op.periodic = append(op.periodic, g.Periodic(k))
	}
	if s != nil {
		op.set = *s
	}
	op.scheme = op.set.Scheme
	if op.set.Regularization < 0 || math.IsNaN(op.set.Regularization) {
		return nil, fmt.Errorf("operators: Regularization must be >= 0, got %v", op.set.Regularization)
	}
	if op.set.MaxStencil < 0 || op.set.MaxStencil > MaxStencilLimit {
		return nil, fmt.Errorf("operators: MaxStencil must be in [0, %d] (0: the default 8), got %d", MaxStencilLimit, op.set.MaxStencil)
	}
	op.workers = op.set.Workers
	if op.workers <= 0 {
		op.workers = runtime.GOMAXPROCS(0)
	}
	if op.n < 4096 {
		op.workers = 1
	}
	op.scratch = make([]workerScratch, op.workers)
	for w := range op.scratch {
		op.scratch[w] = workerScratch{x: make([]float64, d), mu: make([]float64, d), dm: make([]float64, d*d), idx: make([]int, d)}
	}
	op.line = d == 1
	if op.line {
		// The volumes of 1D cells are their widths: share the grid's.
		op.vol = g.Widths(0)
	} else {
		op.vol = g.Volumes(nil)
	}
	if g.HasAbsorbing() || (!m.Diagonal && d > 1) {
		// Absorbing sides, and cross directions longer than the grid, let
		// mass out.
		op.outflow = make([]float64, op.n)
	}
	for k := 0; k < d; k++ {
		var e offset
		e[k] = 1
		op.addOffset(e)
	}
	if m.Potential != nil && !op.line {
		op.pot = make([]float64, op.n)
	}
	if !m.Diagonal && d > 1 && m.Drift != nil {
		op.metric = true
		for k := 0; k < d; k++ {
			op.mw = append(op.mw, make([]float64, op.n))
			op.mperp = append(op.mperp, make([]float64, op.n))
		}
	}
	if _, err := op.evalCells(0); err != nil {
		return nil, err
	}
	op.layout()
	if err := op.fill(0); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *Operator) addOffset(e offset) int {
	op.offs = append(op.offs, e)
	if !op.line {
		op.kappa = append(op.kappa, make([]float64, op.n))
	}
	op.fa = append(op.fa, make([]float64, op.n))
	op.fb = append(op.fb, make([]float64, op.n))
	return len(op.offs) - 1
}

// Grid returns the grid of the operator.
func (op *Operator) Grid() *grid.Grid { return op.g }

// Model returns the model of the operator.
func (op *Operator) Model() Model { return op.m }

// Scheme returns the flux scheme.
func (op *Operator) Scheme() Scheme { return op.scheme }

// Matrix returns L as a CSR matrix, laying it out on the first call. Its
// values change in place on Assemble; its sparsity pattern is fixed unless
// Assemble reports a rebuild.
func (op *Operator) Matrix() *sparse.CSR {
	op.matMu.Lock()
	defer op.matMu.Unlock()
	if op.mat == nil {
		op.buildPattern()
		op.gatherMatrix()
	}
	return op.mat
}

// AxisFluxes returns the coefficients of the connections along axis k: the
// net flux (mass per unit time) from cell l to its upper neighbour q along
// axis k — l + Strides()[k], or the first cell of the line across a
// periodic side — is a[l] p_l − b[l] p_q, with a, b ≥ 0 for the monotone
// schemes. Entries of cells without an upper neighbour are zero. Together
// with the outflow through absorbing sides and, for a full D, the cross
// connections (Stats().CrossDirections > 0), which are not included here,
// they make up L:
//
//	(L p)_l V_l = sum over the connections into l of their flux − sum over those out of l.
//
// The slices are overwritten by Assemble and must not be modified.
func (op *Operator) AxisFluxes(k int) (a, b []float64) {
	return op.fa[k], op.fb[k]
}

// Volumes returns the cell volumes. The slice must not be modified.
func (op *Operator) Volumes() []float64 { return op.vol }

// Stats returns statistics of the last assembly.
func (op *Operator) Stats() Stats { return op.stats }

// Time returns the time of the last assembly.
func (op *Operator) Time() float64 { return op.t }

// Assemble re-evaluates the coefficients at time t and overwrites the values
// of the matrix. It allocates nothing unless the stencil of a full diffusion
// tensor changes, in which case the sparsity pattern is rebuilt and rebuilt
// is true. For a model that is not TimeDependent Assemble is a no-op after
// the first call.
func (op *Operator) Assemble(t float64) (rebuilt bool, err error) {
	if !op.m.TimeDependent || t == op.t {
		return false, nil
	}
	changed, err := op.evalCells(t)
	if err != nil {
		return false, err
	}
	if changed {
		op.layout()
	}
	return changed, op.fill(t)
}

// MulVecTo computes dst = L x, overwriting dst.
func (op *Operator) MulVecTo(dst, x []float64) {
	if len(dst) != op.n || len(x) != op.n {
		panic("operators: wrong vector length")
	}
	op.Matrix()
	ip, ind, data := op.indptr, op.ind, op.data
	for i := 0; i < op.n; i++ {
		s := 0.0
		for k := ip[i]; k < ip[i+1]; k++ {
			s += data[k] * x[ind[k]]
		}
		dst[i] = s
	}
}

// Phases of work split over cells.
const (
	phaseCells       = iota // evaluate D and U at the centres
	phaseConnections        // connection coefficients
	phaseGather             // matrix rows from the connections
	phaseLine               // 1D: D and U at the centres, and the connections
	phaseRowLengths         // lengths of the rows of the axis pattern
	phaseRows               // columns of the rows of the axis pattern
)

// parallel runs a phase over contiguous ranges of the cells, one per worker.
// With one worker it runs in the calling goroutine and allocates nothing.
func (op *Operator) parallel(phase int, t float64) {
	nw := op.workers
	if nw <= 1 {
		op.work(phase, 0, op.n, 0, t)
		return
	}
	var wg sync.WaitGroup
	wg.Add(nw)
	for w := 0; w < nw; w++ {
		go func(w int) {
			defer wg.Done()
			op.work(phase, w*op.n/nw, (w+1)*op.n/nw, w, t)
		}(w)
	}
	wg.Wait()
}

func (op *Operator) work(phase, lo, hi, w int, t float64) {
	switch phase {
	case phaseCells:
		op.cells(lo, hi, w, t)
	case phaseConnections:
		op.connections(lo, hi, w, t)
	case phaseGather:
		op.gather(lo, hi, w)
	case phaseLine:
		op.lineConnections(lo, hi, w, t)
	case phaseRowLengths:
		op.axisRowLengths(lo, hi, w)
	case phaseRows:
		op.axisRows(lo, hi, w)
	}
}

// firstError returns the error of the lowest cell among the workers', so that
// the message does not depend on the number of workers.
func (op *Operator) firstError() error {
	var err error
	cell := math.MaxInt
	for w := range op.scratch {
		sc := &op.scratch[w]
		if sc.err != nil && sc.errCell < cell {
			err, cell = sc.err, sc.errCell
		}
		sc.err = nil
	}
	return err
}

func (sc *workerScratch) fail(cell int, err error) {
	if sc.err == nil || cell < sc.errCell {
		sc.err, sc.errCell = err, cell
	}
}

// pointError describes a bad coefficient at a point.
func (op *Operator) pointError(what string, x []float64, t float64, detail string) error {
	var b strings.Builder
	names := op.g.Names()
	for k, v := range x {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%.6g", names[k], v)
	}
	return fmt.Errorf("operators: %s at (%s), t=%g: %s", what, b.String(), t, detail)
}

// diffusionAt evaluates and checks D at x, leaving it in sc.dm.
func (op *Operator) diffusionAt(sc *workerScratch, x []float64, t float64) error {
	d := op.d
	dm := sc.dm
	clear(dm)
	op.m.Diffusion(dm, x, t)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			v := dm[i*d+j]
			if op.m.Diagonal && i != j {
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return op.pointError("diffusion", x, t, fmt.Sprintf("D[%d][%d] = %v", i, j, v))
			}
		}
		if dm[i*d+i] < 0 {
			return op.pointError("diffusion", x, t, fmt.Sprintf("D[%d][%d] = %g is negative: D must be positive semi-definite", i, i, dm[i*d+i]))
		}
	}
	if op.m.Diagonal {
		return nil
	}
	for i := 0; i < d; i++ {
		for j := i + 1; j < d; j++ {
			a, b := dm[i*d+j], dm[j*d+i]
			if math.Abs(a-b) > 1e-12*(math.Abs(a)+math.Abs(b)) {
				return op.pointError("diffusion", x, t, fmt.Sprintf("D is not symmetric: D[%d][%d] = %g, D[%d][%d] = %g", i, j, a, j, i, b))
			}
			dm[j*d+i] = a
		}
	}
	if err := checkPSD(dm, d); err != nil {
		return op.pointError("diffusion", x, t, err.Error())
	}
	if r := op.set.Regularization; r > 0 {
		tr := 0.0
		for i := 0; i < d; i++ {
			tr += dm[i*d+i]
		}
		for i := 0; i < d; i++ {
			dm[i*d+i] += r * tr / float64(d)
		}
	}
	return nil
}

// checkPSD reports whether the symmetric d×d matrix m (d ≤ 3) is positive
// semi-definite, allowing round-off relative to its diagonal.
func checkPSD(m []float64, d int) error {
	scale := 0.0
	for i := 0; i < d; i++ {
		scale = math.Max(scale, m[i*d+i])
	}
	tol := 1e-12 * scale
	switch d {
	case 1:
		return nil
	case 2:
		det := m[0]*m[3] - m[1]*m[2]
		if det < -tol*scale {
			return fmt.Errorf("D = [[%g, %g], [%g, %g]] is not positive semi-definite (determinant %g)", m[0], m[1], m[2], m[3], det)
		}
		return nil
	case 3:
		for _, p := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
			i, j := p[0], p[1]
			if det := m[i*3+i]*m[j*3+j] - m[i*3+j]*m[j*3+i]; det < -tol*scale {
				return fmt.Errorf("D is not positive semi-definite (minor %d%d has determinant %g)", i, j, det)
			}
		}
		det := m[0]*(m[4]*m[8]-m[5]*m[7]) - m[1]*(m[3]*m[8]-m[5]*m[6]) + m[2]*(m[3]*m[7]-m[4]*m[6])
		if det < -tol*scale*scale {
			return fmt.Errorf("D is not positive semi-definite (determinant %g)", det)
		}
		return nil
	}
	return nil
}

// multiIndex sets idx to the multi-index of cell l.
func (op *Operator) multiIndex(idx []int, l int) {
	for k, s := range op.strides {
		idx[k] = l / s
		l -= idx[k] * s
	}
}

// next advances a multi-index in row-major order.
func (op *Operator) next(idx []int) {
	for k := op.d - 1; k >= 0; k-- {
		idx[k]++
		if idx[k] < op.shape[k] {
			return
		}
		idx[k] = 0
	}
}

// evalCells evaluates D (decomposed into stencil weights) and U at every cell
// centre. It reports whether a new stencil direction appeared.
func (op *Operator) evalCells(t float64) (changed bool, err error) {
	if op.line {
		return false, nil // evaluated with the connections
	}
	d := op.d
	for o := d; o < len(op.kappa); o++ {
		clear(op.kappa[o])
	}
	op.changed = false
	for w := range op.scratch {
		op.scratch[w].fitErr = 0
	}
	if !op.m.Diagonal && d > 1 {
		// Decomposition may register new directions: one goroutine.
		op.cells(0, op.n, 0, t)
	} else {
		op.parallel(phaseCells, t)
	}
	return op.changed, op.firstError()
}

// cells evaluates D and U at the centres of cells lo..hi-1.
func (op *Operator) cells(lo, hi, w int, t float64) {
	d := op.d
	full := !op.m.Diagonal && d > 1
	sc := &op.scratch[w]
	idx := sc.idx
	op.multiIndex(idx, lo)
	x := sc.x
	for l := lo; l < hi; l++ {
		for k := 0; k < d; k++ {
			x[k] = op.g.Centres(k)[idx[k]]
		}
		op.next(idx)
		if err := op.diffusionAt(sc, x, t); err != nil {
			sc.fail(l, err)
			return
		}
		if op.pot != nil {
			u := op.m.Potential(x, t)
			if math.IsNaN(u) || math.IsInf(u, 0) {
				sc.fail(l, op.pointError("potential", x, t, fmt.Sprintf("U = %v", u)))
				return
			}
			op.pot[l] = u
		}
		if !full {
			for k := 0; k < d; k++ {
				op.kappa[k][l] = sc.dm[k*d+k]
			}
			continue
		}
		if op.metric {
			// D⁺ mu at the centre, from the D about to be decomposed.
			clear(sc.mu)
			op.m.Drift(sc.mu, x, t)
			for k := 0; k < d; k++ {
				if math.IsNaN(sc.mu[k]) || math.IsInf(sc.mu[k], 0) {
					sc.fail(l, op.pointError("drift", x, t, fmt.Sprintf("mu[%d] = %v", k, sc.mu[k])))
					return
				}
			}
			var wv, pv [maxSellingDim]float64
			metricSolve(wv[:d], pv[:d], sc.dm, sc.mu, d)
			for k := 0; k < d; k++ {
				op.mw[k][l], op.mperp[k][l] = wv[k], pv[k]
			}
		}
		c, err := op.decompose(sc, l, x, t)
		if err != nil {
			sc.fail(l, err)
			return
		}
		op.changed = op.changed || c
	}
}

// cellWidths returns the cell widths at cell l.
func (op *Operator) cellWidths(l int) (h [maxSellingDim]float64) {
	for k := 0; k < op.d && k < maxSellingDim; k++ {
		i := l / op.strides[k]
		l -= i * op.strides[k]
		h[k] = op.g.Widths(k)[i]
	}
	return h
}

// sellingTerms decomposes sc.dm in the cell units of cell l into sc.terms,
// with each weight converted to kappa = lambda |H e|^2, the variance rate of
// D along the unit vector of e.
func (op *Operator) sellingTerms(sc *workerScratch, l int, x []float64, t float64) error {
	d, dm := op.d, sc.dm
	h := op.cellWidths(l)
	var ms [maxSellingDim * maxSellingDim]float64
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			ms[i*d+j] = dm[i*d+j] / (h[i] * h[j])
		}
	}
	var err error
	sc.terms, err = selling(sc.terms[:0], ms[:d*d], d, op.set.maxSteps())
	if d == 2 && op.set.LatticeFit && (err != nil || tooLong(sc.terms, d, op.set.maxStencil())) {
		var rel float64
		sc.terms, rel = nearestLattice(sc.terms[:0], ms[:4], op.set.maxStencil())
		sc.fitErr = math.Max(sc.fitErr, rel)
		err = nil
	}
	if err != nil {
		return op.pointError("diffusion", x, t, "D is too anisotropic for this grid: Selling's decomposition did not terminate (in 2D set LatticeFit — [solver] lattice_fit = true; or a small Regularization; or refine the grid)")
	}
	for i := range sc.terms {
		tm := &sc.terms[i]
		if tm.lambda == 0 {
			continue
		}
		if n := tm.e.normInf(d); n > op.set.maxStencil() {
			return op.pointError("diffusion", x, t, fmt.Sprintf("D is too anisotropic for this grid: its monotone stencil needs direction %v (length %d > MaxStencil %d); refine the grid, raise MaxStencil, or in 2D set LatticeFit ([solver] lattice_fit = true), or a small Regularization", tm.e[:d], n, op.set.maxStencil()))
		}
		s := 0.0
		for k := 0; k < d; k++ {
			s += float64(tm.e[k]*tm.e[k]) * h[k] * h[k]
		}
		tm.lambda *= s
	}
	return nil
}

// tooLong reports whether a term with a non-zero weight has a direction
// longer than r.
func tooLong(terms []sellingTerm, d, r int) bool {
	for _, tm := range terms {
		if tm.lambda != 0 && tm.e.normInf(d) > r {
			return true
		}
	}
	return false
}

// decompose splits sc.dm (D at cell l) into stencil weights kappa[o][l]. It
// reports whether a new stencil direction appeared.
func (op *Operator) decompose(sc *workerScratch, l int, x []float64, t float64) (changed bool, err error) {
	if err := op.sellingTerms(sc, l, x, t); err != nil {
		return false, err
	}
	for k := 0; k < op.d; k++ {
		op.kappa[k][l] = 0
	}
	for _, tm := range sc.terms {
		if tm.lambda == 0 {
			continue
		}
		o := op.offsetIndex(tm.e)
		if o < 0 {
			o = op.addOffset(tm.e)
			changed = true
		}
		op.kappa[o][l] += tm.lambda
	}
	return changed, nil
}

func (op *Operator) offsetIndex(e offset) int {
	for i, f := range op.offs {
		if f == e {
			return i
		}
	}
	return -1
}

// upper returns the cell across the upper face of cell l (multi-index idx)
// along axis k, with wrapped reporting a periodic wrap; q < 0 if there is no
// neighbour cell (a reflecting or absorbing side, or a single periodic cell).
func (op *Operator) upper(l int, idx []int, k int) (q int, wrapped bool) {
	i := idx[k]
	if i+1 < op.shape[k] {
		return l + op.strides[k], false
	}
	if op.periodic[k] && op.shape[k] > 1 {
		return l - i*op.strides[k], true
	}
	return -1, false
}

// lower returns the cell whose upper-face connection along axis k ends in
// cell l, or −1.
func (op *Operator) lower(l int, idx []int, k int) int {
	i := idx[k]
	if i > 0 {
		return l - op.strides[k]
	}
	if op.periodic[k] && op.shape[k] > 1 {
		return l + (op.shape[k]-1)*op.strides[k]
	}
	return -1
}

// crossTarget returns the cell reached from cell l (multi-index idx) along
// cross direction o, and the direction whose weight is read at the target
// (o itself, or −1 after a mirror, meaning l's weight): periodic axes wrap,
// reflecting walls mirror the target back inside, an absorbing side absorbs
// (q = −2). q = −1 when the target is l itself.
func (op *Operator) crossTarget(l int, idx []int, o int) (q int, qo int) {
	d := op.d
	e := op.offs[o]
	qe := e
	mirrored := false
	q = 0
	for k := 0; k < d; k++ {
		j := idx[k] + e[k]
		n := op.shape[k]
		lo, hi := op.g.Bounds(k)
		switch {
		case j >= 0 && j < n:
		case op.g.Periodic(k):
			j = ((j % n) + n) % n
		case (j < 0 && lo == grid.Absorbing) || (j >= n && hi == grid.Absorbing):
			return -2, o
		default:
			if j < 0 {
				j = -j - 1
			} else {
				j = 2*n - j - 1
			}
			if j < 0 || j >= n {
				return -2, o // stencil longer than the grid
			}
			qe[k] = -qe[k]
			mirrored = true
		}
		q += j * op.strides[k]
	}
	if q == l {
		return -1, o
	}
	if mirrored {
		// A move reflected at a wall: its reverse from Q is a move along the
		// mirrored direction, which Q's decomposition may not contain. The
		// exchange uses P's weight at both ends (qo = −1), so that it is
		// symmetric and carries no spurious one-way flux: detailed balance,
		// where the interior has it, holds up to the wall.
		return q, -1
	}
	return q, o
}

// layout lays out the cross connections and the CSR pattern if the matrix
// is needed at once (cross connections; the positivity diagnostics of the
// Central scheme) or already exists.
func (op *Operator) layout() {
	op.crossTargets()
	if len(op.tgt) > 0 || op.scheme == Central || op.mat != nil {
		op.buildPattern()
	}
}

// crossTargets lays out the cross connections.
func (op *Operator) crossTargets() {
	d, n := op.d, op.n
	nc := len(op.offs) - d
	// Cross targets; mirrors may register further (zero-weight) directions,
	// whose own connections carry nothing.
	op.tgt = op.tgt[:0]
	op.tqo = op.tqo[:0]
	idx := make([]int, d)
	for c := 0; c < nc; c++ {
		o := d + c
		tg := make([]int32, n)
		tq := make([]int16, n)
		clear(idx)
		for l := 0; l < n; l++ {
			q, qo := op.crossTarget(l, idx, o)
			op.next(idx)
			switch {
			case q == -2:
				if op.kappa[o][l] == 0 && !op.m.TimeDependent {
					q = -1
				}
			case q >= 0:
				// Without time dependence the weights are final: prune
				// connections that carry nothing.
				if !op.m.TimeDependent && op.kappa[o][l] == 0 && (qo < 0 || op.kappa[qo][q] == 0) {
					q = -1
				}
			}
			tg[l], tq[l] = int32(q), int16(qo)
		}
		op.tgt = append(op.tgt, tg)
		op.tqo = append(op.tqo, tq)
	}
}

// buildPattern lays out the CSR sparsity pattern.
func (op *Operator) buildPattern() {
	d, n := op.d, op.n
	if len(op.tgt) == 0 {
		op.axisPattern()
		return
	}
	idx := make([]int, d)
	// Count the entries of each row: the diagonal, both ends of every axis
	// connection, both ends of every cross connection.
	count := make([]int, n+1)
	clear(idx)
	for l := 0; l < n; l++ {
		count[l+1]++
		for k := 0; k < d; k++ {
			if q, _ := op.upper(l, idx, k); q >= 0 {
				count[l+1]++
				count[q+1]++
			}
		}
		op.next(idx)
	}
	for c := range op.tgt {
		for l, q := range op.tgt[c] {
			if q >= 0 {
				count[l+1]++
				count[q+1]++
			}
		}
	}
	for l := 0; l < n; l++ {
		count[l+1] += count[l]
	}
	raw := make([]int, count[n])
	pos := make([]int, n)
	copy(pos, count[:n])
	add := func(i, j int) {
		raw[pos[i]] = j
		pos[i]++
	}
	clear(idx)
	for l := 0; l < n; l++ {
		add(l, l)
		for k := 0; k < d; k++ {
			if q, _ := op.upper(l, idx, k); q >= 0 {
				add(l, q)
				add(q, l)
			}
		}
		op.next(idx)
	}
	for c := range op.tgt {
		for l, q := range op.tgt[c] {
			if q >= 0 {
				add(l, int(q))
				add(int(q), l)
			}
		}
	}
	op.indptr = make([]int, n+1)
	op.ind = raw[:0]
	for l := 0; l < n; l++ {
		row := raw[count[l]:count[l+1]]
		slices.Sort(row)
		row = slices.Compact(row)
		// Compaction in place: the write position never passes the read
		// position.
		op.ind = append(op.ind, row...)
		op.indptr[l+1] = len(op.ind)
	}
	op.data = make([]float64, len(op.ind))
	op.diagSlot = make([]int32, n)
	for l := 0; l < n; l++ {
		op.diagSlot[l] = int32(op.slot(l, l))
	}
	op.mat = sparse.NewCSR(n, n, op.indptr, op.ind, op.data)
}

// axisPattern builds the CSR pattern of an operator with axis connections
// only, in parallel over the rows (axisRowLengths, axisRows).
func (op *Operator) axisPattern() {
	n := op.n
	op.indptr = make([]int, n+1)
	op.parallel(phaseRowLengths, 0)
	for l := 0; l < n; l++ {
		op.indptr[l+1] += op.indptr[l]
	}
	op.ind = make([]int, op.indptr[n])
	op.data = make([]float64, len(op.ind))
	op.diagSlot = make([]int32, n)
	op.parallel(phaseRows, 0)
	op.mat = sparse.NewCSR(n, n, op.indptr, op.ind, op.data)
}

// axisRowLengths writes the lengths of the rows lo..hi-1 of the axis
// pattern into indptr[lo+1:hi+1]: the cell and its neighbours, of which a
// periodic axis of two cells has one.
func (op *Operator) axisRowLengths(lo, hi, w int) {
	d := op.d
	idx := op.scratch[w].idx
	op.multiIndex(idx, lo)
	for l := lo; l < hi; l++ {
		c := 1
		for k := 0; k < d; k++ {
			switch nk := op.shape[k]; {
			case nk == 1:
			case op.periodic[k]:
				c += min(nk-1, 2)
			default:
				if idx[k] > 0 {
					c++
				}
				if idx[k] < nk-1 {
					c++
				}
			}
		}
		op.indptr[l+1] = c
		op.next(idx)
	}
}

// wraps reports whether cell idx has a neighbour across a periodic side.
func (op *Operator) wraps(idx []int) bool {
	for k, i := range idx {
		if nk := op.shape[k]; op.periodic[k] && nk > 1 && (i == 0 || i == nk-1) {
			return true
		}
	}
	return false
}

// axisRows writes the columns of the rows lo..hi-1 of the axis pattern and
// their diagonal slots. A row holds its lower neighbours, the largest
// stride first, itself, and its upper neighbours, the smallest stride
// first: sorted as they come, unless the row wraps across a periodic side
// (then it is sorted in place).
func (op *Operator) axisRows(lo, hi, w int) {
	d := op.d
	idx := op.scratch[w].idx
	op.multiIndex(idx, lo)
	for l := lo; l < hi; l++ {
		row := op.ind[op.indptr[l]:op.indptr[l+1]]
		m := 0
		for k := 0; k < d; k++ {
			if r := op.lower(l, idx, k); r >= 0 {
				row[m] = r
				m++
			}
		}
		diag := m
		row[m] = l
		m++
		for k := d - 1; k >= 0; k-- {
			// On a periodic axis of two cells both neighbours are the same.
			if q, _ := op.upper(l, idx, k); q >= 0 && q != op.lower(l, idx, k) {
				row[m] = q
				m++
			}
		}
		if op.wraps(idx) {
			// Insertion sort of a handful of entries.
			for i := 1; i < len(row); i++ {
				for j := i; j > 0 && row[j] < row[j-1]; j-- {
					row[j], row[j-1] = row[j-1], row[j]
				}
			}
			diag = slices.Index(row, l)
		}
		op.diagSlot[l] = int32(op.indptr[l] + diag)
		op.next(idx)
	}
}

// slot returns the position of entry (i, j) in the CSR arrays.
func (op *Operator) slot(i, j int) int {
	row := op.ind[op.indptr[i]:op.indptr[i+1]]
	if len(row) <= 8 {
		for k, c := range row {
			if c == j {
				return op.indptr[i] + k
			}
		}
	} else if k, ok := slices.BinarySearch(row, j); ok {
		return op.indptr[i] + k
	}
	panic("operators: internal error: missing pattern entry")
}

// sqLen returns |H e|^2 with H the cell widths at cell l.
func (op *Operator) sqLen(e offset, l int) float64 {
	h := op.cellWidths(l)
	s := 0.0
	for k := 0; k < op.d; k++ {
		v := h[k] * float64(e[k])
		s += v * v
	}
	return s
}

// fill computes the connection coefficients at time t (in parallel over
// cells) and, if the matrix exists, gathers them into it (in parallel over
// rows).
func (op *Operator) fill(t float64) error {
	d := op.d
	clear(op.outflow)
	if op.line {
		op.parallel(phaseLine, t)
	} else {
		op.parallel(phaseConnections, t)
	}
	if err := op.firstError(); err != nil {
		return err
	}
	var st Stats
	st.Time = t
	st.CrossDirections = len(op.offs) - d
	st.MaxStencil = 1
	for o := d; o < len(op.offs); o++ {
		st.MaxStencil = max(st.MaxStencil, op.offs[o].normInf(d))
	}
	for w := range op.scratch {
		st.MaxPeclet = math.Max(st.MaxPeclet, op.scratch[w].peclet)
		st.MaxFitError = math.Max(st.MaxFitError, op.scratch[w].fitErr)
	}
	op.stats = st
	op.t = t
	if op.mat != nil {
		op.gatherMatrix()
	}
	return nil
}

// gatherMatrix writes the values of the matrix from the connections, and
// the positivity diagnostics into op.stats.
func (op *Operator) gatherMatrix() {
	d, n := op.d, op.n
	data := op.data
	op.parallel(phaseGather, op.t)
	// Cross connections, scattered.
	for c := range op.tgt {
		o := d + c
		fa, fb := op.fa[o], op.fb[o]
		for p, q32 := range op.tgt[c] {
			if q32 < 0 {
				continue
			}
			q := int(q32)
			vp, vq := op.vol[p], op.vol[q]
			data[op.diagSlot[p]] -= fa[p] / vp
			data[op.slot(p, q)] += fb[p] / vp
			data[op.diagSlot[q]] -= fb[p] / vq
			data[op.slot(q, p)] += fa[p] / vq
		}
	}
	// Positivity diagnostics. The off-diagonal entries are sums of
	// connection coefficients, which the monotone schemes make
	// non-negative: only Central can have negative ones.
	st := &op.stats
	st.NegativeOffDiagonals, st.MinOffDiagonal = 0, 0
	if op.scheme != Central {
		return
	}
	for i := 0; i < n; i++ {
		dg := math.Abs(data[op.diagSlot[i]])
		for k := op.indptr[i]; k < op.indptr[i+1]; k++ {
			if op.ind[k] != i && data[k] < -1e-14*dg {
				st.NegativeOffDiagonals++
				if r := data[k] / dg; r < st.MinOffDiagonal {
					st.MinOffDiagonal = r
				}
			}
		}
	}
}

// gather writes the rows lo..hi-1 of the matrix from the axis connections and
// outflows. Rows of the axis pattern that do not wrap across a periodic side
// are written in the order of axisRows; others are cleared and their entries
// added at their slots (cross connections are scattered after).
func (op *Operator) gather(lo, hi, w int) {
	d, data := op.d, op.data
	idx := op.scratch[w].idx
	op.multiIndex(idx, lo)
	inOrder := len(op.tgt) == 0
	for p := lo; p < hi; p++ {
		v := op.vol[p]
		diag := 0.0
		if op.outflow != nil {
			diag = -op.outflow[p]
		}
		if inOrder && !op.wraps(idx) {
			for k := 0; k < d; k++ {
				if idx[k]+1 < op.shape[k] {
					diag -= op.fa[k][p]
				}
				if idx[k] > 0 {
					diag -= op.fb[k][p-op.strides[k]]
				}
			}
			s := op.indptr[p]
			for k := 0; k < d; k++ {
				if idx[k] > 0 {
					data[s] = op.fa[k][p-op.strides[k]] / v
					s++
				}
			}
			data[s] = diag / v
			s++
			for k := d - 1; k >= 0; k-- {
				if idx[k]+1 < op.shape[k] {
					data[s] = op.fb[k][p] / v
					s++
				}
			}
			op.next(idx)
			continue
		}
		for k := op.indptr[p]; k < op.indptr[p+1]; k++ {
			data[k] = 0
		}
		for k := 0; k < d; k++ {
			if q, _ := op.upper(p, idx, k); q >= 0 {
				diag -= op.fa[k][p]
				data[op.slot(p, q)] += op.fb[k][p] / v
			}
			if r := op.lower(p, idx, k); r >= 0 {
				diag -= op.fb[k][r]
				data[op.slot(p, r)] += op.fa[k][r] / v
			}
		}
		data[op.diagSlot[p]] += diag / v
		op.next(idx)
	}
}

// connections computes the coefficients of the connections leaving the
// cells lo..hi-1, and their outflows.
func (op *Operator) connections(lo, hi, w int, t float64) {
	d := op.d
	sc := &op.scratch[w]
	sc.peclet = 0
	idx := sc.idx
	op.multiIndex(idx, lo)
	alpha := op.alpha
	for p := lo; p < hi; p++ {
		for k := 0; k < d; k++ {
			kap := op.kappa[k]
			q, wrapped := op.upper(p, idx, k)
			var up, uq, kq float64
			if q >= 0 {
				kq = kap[q]
			}
			if op.pot != nil {
				up = op.pot[p]
				if q >= 0 {
					uq = op.pot[q]
				}
			}
			if err := op.axisConnection(sc, p, idx, k, q, wrapped, kap[p], kq, up, uq, t); err != nil {
				sc.fail(p, err)
				return
			}
		}
		for c := range op.tgt {
			o := d + c
			q := int(op.tgt[c][p])
			kp := op.kappa[o][p]
			switch {
			case q >= 0:
				kq := kp
				if qo := op.tqo[c][p]; qo >= 0 {
					kq = op.kappa[qo][q]
				}
				g := (op.vol[p] + op.vol[q]) / (op.sqLen(op.offs[o], p) + op.sqLen(op.offs[o], q))
				v := -(1-alpha)*(kq-kp) + op.crossDrift(o, p, q, kp, kq)
				op.fa[o][p], op.fb[o][p] = op.coefficients(sc, g, kp, kq, v)
			case q == -2 && kp > 0:
				a, _ := op.coefficients(sc, op.vol[p]/op.sqLen(op.offs[o], p), kp, kp, op.crossDrift(o, p, p, kp, kp))
				op.outflow[p] += a
			}
		}
		op.next(idx)
	}
}

// lineConnections computes the coefficients of the connections leaving the
// cells lo..hi-1 of a 1D operator, evaluating D and U at each centre once,
// as the connection that reaches it is computed. Interior faces take a
// direct path; the cells at the sides go through axisConnection.
func (op *Operator) lineConnections(lo, hi, w int, t float64) {
	sc := &op.scratch[w]
	sc.peclet = 0
	idx := sc.idx
	n := op.n
	c, e := op.g.Centres(0), op.g.Edges(0)
	fa, fb := op.fa[0], op.fb[0]
	lower, _ := op.g.Bounds(0)
	x, mu := sc.x, sc.mu
	drift, potential := op.m.Drift, op.m.Potential
	alpha := op.alpha
	kp, up, err := op.centreCoefficients(sc, lo, t)
	if err != nil {
		sc.fail(lo, err)
		return
	}
	for p := lo; p < hi; p++ {
		q := p + 1
		if q == n || (p == 0 && lower == grid.Absorbing) {
			idx[0] = p
			q, wrapped := op.upper(p, idx, 0)
			var kq, uq float64
			if q >= 0 {
				if kq, uq, err = op.centreCoefficients(sc, q, t); err != nil {
					sc.fail(q, err)
					return
				}
			}
			if err := op.axisConnection(sc, p, idx, 0, q, wrapped, kp, kq, up, uq, t); err != nil {
				sc.fail(p, err)
				return
			}
			kp, up = kq, uq
			continue
		}
		kq, uq, err := op.centreCoefficients(sc, q, t)
		if err != nil {
			sc.fail(q, err)
			return
		}
		h := c[q] - c[p]
		v := -(1 - alpha) * (kq - kp)
		if drift != nil {
			x[0] = e[q]
			mu[0] = 0
			drift(mu, x, t)
			if m := mu[0]; math.Abs(m) <= math.MaxFloat64 {
				v += m * h
			} else {
				idx[0] = p
				_, err := op.faceDrift(sc, idx, 0, e[q], h, t, up, uq, q, false)
				sc.fail(p, err)
				return
			}
		}
		if potential != nil {
			v -= uq - up
		}
		// The face area of a 1D cell is 1.
		fa[p], fb[p] = op.coefficients(sc, 1/h, kp, kq, v)
		kp, up = kq, uq
	}
}

// centreCoefficients returns the diffusion weight and the potential (zero
// without one) at the centre of cell l of a 1D operator.
func (op *Operator) centreCoefficients(sc *workerScratch, l int, t float64) (kappa, u float64, err error) {
	x, dm := sc.x, sc.dm
	x[0] = op.g.Centres(0)[l]
	dm[0] = 0
	op.m.Diffusion(dm, x, t)
	kappa = dm[0]
	if !(kappa >= 0 && kappa <= math.MaxFloat64) || (op.set.Regularization > 0 && !op.m.Diagonal) {
		// The general checks, for their messages, and the regularisation.
		if err := op.diffusionAt(sc, x, t); err != nil {
			return 0, 0, err
		}
		kappa = dm[0]
	}
	if op.m.Potential != nil {
		u = op.m.Potential(x, t)
		if math.IsNaN(u) || math.IsInf(u, 0) {
			return 0, 0, op.pointError("potential", x, t, fmt.Sprintf("U = %v", u))
		}
	}
	return kappa, u, nil
}

// axisConnection computes the coefficients of the connection from cell p
// (multi-index idx) to its upper neighbour q along axis k (q < 0: none;
// wrapped: across a periodic side), and the outflows through absorbing
// faces of p along k. kp, kq are the axis-k weights of D at p and q, and
// up, uq the potential there (zero without one).
func (op *Operator) axisConnection(sc *workerScratch, p int, idx []int, k, q int, wrapped bool, kp, kq, up, uq, t float64) error {
	alpha := op.alpha
	c := op.g.Centres(k)
	e := op.g.Edges(k)
	wd := op.g.Widths(k)
	i := idx[k]
	nk := op.shape[k]
	lo, hi := op.g.Bounds(k)
	area := op.vol[p] / wd[i]
	if i == 0 && lo == grid.Absorbing {
		// The face below is the "P" end (p = 0 there), the cell the "Q"
		// end: only −b p_cell matters, mass leaving the cell.
		h := c[0] - e[0]
		kf, err := op.faceKappa(sc, p, k, e[0], t)
		if err != nil {
			return err
		}
		v := -(1 - alpha) * (kp - kf)
		dv, err := op.faceDrift(sc, idx, k, e[0], h, t, up, 0, p, true)
		if err != nil {
			return err
		}
		dv += op.metricDrift(k, p, p, h, kf, kp)
		_, b := op.coefficients(sc, area/h, kf, kp, v+dv)
		op.outflow[p] += b
	}
	switch {
	case q >= 0:
		var h float64
		if wrapped {
			h = (e[nk] - c[i]) + (c[0] - e[0])
		} else {
			h = c[i+1] - c[i]
		}
		v := -(1 - alpha) * (kq - kp)
		dv, err := op.faceDrift(sc, idx, k, e[i+1], h, t, up, uq, q, false)
		if err != nil {
			return err
		}
		dv += op.metricDrift(k, p, q, h, kp, kq)
		op.fa[k][p], op.fb[k][p] = op.coefficients(sc, area/h, kp, kq, v+dv)
	case i == nk-1 && hi == grid.Absorbing:
		h := e[nk] - c[i]
		kf, err := op.faceKappa(sc, p, k, e[nk], t)
		if err != nil {
			return err
		}
		v := -(1 - alpha) * (kf - kp)
		dv, err := op.faceDrift(sc, idx, k, e[nk], h, t, up, 0, -1, false)
		if err != nil {
			return err
		}
		dv += op.metricDrift(k, p, p, h, kp, kf)
		a, _ := op.coefficients(sc, area/h, kp, kf, v+dv)
		op.outflow[p] += a
	}
	return nil
}

// metricDrift returns the drift term (velocity times distance, in units of
// kappa) of the axis-k connection between cells p and q (q = p for a
// boundary face) at distance h, for models whose drift is distributed in the
// metric of D: kappa_f h (e_k · D⁺ mu), averaged over the two cells, plus the
// part of mu outside the range of D, which only the axes carry.
func (op *Operator) metricDrift(k, p, q int, h, kp, kq float64) float64 {
	if !op.metric {
		return 0
	}
	kf := logMean(kp, kq)
	return h * (kf*0.5*(op.mw[k][p]+op.mw[k][q]) + 0.5*(op.mperp[k][p]+op.mperp[k][q]))
}

// crossDrift returns the drift term of the cross connection along direction
// o between cells p and q: kappa_f (d · D⁺ mu) with d the displacement.
func (op *Operator) crossDrift(o, p, q int, kp, kq float64) float64 {
	if !op.metric {
		return 0
	}
	// The displacement between the actual centres (after a mirror at a wall
	// or a periodic wrap), so that for mu = −D grad Phi with a quadratic Phi
	// the Péclet number is exactly Phi_P − Phi_Q.
	e := op.offs[o]
	s := 0.0
	for k := 0; k < op.d; k++ {
		ip := (p / op.strides[k]) % op.shape[k]
		iq := (q / op.strides[k]) % op.shape[k]
		c := op.g.Centres(k)
		dk := c[iq] - c[ip]
		if op.g.Periodic(k) {
			// Unwrap towards the direction of e.
			L := op.g.Length(k)
			switch {
			case e[k] > 0 && dk < 0:
				dk += L
			case e[k] < 0 && dk > 0:
				dk -= L
			}
		}
		if q == p {
			dk = float64(e[k]) * op.g.Widths(k)[ip]
		}
		s += dk * 0.5 * (op.mw[k][p] + op.mw[k][q])
	}
	return logMean(kp, kq) * s
}

// coefficients returns the flux coefficients of a connection with geometric
// factor g, end weights kp and kq, and effective drift times distance v.
func (op *Operator) coefficients(sc *workerScratch, g, kp, kq, v float64) (a, b float64) {
	kf := kp
	if kq != kp {
		kf = logMean(kp, kq)
	}
	// |v|/kf > peclet, without a division in the common case.
	if av := math.Abs(v); kf > 0 && av > sc.peclet*kf {
		sc.peclet = av / kf
	}
	return faceCoefficients(op.scheme, g, kf, v)
}

// faceDrift returns the drift contribution mu_k(face)·h (plus the potential
// difference −(U_Q − U_P)) of the axis-k connection from the cell at idx
// across the face at coordinate face. up and uq are U at that cell and at
// the cell q at the other end (−1 for an absorbing face); inward reverses
// the roles for the lower absorbing face, where the face is the upstream end
// and the cell the downstream one.
func (op *Operator) faceDrift(sc *workerScratch, idx []int, k int, face, h, t, up, uq float64, q int, inward bool) (float64, error) {
	x, d := sc.x, op.d
	for j := 0; j < d; j++ {
		x[j] = op.g.Centres(j)[idx[j]]
	}
	x[k] = face
	v := 0.0
	if op.m.Drift != nil && !op.metric {
		mu := sc.mu
		clear(mu)
		op.m.Drift(mu, x, t)
		if math.IsNaN(mu[k]) || math.IsInf(mu[k], 0) {
			return 0, op.pointError("drift", x, t, fmt.Sprintf("mu[%d] = %v", k, mu[k]))
		}
		v = mu[k] * h
	}
	if op.m.Potential != nil {
		switch {
		case inward: // face (upstream) to the cell
			up, uq = op.m.Potential(x, t), up
		case q < 0: // the cell to an absorbing face
			uq = op.m.Potential(x, t)
		default:
			if i := idx[k]; i == op.shape[k]-1 {
				// Periodic wrap: U at the unwrapped centre of q.
				x[k] = op.g.Centres(k)[0] + op.g.Length(k)
				uq = op.m.Potential(x, t)
			}
		}
		if math.IsNaN(up) || math.IsNaN(uq) || math.IsInf(up, 0) || math.IsInf(uq, 0) {
			return 0, op.pointError("potential", x, t, "U is not finite")
		}
		v -= uq - up
	}
	return v, nil
}

// faceKappa returns the axis-k weight of D at the absorbing face at
// coordinate face next to cell l.
func (op *Operator) faceKappa(sc *workerScratch, l, k int, face, t float64) (float64, error) {
	x := sc.x
	op.g.Centre(x, l)
	x[k] = face
	if err := op.diffusionAt(sc, x, t); err != nil {
		return 0, err
	}
	if op.m.Diagonal || op.d == 1 {
		return sc.dm[k*op.d+k], nil
	}
	if err := op.sellingTerms(sc, l, x, t); err != nil {
		return 0, err
	}
	w := 0.0
	for _, tm := range sc.terms {
		if tm.e.axis(op.d) == k {
			w += tm.lambda
		}
	}
	return w, nil
}
