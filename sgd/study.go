package sgd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
	"github.com/fokkerplanck/fokker/validation"
)

// Solution is a Fokker–Planck density of an SGD configuration.
type Solution struct {
	Config Config
	// Stats of the operator assembly (stencil, Péclet numbers).
	Operator operators.Stats
	// Stationary is true for a stationary density, false for snapshots.
	Stationary bool
	// Times and Steps of the snapshots: Times[i] = start + Steps[i]·eta
	// (the spec's times rounded to whole SGD steps).
	Times []float64
	Steps []int
	// Densities holds one density per snapshot, or the stationary one.
	Densities [][]float64
	// Corrected holds SGD's law to first order in eta for each density
	// (nil unless asked for): the density of the modified equation plus
	// the cumulant correction δp (see corrector). Corrected − Densities
	// is the SDE's O(eta) weak error.
	Corrected [][]float64
	// ModifiedOperator is the assembly of the modified equation.
	ModifiedOperator operators.Stats
	// Residual is the balance defect of a stationary solve; Iterations
	// counts linear iterations.
	Residual   float64
	Iterations int
	Duration   time.Duration
}

// Last returns the last density (the stationary one, or the last snapshot).
func (s *Solution) Last() []float64 { return s.Densities[len(s.Densities)-1] }

// SolveError is an error of the discretisation of a configuration (a
// coefficient the operator refuses, such as a diffusion tensor too
// anisotropic for the grid), as opposed to a failing solve.
type SolveError struct{ Err error }

func (e *SolveError) Error() string { return e.Err.Error() }
func (e *SolveError) Unwrap() error { return e.Err }

// Solve computes the Fokker–Planck density of configuration c on the
// landscape: the stationary density, or, if the spec has [time], the
// snapshots from its [initial] density at its times rounded to whole SGD
// steps (t = start + steps·eta). With correct, it also computes SGD's law
// to first order in eta (Solution.Corrected).
func (st *Setup) Solve(ctx context.Context, ls *Landscape, c Config, correct bool) (*Solution, error) {
	start := time.Now()
	sol := &Solution{Config: c}
	var err error
	var op *operators.Operator
	if sol.Densities, op, err = st.solve(ctx, ls, c, false, sol, "density"); err != nil {
		return nil, err
	}
	sol.Operator = op.Stats()
	if correct {
		mc := c
		mc.Modified = true
		var mop *operators.Operator
		if sol.Corrected, mop, err = st.solve(ctx, ls, mc, true, nil, "first order"); err != nil {
			return nil, err
		}
		sol.ModifiedOperator = mop.Stats()
	}
	sol.Duration = time.Since(start)
	return sol, nil
}

