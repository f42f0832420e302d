package sgd

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fokkerplanck/fokker/grid"
)

// Landscape holds the statistics of the per-sample gradient over the data
// at the points where the Fokker–Planck operator reads its coefficients:
// exactly at the cell centres (mean loss, mean gradient, covariance, mean
// Hessian, and the third and fourth central moments used by the O(eta)
// correction) and at the centres of the cell faces (mean gradient and mean
// Hessian). They do not depend on
// the learning rate or the batch size, so one Landscape serves every
// Config (a sweep over eta).
//
// A Landscape is immutable after Evaluate and safe for concurrent use.
type Landscape struct {
	g    *grid.Grid
	loss *Loss
	data *Data
	cols [][]float64 // data columns in the loss's order
	d    int
	nh   int // entries of a symmetric d×d matrix stored as a triangle
	// threads of Evaluate (also for the grid check's landscape).
	threads int
	// centreStep[k] is the spacing of the cell centres along axis k on a
	// uniform grid, else 0: interpolation then finds a point's interval by
	// division instead of bisection.
	centreStep [maxDim]float64

	// Cell centres, indexed [component][cell].
	value []float64   // mean loss
	grad  [][]float64 // mean gradient, d components
	cov   [][]float64 // covariance (divisor N), nh components
	hess  [][]float64 // mean Hessian, nh components
	mom3  [][]float64 // third central moments, one per sorted index triple (tuples3)
	mom4  [][]float64 // fourth central moments, one per sorted index quadruple (tuples4)

	tuples3, tuples4 [][]int

	// Faces along axis k: faceGrad[k][m][f], f in row-major order over the
	// face shape (the grid shape with n_k+1 along k).
	faceShape   [][]int
	faceStrides [][]int
	faceGrad    [][][]float64
	faceHess    [][][]float64

	pool sync.Pool // *workspace for points off the centres and faces

	// Evaluations counts point evaluations over the data (for reports).
	Evaluations int
}

// workspace holds the batch buffers of one goroutine.
type workspace struct {
	cols  [][]float64 // expression columns: theta (length 1 each), data, constants (nil)
	theta [][]float64 // views into cols
	u     []float64
	g     [][]float64
	dev   []float64 // deviations of one row
	h     []float64
}

func (ls *Landscape) newWorkspace() *workspace {
	n := ls.data.Len()
	w := &workspace{cols: make([][]float64, ls.loss.NumVars())}
	w.theta = make([][]float64, ls.d)
	for k := range w.theta {
		w.theta[k] = make([]float64, 1)
		w.cols[k] = w.theta[k]
	}
	for j, c := range ls.cols {
		w.cols[ls.d+j] = c
	}
	w.u = make([]float64, n)
	w.g = make([][]float64, ls.d)
	for k := range w.g {
		w.g[k] = make([]float64, n)
	}
	w.dev = make([]float64, ls.d)
	w.h = make([]float64, n)
	return w
}

// pointStats are the statistics at one point.
type pointStats struct {
	value float64
	grad  [maxDim]float64
	cov   [maxDim * (maxDim + 1) / 2]float64
	hess  [maxDim * (maxDim + 1) / 2]float64
	mom3  [10]float64 // sorted triples: 1, 4, 10 for d = 1, 2, 3
	mom4  [15]float64 // sorted quadruples: 1, 5, 15
}

// maxDim is the largest number of parameters: full diffusion tensors are
// discretised up to 3 dimensions.
const maxDim = 3

// what selects the statistics to compute at a point.
type what uint8

const (
	wantValue what = 1 << iota
	wantGrad
	wantCov
	wantHess
	wantMoments
)

// PointError is a loss, gradient or Hessian that is not finite at a point
// for a data row.
type PointError struct {
	Names []string
	Theta []float64
	Row   int // 1-based
	What  string
	Value float64
}

func (e *PointError) Error() string {
	var b strings.Builder
	for k, v := range e.Theta {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%.6g", e.Names[k], v)
	}
	return fmt.Sprintf("sgd: %s at (%s) is %v for data row %d", e.What, b.String(), e.Value, e.Row)
}

