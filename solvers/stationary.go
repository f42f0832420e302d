package solvers

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/james-bowman/sparse"

	"github.com/fokkerplanck/fokker/operators"
)

// StationarySettings configures Stationary. A nil *StationarySettings means
// the zero value, whose every field documents its default.
type StationarySettings struct {
	// Linear configures the linear solver (zero value: Auto, tolerance
	// 1e-10 — here the default tolerance is 1e-12, as the pinned system is
	// small in norm).
	Linear LinearSettings
	// Time at which time-dependent coefficients are frozen (zero value: 0).
	Time float64
	// NoDetailedBalance skips the direct solve for reversible processes
	// (see StationaryResult.Method) and always solves iteratively.
	NoDetailedBalance bool
	// Refinement is the number of rounds of iterative refinement with
	// residuals in doubled precision after the solve (zero value: 2; negative:
	// none). It brings the density to full working precision even where the
	// pinned system is ill-conditioned.
	Refinement int
}

// StationaryResult reports a stationary solve.
type StationaryResult struct {
	// Residual is the balance defect of the normalised density p:
	// sum_i |(L p)_i| V_i / sum_i |L_ii p_i| V_i, the fraction of the gross
	// probability outflow of the cells that is not balanced by inflow.
	Residual float64
	// Method is "detailed balance" when the process was found reversible
	// and its stationary density computed directly from the ratios of the
	// exchange rates (exact to round-off, O(nnz)), else "iterative": one
	// cell's equation replaced by p = 1, the system solved by the linear
	// solver, refined and normalised.
	Method string
	// Pin is the cell whose equation was replaced by p = 1 before
	// normalising (−1 for detailed balance).
	Pin int
	// Linear reports the (last) linear solve.
	Linear LinearResult
	// MinDensity is the smallest entry of p before round-off clipping,
	// relative to the largest.
	MinDensity float64
	Duration   time.Duration
}

// ErrNoStationary is returned by Stationary when the boundaries absorb mass.
var ErrNoStationary = errors.New("solvers: no stationary density: an absorbing boundary removes mass, so the only steady state is p = 0 (use a transient run)")

// Stationary computes the normalised stationary density of op into dst:
// L p = 0, sum p V = 1. Tiny negative entries left by the linear solver's
// tolerance are set to zero; MinDensity reports them.
func Stationary(dst []float64, op *operators.Operator, s *StationarySettings) (StationaryResult, error) {
	start := time.Now()
	g := op.Grid()
	n := g.Len()
	if len(dst) != n {
		panic("solvers: wrong length of dst")
	}
	if g.HasAbsorbing() {
		return StationaryResult{}, ErrNoStationary
	}
	var set StationarySettings
	if s != nil {
		set = *s
	}
	if set.Linear.Tolerance <= 0 {
		set.Linear.Tolerance = 1e-12
	}
	if set.Linear.Shape == nil {
		set.Linear.Shape = g.Shape()
	}
	if op.Model().TimeDependent {
		if _, err := op.Assemble(set.Time); err != nil {
			return StationaryResult{}, err
		}
	}
	if set.Linear.Method == Auto && !set.NoDetailedBalance {
		if defect, minDensity, ok := detailedBalance(dst, op); ok {
			res := StationaryResult{Method: "detailed balance", Pin: -1, Residual: defect, MinDensity: minDensity}
			res.Linear.Status = Converged
			res.Duration = time.Since(start)
			return res, nil
		}
	}
	l := op.Matrix()
	raw := l.RawMatrix()
	data := make([]float64, len(raw.Data))
	a := sparse.NewCSR(n, n, raw.Indptr, raw.Ind, data)
	b := make([]float64, n)
	for i := range dst {
		dst[i] = 1
	}
	pin := initialPin(op)
	var res StationaryResult
	var solver LinearSolver
	var lastErr error
	for pass := 0; pass < 3; pass++ {
		s := PinRow(data, l, pin)
		clear(b)
		b[pin] = s
		var err error
		if solver == nil {
			solver, err = NewLinearSolver(a, &set.Linear)
		} else {
			err = solver.Factor(a)
		}
		if err != nil {
			return res, fmt.Errorf("solvers: stationary: %w", err)
		}
		// Scale the initial guess so that its pinned value is 1.
		if dst[pin] > 0 {
			f := 1 / dst[pin]
			for i := range dst {
				dst[i] *= f
			}
		}
		res.Linear, err = solver.Solve(dst, b)
		res.Pin = pin
		if err != nil {
			// A pin where the density is nearly zero scales the system
			// badly; if the failed iterate shows a better place, retry
			// there.
			lastErr = err
			if imax := argmax(dst); pass < 2 && imax != pin && dst[imax] > 0 && !math.IsInf(dst[imax], 0) {
				pin = imax
				continue
			}
			return res, fmt.Errorf("solvers: stationary: %w", err)
		}
		lastErr = nil
		if set.Refinement >= 0 {
			rounds := set.Refinement
			if rounds == 0 {
				rounds = 2
			}
			rel, its, err := refine(solver, a, dst, b, rounds)
			res.Linear.Iterations += its
			res.Linear.Residual = rel
			if err != nil {
				return res, fmt.Errorf("solvers: stationary: refinement: %w", err)
			}
		}
		// A pin where the density is tiny makes the system badly scaled:
		// pin again at the maximum.
		imax := argmax(dst)
		if dst[pin] >= 1e-3*dst[imax] {
			break
		}
		pin = imax
	}
	if lastErr != nil {
		return res, fmt.Errorf("solvers: stationary: %w", lastErr)
	}
	mx, mn := 0.0, math.Inf(1)
	for _, v := range dst {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return res, errors.New("solvers: stationary: density is not finite")
		}
		mx = math.Max(mx, v)
		mn = math.Min(mn, v)
	}
	if mx <= 0 {
		return res, errors.New("solvers: stationary: solution has no positive entry")
	}
	res.MinDensity = mn / mx
	tiny := 100 * set.Linear.Tolerance * mx
	for i, v := range dst {
		if v < 0 && v > -tiny {
			dst[i] = 0
		}
	}
	mass := g.Mass(dst)
	for i := range dst {
		dst[i] /= mass
	}
	res.Residual = balanceDefect(op, dst, b)
	res.Method = "iterative"
	res.Duration = time.Since(start)
	return res, nil
}