// solve computes the densities of c, plus the cumulant correction if
// correct; sol (if not nil) receives the statistics. phase names it for
// st.Progress.
func (st *Setup) solve(ctx context.Context, ls *Landscape, c Config, correct bool, sol *Solution, phase string) ([][]float64, *operators.Operator, error) {
	st.progress(phase, 0)
	defer st.progress(phase, 1)
	m, err := ls.Model(c)
	if err != nil {
		return nil, nil, err
	}
	op, err := operators.New(ls.g, m, &st.Base.Operator)
	if err != nil {
		return nil, nil, &SolveError{errors.New(strings.TrimPrefix(err.Error(), "operators: "))}
	}
	if sol == nil {
		sol = &Solution{}
	}
	n := ls.g.Len()
	if st.Spec.Time == nil {
		sol.Stationary = true
		rho := make([]float64, n)
		res, err := solvers.Stationary(rho, op, &solvers.StationarySettings{Linear: st.Base.Linear})
		if err != nil {
			return nil, nil, err
		}
		sol.Residual = res.Residual
		sol.Iterations = res.Linear.Iterations
		if correct {
			dp := make([]float64, n)
			if err := newCorrector(ls, c, op, st.Base.Linear).stationary(dp, rho); err != nil {
				return nil, nil, err
			}
			for l := range rho {
				rho[l] += dp[l]
			}
		}
		return [][]float64{rho}, op, nil
	}
	times, steps, err := st.StepTimes(c.LearningRate)
	if err != nil {
		return nil, nil, err
	}
	sol.Times, sol.Steps = times, steps
	rho := make([]float64, n)
	if err := st.Base.InitialDensity(rho); err != nil {
		return nil, nil, err
	}
	stepper, err := solvers.NewStepper(op, &st.Base.Step)
	if err != nil {
		return nil, nil, err
	}
	var cr *corrector
	var dp []float64
	if correct {
		cr = newCorrector(ls, c, op, st.Base.Linear)
		dp = make([]float64, n)
	}
	var out [][]float64
	t0, t1 := st.Base.Start, times[len(times)-1]
	obs := solvers.ObserverFunc(func(s *solvers.State) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st.progress(phase, (s.T-t0)/(t1-t0))
		if cr != nil && s.Step > 0 {
			if err := cr.step(dp, s.P, s.Dt); err != nil {
				return err
			}
		}
		if s.Output >= 0 {
			v := append([]float64(nil), s.P...)
			for l := range dp {
				v[l] += dp[l]
			}
			out = append(out, v)
		}
		return nil
	})
	res, err := stepper.Run(rho, st.Base.Start, times, obs)
	if err != nil {
		return nil, nil, err
	}
	sol.Iterations += res.LinearIterations
	return out, op, nil
}

// StepTimes returns the spec's snapshot times rounded to whole SGD steps
// of eta, with their step counts.
func (st *Setup) StepTimes(eta float64) ([]float64, []int, error) {
	t0 := st.Base.Start
	var times []float64
	var steps []int
	for _, t := range st.Base.Times {
		k := int(math.Round((t - t0) / eta))
		if len(steps) > 0 && k <= steps[len(steps)-1] {
			return nil, nil, st.Spec.Errorf("time", "snapshot times %g and %g fall on the same SGD step of eta = %g", times[len(times)-1], t, eta)
		}
		steps = append(steps, k)
		times = append(times, t0+float64(k)*eta)
	}
	if steps[len(steps)-1] == 0 {
		return nil, nil, st.Spec.Errorf("time.end", "the run is shorter than one SGD step of eta = %g", eta)
	}
	return times, steps, nil
}

// Study is a Fokker–Planck solution of one configuration set against real
// SGD chains.
type Study struct {
	Config Config
	// FP is the first-order SDE's density, with SGD's law to first order
	// in eta when there are chains.
	FP *Solution
	// Chains are the real SGD chains (nil if the check is skipped).
	Chains *ChainResult
	// Comparisons, one per histogram of the chains.
	Comparisons []Comparison
	// Tail is set for a loss quadratic in one parameter.
	Tail *TailReport
	// Regions gives the probability near the Check points.
	Regions []Region
	// NoGridCheck says why there is no grid check ("" if there is one, or
	// no check at all, or Check.NoGridCheck).
	NoGridCheck string
}

