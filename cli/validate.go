package cli

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/figure"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
	"github.com/fokkerplanck/fokker/validation"
)

type validateFlags struct {
	out        string
	particles  int
	dt         float64
	seed       uint64
	scheme     string
	convention string
}

func newValidateCmd(e *env) *cobra.Command {
	var f validateFlags
	c := &cobra.Command{
		Use:   "validate SPEC.toml [-o OUT.h5] [--particles N] [--dt DT] [--seed S] [--scheme euler|milstein|heun]",
		Short: "Check the Fokker–Planck density against a particle SDE ensemble, within its noise floor",
		Long: `validate runs the spec's transient problem twice — as the Fokker–Planck PDE
and as an ensemble of SDE particles on the same grid — and compares the
particle histogram with the PDE density at every snapshot: L1 distance against
its sampling noise floor, chi-square, Hellinger, Kolmogorov–Smirnov (1D), and
survival against the PDE mass with absorbing sides. It writes the PDE
snapshots, /particles/histogram, /particles/survival and /particles/metrics
into OUT.h5 and a comparison figure into OUT.png, and exits 0 when every
snapshot is consistent, 1 when one is not.

The particle scheme defaults to the one matching the convention
(Euler–Maruyama for Itô, Heun for Stratonovich); --convention sets the
particles' convention separately, to check that a wrong pairing is caught.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(e, args[0], f, cmd.Flags().Changed("seed"))
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "output HDF5 file (default: [output].file, or SPEC with .h5)")
	fl.IntVar(&f.particles, "particles", 0, "number of particles (default: [particles].count, or 1000000)")
	fl.Float64Var(&f.dt, "dt", 0, "particle time step (default: [particles].dt, or the spec's dt, at most 1/1000 of the run)")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed (default: [particles].seed, or 1)")
	fl.StringVar(&f.scheme, "scheme", "", "particle scheme: euler, milstein, heun (default: the convention's)")
	fl.StringVar(&f.convention, "convention", "", "particles' convention, if not the spec's (to test a mismatch)")
	return c
}

func runValidate(e *env, path string, f validateFlags, seedSet bool) error {
	start := time.Now()
	s, p, op, err := setup(path)
	if err != nil {
		return err
	}
	if s.Time == nil {
		return badInput(s.Errorf("time", "missing: validate compares snapshots in time; add a [time] table (a long end time checks the stationary state)"))
	}
	g := p.Grid
	rho := make([]float64, g.Len())
	if err := p.InitialDensity(rho); err != nil {
		return badInput(err)
	}
	coef, err := p.Coefficients()
	if err != nil {
		return badInput(err)
	}
	// Particle settings: flags, then [particles], then defaults.
	set := validation.Settings{Particles: 1000000, Seed: 1}
	span := p.Times[len(p.Times)-1] - p.Start
	set.Dt = span / 1000
	if s.Time.Dt > 0 {
		set.Dt = math.Min(s.Time.Dt, set.Dt)
	}
	if ps := s.Particles; ps != nil {
		if ps.Count > 0 {
			set.Particles = ps.Count
		}
		if ps.Dt > 0 {
			set.Dt = ps.Dt
		}
		if ps.Seed != 0 {
			set.Seed = ps.Seed
		}
		if ps.Scheme != "" {
			if set.Scheme, err = validation.ParseScheme(ps.Scheme); err != nil {
				return badInput(s.Errorf("particles.scheme", "%v", strings.TrimPrefix(err.Error(), "validation: ")))
			}
		}
	}
	if f.particles < 0 || f.dt < 0 || math.IsNaN(f.dt) {
		return badInput(fmt.Errorf("--particles and --dt must be positive"))
	}
	if f.particles > 0 {
		set.Particles = f.particles
	}
	if f.dt > 0 {
		set.Dt = f.dt
	}
	if seedSet {
		set.Seed = f.seed
	}
	if f.scheme != "" {
		if set.Scheme, err = validation.ParseScheme(f.scheme); err != nil {
			return badInput(err)
		}
	}
	conv := p.Model.Convention
	if f.convention != "" {
		if conv, err = operators.ParseConvention(f.convention); err != nil {
			return badInput(err)
		}
	}
	vp := validation.Problem{Grid: g, Coefficients: coef, Convention: conv, Initial: rho, T0: p.Start, Times: p.Times}
	st, err := solvers.NewStepper(op, &p.Step)
	if err != nil {
		return badInput(s.Wrap("time", err))
	}
	e.printf("particles: %d, dt %g, simulating…\n", set.Particles, set.Dt)
	pres, err := validation.Simulate(vp, &set)
	if err != nil {
		return failed(err)
	}
	if e.ctx.Err() != nil {
		return errInterrupted
	}
	out := s.OutputPath(f.out)
	scheme := fmt.Sprintf("finite volume, %v fluxes; %v time stepping; particles: %v", op.Scheme(), p.Step.Method, pres.Scheme)
	hdr := header(e, s, p, scheme)
	w, err := data.NewWriter(out, g, data.WithHeader(hdr), data.WithOverwrite())
	if err != nil {
		return badInput(err)
	}
	abort := func(err error) error {
		w.Abort()
		return failed(err)
	}
	hist, err := w.NewGridSeries("/particles/histogram")
	if err != nil {
		return abort(err)
	}
	surv, err := w.NewSeries("/particles/survival", nil, []string{data.DimTime})
	if err != nil {
		return abort(err)
	}
	metricNames := []string{"l1", "l1_floor", "l1_ratio", "chi2", "chi2_df", "chi2_pvalue", "hellinger2", "hellinger2_floor", "ks", "ks_pvalue", "consistent"}
	metrics := make([]*data.Series, len(metricNames))
	for i, name := range metricNames {
		if metrics[i], err = w.NewSeries("/particles/metrics/"+name, nil, []string{data.DimTime}); err != nil {
			return abort(err)
		}
	}
	pps := float64(pres.ParticleSteps) / pres.Duration.Seconds()
	for _, a := range []struct {
		name string
		v    any
	}{
		{"particles", int64(pres.Particles)}, {"dt", set.Dt}, {"scheme", pres.Scheme.String()}, {"seed", int64(set.Seed)},
		{"convention", conv.String()}, {"steps", int64(pres.Steps)}, {"threads", int64(pres.Threads)},
		{"particle_steps_per_second", pps},
	} {
		if err := w.SetAttr("/particles", a.name, a.v); err != nil {
			return abort(err)
		}
	}
	if err := w.StartSWMR(); err != nil {
		return abort(err)
	}
	var comps []validation.Comparison
	hbuf := make([]float64, g.Len())
	snap := 0
	output := solvers.ObserverFunc(func(st *solvers.State) error {
		if st.Output < 0 {
			return nil
		}
		sn := &pres.Snapshots[snap]
		snap++
		c := validation.Compare(g, st.P, sn, nil)
		comps = append(comps, c)
		if err := hist.Append(sn.Density(hbuf, g)); err != nil {
			return err
		}
		if err := surv.Append([]float64{sn.Survival()}); err != nil {
			return err
		}
		ok := 0.0
		if c.Consistent {
			ok = 1
		}
		for i, v := range []float64{c.L1, c.L1Floor, c.Ratio(), c.ChiSquare, float64(c.ChiSquareDF), c.ChiSquarePValue, c.Hellinger2, c.Hellinger2Floor, c.KS, c.KSPValue, ok} {
			if err := metrics[i].Append([]float64{v}); err != nil {
				return err
			}
		}
		return w.Append(st.T, st.P)
	})
	stop := solvers.ObserverFunc(func(*solvers.State) error {
		if e.ctx.Err() != nil {
			return solvers.ErrStop
		}
		return nil
	})
	res, runErr := st.Run(rho, p.Start, p.Times, output, stop)
	if cerr := w.Close(); cerr != nil && runErr == nil {
		runErr = cerr
	}
	if runErr != nil {
		return failed(runErr)
	}
	if res.Stopped {
		return errInterrupted
	}
	// The comparison figure at the last snapshot.
	png := strings.TrimSuffix(out, ".h5") + ".png"
	last := &pres.Snapshots[len(pres.Snapshots)-1]
	counts := make([]float64, len(last.Counts))
	for i, v := range last.Counts {
		counts[i] = float64(v)
	}
	title := s.Title
	if title == "" {
		title = "validate"
	}
	fig, err := figure.Compare(g, rho, counts, float64(last.Particles), &figure.Options{Title: title, Time: figure.FormatTime(last.T)})
	if err == nil {
		err = figure.Save(fig, png)
	}
	if err != nil {
		return failed(fmt.Errorf("figure: %v", err))
	}
	all := true
	for _, c := range comps {
		all = all && c.Consistent
	}
	if !e.quiet {
		wr := e.stdout
		fmt.Fprintf(wr, "%s\n", title)
		fmt.Fprintf(wr, "  PDE         %s, %v fluxes, %v, %d steps\n", g, op.Scheme(), p.Step.Method, res.Steps)
		fmt.Fprintf(wr, "  particles   %d, %v (%s convention), dt %g, seed %d: %.3g particle-steps/s on %d threads\n", pres.Particles, pres.Scheme, conv, set.Dt, set.Seed, pps, pres.Threads)
		sub := comps[0].SubProbability
		fmt.Fprintf(wr, "  %-9s %-10s %-11s %-7s %-10s", "time", "L1", "noise floor", "ratio", "chi2 p")
		if sub {
			fmt.Fprintf(wr, " %-19s", "survival / mass")
		}
		fmt.Fprintf(wr, " verdict\n")
		for i, c := range comps {
			verdict := "consistent"
			if !c.Consistent {
				verdict = "INCONSISTENT"
			}
			fmt.Fprintf(wr, "  %-9.4g %-10.4g %-11.4g %-7.3g %-10.3g", p.Times[i], c.L1, c.L1Floor, c.Ratio(), c.ChiSquarePValue)
			if sub {
				fmt.Fprintf(wr, " %-19s", fmt.Sprintf("%.5f / %.5f", c.Survival, c.Mass))
			}
			fmt.Fprintf(wr, " %s\n", verdict)
		}
		fmt.Fprintf(wr, "  output      %s, %s, %.1fs\n", out, png, time.Since(start).Seconds())
	}
	if !all {
		bad := 0
		for _, c := range comps {
			if !c.Consistent {
				bad++
			}
		}
		return failed(fmt.Errorf("validate: particles and PDE disagree at %d of %d snapshots (L1 above %.3g × its noise floor, or a p-value below %g)", bad, len(comps), 1.5, 1e-3))
	}
	return nil
}