// stats computes the statistics selected by want at theta over all data
// rows into out.
func (ls *Landscape) stats(w *workspace, theta []float64, want what, out *pointStats) error {
	d, n := ls.d, ls.data.Len()
	for k := 0; k < d; k++ {
		w.theta[k][0] = theta[k]
	}
	fn := float64(n)
	check := func(v []float64, label string) error {
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return &PointError{Names: ls.g.Names(), Theta: append([]float64(nil), theta...), Row: i + 1, What: label, Value: x}
			}
		}
		return nil
	}
	if want&wantValue != 0 {
		ls.loss.U.EvalBatch(w.u, w.cols)
		if err := check(w.u, "loss"); err != nil {
			return err
		}
		out.value = sum(w.u) / fn
	}
	if want&(wantGrad|wantCov) != 0 {
		for k := 0; k < d; k++ {
			ls.loss.Grad[k].EvalBatch(w.g[k], w.cols)
			if err := check(w.g[k], "gradient component "+ls.g.Names()[k]); err != nil {
				return err
			}
			out.grad[k] = sum(w.g[k]) / fn
		}
	}
	if want&wantCov != 0 {
		// Two passes: deviations from the mean, for accuracy where the
		// mean gradient is large compared with its spread.
		for i := 0; i < d; i++ {
			gi, mi := w.g[i], out.grad[i]
			for j := i; j < d; j++ {
				gj, mj := w.g[j], out.grad[j]
				s := 0.0
				for r := range gi {
					s += (gi[r] - mi) * (gj[r] - mj)
				}
				out.cov[SymIndex(d, i, j)] = s / fn
			}
		}
	}
	if want&wantHess != 0 {
		for k, h := range ls.loss.Hess {
			h.EvalBatch(w.h, w.cols)
			if err := check(w.h, "Hessian entry"); err != nil {
				return err
			}
			out.hess[k] = sum(w.h) / fn
		}
	}
	if want&wantMoments != 0 {
		t3, t4 := ls.tuples3, ls.tuples4
		clear(out.mom3[:len(t3)])
		clear(out.mom4[:len(t4)])
		dev := w.dev
		for r := 0; r < n; r++ {
			for k := 0; k < d; k++ {
				dev[k] = w.g[k][r] - out.grad[k]
			}
			for a, t := range t3 {
				out.mom3[a] += dev[t[0]] * dev[t[1]] * dev[t[2]]
			}
			for a, t := range t4 {
				out.mom4[a] += dev[t[0]] * dev[t[1]] * dev[t[2]] * dev[t[3]]
			}
		}
		for a := range t3 {
			out.mom3[a] /= fn
		}
		for a := range t4 {
			out.mom4[a] /= fn
		}
	}
	return nil
}

// sortedTuples returns the non-decreasing k-tuples of indices in [0, d).
func sortedTuples(d, k int) [][]int {
	var out [][]int
	var rec func(prefix []int, from int)
	rec = func(prefix []int, from int) {
		if len(prefix) == k {
			out = append(out, append([]int(nil), prefix...))
			return
		}
		for i := from; i < d; i++ {
			rec(append(prefix, i), i)
		}
	}
	rec(nil, 0)
	return out
}

func sum(v []float64) float64 {
	// Pairwise in blocks: accurate to O(log n) ulps.
	if len(v) <= 64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s
	}
	h := len(v) / 2
	return sum(v[:h]) + sum(v[h:])
}

// Evaluate computes the landscape of loss over data on g, using threads
// goroutines (0: GOMAXPROCS). The work is N·(cells + faces) evaluations of
// the gradient (and at the centres of the loss and the covariance), each
// point a batch over the data rows.
func Evaluate(g *grid.Grid, loss *Loss, data *Data, threads int) (*Landscape, error) {
	return EvaluateProgress(g, loss, data, threads, nil)
}

