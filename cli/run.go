package cli

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/expression"
	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/problem"
	"github.com/fokkerplanck/fokker/solvers"
	"github.com/fokkerplanck/fokker/spec"
)

type outputFlags struct {
	out string
}

// runFlags are the flags of fokker run.
type runFlags struct {
	out          string
	resume       bool
	logSnapshots bool
}

func newRunCmd(e *env) *cobra.Command {
	var rf runFlags
	c := &cobra.Command{
		Use:   "run SPEC.toml [-o OUT.h5] | run --resume OUT.h5",
		Short: "Transient solve: density snapshots at the spec's times",
		Long: `Transient solve: density snapshots at the spec's times, written to an
HDF5 file as they are computed (see docs/format.md).

A run that was interrupted (Ctrl-C), killed or stopped by a full disk goes on
from its last complete snapshot with

  fokker run --resume OUT.h5

which reads the spec from the file and gives the same snapshots, bit for bit,
as a run that was never interrupted.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if rf.resume {
				if len(args) != 1 {
					return usageError{fmt.Errorf("--resume takes one argument, the OUT.h5 file to continue (the spec is read from it), received %d", len(args))}
				}
				if rf.out != "" {
					return usageError{fmt.Errorf("--resume continues the file it is given: -o/--output cannot be used with it")}
				}
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if rf.resume {
				return runResume(e, args[0], rf)
			}
			return runTransient(e, args[0], rf)
		},
	}
	c.Flags().StringVarP(&rf.out, "output", "o", "", "output HDF5 file (default: [output].file, or SPEC with .h5)")
	c.Flags().BoolVar(&rf.resume, "resume", false, "continue the interrupted run in OUT.h5 from its last complete snapshot")
	c.Flags().BoolVar(&rf.logSnapshots, "log-snapshots", false, "print \"snapshot I t=T written\" on stderr once snapshot I is on disk")
	return c
}

func newSteadyCmd(e *env) *cobra.Command {
	var of outputFlags
	c := &cobra.Command{
		Use:   "steady SPEC.toml [-o OUT.h5]",
		Short: "Stationary density",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSteady(e, args[0], of)
		},
	}
	c.Flags().StringVarP(&of.out, "output", "o", "", "output HDF5 file (default: [output].file, or SPEC with .h5)")
	return c
}

// setup loads and builds a spec and its operator: every check of the input
// happens here, before any file is created.
func setup(path string) (*spec.Spec, *problem.Problem, *operators.Operator, error) {
	s, err := spec.Load(path)
	if err != nil {
		return nil, nil, nil, badInput(err)
	}
	p, err := problem.Build(s, availableMemory())
	if err != nil {
		return nil, nil, nil, badInput(err)
	}
	op, err := p.NewOperator()
	if err != nil {
		return nil, nil, nil, badInput(err)
	}
	return s, p, op, nil
}

// exactField evaluates an [exact] expression on the grid at time t into dst;
// if normalise, it scales it to mass 1.
func exactField(p *problem.Problem, e *expression.Expr, t float64, normalise bool, dst []float64) error {
	g := p.Grid
	d := g.Dim()
	v := make([]float64, len(p.Vars))
	v[d] = t
	for l := range dst {
		g.Centre(v[:d], l)
		dst[l] = e.Eval(v)
		if math.IsNaN(dst[l]) || math.IsInf(dst[l], 0) {
			return fmt.Errorf("exact density is %v at cell %d", dst[l], l)
		}
	}
	if normalise {
		m := g.Mass(dst)
		if !(m > 0) {
			return fmt.Errorf("exact stationary density has mass %g", m)
		}
		for l := range dst {
			dst[l] /= m
		}
	}
	return nil
}

func l1Distance(g *grid.Grid, a, b []float64) float64 {
	s := 0.0
	for l := range a {
		s += math.Abs(a[l]-b[l]) * g.Volume(l)
	}
	return s
}

// created returns the creation time for provenance: now, or
// SOURCE_DATE_EPOCH when set (reproducible builds and golden tests).
func created() time.Time {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC()
		}
	}
	return time.Now()
}

func header(e *env, s *spec.Spec, p *problem.Problem, scheme string) data.Header {
	return data.Header{
		Created:       created(),
		FokkerVersion: versionString(),
		Command:       e.commandLine(),
		Spec:          s.Source,
		Convention:    p.Model.Convention.String(),
		Scheme:        scheme,
		Extra:         map[string]any{"title": s.Title},
	}
}

func runTransient(e *env, path string, rf runFlags) error {
	start := time.Now()
	s, p, op, err := setup(path)
	if err != nil {
		return err
	}
	if s.Time == nil {
		return badInput(s.Errorf("time", "missing: `fokker run` needs a [time] table (use `fokker steady` for the stationary density)"))
	}
	g := p.Grid
	rho := make([]float64, g.Len())
	if err := p.InitialDensity(rho); err != nil {
		return badInput(err)
	}
	r, err := newTransient(e, s, p, op, rf)
	if err != nil {
		return err
	}
	r.out = s.OutputPath(rf.out)
	scheme := fmt.Sprintf("finite volume, %v fluxes; %v time stepping", op.Scheme(), p.Step.Method)
	// The file appears at its path only at StartSWMR, complete enough for
	// any reader (see data.NewWriter): a crash before leaves no file there.
	// One snapshot per output time (data.WithSnapshots: no chunk index
	// that grows while the file is written).
	w, err := data.NewWriter(r.out, g, data.WithHeader(header(e, s, p, scheme)), data.WithOverwrite(), data.WithSnapshots(len(p.Times)))
	if err != nil {
		return badInput(err)
	}
	if r.exact != nil {
		if r.exactSeries, err = w.NewGridSeries("/exact"); err != nil {
			w.Abort()
			return failed(err)
		}
	}
	if err := w.NewCheckpoint(); err != nil {
		w.Abort()
		return failed(err)
	}
	if err := w.StartSWMR(); err != nil {
		w.Abort()
		return failed(err)
	}
	r.w = w
	return r.run(rho, p.Start, 0, start)
}

// transient is a transient run under way: the problem, its stepper and
// history, and the file it writes.
type transient struct {
	e  *env
	s  *spec.Spec
	p  *problem.Problem
	op *operators.Operator
	st *solvers.Stepper

	exact       *expression.Expr
	exactSeries *data.Series
	exactBuf    []float64

	w       *data.Writer
	out     string
	log     bool
	hist    solvers.History
	resumed int // snapshots in the file before this process, for the report
	rep     runReport
}

// newTransient builds the stepper and the exact density of a run.
func newTransient(e *env, s *spec.Spec, p *problem.Problem, op *operators.Operator, rf runFlags) (*transient, error) {
	r := &transient{e: e, s: s, p: p, op: op, log: rf.logSnapshots}
	var err error
	if s.Exact != nil && s.Exact.Density != "" {
		if r.exact, err = p.Compile("exact.density", s.Exact.Density); err != nil {
			return nil, badInput(err)
		}
		r.exactBuf = make([]float64, p.Grid.Len())
	}
	set := stepSettings(p)
	if r.st, err = solvers.NewStepper(op, &set); err != nil {
		return nil, badInput(s.Wrap("time", err))
	}
	return r, nil
}

// stepSettings returns the step settings of p with the defaults that
// depend on the span of the run made explicit: the run goes from snapshot
// to snapshot (see run), and each piece would otherwise take them from its
// own span.
func stepSettings(p *problem.Problem) solvers.StepSettings {
	set := p.Step
	span := p.Times[len(p.Times)-1] - p.Start
	if set.Dt == 0 && span > 0 {
		set.Dt = span / 100
		if set.Adaptive {
			set.Dt = span * 1e-4
		}
	}
	if set.MinDt == 0 && span > 0 {
		set.MinDt = 1e-12 * span
	}
	return set
}

// run advances rho, the density at time t, through the output times from
// times[next] on, writing each snapshot as it lands on it.
//
// The stepper runs from one snapshot to the next (RunFrom), carrying its
// history across, and the history is stored with every snapshot
// (data.Checkpoint). A run resumed from a snapshot therefore takes exactly
// the steps an uninterrupted run takes, and writes the same snapshots to
// the bit.
func (r *transient) run(rho []float64, t float64, next int, start time.Time) error {
	p, e, w := r.p, r.e, r.w
	times := p.Times
	if next == 0 && times[0] == t {
		// The initial state is snapshot 0.
		if err := r.write(0, t, rho); err != nil {
			w.Close()
			return failed(r.lost(err))
		}
		next = 1
	}
	pb := newProgress(e, times[len(times)-1], p.Start)
	progress := solvers.ObserverFunc(func(st *solvers.State) error {
		pb.update(st.T)
		return nil
	})
	stop := solvers.ObserverFunc(func(*solvers.State) error {
		if e.ctx.Err() != nil {
			return solvers.ErrStop
		}
		return nil
	})
	var total solvers.RunResult
	var runErr error
	for k := next; k < len(times) && runErr == nil; k++ {
		if e.ctx.Err() != nil {
			total.Stopped = true
			break
		}
		res, err := r.st.RunFrom(rho, t, &r.hist, times[k:k+1], progress, stop)
		total = addResults(total, res)
		if err != nil {
			runErr = err
			break
		}
		t = res.T
		if t != times[k] {
			break // stopped between two snapshots
		}
		runErr = r.write(k, t, rho)
		if res.Stopped {
			break
		}
	}
	pb.finish()
	if cerr := w.Close(); cerr != nil && runErr == nil {
		runErr = cerr
	}
	if runErr != nil {
		return failed(r.lost(runErr))
	}
	total.T = t
	r.rep.print(r, total, rho, time.Since(start))
	if total.Stopped {
		return errInterrupted
	}
	return nil
}

// lost adds to err where the snapshots written so far are.
func (r *transient) lost(err error) error {
	n := r.w.Len()
	if n == 1 {
		return fmt.Errorf("%v (the 1 snapshot written so far is in %s)", err, r.out)
	}
	return fmt.Errorf("%v (the %d snapshots written so far are in %s)", err, n, r.out)
}

// write writes snapshot k, the density rho at time t, with its /exact row
// and its checkpoint, then reports it if asked: only once Append has
// returned, when the snapshot is on disk.
func (r *transient) write(k int, t float64, rho []float64) error {
	w := r.w
	if w.Len() != k {
		panic(fmt.Sprintf("cli: writing snapshot %d into a file of %d snapshots", k, w.Len()))
	}
	if r.exactSeries != nil {
		if err := exactField(r.p, r.exact, t, false, r.exactBuf); err != nil {
			return err
		}
		if err := r.exactSeries.Append(r.exactBuf); err != nil {
			return err
		}
		r.rep.exactL1 = append(r.rep.exactL1, l1Distance(r.p.Grid, rho, r.exactBuf))
	}
	if w.HasCheckpoint() {
		h := &r.hist
		c := &data.Checkpoint{Time: t, Steps: h.Steps, Dt: h.Dt, N: h.N, Past: h.Past, PastDt: h.PastDt}
		if err := w.SetCheckpoint(c); err != nil {
			return err
		}
	}
	if err := w.Append(t, rho); err != nil {
		return err
	}
	r.rep.times = append(r.rep.times, t)
	if r.log {
		fmt.Fprintf(r.e.stderr, "snapshot %d t=%s written\n", k, strconv.FormatFloat(t, 'g', -1, 64))
	}
	return nil
}

// addResults sums the statistics of two pieces of a run.
func addResults(a, b solvers.RunResult) solvers.RunResult {
	a.T = b.T
	a.Steps += b.Steps
	a.Rejected += b.Rejected
	a.Factorizations += b.Factorizations
	a.LinearIterations += b.LinearIterations
	a.MaxResidual = math.Max(a.MaxResidual, b.MaxResidual)
	a.Stopped = a.Stopped || b.Stopped
	a.Duration += b.Duration
	return a
}

type runReport struct {
	times   []float64
	exactL1 []float64
}

func (rep *runReport) print(r *transient, res solvers.RunResult, rho []float64, dur time.Duration) {
	e, s, p, op := r.e, r.s, r.p, r.op
	if e.quiet {
		return
	}
	g := p.Grid
	w := e.stdout
	title := s.Title
	if title == "" {
		title = s.Path
	}
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(w, "  grid        %s, %d cells\n", g, g.Len())
	fmt.Fprintf(w, "  model       %s convention, %v fluxes, max cell Péclet %.3g%s\n", p.Model.Convention, op.Scheme(), op.Stats().MaxPeclet, fitNote(op.Stats()))
	if r.resumed > 0 {
		fmt.Fprintf(w, "  resumed     from snapshot %d, t = %g\n", r.resumed-1, p.Times[r.resumed-1])
	}
	fmt.Fprintf(w, "  stepping    %v, %d steps (%d rejected), %d linear iterations, max residual %.1e\n", p.Step.Method, res.Steps, res.Rejected, res.LinearIterations, res.MaxResidual)
	mean := make([]float64, g.Dim())
	cov := make([]float64, g.Dim()*g.Dim())
	mass := g.Moments(rho, mean, cov)
	fmt.Fprintf(w, "  t = %-8.4g mass %.12f, mean %s, covariance %s\n", res.T, mass, fmtVec(mean), fmtMat(cov, g.Dim()))
	if len(rep.exactL1) > 0 {
		worst := 0.0
		for _, v := range rep.exactL1 {
			worst = math.Max(worst, v)
		}
		fmt.Fprintf(w, "  exact       L1 error %.3e at t = %g, max %.3e over %d snapshots\n", rep.exactL1[len(rep.exactL1)-1], rep.times[len(rep.times)-1], worst, len(rep.exactL1))
	}
	fmt.Fprintf(w, "  output      %s (%d snapshots), %.2fs\n", r.out, r.w.Len(), dur.Seconds())
}

func runSteady(e *env, path string, of outputFlags) error {
	start := time.Now()
	s, p, op, err := setup(path)
	if err != nil {
		return err
	}
	g := p.Grid
	if g.HasAbsorbing() {
		return badInput(s.Errorf("grid.boundary", "%v", strings.TrimPrefix(solvers.ErrNoStationary.Error(), "solvers: ")))
	}
	var exact *expression.Expr
	if s.Exact != nil && s.Exact.Stationary != "" {
		if exact, err = p.Compile("exact.stationary", s.Exact.Stationary); err != nil {
			return badInput(err)
		}
	}
	out := s.OutputPath(of.out)
	// Solve first, then write: a steady file is written in one go.
	rho := make([]float64, g.Len())
	res, err := solvers.Stationary(rho, op, &solvers.StationarySettings{Linear: p.Linear})
	if err != nil {
		return failed(err)
	}
	if e.ctx.Err() != nil {
		return errInterrupted
	}
	scheme := fmt.Sprintf("finite volume, %v fluxes; stationary solve", op.Scheme())
	w, err := data.NewWriter(out, g, data.WithHeader(header(e, s, p, scheme)), data.WithOverwrite(), data.WithKind(data.Steady))
	if err != nil {
		return badInput(err)
	}
	var exactL1 = -1.0
	if exact != nil {
		ex := make([]float64, g.Len())
		if err := exactField(p, exact, 0, true, ex); err != nil {
			w.Abort()
			return badInput(s.Wrap("exact.stationary", err))
		}
		if err := w.WriteGridDataset("/exact", ex); err != nil {
			w.Abort()
			return failed(err)
		}
		exactL1 = l1Distance(g, rho, ex)
	}
	if err := w.WriteStationary(rho, res.Residual); err != nil {
		w.Abort()
		return failed(err)
	}
	if err := w.Close(); err != nil {
		return failed(err)
	}
	if !e.quiet {
		ww := e.stdout
		title := s.Title
		if title == "" {
			title = s.Path
		}
		fmt.Fprintf(ww, "%s\n", title)
		fmt.Fprintf(ww, "  grid        %s, %d cells\n", g, g.Len())
		fmt.Fprintf(ww, "  model       %s convention, %v fluxes, max cell Péclet %.3g%s\n", p.Model.Convention, op.Scheme(), op.Stats().MaxPeclet, fitNote(op.Stats()))
		fmt.Fprintf(ww, "  solve       %d iterations, balance residual %.2e, min density %.2e of max\n", res.Linear.Iterations, res.Residual, math.Max(res.MinDensity, 0))
		mean := make([]float64, g.Dim())
		cov := make([]float64, g.Dim()*g.Dim())
		mass := g.Moments(rho, mean, cov)
		fmt.Fprintf(ww, "  stationary  mass %.12f, mean %s, covariance %s\n", mass, fmtVec(mean), fmtMat(cov, g.Dim()))
		if exactL1 >= 0 {
			fmt.Fprintf(ww, "  exact       L1 error %.3e\n", exactL1)
		}
		fmt.Fprintf(ww, "  output      %s, %.2fs\n", out, time.Since(start).Seconds())
	}
	return nil
}

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		if math.Abs(x) < 5e-13 {
			x = 0
		}
		parts[i] = fmt.Sprintf("%.6g", x)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func fmtMat(m []float64, d int) string {
	rows := make([]string, d)
	for i := 0; i < d; i++ {
		rows[i] = "[" + strings.Trim(fmtVec(m[i*d:(i+1)*d]), "()") + "]"
	}
	return "[" + strings.Join(rows, ", ") + "]"
}

// fitNote reports the change of D made by operators.Settings.LatticeFit.
func fitNote(st operators.Stats) string {
	if st.MaxFitError == 0 {
		return ""
	}
	return fmt.Sprintf("; lattice fit of D on directions ≤ %d cells (largest relative change of D %.2g)", st.MaxStencil, st.MaxFitError)
}
