package solvers

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/james-bowman/sparse"

	"github.com/fokkerplanck/fokker/operators"
)

// TimeMethod selects the implicit time integrator.
type TimeMethod int

const (
	// BackwardEuler is first order and L-stable: p_{n+1} − dt L p_{n+1} = p_n.
	BackwardEuler TimeMethod = iota
	// BDF2 is the second-order backward differentiation formula, with
	// variable-step coefficients; its first step is taken as a backward Euler
	// substep and three BDF2 substeps of growing length.
	BDF2
	// CrankNicolson is the second-order trapezoidal rule; its first step is
	// replaced by StartupSteps backward-Euler substeps (Rannacher), which damp
	// the high-frequency components of rough data that it would otherwise
	// keep oscillating.
	CrankNicolson
)

// String returns "euler", "bdf2" or "cn".
func (m TimeMethod) String() string {
	switch m {
	case BackwardEuler:
		return "euler"
	case BDF2:
		return "bdf2"
	case CrankNicolson:
		return "cn"
	}
	return fmt.Sprintf("TimeMethod(%d)", int(m))
}

// Order returns the order of accuracy of m.
func (m TimeMethod) Order() int {
	if m == BackwardEuler {
		return 1
	}
	return 2
}

// ParseTimeMethod returns the method named s.
func ParseTimeMethod(s string) (TimeMethod, error) {
	switch s {
	case "euler", "backward-euler", "be", "implicit-euler":
		return BackwardEuler, nil
	case "bdf2", "":
		return BDF2, nil
	case "cn", "crank-nicolson", "trapezoidal":
		return CrankNicolson, nil
	}
	return 0, fmt.Errorf("solvers: unknown time method %q (want euler, bdf2 or cn)", s)
}

// StepSettings configures a Stepper. A nil *StepSettings means the zero
// value, whose every field documents its default.
type StepSettings struct {
	// Method (zero value: BackwardEuler).
	Method TimeMethod
	// Dt is the fixed time step, or the first step when Adaptive (zero
	// value: 1/100 of the run for a fixed step, 1e-4 of it when adaptive).
	Dt float64
	// Adaptive enables step-size control by a local error estimate.
	Adaptive bool
	// Tolerance is the accepted local error per step, measured as the L1
	// norm sum |e_i| V_i of the density error (zero value: 1e-6).
	Tolerance float64
	// MinDt is the smallest adaptive step before the run fails (zero value:
	// 1e-12 of the run).
	MinDt float64
	// MaxDt caps adaptive steps (zero value: no cap but the output times).
	MaxDt float64
	// StartupSteps is the number of backward-Euler substeps that replace the
	// first Crank–Nicolson step (zero value: 2).
	StartupSteps int
	// Linear configures the linear solver (zero value: Auto, tolerance 1e-10).
	Linear LinearSettings
}

// State is what observers see after each accepted step.
type State struct {
	// T is the time of P.
	T float64
	// Step counts accepted steps (0 for the initial state of a fresh run;
	// RunFrom continues the count of its History).
	Step int
	// Dt is the step just taken (0 for the initial state).
	Dt float64
	// P is the density at T. Observers must not modify it or keep it.
	P []float64
	// Output is the index of the requested output time equal to T, or -1.
	Output int
	// ErrorEstimate is the local error estimate of the step (adaptive runs;
	// 0 otherwise).
	ErrorEstimate float64
	// Linear reports the step's (last) linear solve.
	Linear LinearResult
	// End is the final time of the run.
	End float64
}