// Comparison sets the Fokker–Planck densities against one histogram of SGD
// chains, with validation's metrics and noise floors.
type Comparison struct {
	T    float64
	Step int
	// FP and Corrected compare the chains with the first-order SDE's
	// density p and with p1, SGD's law to first order in eta, on the grid
	// coarsened by Check.Coarsen. The histogram is normalised by the
	// positions inside the box (the law conditioned on the box).
	FP, Corrected validation.Comparison
	// Allowance is the O(eta) allowance sum |p1 − p| V with p1 SGD's law
	// to first order (Solution.Corrected): by the triangle inequality
	// L1(SGD, p) ≤ L1(SGD, p1) + Allowance, and the first term is sampling
	// noise up to O(eta²) (docs/sgd.md).
	Allowance float64
	// Escaped is the fraction of positions outside the box (or diverged).
	Escaped float64
	// GridError estimates the discretisation error of the density on the
	// compared bins (Setup.GridCheck; NaN without it).
	GridError float64
	// FirstOrderGridError is the same estimate for the first-order law p1
	// (NaN without the grid check). Where it exceeds L1Ratio noise floors
	// p1 moves by more than the check's tolerance when the grid is halved:
	// it is not resolved (FirstOrderResolved), and neither its distance to
	// the chains nor the allowance means anything.
	FirstOrderGridError float64
	// SDEEnsemble compares the chains with an Euler–Maruyama ensemble of
	// the first-order SDE (Check.SDEEnsemble particles; zero value
	// without): the SDE against SGD without the grid's error, but with the
	// ensemble's own noise, which raises the expected L1 of one law by a
	// factor sqrt(1 + chains/particles) over the floor.
	SDEEnsemble validation.Comparison
	// FirstOrderNegative is the negative mass of the first-order law p1 on
	// the compared bins, sum max(−p1, 0) V. p1 = p + eta δp is an
	// expansion, not a density; where its negative mass exceeds L1Ratio
	// noise floors, no histogram can come within the check's tolerance of
	// it (L1(SGD, p1) ≥ its negative mass): p1 is not resolved on this grid
	// (FirstOrderResolved), and a large L1 against it says nothing about
	// SGD.
	FirstOrderNegative float64
	// Passed: FP.L1 ≤ L1Ratio × FP.L1Floor, or the first-order law p1 is
	// resolved, within L1Ratio floors of the chains, and FP.L1 ≤ L1Ratio ×
	// FP.L1Floor + Allowance (the allowance is a bound only when p1 is
	// itself confirmed).
	Passed bool
}

// FirstOrderResolved reports whether the first-order law's negative mass
// (FirstOrderNegative) and, with the grid check, its discretisation error
// (FirstOrderGridError) are within L1Ratio noise floors.
func (c *Comparison) FirstOrderResolved() bool {
	tol := L1Ratio * c.Corrected.L1Floor
	return c.FirstOrderNegative <= tol && !(c.FirstOrderGridError > tol)
}

// pass sets Passed from the distances (see Passed).
func (c *Comparison) pass() {
	c.Passed = c.FP.L1 <= L1Ratio*c.FP.L1Floor ||
		(c.FirstOrderResolved() && c.Corrected.L1 <= L1Ratio*c.Corrected.L1Floor && c.FP.L1 <= L1Ratio*c.FP.L1Floor+c.Allowance)
}

// Regime classifies a comparison: "SDE" when the first-order SDE's density
// is within L1Ratio noise floors of the chains, "O(eta)" when only SGD's law
// to first order in eta is (and it is resolved); when neither is, "grid" if the distance is
// within L1Ratio floors plus the density's estimated discretisation error
// (GridError: the grid cannot tell; refine it), "unresolved" if the
// first-order law is not resolved on the grid (the check cannot tell
// whether the O(eta) terms would explain the difference), and "parted"
// otherwise: the O(eta²) terms show, and the diffusion approximation has
// broken down at this number of chains.
func (c *Comparison) Regime() string {
	switch {
	case c.FP.L1 <= L1Ratio*c.FP.L1Floor:
		return "SDE"
	case c.Corrected.L1 <= L1Ratio*c.Corrected.L1Floor && c.FirstOrderResolved():
		return "O(eta)"
	case c.FP.L1 <= L1Ratio*c.FP.L1Floor+c.GridError:
		return "grid"
	case !c.FirstOrderResolved():
		return "unresolved"
	}
	return "parted"
}

// L1Ratio is the tolerance of the check in units of the L1 noise floor, as
// validation's verdict (validation.Criteria).
const L1Ratio = 1.5