// EvaluateProgress is Evaluate that reports the fraction of points done to
// progress (if not nil) about five times a second, from the calling
// goroutine.
func EvaluateProgress(g *grid.Grid, loss *Loss, data *Data, threads int, progress func(frac float64)) (*Landscape, error) {
	d := g.Dim()
	if loss.Dim() != d {
		return nil, fmt.Errorf("sgd: loss has %d parameters, grid has %d axes", loss.Dim(), d)
	}
	if d > maxDim {
		return nil, fmt.Errorf("sgd: %d parameters; fokker sgd supports 1 to %d (full diffusion tensors)", d, maxDim)
	}
	cols, err := loss.columnsOf(data)
	if err != nil {
		return nil, err
	}
	ls := &Landscape{g: g, loss: loss, data: data, cols: cols, d: d, nh: d * (d + 1) / 2, threads: threads}
	ls.tuples3, ls.tuples4 = sortedTuples(d, 3), sortedTuples(d, 4)
	if g.Uniform() {
		for k := 0; k < d; k++ {
			ls.centreStep[k] = g.Widths(k)[0]
		}
	}
	ls.pool.New = func() any { return ls.newWorkspace() }
	n := g.Len()
	ls.value = make([]float64, n)
	ls.grad = alloc2(d, n)
	ls.cov = alloc2(ls.nh, n)
	ls.hess = alloc2(ls.nh, n)
	ls.mom3 = alloc2(len(ls.tuples3), n)
	ls.mom4 = alloc2(len(ls.tuples4), n)
	ls.faceShape = make([][]int, d)
	ls.faceStrides = make([][]int, d)
	ls.faceGrad = make([][][]float64, d)
	ls.faceHess = make([][][]float64, d)
	total := n
	for k := 0; k < d; k++ {
		sh := append([]int(nil), g.Shape()...)
		sh[k]++
		st := make([]int, d)
		s := 1
		for j := d - 1; j >= 0; j-- {
			st[j] = s
			s *= sh[j]
		}
		ls.faceShape[k], ls.faceStrides[k] = sh, st
		ls.faceGrad[k] = alloc2(d, s)
		ls.faceHess[k] = alloc2(ls.nh, s)
		total += s
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	const block = 64
	var next atomic.Int64
	// On an error, workers stop claiming blocks but finish their own, and
	// the error of the lowest point is reported: the same whatever the
	// scheduling.
	var mu sync.Mutex
	var firstErr error
	errAt := total
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := ls.newWorkspace()
			x := make([]float64, d)
			idx := make([]int, d)
			var ps pointStats
			for {
				lo := int(next.Add(block)) - block
				if lo >= total {
					return
				}
				for p := lo; p < min(lo+block, total); p++ {
					if err := ls.evalPoint(w, p, x, idx, &ps); err != nil {
						mu.Lock()
						if p < errAt {
							errAt, firstErr = p, err
						}
						mu.Unlock()
						next.Store(int64(total))
						return
					}
				}
			}
		}()
	}
	if progress == nil {
		wg.Wait()
	} else {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		tick := time.NewTicker(200 * time.Millisecond)
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-tick.C:
				progress(min(float64(next.Load())/float64(total), 1))
			}
		}
		tick.Stop()
		progress(1)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	ls.Evaluations = total
	return ls, nil
}

// evalPoint evaluates point p of the combined list: cells, then the faces
// along each axis.
func (ls *Landscape) evalPoint(w *workspace, p int, x []float64, idx []int, ps *pointStats) error {
	g := ls.g
	if p < g.Len() {
		g.Centre(x, p)
		if err := ls.stats(w, x, wantValue|wantGrad|wantCov|wantHess|wantMoments, ps); err != nil {
			return err
		}
		ls.value[p] = ps.value
		for k := 0; k < ls.d; k++ {
			ls.grad[k][p] = ps.grad[k]
		}
		for k := 0; k < ls.nh; k++ {
			ls.cov[k][p] = ps.cov[k]
			ls.hess[k][p] = ps.hess[k]
		}
		for a := range ls.tuples3 {
			ls.mom3[a][p] = ps.mom3[a]
		}
		for a := range ls.tuples4 {
			ls.mom4[a][p] = ps.mom4[a]
		}
		return nil
	}
	p -= g.Len()
	for k := 0; k < ls.d; k++ {
		nf := len(ls.faceGrad[k][0])
		if p >= nf {
			p -= nf
			continue
		}
		f := p
		for j := 0; j < ls.d; j++ {
			idx[j] = f / ls.faceStrides[k][j]
			f -= idx[j] * ls.faceStrides[k][j]
			if j == k {
				x[j] = g.Edges(j)[idx[j]]
			} else {
				x[j] = g.Centres(j)[idx[j]]
			}
		}
		if err := ls.stats(w, x, wantGrad|wantHess, ps); err != nil {
			return err
		}
		for m := 0; m < ls.d; m++ {
			ls.faceGrad[k][m][p] = ps.grad[m]
		}
		for m := 0; m < ls.nh; m++ {
			ls.faceHess[k][m][p] = ps.hess[m]
		}
		return nil
	}
	panic("sgd: internal error: point index out of range")
}

func alloc2(m, n int) [][]float64 {
	out := make([][]float64, m)
	for i := range out {
		out[i] = make([]float64, n)
	}
	return out
}