// Observer is called after each accepted step. Returning ErrStop ends the
// run without error; any other error ends it with that error.
type Observer interface {
	Observe(s *State) error
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(s *State) error

// Observe implements Observer.
func (f ObserverFunc) Observe(s *State) error { return f(s) }

// ErrStop asks Run to stop after the current step.
var ErrStop = errors.New("solvers: stop requested")

// RunResult summarises a run.
type RunResult struct {
	T                float64 // time reached
	Steps            int     // accepted steps
	Rejected         int     // rejected adaptive steps
	Factorizations   int     // preconditioner or direct factorisations
	LinearIterations int     // total over all solves
	MaxResidual      float64 // largest relative residual of a linear solve
	Stopped          bool    // an observer returned ErrStop
	Duration         time.Duration
}

// Stepper integrates dp/dt = L(t) p. It owns its workspaces: a time loop
// allocates nothing after the first step.
type Stepper struct {
	op  *operators.Operator
	set StepSettings

	a      *sparse.CSR
	adata  []float64
	solver LinearSolver
	u      []float64 // L^T V, for the discrete mass balance

	// axis: A = c I − gamma L is kept in diagonal storage (dia) and
	// factored by AxisILU0, without CSR matrices (axis_system.go).
	axis bool
	dia  diaMatrix
	// cached coefficients of the factored matrix A = c I − gamma L
	fc, fg   float64
	factored bool
	uValid   bool // u is L^T V for the operator at opTime
	opTime   float64

	rhs, pnew, pred, work []float64
	guessed               bool         // pnew holds the initial guess of the next solve
	hist                  [2][]float64 // p_{n−1}, p_{n−2}
	hdt                   [2]float64   // dt_{n−1}, dt_{n−2}
	nhist                 int
	startPrev             []float64 // history left by a start-up step
	startDt               float64
	res                   RunResult
}

// NewStepper returns a stepper for op.
func NewStepper(op *operators.Operator, s *StepSettings) (*Stepper, error) {
	st := &Stepper{op: op}
	if s != nil {
		st.set = *s
	}
	switch {
	case st.set.Dt < 0 || math.IsNaN(st.set.Dt) || math.IsInf(st.set.Dt, 0):
		return nil, fmt.Errorf("solvers: time step must be positive and finite, got %v", st.set.Dt)
	case st.set.Tolerance < 0 || math.IsNaN(st.set.Tolerance):
		return nil, fmt.Errorf("solvers: tolerance must be positive, got %v", st.set.Tolerance)
	case st.set.Method < BackwardEuler || st.set.Method > CrankNicolson:
		return nil, fmt.Errorf("solvers: invalid time method %d", int(st.set.Method))
	}
	if st.set.StartupSteps <= 0 {
		st.set.StartupSteps = 2
	}
	if st.set.Tolerance == 0 {
		st.set.Tolerance = 1e-6
	}
	if st.set.Linear.Shape == nil {
		st.set.Linear.Shape = op.Grid().Shape()
	}
	if st.set.Linear.Preconditioner == AutoPreconditioner {
		// Time-step matrices c I − gamma L are diagonally dominant: ILU(0)
		// needs a few iterations per step and costs less per iteration than
		// a multigrid cycle (docs/performance.md).
		st.set.Linear.Preconditioner = ILU0
	}
	n := op.Grid().Len()
	switch st.set.Linear.Method {
	case Auto, BiCGSTAB, GMRES:
		// ILU(0) of an axis-only stencil is AxisILU0: factor it straight
		// from the operator's connections (axis_system.go).
		st.axis = st.set.Linear.Preconditioner == ILU0 && axisOnly(op)
	}
	if !st.axis {
		st.newCSR()
	}
	st.pnew = make([]float64, n)
	// Only the workspaces the method needs (fresh memory is not free).
	if st.set.Method != BackwardEuler {
		st.rhs = make([]float64, n)
		st.work = make([]float64, n)
	}
	if st.set.Method == BDF2 || st.set.Adaptive {
		st.pred = make([]float64, n)
	}
	st.hist[0] = make([]float64, n)
	st.hist[1] = make([]float64, n)
	return st, nil
}

// Result returns the statistics of the last Run.
func (st *Stepper) Result() RunResult { return st.res }

// Run advances p, the density at time t0, to the last of the output times,
// landing exactly on each of them. Observers are called in order after each
// accepted step, and once for the initial state. If times[0] equals t0 the
// initial state is output 0. On return p holds the density at the time
// reached. Run starts afresh: it is RunFrom with an empty History.
func (st *Stepper) Run(p []float64, t0 float64, times []float64, obs ...Observer) (RunResult, error) {
	return st.runFrom(p, t0, &History{}, false, times, obs...)
}

// History is what a Stepper carries from one step to the next besides the
// density: the past densities that BDF2 and the local error estimates use,
// the step an adaptive run tries next, and the count of steps. RunFrom
// starts from a History and leaves in it the history at the time it
// reached, so that a run can be split into pieces — or saved at a snapshot
// with its density and continued later in another process (fokker run
// --resume) — and take bit-identical steps either way.
type History struct {
	// Steps is the number of accepted steps taken to reach the current
	// state; step numbers in State and in errors continue from it.
	Steps int
	// N is the number of past densities held: 0 (a fresh start), 1 or 2.
	N int
	// Past[0] is the density one accepted step back, Past[1] two steps
	// back; only the first N are meaningful. PastDt[k] is the length of the
	// step that led from Past[k] to the state after it.
	Past   [2][]float64
	PastDt [2]float64
	// Dt is the step an adaptive run tries next (0: the settings' Dt).
	Dt float64
}

// RunFrom is Run continuing from the history h, which it updates. With
// h.N ≥ 1 the multistep methods need no start-up (BDF2's substeps,
// Crank–Nicolson's backward-Euler steps) and the error estimates of adaptive
// runs work from the first step; an adaptive run tries h.Dt first. A run
// split into several RunFrom calls, each going on from the density and the
// history the previous one left, takes exactly the steps of one call.
//
// On return (also when an observer stopped the run, or after an error), h
// holds the history at the time reached: Steps increased by the accepted
// steps, the last accepted densities, and as Dt the step the controller
// would try next. RunFrom panics if h.N is not 0, 1 or 2 or a past density
// does not have the length of p; it returns an error if a past step is not
// positive and finite or h.Dt is negative or not finite.
func (st *Stepper) RunFrom(p []float64, t0 float64, h *History, times []float64, obs ...Observer) (RunResult, error) {
	return st.runFrom(p, t0, h, true, times, obs...)
}

// runFrom is RunFrom; without keep, h receives no copy of the past
// densities (Run's caller never sees them).
func (st *Stepper) runFrom(p []float64, t0 float64, h *History, keep bool, times []float64, obs ...Observer) (RunResult, error) {
	start := time.Now()
	n := st.op.Grid().Len()
	if len(p) != n {
		panic("solvers: wrong density length")
	}
	if h.N < 0 || h.N > 2 {
		panic(fmt.Sprintf("solvers: RunFrom: history of %d past densities", h.N))
	}
	for k := 0; k < h.N; k++ {
		if len(h.Past[k]) != n {
			panic(fmt.Sprintf("solvers: RunFrom: past density %d has length %d, want %d", k, len(h.Past[k]), n))
		}
		if dt := h.PastDt[k]; !(dt > 0) || math.IsInf(dt, 0) {
			return RunResult{}, fmt.Errorf("solvers: RunFrom: past step %d is %v, want positive and finite", k, dt)
		}
	}
	if !(h.Dt >= 0) || math.IsInf(h.Dt, 0) {
		return RunResult{}, fmt.Errorf("solvers: RunFrom: next step %v, want non-negative and finite", h.Dt)
	}
	if len(times) == 0 {
		return RunResult{}, errors.New("solvers: no output times")
	}
	for i, t := range times {
		if math.IsNaN(t) || math.IsInf(t, 0) || t < t0 || (i > 0 && t <= times[i-1]) {
			return RunResult{}, fmt.Errorf("solvers: output times must be finite, increasing and not before the start %g (times[%d] = %g)", t0, i, t)
		}
	}
	end := times[len(times)-1]
	span := end - t0
	dt := st.set.Dt
	if dt == 0 {
		dt = span / 100
		if st.set.Adaptive {
			dt = span * 1e-4
		}
	}
	if st.set.Adaptive && h.Dt > 0 {
		dt = h.Dt
	}
	minDt := st.set.MinDt
	if minDt == 0 {
		minDt = 1e-12 * span
	}
	st.res = RunResult{}
	st.nhist = h.N
	for k := 0; k < h.N; k++ {
		copy(st.hist[k], h.Past[k])
		st.hdt[k] = h.PastDt[k]
	}
	st.startPrev = nil
	st.guessed = false
	st.uValid = false
	// Factor afresh: the factorisation reused within a call may have been
	// made for a step shortened by round-off, so reusing it across calls
	// would make a continued run differ (at round-off) from one resumed in
	// another process.
	st.factored = false
	step := h.Steps
	// Whatever happens, leave the history reached in h.
	defer func() {
		h.Steps = step
		h.N = min(st.nhist, 2)
		if !keep {
			h.N = 0
		}
		for k := 0; k < h.N; k++ {
			if len(h.Past[k]) != n {
				h.Past[k] = make([]float64, n)
			}
			copy(h.Past[k], st.hist[k])
			h.PastDt[k] = st.hdt[k]
		}
		h.Dt = dt
	}()
	t := t0
	next := 0
	state := State{T: t, Step: step, P: p, Output: -1, End: end}
	if times[0] == t0 {
		state.Output = 0
		next = 1
	}
	if err := st.notify(obs, &state); err != nil {
		return st.finish(start, t), err
	}
	if st.res.Stopped {
		return st.finish(start, t), nil
	}
	for next < len(times) {
		target := times[next]
		hstep := dt
		land := false
		if t+hstep >= target-1e-9*hstep {
			hstep = target - t
			land = true
		}
		errEst, err := st.step(p, t, hstep)
		if err != nil {
			return st.finish(start, t), fmt.Errorf("solvers: step %d at t=%g (dt=%g): %w", step+1, t, hstep, err)
		}
		if st.set.Adaptive && errEst >= 0 {
			q := float64(st.set.Method.Order())
			fac := 0.9 * math.Pow(st.set.Tolerance/math.Max(errEst, 1e-300), 1/(q+1))
			fac = math.Max(0.2, math.Min(2, fac))
			if errEst > st.set.Tolerance {
				st.res.Rejected++
				dt = hstep * fac
				if dt < minDt {
					return st.finish(start, t), fmt.Errorf("solvers: step size %g below the minimum %g at t=%g: the local error %g stays above the tolerance %g", dt, minDt, t, errEst, st.set.Tolerance)
				}
				continue
			}
			planned := dt
			dt = hstep * fac
			if land && hstep < planned {
				// A step shortened to land on an output time says little
				// about the step the solution allows.
				dt = math.Max(dt, planned*math.Min(1, fac))
			}
			if st.set.MaxDt > 0 {
				dt = math.Min(dt, st.set.MaxDt)
			}
		}
		// Accept: shift the history and take the new state.
		st.hist[0], st.hist[1] = st.hist[1], st.hist[0]
		if st.startPrev != nil {
			// A start-up step brings its own last substep as history.
			copy(st.hist[0], st.startPrev)
			st.hdt[0] = st.startDt
			st.startPrev = nil
			copy(p, st.pnew)
		} else {
			// p becomes the last history and pnew the density, in one
			// pass.
			h0, pn := st.hist[0][:len(p)], st.pnew[:len(p)]
			for i, v := range p {
				h0[i], p[i] = v, pn[i]
			}
			st.hdt[1] = st.hdt[0]
			st.hdt[0] = hstep
		}
		st.nhist++
		step++
		st.res.Steps++
		if land {
			t = target
			state.Output = next
			next++
		} else {
			t += hstep
			state.Output = -1
		}
		if err := st.check(p, t, step); err != nil {
			return st.finish(start, t), err
		}
		state.T, state.Step, state.Dt = t, step, hstep
		state.ErrorEstimate = math.Max(errEst, 0)
		if err := st.notify(obs, &state); err != nil {
			return st.finish(start, t), err
		}
		if st.res.Stopped {
			break
		}
	}
	return st.finish(start, t), nil
}

func (st *Stepper) finish(start time.Time, t float64) RunResult {
	st.res.T = t
	st.res.Duration = time.Since(start)
	return st.res
}

func (st *Stepper) notify(obs []Observer, s *State) error {
	for _, o := range obs {
		if err := o.Observe(s); err != nil {
			if errors.Is(err, ErrStop) {
				st.res.Stopped = true
				return nil
			}
			return err
		}
	}
	return nil
}

// check stops the run on a NaN or a non-positive mass.
func (st *Stepper) check(p []float64, t float64, step int) error {
	g := st.op.Grid()
	m := g.Mass(p)
	if math.IsNaN(m) || math.IsInf(m, 0) {
		// A NaN or an infinity in p makes the mass one: find it.
		for i, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				x := g.Centre(nil, i)
				return fmt.Errorf("solvers: density is %v at cell %d %v, t=%g, step %d", v, i, x, t, step)
			}
		}
	}
	if m < 0 {
		return fmt.Errorf("solvers: mass became negative (%g) at t=%g, step %d", m, t, step)
	}
	return nil
}