// balanceDefect returns sum |(L p)_i| V_i / sum |L_ii p_i| V_i, using work
// (length n) as scratch.
func balanceDefect(op *operators.Operator, p, work []float64) float64 {
	op.MulVecTo(work, p)
	raw := op.Matrix().RawMatrix()
	vol := op.Volumes()
	num, den := 0.0, 0.0
	for i := range p {
		num += math.Abs(work[i]) * vol[i]
		for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
			if raw.Ind[k] == i {
				den += math.Abs(raw.Data[k]*p[i]) * vol[i]
			}
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func argmax(x []float64) int {
	k := 0
	for i, v := range x {
		if v > x[k] || math.IsNaN(x[k]) {
			k = i
		}
	}
	return k
}

// initialPin guesses a cell of high stationary density: the minimum of the
// potential if the model has one, else the centre of the grid.
func initialPin(op *operators.Operator) int {
	g := op.Grid()
	m := op.Model()
	if m.Potential != nil {
		x := make([]float64, g.Dim())
		best, bu := 0, math.Inf(1)
		for i := 0; i < g.Len(); i++ {
			g.Centre(x, i)
			if u := m.Potential(x, 0); u < bu {
				best, bu = i, u
			}
		}
		return best
	}
	idx := make([]int, g.Dim())
	for k, n := range g.Shape() {
		idx[k] = n / 2
	}
	return g.Index(idx)
}

// PinRow copies the values of the singular generator l into data (the same
// pattern) with the equation of cell pin replaced by s x_pin = s·value, s
// the magnitude of its diagonal — scaled like the other rows, so that
// relative residuals stay meaningful row by row — and returns s. With the
// pinned row the generator of an irreducible process becomes nonsingular.
func PinRow(data []float64, l *sparse.CSR, pin int) float64 {
	raw := l.RawMatrix()
	copy(data, raw.Data)
	s := 1.0
	for k := raw.Indptr[pin]; k < raw.Indptr[pin+1]; k++ {
		if raw.Ind[k] == pin && raw.Data[k] != 0 {
			s = math.Abs(raw.Data[k])
		}
	}
	for k := raw.Indptr[pin]; k < raw.Indptr[pin+1]; k++ {
		data[k] = 0
		if raw.Ind[k] == pin {
			data[k] = s
		}
	}
	return s
}