// Grid returns the grid of the landscape.
func (ls *Landscape) Grid() *grid.Grid { return ls.g }

// Loss returns the loss.
func (ls *Landscape) Loss() *Loss { return ls.loss }

// Data returns the data set.
func (ls *Landscape) Data() *Data { return ls.data }

// Value returns the mean loss L(theta) = (1/N) sum_i u(theta, X_i) at the
// cell centres. The slice must not be modified.
func (ls *Landscape) Value() []float64 { return ls.value }

// Gradient returns component k of the mean gradient at the cell centres.
// The slice must not be modified.
func (ls *Landscape) Gradient(k int) []float64 { return ls.grad[k] }

// Covariance returns entry (i, j) of the covariance over the data (divisor
// N) of the per-sample gradient at the cell centres. The slice must not be
// modified.
func (ls *Landscape) Covariance(i, j int) []float64 { return ls.cov[SymIndex(ls.d, i, j)] }

// Hessian returns entry (i, j) of the mean Hessian at the cell centres. The
// slice must not be modified.
func (ls *Landscape) Hessian(i, j int) []float64 { return ls.hess[SymIndex(ls.d, i, j)] }

// location of a point on the grid.
type location struct {
	kind int // 0: elsewhere, 1: cell centre, 2: face centre
	cell int // cell index, or face index
	axis int // axis of the face
}

// locate finds x exactly at a cell centre or a face centre. The operator
// evaluates its coefficients at coordinates read from the grid's own
// centres and edges, so exact comparison finds them.
func (ls *Landscape) locate(x []float64) location {
	g := ls.g
	var idx [maxDim]int
	faceAxis := -1
	for k := 0; k < ls.d; k++ {
		c := g.Centres(k)
		i := sort.SearchFloat64s(c, x[k])
		if i < len(c) && c[i] == x[k] {
			idx[k] = i
			continue
		}
		e := g.Edges(k)
		i = sort.SearchFloat64s(e, x[k])
		if i < len(e) && e[i] == x[k] && faceAxis < 0 {
			idx[k] = i
			faceAxis = k
			continue
		}
		return location{}
	}
	if faceAxis < 0 {
		l := 0
		for k, s := range g.Strides() {
			l += idx[k] * s
		}
		return location{kind: 1, cell: l}
	}
	f := 0
	for k, s := range ls.faceStrides[faceAxis] {
		f += idx[k] * s
	}
	return location{kind: 2, cell: f, axis: faceAxis}
}

// at returns the statistics selected by want at x: from the tables at
// centres and faces, otherwise computed over the data (without
// allocating in the steady state).
func (ls *Landscape) at(x []float64, want what, out *pointStats) error {
	loc := ls.locate(x)
	switch {
	case loc.kind == 1:
		l := loc.cell
		out.value = ls.value[l]
		for k := 0; k < ls.d; k++ {
			out.grad[k] = ls.grad[k][l]
		}
		for k := 0; k < ls.nh; k++ {
			out.cov[k] = ls.cov[k][l]
			out.hess[k] = ls.hess[k][l]
		}
		return nil
	case loc.kind == 2 && want&(wantValue|wantCov|wantMoments) == 0:
		f, k := loc.cell, loc.axis
		for m := 0; m < ls.d; m++ {
			out.grad[m] = ls.faceGrad[k][m][f]
		}
		for m := 0; m < ls.nh; m++ {
			out.hess[m] = ls.faceHess[k][m][f]
		}
		return nil
	}
	w := ls.pool.Get().(*workspace)
	defer ls.pool.Put(w)
	return ls.stats(w, x, want, out)
}

// StatsAt returns the mean loss, the mean gradient (length d) and the
// gradient covariance (d×d, row-major) at the point theta, computed over
// the data.
func (ls *Landscape) StatsAt(theta []float64) (value float64, grad, cov []float64, err error) {
	var ps pointStats
	w := ls.pool.Get().(*workspace)
	defer ls.pool.Put(w)
	if err := ls.stats(w, theta, wantValue|wantGrad|wantCov, &ps); err != nil {
		return 0, nil, nil, err
	}
	d := ls.d
	grad = append([]float64(nil), ps.grad[:d]...)
	cov = make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			cov[i*d+j] = ps.cov[SymIndex(d, i, j)]
		}
	}
	return ps.value, grad, cov, nil
}