// step computes st.pnew from p at time t with step h, and returns the local
// error estimate (negative when none is available).
func (st *Stepper) step(p []float64, t, h float64) (float64, error) {
	if st.nhist >= 1 {
		// The initial guess for an iterative solver, written straight
		// into the unknown of the step: the extrapolation through the last
		// two states (the solution of the step to O(h²), better than p_n,
		// O(h)), or through the last three when there are (O(h³): about a
		// tenth fewer Krylov iterations on the benchmark P3).
		h0, x := st.hist[0][:len(p)], st.pnew[:len(p)]
		c1 := h / st.hdt[0]
		if st.nhist >= 2 {
			// Newton's form: p + h d1 + h (h + h1) (d1 − d2) / (h1 + h2)
			// with the divided differences d1, d2 of the last steps.
			h1, h2 := st.hdt[0], st.hdt[1]
			c2 := h * (h + h1) / (h1 + h2)
			r1, r2 := 1/h1, 1/h2
			h1v := st.hist[1][:len(p)]
			for i, v := range p {
				x[i] = v + c1*(v-h0[i]) + c2*((v-h0[i])*r1-(h0[i]-h1v[i])*r2)
			}
		} else {
			for i, v := range p {
				x[i] = v + c1*(v-h0[i])
			}
		}
		st.guessed = true
	}
	switch st.set.Method {
	case BackwardEuler:
		if err := st.implicit(st.pnew, p, t+h, 1, h); err != nil {
			return 0, err
		}
		if st.nhist < 1 || !st.set.Adaptive {
			// ErrorEstimate is documented as 0 for fixed steps: skip it.
			return -1, nil
		}
		// Linear extrapolation predictor; its error is (1 + h1/h) times
		// the backward-Euler error at constant steps.
		h1 := st.hdt[0]
		for i := range st.pred {
			st.pred[i] = p[i] + h/h1*(p[i]-st.hist[0][i])
		}
		return h / (h + h1) * st.l1diff(st.pnew, st.pred), nil
	case BDF2:
		if st.nhist < 1 {
			return -1, st.bdf2Startup(p, t, h)
		}
		w := h / st.hdt[0]
		c := (1 + 2*w) / (1 + w)
		a1, a2 := 1+w, w*w/(1+w)
		for i := range st.rhs {
			st.rhs[i] = a1*p[i] - a2*st.hist[0][i]
		}
		if err := st.solve(st.pnew, st.rhs, t+h, c, h); err != nil {
			return 0, err
		}
		if !st.set.Adaptive {
			return -1, nil
		}
		return st.quadEstimate(p, h, 2.0/9), nil
	case CrankNicolson:
		if st.nhist < 1 {
			m := st.set.StartupSteps
			sub := h / float64(m)
			copy(st.work, p)
			for k := 0; k < m; k++ {
				if err := st.implicit(st.pnew, st.work, t+float64(k+1)*sub, 1, sub); err != nil {
					return 0, err
				}
				copy(st.work, st.pnew)
			}
			return -1, nil
		}
		if err := st.assemble(t); err != nil {
			return 0, err
		}
		st.op.MulVecTo(st.rhs, p)
		for i := range st.rhs {
			st.rhs[i] = p[i] + 0.5*h*st.rhs[i]
		}
		if err := st.solve(st.pnew, st.rhs, t+h, 1, 0.5*h); err != nil {
			return 0, err
		}
		if !st.set.Adaptive {
			return -1, nil
		}
		return st.quadEstimate(p, h, 1.0/12), nil
	}
	panic("solvers: invalid method")
}

