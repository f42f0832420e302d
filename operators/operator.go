package operators

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

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
	// lattice directions used for cross diffusion (zero value: 8). A tensor
	// that needs longer directions is too anisotropic for the grid: the
	// assembly fails, naming the point.
	MaxStencil int

	// Regularization, if positive, adds Regularization·tr(D)/d·I to a full
	// D before it is decomposed, so that a rank-deficient D gets a finite
	// stencil. It changes the equation; zero (the default) means none.
	Regularization float64
}

func (s *Settings) maxSteps() int {
	if s == nil || s.MaxSellingSteps <= 0 {
		return 1000
	}
	return s.MaxSellingSteps
}

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
type Operator struct {
	g      *grid.Grid
	m      Model
	scheme Scheme
	set    Settings
	alpha  float64
	d      int

	vol []float64 // cell volumes

	// Stencil directions: offs[0:d] are the axes; further entries are cross
	// directions from Selling's decomposition.
	offs []offset
	// kappa[o][l] is the diffusion weight of direction o at cell l, in
	// units of D (the variance rate along the unit vector of o).
	kappa [][]float64
	pot   []float64 // U at cell centres, if Potential != nil

	conns    []connection
	diagSlot []int32

	mat    *sparse.CSR
	indptr []int
	ind    []int
	data   []float64

	stats Stats

	// scratch
	x, y, mu, dm []float64
	terms        []sellingTerm
	t            float64
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
}

type connKind uint8

const (
	connInterior connKind = iota // between two cells P and Q
	connOutLower                 // absorbing face below cell Q (P is outside)
	connOutUpper                 // absorbing face above cell P (Q is outside)
)

// connection is one exchange of mass between two cells (or a cell and an
// absorbing boundary): the flux F = a p_P − b p_Q from P to Q.
type connection struct {
	p, q     int32 // cell indices; -1 for the outside
	o        int16 // direction index into offs
	qo       int16 // direction whose weight is read at Q (differs after a mirror)
	kind     connKind
	axis     int8    // axis of the face for axis connections, else -1
	wrap     float64 // shift added to Q's coordinate along axis to unwrap a periodic neighbour
	slotPQ   int32   // position of L[P,Q] in data
	slotQP   int32   // position of L[Q,P]
	g        float64 // geometric factor: face area over centre distance
	h        float64 // signed distance from P to Q along the connection
	face     float64 // face coordinate along axis (axis connections)
	boundary bool
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
	op := &Operator{g: g, m: m, d: d, alpha: m.Convention.Alpha()}
	if s != nil {
		op.set = *s
	}
	op.scheme = op.set.Scheme
	if op.set.Regularization < 0 || math.IsNaN(op.set.Regularization) {
		return nil, fmt.Errorf("operators: Regularization must be >= 0, got %v", op.set.Regularization)
	}
	op.vol = g.Volumes(nil)
	op.x = make([]float64, d)
	op.y = make([]float64, d)
	op.mu = make([]float64, d)
	op.dm = make([]float64, d*d)
	for k := 0; k < d; k++ {
		var e offset
		e[k] = 1
		op.offs = append(op.offs, e)
		op.kappa = append(op.kappa, make([]float64, g.Len()))
	}
	if m.Potential != nil {
		op.pot = make([]float64, g.Len())
	}
	if _, err := op.evalCells(0); err != nil {
		return nil, err
	}
	op.buildPattern()
	if err := op.fill(0); err != nil {
		return nil, err
	}
	return op, nil
}

// Grid returns the grid of the operator.
func (op *Operator) Grid() *grid.Grid { return op.g }

// Model returns the model of the operator.
func (op *Operator) Model() Model { return op.m }

// Scheme returns the flux scheme.
func (op *Operator) Scheme() Scheme { return op.scheme }

// Matrix returns L as a CSR matrix. Its values change in place on Assemble;
// its sparsity pattern is fixed unless Assemble reports a rebuild.
func (op *Operator) Matrix() *sparse.CSR { return op.mat }

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
		op.buildPattern()
	}
	return changed, op.fill(t)
}

