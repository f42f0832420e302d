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

func newRunCmd(e *env) *cobra.Command {
	var of outputFlags
	c := &cobra.Command{
		Use:   "run SPEC.toml [-o OUT.h5]",
		Short: "Transient solve: density snapshots at the spec's times",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTransient(e, args[0], of)
		},
	}
	c.Flags().StringVarP(&of.out, "output", "o", "", "output HDF5 file (default: [output].file, or SPEC with .h5)")
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

func runTransient(e *env, path string, of outputFlags) error {
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
	var exact *expression.Expr
	if s.Exact != nil && s.Exact.Density != "" {
		if exact, err = p.Compile("exact.density", s.Exact.Density); err != nil {
			return badInput(err)
		}
	}
	st, err := solvers.NewStepper(op, &p.Step)
	if err != nil {
		return badInput(s.Wrap("time", err))
	}
	out := s.OutputPath(of.out)
	scheme := fmt.Sprintf("finite volume, %v fluxes; %v time stepping", op.Scheme(), p.Step.Method)
	w, err := data.NewWriter(out, g, data.WithHeader(header(e, s, p, scheme)), data.WithOverwrite())
	if err != nil {
		return badInput(err)
	}
	var exactSeries *data.Series
	if exact != nil {
		if exactSeries, err = w.NewGridSeries("/exact"); err != nil {
			w.Abort()
			return failed(err)
		}
	}
	if err := w.StartSWMR(); err != nil {
		w.Abort()
		return failed(err)
	}
	var rep runReport
	exactBuf := make([]float64, g.Len())
	pb := newProgress(e, p.Times[len(p.Times)-1], p.Start)
	output := solvers.ObserverFunc(func(st *solvers.State) error {
		if st.Output < 0 {
			return nil
		}
		if exactSeries != nil {
			if err := exactField(p, exact, st.T, false, exactBuf); err != nil {
				return err
			}
			if err := exactSeries.Append(exactBuf); err != nil {
				return err
			}
			rep.exactL1 = append(rep.exactL1, l1Distance(g, st.P, exactBuf))
		}
		if err := w.Append(st.T, st.P); err != nil {
			return err
		}
		rep.times = append(rep.times, st.T)
		return nil
	})
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
	res, runErr := st.Run(rho, p.Start, p.Times, output, progress, stop)
	pb.finish()
	if cerr := w.Close(); cerr != nil && runErr == nil {
		runErr = cerr
	}
	if runErr != nil {
		return failed(fmt.Errorf("%v (the %d snapshots written so far are in %s)", runErr, len(rep.times), out))
	}
	rep.print(e, s, p, op, res, rho, out, time.Since(start))
	if res.Stopped {
		return errInterrupted
	}
	return nil
}

type runReport struct {
	times   []float64
	exactL1 []float64
}

func (r *runReport) print(e *env, s *spec.Spec, p *problem.Problem, op *operators.Operator, res solvers.RunResult, rho []float64, out string, dur time.Duration) {
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
	fmt.Fprintf(w, "  model       %s convention, %v fluxes, max cell Péclet %.3g\n", p.Model.Convention, op.Scheme(), op.Stats().MaxPeclet)
	fmt.Fprintf(w, "  stepping    %v, %d steps (%d rejected), %d linear iterations, max residual %.1e\n", p.Step.Method, res.Steps, res.Rejected, res.LinearIterations, res.MaxResidual)
	mean := make([]float64, g.Dim())
	cov := make([]float64, g.Dim()*g.Dim())
	mass := g.Moments(rho, mean, cov)
	fmt.Fprintf(w, "  t = %-8.4g mass %.12f, mean %s, covariance %s\n", res.T, mass, fmtVec(mean), fmtMat(cov, g.Dim()))
	if len(r.exactL1) > 0 {
		worst := 0.0
		for _, v := range r.exactL1 {
			worst = math.Max(worst, v)
		}
		fmt.Fprintf(w, "  exact       L1 error %.3e at t = %g, max %.3e over %d snapshots\n", r.exactL1[len(r.exactL1)-1], r.times[len(r.times)-1], worst, len(r.exactL1))
	}
	fmt.Fprintf(w, "  output      %s (%d snapshots), %.2fs\n", out, len(r.times), dur.Seconds())
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
		fmt.Fprintf(ww, "  model       %s convention, %v fluxes, max cell Péclet %.3g\n", p.Model.Convention, op.Scheme(), op.Stats().MaxPeclet)
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