// bdf2Startup takes the first BDF2 step from p at t to t+h as a backward
// Euler step of h/8 followed by variable-step BDF2 steps of h/8, h/4 and
// h/2 (step ratios 1, 2, 2, inside BDF2's zero-stability bound 1+√2). A
// single backward-Euler start-up step would leave a local error of order
// h² |p”|, large after rough or narrow initial data; this one is 64 times
// smaller, and the following BDF2 step has the state at t+h/2 as its
// history.
func (st *Stepper) bdf2Startup(p []float64, t, h float64) error {
	cur, prev := st.work, st.pred
	hs := [4]float64{h / 8, h / 8, h / 4, h / 2}
	if err := st.implicit(st.pnew, p, t+hs[0], 1, hs[0]); err != nil {
		return err
	}
	copy(prev, p)
	copy(cur, st.pnew)
	tk := t + hs[0]
	for k := 1; k < len(hs); k++ {
		w := hs[k] / hs[k-1]
		a1, a2 := 1+w, w*w/(1+w)
		for i := range st.rhs {
			st.rhs[i] = a1*cur[i] - a2*prev[i]
		}
		if k == len(hs)-1 {
			tk = t + h
		} else {
			tk += hs[k]
		}
		if err := st.solve(st.pnew, st.rhs, tk, (1+2*w)/(1+w), hs[k]); err != nil {
			return err
		}
		copy(prev, cur)
		copy(cur, st.pnew)
	}
	// prev now holds the state at t + h/2.
	st.startPrev, st.startDt = prev, hs[3]
	return nil
}