// MulVecTo computes dst = L x, overwriting dst.
func (op *Operator) MulVecTo(dst, x []float64) {
	n := op.g.Len()
	if len(dst) != n || len(x) != n {
		panic("operators: wrong vector length")
	}
	ip, ind, data := op.indptr, op.ind, op.data
	for i := 0; i < n; i++ {
		s := 0.0
		for k := ip[i]; k < ip[i+1]; k++ {
			s += data[k] * x[ind[k]]
		}
		dst[i] = s
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

// diffusionAt evaluates and checks D at x, leaving it in op.dm.
func (op *Operator) diffusionAt(x []float64, t float64) error {
	d := op.d
	dm := op.dm
	for i := range dm {
		dm[i] = 0
	}
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

// evalCells evaluates D (decomposed into stencil weights) and U at every cell
// centre. It reports whether a new stencil direction appeared.
func (op *Operator) evalCells(t float64) (changed bool, err error) {
	g, d := op.g, op.d
	n := g.Len()
	for o := d; o < len(op.kappa); o++ {
		clear(op.kappa[o])
	}
	x := op.x
	for l := 0; l < n; l++ {
		g.Centre(x, l)
		if err := op.diffusionAt(x, t); err != nil {
			return false, err
		}
		if op.pot != nil {
			u := op.m.Potential(x, t)
			if math.IsNaN(u) || math.IsInf(u, 0) {
				return false, op.pointError("potential", x, t, fmt.Sprintf("U = %v", u))
			}
			op.pot[l] = u
		}
		c, err := op.decompose(l, x, t)
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	return changed, nil
}

// cellWidths returns the cell widths at cell l.
func (op *Operator) cellWidths(l int) (h [maxSellingDim]float64) {
	strides := op.g.Strides()
	for k := 0; k < op.d && k < maxSellingDim; k++ {
		i := l / strides[k]
		l -= i * strides[k]
		h[k] = op.g.Widths(k)[i]
	}
	return h
}

// sellingTerms decomposes op.dm in the cell units of cell l into op.terms,
// with each weight converted to kappa = lambda |H e|^2, the variance rate of
// D along the unit vector of e.
func (op *Operator) sellingTerms(l int, x []float64, t float64) error {
	d, dm := op.d, op.dm
	h := op.cellWidths(l)
	var ms [maxSellingDim * maxSellingDim]float64
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			ms[i*d+j] = dm[i*d+j] / (h[i] * h[j])
		}
	}
	var err error
	op.terms, err = selling(op.terms[:0], ms[:d*d], d, op.set.maxSteps())
	if err != nil {
		return op.pointError("diffusion", x, t, "D is too anisotropic for this grid: Selling's decomposition did not terminate (set a small Regularization, or refine the grid)")
	}
	for i := range op.terms {
		tm := &op.terms[i]
		if tm.lambda == 0 {
			continue
		}
		if n := tm.e.normInf(d); n > op.set.maxStencil() {
			return op.pointError("diffusion", x, t, fmt.Sprintf("D is too anisotropic for this grid: its monotone stencil needs direction %v (length %d > MaxStencil %d); refine the grid, raise MaxStencil or set a small Regularization", tm.e[:d], n, op.set.maxStencil()))
		}
		s := 0.0
		for k := 0; k < d; k++ {
			s += float64(tm.e[k]*tm.e[k]) * h[k] * h[k]
		}
		tm.lambda *= s
	}
	return nil
}

// decompose splits op.dm (D at cell l) into stencil weights kappa[o][l]. It
// reports whether a new stencil direction appeared.
func (op *Operator) decompose(l int, x []float64, t float64) (changed bool, err error) {
	d, dm := op.d, op.dm
	if op.m.Diagonal || d == 1 {
		for k := 0; k < d; k++ {
			op.kappa[k][l] = dm[k*d+k]
		}
		return false, nil
	}
	if err := op.sellingTerms(l, x, t); err != nil {
		return false, err
	}
	for k := 0; k < d; k++ {
		op.kappa[k][l] = 0
	}
	for _, tm := range op.terms {
		if tm.lambda == 0 {
			continue
		}
		o := op.offsetIndex(tm.e)
		if o < 0 {
			op.offs = append(op.offs, tm.e)
			op.kappa = append(op.kappa, make([]float64, op.g.Len()))
			o = len(op.offs) - 1
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

// buildPattern lays out the connections and the CSR sparsity pattern.
func (op *Operator) buildPattern() {
	g, d := op.g, op.d
	n := g.Len()
	shape, strides := g.Shape(), g.Strides()
	op.conns = op.conns[:0]
	mi := make([]int, d)
	qi := make([]int, d)
	for l := 0; l < n; l++ {
		g.MultiIndex(mi, l)
		// Axis connections to the upper neighbour, and absorbing faces.
		for k := 0; k < d; k++ {
			c := g.Centres(k)
			e := g.Edges(k)
			lo, hi := g.Bounds(k)
			i := mi[k]
			area := op.vol[l] / g.Widths(k)[i]
			if i == 0 && lo == grid.Absorbing {
				h := c[0] - e[0]
				op.conns = append(op.conns, connection{p: -1, q: int32(l), o: int16(k), qo: int16(k), kind: connOutLower, axis: int8(k), g: area / h, h: h, face: e[0], boundary: true})
			}
			if i+1 < shape[k] {
				h := c[i+1] - c[i]
				op.conns = append(op.conns, connection{p: int32(l), q: int32(l + strides[k]), o: int16(k), qo: int16(k), kind: connInterior, axis: int8(k), g: area / h, h: h, face: e[i+1]})
			} else if hi == grid.Periodic && shape[k] > 1 {
				L := g.Length(k)
				h := (e[i+1] - c[i]) + (c[0] - e[0])
				op.conns = append(op.conns, connection{p: int32(l), q: int32(l - i*strides[k]), o: int16(k), qo: int16(k), kind: connInterior, axis: int8(k), g: area / h, h: h, face: e[i+1], wrap: L, boundary: true})
			} else if hi == grid.Absorbing {
				h := e[i+1] - c[i]
				op.conns = append(op.conns, connection{p: int32(l), q: -1, o: int16(k), qo: int16(k), kind: connOutUpper, axis: int8(k), g: area / h, h: h, face: e[i+1], boundary: true})
			}
		}
		// Cross connections P -> P + e.
		for o := d; o < len(op.offs); o++ {
			e := op.offs[o]
			absorbed := false
			mirrored := false
			var qe offset
			copy(qe[:], e[:])
			for k := 0; k < d; k++ {
				j := mi[k] + e[k]
				lo, hi := g.Bounds(k)
				switch {
				case j >= 0 && j < shape[k]:
				case g.Periodic(k):
					j = ((j % shape[k]) + shape[k]) % shape[k]
				case (j < 0 && lo == grid.Absorbing) || (j >= shape[k] && hi == grid.Absorbing):
					absorbed = true
				default: // reflecting: mirror the target cell back inside
					if j < 0 {
						j = -j - 1
					} else {
						j = 2*shape[k] - j - 1
					}
					if j < 0 || j >= shape[k] {
						absorbed = true // stencil longer than the grid
					}
					qe[k] = -qe[k]
					mirrored = true
				}
				qi[k] = j
			}
			if absorbed {
				if op.kappa[o][l] > 0 {
					op.conns = append(op.conns, connection{p: int32(l), q: -1, o: int16(o), qo: int16(o), kind: connOutUpper, axis: -1, boundary: true})
				}
				continue
			}
			q := 0
			for k := 0; k < d; k++ {
				q += qi[k] * strides[k]
			}
			if q == l {
				continue
			}
			qo := o
			if mirrored {
				// After a mirror the direction seen from Q is the
				// reflected one; register it (with zero weights) if new.
				qe = qe.canonical(d)
				if qo = op.offsetIndex(qe); qo < 0 {
					op.offs = append(op.offs, qe)
					op.kappa = append(op.kappa, make([]float64, n))
					qo = len(op.offs) - 1
				}
			}
			// Without time dependence the weights are final: prune
			// connections that carry nothing.
			if !op.m.TimeDependent && op.kappa[o][l] == 0 && op.kappa[qo][q] == 0 {
				continue
			}
			op.conns = append(op.conns, connection{p: int32(l), q: int32(q), o: int16(o), qo: int16(qo), kind: connInterior, axis: -1, boundary: mirrored})
		}
	}
	// Cross connection geometry: g = mean volume over mean squared length.
	for ci := range op.conns {
		c := &op.conns[ci]
		if c.axis >= 0 {
			continue
		}
		e := op.offs[c.o]
		lp := op.sqLen(e, int(c.p))
		if c.q >= 0 {
			lq := op.sqLen(e, int(c.q))
			c.g = (op.vol[c.p] + op.vol[c.q]) / (lp + lq)
		} else {
			c.g = op.vol[c.p] / lp
		}
	}

	// CSR pattern: the diagonal plus both ends of every interior connection.
	cols := make([][]int32, n)
	for l := 0; l < n; l++ {
		cols[l] = append(cols[l], int32(l))
	}
	for _, c := range op.conns {
		if c.kind == connInterior {
			cols[c.p] = append(cols[c.p], c.q)
			cols[c.q] = append(cols[c.q], c.p)
		}
	}
	op.indptr = make([]int, n+1)
	op.ind = op.ind[:0]
	for l := 0; l < n; l++ {
		slices.Sort(cols[l])
		cols[l] = slices.Compact(cols[l])
		for _, j := range cols[l] {
			op.ind = append(op.ind, int(j))
		}
		op.indptr[l+1] = len(op.ind)
	}
	op.data = make([]float64, len(op.ind))
	find := func(i, j int32) int32 {
		row := op.ind[op.indptr[i]:op.indptr[i+1]]
		k, ok := slices.BinarySearch(row, int(j))
		if !ok {
			panic("operators: internal error: missing pattern entry")
		}
		return int32(op.indptr[i] + k)
	}
	op.diagSlot = make([]int32, n)
	for l := 0; l < n; l++ {
		op.diagSlot[l] = find(int32(l), int32(l))
	}
	for ci := range op.conns {
		c := &op.conns[ci]
		if c.kind == connInterior {
			c.slotPQ = find(c.p, c.q)
			c.slotQP = find(c.q, c.p)
		}
	}
	op.mat = sparse.NewCSR(n, n, op.indptr, op.ind, op.data)
	op.stats.CrossDirections = len(op.offs) - d
}

// sqLen returns |H e|^2 with H the cell widths at cell l.
func (op *Operator) sqLen(e offset, l int) float64 {
	s := 0.0
	strides := op.g.Strides()
	for k := 0; k < op.d; k++ {
		i := l / strides[k]
		l -= i * strides[k]
		h := op.g.Widths(k)[i] * float64(e[k])
		s += h * h
	}
	return s
}

// fill computes the matrix values at time t from the cell weights.
func (op *Operator) fill(t float64) error {
	g, d := op.g, op.d
	data := op.data
	clear(data)
	alpha := op.alpha
	var st Stats
	st.Time = t
	st.CrossDirections = len(op.offs) - d
	st.MaxStencil = 1
	for o := d; o < len(op.offs); o++ {
		st.MaxStencil = max(st.MaxStencil, op.offs[o].normInf(d))
	}
	x, mu := op.x, op.mu
	for ci := range op.conns {
		c := &op.conns[ci]
		var kp, kq, v float64
		var err error
		switch c.kind {
		case connInterior:
			kp = op.kappa[c.o][c.p]
			kq = op.kappa[c.qo][c.q]
		case connOutLower:
			kq = op.kappa[c.o][c.q]
			kp, err = op.faceKappa(c, int(c.q), t)
		case connOutUpper:
			kp = op.kappa[c.o][c.p]
			if c.axis >= 0 {
				kq, err = op.faceKappa(c, int(c.p), t)
			} else {
				kq = kp
			}
		}
		if err != nil {
			return err
		}
		// Noise-induced drift: differences of the weight between the ends.
		v = -(1 - alpha) * (kq - kp)
		if c.axis >= 0 {
			k := int(c.axis)
			// Drift at the face centre, times the centre distance.
			cell := c.p
			if cell < 0 {
				cell = c.q
			}
			g.Centre(x, int(cell))
			x[k] = c.face
			if op.m.Drift != nil {
				clear(mu)
				op.m.Drift(mu, x, t)
				if math.IsNaN(mu[k]) || math.IsInf(mu[k], 0) {
					return op.pointError("drift", x, t, fmt.Sprintf("mu[%d] = %v", k, mu[k]))
				}
				v += mu[k] * c.h
			}
			if op.pot != nil {
				var up, uq float64
				switch c.kind {
				case connInterior:
					up = op.pot[c.p]
					uq = op.pot[c.q]
					if c.wrap != 0 {
						g.Centre(x, int(c.q))
						x[k] += c.wrap
						uq = op.m.Potential(x, t)
					}
				case connOutLower:
					up = op.m.Potential(x, t)
					uq = op.pot[c.q]
				case connOutUpper:
					up = op.pot[c.p]
					uq = op.m.Potential(x, t)
				}
				if math.IsNaN(up) || math.IsNaN(uq) || math.IsInf(up, 0) || math.IsInf(uq, 0) {
					return op.pointError("potential", x, t, "U is not finite")
				}
				v -= uq - up
			}
		}
		kf := logMean(kp, kq)
		a, b := faceCoefficients(op.scheme, c.g, kf, v)
		if kf > 0 {
			st.MaxPeclet = math.Max(st.MaxPeclet, math.Abs(v/kf))
		}
		// F = a p_P − b p_Q leaves P and enters Q.
		switch c.kind {
		case connInterior:
			vp, vq := op.vol[c.p], op.vol[c.q]
			data[op.diagSlot[c.p]] -= a / vp
			data[c.slotPQ] += b / vp
			data[op.diagSlot[c.q]] -= b / vq
			data[c.slotQP] += a / vq
		case connOutLower: // only the inflow term −b p_Q matters: mass leaves Q
			data[op.diagSlot[c.q]] -= b / op.vol[c.q]
		case connOutUpper:
			data[op.diagSlot[c.p]] -= a / op.vol[c.p]
		}
	}
	// Positivity diagnostics.
	n := g.Len()
	for i := 0; i < n; i++ {
		dg := math.Abs(data[op.diagSlot[i]])
		for k := op.indptr[i]; k < op.indptr[i+1]; k++ {
			if op.ind[k] == i {
				continue
			}
			if data[k] < -1e-14*dg {
				st.NegativeOffDiagonals++
				if r := data[k] / dg; r < st.MinOffDiagonal {
					st.MinOffDiagonal = r
				}
			}
		}
	}
	op.stats = st
	op.t = t
	return nil
}

// faceKappa returns the axis weight of D at the absorbing face of connection
// c next to cell l.
func (op *Operator) faceKappa(c *connection, l int, t float64) (float64, error) {
	x := op.x
	op.g.Centre(x, l)
	k := int(c.axis)
	x[k] = c.face
	if err := op.diffusionAt(x, t); err != nil {
		return 0, err
	}
	if op.m.Diagonal || op.d == 1 {
		return op.dm[k*op.d+k], nil
	}
	if err := op.sellingTerms(l, x, t); err != nil {
		return 0, err
	}
	w := 0.0
	for _, tm := range op.terms {
		if tm.e.axis(op.d) == k {
			w += tm.lambda
		}
	}
	return w, nil
}