// TailReport gives the tail index (P(|theta − theta*| > z) ~ z^-alpha) of
// a loss quadratic in one parameter, three ways.
type TailReport struct {
	ThetaStar float64
	// AlphaFP is the first-order SDE's asymptotic index 1 + 2nEh/(eta f Var h).
	AlphaFP float64
	// AlphaKesten is SGD's index from E|1 − eta h_B|^alpha = 1 (+Inf: no
	// power-law tail; NaN with KestenErr when there is no stationary law).
	AlphaKesten float64
	KestenErr   string
	// U is the threshold of the measured indices; AlphaFPU the Hill
	// functional of the SDE density beyond U, AlphaSGD ± AlphaSGDErr the
	// Hill estimate of the chains from K positions beyond U.
	U, AlphaFPU, AlphaSGD, AlphaSGDErr float64
	K                                  int
	// Positions are |theta − theta*| of every recorded chain position.
	Positions []float64
}

// Region is the probability within Radius of Centre.
type Region struct {
	Centre    []float64
	Radius    float64
	FP, SGD   float64
	Corrected float64
}

// Run computes the study of configuration c: the Fokker–Planck density and,
// unless skip, its O(eta) correction, the SGD chains (with the Check
// settings) and their comparison.
func (st *Setup) Run(ctx context.Context, ls *Landscape, c Config, skip bool) (*Study, error) {
	sd := &Study{Config: c}
	var err error
	if sd.FP, err = st.Solve(ctx, ls, c, !skip); err != nil {
		return nil, err
	}
	if q, qerr := ls.Quadratic1D(); qerr == nil {
		tr := &TailReport{ThetaStar: q.ThetaStar, AlphaFP: q.TailIndexFP(c)}
		tr.AlphaKesten, err = q.Kesten(c)
		if err != nil {
			tr.KestenErr = err.Error()
		}
		tr.U, tr.AlphaFPU, _ = q.TailFP(c, st.Check.TailQuantile)
		tr.AlphaSGD, tr.AlphaSGDErr = math.NaN(), math.NaN()
		sd.Tail = tr
	}
	if !skip {
		if err := st.runChains(ctx, ls, sd); err != nil {
			return nil, err
		}
		if !st.Check.NoGridCheck {
			err := st.GridCheck(ctx, ls, sd)
			switch {
			case errors.Is(err, ErrNoGridCheck):
				sd.NoGridCheck = strings.TrimPrefix(err.Error(), ErrNoGridCheck.Error()+": ")
			case err != nil:
				return nil, err
			}
		}
	}
	sd.regions(st, ls)
	return sd, nil
}