// quadEstimate estimates the local error of a second-order step from the
// quadratic extrapolation through the last three states; C is the method's
// error constant (|LTE| = C h³ |p”'|), the extrapolation's being 1.
func (st *Stepper) quadEstimate(p []float64, h, c float64) float64 {
	if st.nhist < 2 {
		return -1
	}
	// Newton extrapolation through (t_n, p), (t_n − h1, p1), (t_n − h1 − h2, p2).
	h1, h2 := st.hdt[0], st.hdt[1]
	p1, p2 := st.hist[0], st.hist[1]
	for i := range st.pred {
		d1 := (p[i] - p1[i]) / h1
		d2 := ((p1[i] - p2[i]) / h2)
		dd := (d1 - d2) / (h1 + h2)
		st.pred[i] = p[i] + h*d1 + h*(h+h1)*dd
	}
	// Extrapolation error at variable steps: h(h+h1)(h+h1+h2)/6 |p'''|.
	ext := h * (h + h1) * (h + h1 + h2) / 6
	lte := c * h * h * h
	return lte / (lte + ext) * st.l1diff(st.pnew, st.pred)
}

func (st *Stepper) l1diff(a, b []float64) float64 {
	vol := st.op.Volumes()
	s := 0.0
	for i := range a {
		s += math.Abs(a[i]-b[i]) * vol[i]
	}
	return s
}

// implicit solves (c I − gamma L(t)) x = c b; b must not be x.
func (st *Stepper) implicit(x, b []float64, t, c, gamma float64) error {
	if c == 1 {
		return st.solve(x, b, t, c, gamma)
	}
	if st.rhs == nil {
		st.rhs = make([]float64, len(b))
	}
	for i := range st.rhs {
		st.rhs[i] = c * b[i]
	}
	return st.solve(x, st.rhs, t, c, gamma)
}

func (st *Stepper) assemble(t float64) error {
	if !st.op.Model().TimeDependent || st.opTime == t {
		return nil
	}
	rebuilt, err := st.op.Assemble(t)
	if err != nil {
		return err
	}
	st.opTime = t
	st.factored = false
	st.uValid = false
	if rebuilt {
		st.newCSR()
		st.solver = nil
	}
	return nil
}

// newCSR lays out A = c I − gamma L in CSR storage, on L's pattern.
func (st *Stepper) newCSR() {
	n := st.op.Grid().Len()
	raw := st.op.Matrix().RawMatrix()
	st.adata = make([]float64, len(raw.Data))
	st.a = sparse.NewCSR(n, n, raw.Indptr, raw.Ind, st.adata)
	if st.u == nil {
		st.u = make([]float64, n) // L^T V (solve)
	}
}