func (st *Setup) runChains(ctx context.Context, ls *Landscape, sd *Study) error {
	ck := st.Check
	cs := &ChainSettings{Chains: ck.Chains, Seed: ck.Seed, KeepPositions: sd.Tail != nil}
	if sd.FP.Stationary {
		for i := 0; i < ck.Samples; i++ {
			cs.Record = append(cs.Record, ck.Steps+i*ck.Thin)
		}
		cs.Pool = true
		if st.Spec.Initial != nil {
			cs.Initial = make([]float64, ls.g.Len())
			if err := st.Base.InitialDensity(cs.Initial); err != nil {
				return err
			}
		} else {
			cs.Initial = sd.FP.Last()
		}
	} else {
		cs.Record = sd.FP.Steps
		cs.Initial = make([]float64, ls.g.Len())
		if err := st.Base.InitialDensity(cs.Initial); err != nil {
			return err
		}
	}
	st.progress("chains", 0)
	res, err := ls.Simulate(ctx, sd.Config, cs)
	st.progress("chains", 1)
	if err != nil {
		return err
	}
	sd.Chains = res
	var ens *ChainResult
	if ck.SDEEnsemble > 0 {
		es := *cs
		es.Chains, es.SDESubsteps, es.KeepPositions = ck.SDEEnsemble, SDESubsteps, false
		es.Seed = cs.Seed ^ 0x5de5de5de5de5de5 // its own streams
		st.progress("SDE ensemble", 0)
		if ens, err = ls.Simulate(ctx, sd.Config, &es); err != nil {
			return err
		}
		st.progress("SDE ensemble", 1)
	}
	cg, err := newCoarse(ls.g, ck.Coarsen)
	if err != nil {
		return err
	}
	g := cg.g
	for i := range res.Histograms {
		h := &res.Histograms[i]
		j := 0
		if !sd.FP.Stationary {
			j = i
		}
		p, pc := cg.density(sd.FP.Densities[j]), cg.density(sd.FP.Corrected[j])
		snap := &validation.Snapshot{T: float64(h.Step) * sd.Config.LearningRate, Particles: h.InBox(), Alive: h.InBox(), Counts: cg.counts(h.Counts)}
		if h.InBox() == 0 {
			return fmt.Errorf("sgd: every chain left the grid by step %d: widen the box", h.Step)
		}
		cmp := Comparison{T: st.Base.Start + snap.T, Step: h.Step, Escaped: h.EscapedFraction(), GridError: math.NaN(), FirstOrderGridError: math.NaN()}
		cmp.FP = validation.Compare(g, p, snap, nil)
		cmp.Corrected = validation.Compare(g, pc, snap, nil)
		if ens != nil {
			eh := &ens.Histograms[i]
			if eh.InBox() == 0 {
				return fmt.Errorf("sgd: every particle of the SDE ensemble left the grid by step %d: widen the box", eh.Step)
			}
			pe := make([]float64, ls.g.Len())
			for l, n := range eh.Counts {
				pe[l] = float64(n) / (float64(eh.InBox()) * ls.g.Volume(l))
			}
			cmp.SDEEnsemble = validation.Compare(g, cg.density(pe), snap, nil)
		}
		for l := range p {
			cmp.Allowance += math.Abs(pc[l]-p[l]) * g.Volume(l)
			cmp.FirstOrderNegative += max(-pc[l], 0) * g.Volume(l)
		}
		// The allowance bounds the bias only where SGD's first-order law is
		// itself within the noise of the chains (triangle inequality).
		cmp.pass()
		sd.Comparisons = append(sd.Comparisons, cmp)
	}
	if tr := sd.Tail; tr != nil {
		tr.Positions = make([]float64, 0, len(res.Positions[0]))
		for _, x := range res.Positions[0] {
			if !math.IsNaN(x) {
				tr.Positions = append(tr.Positions, math.Abs(x-tr.ThetaStar))
			}
		}
		tr.AlphaSGD, tr.AlphaSGDErr, tr.K = HillIndex(tr.Positions, tr.U)
	}
	return nil
}

// Passed reports whether every comparison passed (true without chains).
func (sd *Study) Passed() bool {
	for _, c := range sd.Comparisons {
		if !c.Passed {
			return false
		}
	}
	return true
}

func (sd *Study) regions(st *Setup, ls *Landscape) {
	ck := st.Check
	if ck.Radius <= 0 {
		return
	}
	g := ls.g
	x := make([]float64, g.Dim())
	for _, c := range ck.Points {
		r := Region{Centre: c, Radius: ck.Radius, Corrected: math.NaN(), SGD: math.NaN()}
		p := sd.FP.Last()
		var pc []float64
		if sd.FP.Corrected != nil {
			pc = sd.FP.Corrected[len(sd.FP.Corrected)-1]
			r.Corrected = 0
		}
		var h *Histogram
		if sd.Chains != nil {
			h = &sd.Chains.Histograms[len(sd.Chains.Histograms)-1]
			r.SGD = 0
		}
		for l := range p {
			g.Centre(x, l)
			d2 := 0.0
			for k := range x {
				d2 += (x[k] - c[k]) * (x[k] - c[k])
			}
			if d2 > ck.Radius*ck.Radius {
				continue
			}
			r.FP += p[l] * g.Volume(l)
			if pc != nil {
				r.Corrected += pc[l] * g.Volume(l)
			}
			if h != nil {
				r.SGD += float64(h.Counts[l]) / float64(h.InBox())
			}
		}
		sd.Regions = append(sd.Regions, r)
	}
}