// factor factors A = c I − gamma L: on the axis route in diagonal storage
// (axis_system.go), falling back to the CSR route if AxisILU0 refuses the
// matrix (a zero pivot), whose ILU(0) may still manage; else in CSR storage
// on L's pattern.
func (st *Stepper) factor(c, gamma float64) error {
	if st.axis {
		st.dia.setAxis(st.op, c, gamma)
		k, _ := st.solver.(*Krylov)
		if k == nil {
			k = &Krylov{Settings: st.set.Linear, fallback: st.set.Linear.Method == Auto}
		}
		if err := k.factorDIA(&st.dia); err == nil {
			st.solver = k
		} else {
			st.axis, st.solver = false, nil
			st.newCSR()
		}
	}
	if !st.axis {
		raw := st.op.Matrix().RawMatrix()
		for k, v := range raw.Data {
			st.adata[k] = -gamma * v
		}
		for i := 0; i < raw.I; i++ {
			for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
				if raw.Ind[k] == i {
					st.adata[k] += c
				}
			}
		}
		var err error
		if st.solver == nil {
			st.solver, err = NewLinearSolver(st.a, &st.set.Linear)
		} else {
			err = st.solver.Factor(st.a)
		}
		if err != nil {
			return err
		}
	}
	st.res.Factorizations++
	st.fc, st.fg, st.factored = c, gamma, true
	return nil
}

// solve solves (c I − gamma L(t)) x = rhs, refactoring only when c, gamma or
// L changed, then restores the discrete mass balance V^T A x = V^T rhs.
func (st *Stepper) solve(x, rhs []float64, t, c, gamma float64) error {
	if err := st.assemble(t); err != nil {
		return err
	}
	if !st.factored || !near(c, st.fc) || !near(gamma, st.fg) {
		if err := st.factor(c, gamma); err != nil {
			return err
		}
	}
	if !st.uValid && !st.axis {
		// u = L^T V: zero for a conservative operator, minus the outflow
		// rates through absorbing sides otherwise.
		raw := st.op.Matrix().RawMatrix()
		vol := st.op.Volumes()
		clear(st.u)
		for i := 0; i < raw.I; i++ {
			for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
				st.u[raw.Ind[k]] += raw.Data[k] * vol[i]
			}
		}
		st.uValid = true
	}
	if st.guessed {
		// x holds the initial guess for iterative solvers: an
		// extrapolation in time (step).
		st.guessed = false
	} else {
		copy(x, rhs) // the right-hand side scaled
		if st.fc != 1 {
			for i := range x {
				x[i] /= st.fc
			}
		}
	}
	r, err := st.solver.Solve(x, rhs)
	st.res.LinearIterations += r.Iterations
	st.res.MaxResidual = math.Max(st.res.MaxResidual, r.Residual)
	if err != nil {
		return err
	}
	// Mass balance: the exact solution of (c I − gamma L) x = rhs satisfies
	// (c V − gamma L^T V)·x = V·rhs. Rescale the iterate to satisfy it (a
	// change of the order of the solver tolerance, or of the relative
	// difference between c, gamma and the factored ones when a factorisation
	// is reused for a step shortened by round-off).
	vol := st.op.Volumes()
	num, den := 0.0, 0.0
	if st.axis {
		// No absorbing sides: u = L^T V = 0, exactly.
		for i := range x {
			num += vol[i] * rhs[i]
			den += c * vol[i] * x[i]
		}
	} else {
		for i := range x {
			num += vol[i] * rhs[i]
			den += (c*vol[i] - gamma*st.u[i]) * x[i]
		}
	}
	if den > 0 && num > 0 {
		f := num / den
		for i := range x {
			x[i] *= f
		}
	}
	return nil
}

// near reports whether a factorisation for b can be reused for a: steps
// shortened by the round-off of landing on an output time differ by far
// less than this.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