// SweepRow summarises the study of one learning rate.
type SweepRow struct {
	LearningRate float64
	// L1, Floor, Ratio = L1/Floor against the first-order SDE;
	// RatioCorrected against SGD's law to first order; AllowanceRatio =
	// Allowance/Floor.
	L1, Floor, Ratio, RatioCorrected, AllowanceRatio float64
	ChiSquareP, ChiSquarePCorrected                  float64
	Escaped                                          float64
	// GridErrorRatio = GridError/Floor (NaN without a grid check).
	GridErrorRatio float64
	Passed         bool
	// Regime of the last comparison (Comparison.Regime), and whether its
	// first-order law is resolved (Comparison.FirstOrderResolved).
	Regime             string
	FirstOrderResolved bool
	// Tail indices (1D quadratic losses; NaN otherwise).
	AlphaFP, AlphaKesten, AlphaFPU, AlphaSGD, AlphaSGDErr float64
	// Regions: probability near the Check points (FP, SGD).
	Regions []Region
}

// Sweep runs the study at each learning rate (the spec's batch size and
// sampling) and summarises the last comparison of each. The burn-in and
// thinning of a stationary check are given in steps at the spec's
// learning rate; at another rate they are scaled to the same time
// (steps·eta).
func (st *Setup) Sweep(ctx context.Context, ls *Landscape, etas []float64) ([]SweepRow, []*Study, error) {
	var rows []SweepRow
	var studies []*Study
	base := st.Check
	defer func() { st.Check = base }()
	for _, eta := range etas {
		c := st.Config
		c.LearningRate = eta
		f := st.Config.LearningRate / eta
		st.Check.Steps = max(1, int(math.Round(float64(base.Steps)*f)))
		st.Check.Thin = max(1, int(math.Round(float64(base.Thin)*f)))
		sd, err := st.withPrefix(fmt.Sprintf("eta = %g: ", eta)).Run(ctx, ls, c, false)
		if err != nil {
			return rows, studies, fmt.Errorf("eta = %g: %w", eta, err)
		}
		studies = append(studies, sd)
		rows = append(rows, sd.Row())
	}
	return rows, studies, nil
}

// Row summarises the study (its last comparison).
func (sd *Study) Row() SweepRow {
	r := SweepRow{LearningRate: sd.Config.LearningRate, Regions: sd.Regions}
	nan := math.NaN()
	r.AlphaFP, r.AlphaKesten, r.AlphaFPU, r.AlphaSGD, r.AlphaSGDErr = nan, nan, nan, nan, nan
	r.L1, r.Floor, r.Ratio, r.RatioCorrected, r.AllowanceRatio = nan, nan, nan, nan, nan
	r.ChiSquareP, r.ChiSquarePCorrected, r.Escaped, r.GridErrorRatio = nan, nan, nan, nan
	r.Passed = sd.Passed()
	if n := len(sd.Comparisons); n > 0 {
		c := sd.Comparisons[n-1]
		r.L1, r.Floor = c.FP.L1, c.FP.L1Floor
		r.Ratio = c.FP.Ratio()
		r.RatioCorrected = c.Corrected.Ratio()
		r.AllowanceRatio = c.Allowance / c.FP.L1Floor
		r.ChiSquareP, r.ChiSquarePCorrected = c.FP.ChiSquarePValue, c.Corrected.ChiSquarePValue
		r.Escaped = c.Escaped
		r.GridErrorRatio = c.GridError / c.FP.L1Floor
		r.Regime = c.Regime()
		r.FirstOrderResolved = c.FirstOrderResolved()
	}
	if t := sd.Tail; t != nil {
		r.AlphaFP, r.AlphaKesten, r.AlphaFPU, r.AlphaSGD, r.AlphaSGDErr = t.AlphaFP, t.AlphaKesten, t.AlphaFPU, t.AlphaSGD, t.AlphaSGDErr
	}
	return r
}
