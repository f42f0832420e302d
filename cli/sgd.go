package cli

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/figure"
	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/sgd"
	"github.com/fokkerplanck/fokker/spec"
)

type sgdFlags struct {
	out     string
	png     string
	chains  int
	steps   int
	seed    uint64
	sweep   string
	noCheck bool
}

func newSGDCmd(e *env) *cobra.Command {
	var f sgdFlags
	c := &cobra.Command{
		Use:   "sgd SPEC.toml [-o OUT.h5] [--chains N] [--steps K] [--seed S] [--sweep eta1,eta2,...] [--no-check]",
		Short: "Fokker–Planck model of SGD on a loss and data, checked against real SGD chains",
		Long: `sgd builds the Fokker–Planck equation of minibatch SGD from an [sgd] spec
(per-sample loss, data, learning rate eta, batch size n): drift −∇L and
diffusion (eta/2n) Cov[∇u], Itô, time t = steps·eta. It solves for the
stationary density (or the snapshots of [time]), runs real SGD chains on the
same data and compares them with the density within the noise floor plus an
O(eta) allowance, and writes an HDF5 file, a PNG and a report.
docs/sgd.md describes the model, the check and the output.

Exit status 1 means the check failed: SGD and the Fokker–Planck density
differ by more than the noise floor plus the allowance.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSGD(e, args[0], f, cmd.Flags().Changed("seed"))
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "output HDF5 file (default: [output].file, or SPEC with .h5)")
	fl.StringVar(&f.png, "png", "", "figure (default: the output with .png)")
	fl.IntVar(&f.chains, "chains", 0, "number of SGD chains (default: [sgd.check] chains, or 20000)")
	fl.IntVar(&f.steps, "steps", 0, "burn-in steps of a stationary check (default: [sgd.check] steps, or 1000)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the chains (default: [sgd.check] seed, or 1)")
	fl.StringVar(&f.sweep, "sweep", "", "comma-separated learning rates to sweep (default: [sgd] sweep)")
	fl.BoolVar(&f.noCheck, "no-check", false, "skip the SGD chains")
	return c
}

func runSGD(e *env, path string, f sgdFlags, seedSet bool) error {
	start := time.Now()
	s, err := spec.Load(path)
	if err != nil {
		return badInput(err)
	}
	if s.SGD == nil {
		return badInput(s.Errorf("sgd", "missing: `fokker sgd` needs an [sgd] table (use `fokker run` or `fokker steady` for a [model])"))
	}
	st, err := sgd.FromSpec(s, availableMemory())
	if err != nil {
		return badInput(err)
	}
	if f.chains < 0 || f.steps < 0 {
		return badInput(errors.New("--chains and --steps must be positive"))
	}
	if f.chains > 0 {
		st.Check.Chains = f.chains
	}
	if f.steps > 0 {
		st.Check.Steps = f.steps
	}
	if seedSet {
		st.Check.Seed = f.seed
	}
	skip := st.Check.Skip || f.noCheck
	etas := st.SweepRates
	if f.sweep != "" {
		if etas, err = parseRates(f.sweep); err != nil {
			return badInput(err)
		}
	}
	out := s.OutputPath(f.out)
	png := f.png
	if png == "" {
		png = strings.TrimSuffix(out, ".h5") + ".png"
	}
	if !strings.EqualFold(pngExt(png), ".png") {
		return badInput(fmt.Errorf("sgd: figure %q must end in .png", png))
	}

	pb := newProgress(e, 1, 0)
	defer pb.finish()
	st.Progress = pb.phase
	ls, err := sgd.EvaluateProgress(st.Grid, st.Loss, st.Data, e.threads, func(f float64) { pb.phase("landscape", f) })
	if err != nil {
		var pe *sgd.PointError
		if errors.As(err, &pe) {
			return badInput(s.Wrap("sgd.loss", errors.New(strings.TrimPrefix(err.Error(), "sgd: "))))
		}
		return failed(err)
	}
	evalTime := time.Since(start)
	ctx := e.ctx
	sd, err := st.Run(ctx, ls, st.Config, skip)
	if err != nil {
		return sgdRunError(e, s, err)
	}
	var rows []sgd.SweepRow
	var sweeps []*sgd.Study
	if len(etas) > 0 {
		if rows, sweeps, err = st.Sweep(ctx, ls, etas); err != nil {
			return sgdRunError(e, s, err)
		}
	}
	pb.finish()
	fields, err := ls.Fields(st.Config)
	if err != nil {
		return failed(err)
	}
	if err := writeSGD(e, out, st, ls, sd, fields, rows); err != nil {
		return err
	}
	if err := plotSGD(png, st, ls, sd, fields); err != nil {
		return failed(err)
	}
	var figs []string
	if len(rows) > 1 {
		base := strings.TrimSuffix(png, pngExt(png))
		figs = append(figs, base+"-sweep.png")
		if err := plotSweep(figs[0], st, rows); err != nil {
			return failed(err)
		}
		if sd.Tail != nil {
			figs = append(figs, base+"-exponents.png", base+"-tails.png")
			if err := plotExponents(figs[1], st, rows); err != nil {
				return failed(err)
			}
			if err := plotTails(figs[2], st, ls, sweeps); err != nil {
				return failed(err)
			}
		}
	}
	if !e.quiet {
		reportSGD(e.stdout, st, ls, sd, rows, evalTime, out, append([]string{png}, figs...), time.Since(start))
	}
	if !sd.Passed() {
		return failed(fmt.Errorf("sgd: check failed: SGD and the Fokker–Planck density differ by more than %.3g× the noise floor plus the O(eta) allowance (see the report; results are in %s)", sgd.L1Ratio, out))
	}
	return nil
}

func pngExt(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i:]
	}
	return ""
}

// sgdRunError classifies an error of the solve or the chains.
func sgdRunError(e *env, s *spec.Spec, err error) error {
	var se *spec.Error
	var de *sgd.SolveError
	switch {
	case errors.Is(err, context.Canceled) || e.ctx.Err() != nil:
		return errInterrupted
	case errors.As(err, &se):
		return badInput(err)
	case errors.As(err, &de):
		return badInput(s.Wrap("sgd", err))
	}
	return failed(err)
}

func parseRates(v string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || !(x > 0) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("--sweep: %q is not a positive learning rate", f)
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, errors.New("--sweep: no learning rates")
	}
	return out, nil
}

// writeSGD writes the fokker-density file with the /sgd and /particles
// datasets (docs/format.md).
func writeSGD(e *env, out string, st *sgd.Setup, ls *sgd.Landscape, sd *sgd.Study, fields *sgd.Fields, rows []sgd.SweepRow) error {
	s := st.Spec
	g := st.Grid
	sol := sd.FP
	kind := data.Steady
	scheme := fmt.Sprintf("finite volume, %v fluxes; stationary solve", st.Base.Operator.Scheme)
	if !sol.Stationary {
		kind = data.Transient
		scheme = fmt.Sprintf("finite volume, %v fluxes; %v time stepping", st.Base.Operator.Scheme, st.Base.Step.Method)
	}
	h := data.Header{
		Created:       created(),
		FokkerVersion: versionString(),
		Command:       e.commandLine(),
		Spec:          s.Source,
		Convention:    "ito",
		Scheme:        scheme,
		Extra:         map[string]any{"title": s.Title},
	}
	opts := []data.Option{data.WithHeader(h), data.WithOverwrite(), data.WithKind(kind)}
	if !sol.Stationary {
		opts = append(opts, data.WithSnapshots(len(sol.Densities)))
	}
	w, err := data.NewWriter(out, g, opts...)
	if err != nil {
		return badInput(err)
	}
	fail := func(err error) error {
		w.Abort()
		return failed(err)
	}
	names := g.Names()
	d := g.Dim()
	// Fields on the grid.
	grids := map[string][]float64{"/sgd/loss": fields.Loss}
	for i := 0; i < d; i++ {
		grids["/sgd/drift_"+names[i]] = fields.Drift[i]
		grids["/sgd/noise_drift_"+names[i]] = fields.NoiseDrift[i]
		for j := i; j < d; j++ {
			grids["/sgd/diffusion_"+names[i]+"_"+names[j]] = fields.Diffusion[i*d+j]
		}
	}
	flux := sgd.Flux(g, fields, sol.Last())
	for i := 0; i < d; i++ {
		grids["/sgd/flux_"+names[i]] = flux[i]
	}
	paths := make([]string, 0, len(grids))
	for p := range grids {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := w.WriteGridDataset(p, grids[p]); err != nil {
			return fail(err)
		}
	}
	// The data set.
	dt := st.Data
	rowIdx := make([]float64, dt.Len())
	for i := range rowIdx {
		rowIdx[i] = float64(i)
	}
	if err := w.AddDim("sgd_row", rowIdx); err != nil {
		return fail(err)
	}
	if err := w.AddLabelDim("sgd_column", dt.Names); err != nil {
		return fail(err)
	}
	if err := w.WriteDataset("/sgd/data", []int{dt.Len(), len(dt.Names)}, dt.Matrix(), []string{"sgd_row", "sgd_column"}); err != nil {
		return fail(err)
	}
	if err := w.SetAttr("/sgd/data", "columns", dt.Names); err != nil {
		return fail(err)
	}
	// Metadata.
	c := st.Config
	attrs := map[string]any{
		"loss":              st.Loss.String(),
		"learning_rate":     c.LearningRate,
		"batch_size":        int64(c.BatchSize),
		"sampling":          c.Sampling.String(),
		"data_rows":         int64(dt.Len()),
		"data_source":       st.DataSource,
		"noise_factor":      c.NoiseFactor(dt.Len()),
		"diffusion_scale":   c.Scale(dt.Len()),
		"time_per_step":     c.LearningRate,
		"convention":        "ito",
		"regularization":    st.Base.Operator.Regularization,
		"lattice_fit_error": sol.Operator.MaxFitError,
		"max_stencil":       int64(sol.Operator.MaxStencil),
		"cross_directions":  int64(sol.Operator.CrossDirections),
	}
	if c.FreezeAt != nil {
		attrs["freeze_diffusion_at"] = c.FreezeAt
	}
	if sol.Stationary {
		attrs["residual"] = sol.Residual
	}
	for _, k := range sortedAttrKeys(attrs) {
		if err := w.SetAttr("/sgd", k, attrs[k]); err != nil {
			return fail(err)
		}
	}
	// Tails, regions, sweep.
	if tr := sd.Tail; tr != nil {
		for _, kv := range []struct {
			k string
			v float64
		}{{"theta_star", tr.ThetaStar}, {"alpha_fp", tr.AlphaFP}, {"alpha_kesten", tr.AlphaKesten}, {"u", tr.U}, {"alpha_fp_u", tr.AlphaFPU}, {"alpha_sgd", tr.AlphaSGD}, {"alpha_sgd_err", tr.AlphaSGDErr}, {"k", float64(tr.K)}} {
			if err := w.WriteDataset("/sgd/tail/"+kv.k, nil, []float64{kv.v}, nil); err != nil {
				return fail(err)
			}
		}
	}
	if len(sd.Regions) > 0 {
		r := len(sd.Regions)
		labels := make([]string, r)
		centres := make([]float64, 0, r*d)
		var fp, corr, sg []float64
		for i, reg := range sd.Regions {
			labels[i] = fmtVec(reg.Centre)
			centres = append(centres, reg.Centre...)
			fp = append(fp, reg.FP)
			corr = append(corr, reg.Corrected)
			sg = append(sg, reg.SGD)
		}
		if err := w.AddLabelDim("sgd_region", labels); err != nil {
			return fail(err)
		}
		for _, kv := range []struct {
			k string
			v []float64
		}{{"fp", fp}, {"corrected", corr}, {"sgd", sg}} {
			if err := w.WriteDataset("/sgd/regions/"+kv.k, []int{r}, kv.v, []string{"sgd_region"}); err != nil {
				return fail(err)
			}
		}
		if err := w.WriteDataset("/sgd/regions/centre", []int{r, d}, centres, []string{"sgd_region", data.DimAxis}); err != nil {
			return fail(err)
		}
		if err := w.SetAttr("/sgd/regions", "radius", st.Check.Radius); err != nil {
			return fail(err)
		}
	}
	if len(rows) > 0 {
		etas := make([]float64, len(rows))
		for i, r := range rows {
			etas[i] = r.LearningRate
		}
		if err := w.AddDim("sgd_learning_rate", etas); err != nil {
			return fail(err)
		}
		cols := map[string]func(r sgd.SweepRow) float64{
			"l1_ratio":           func(r sgd.SweepRow) float64 { return r.Ratio },
			"l1_ratio_corrected": func(r sgd.SweepRow) float64 { return r.RatioCorrected },
			"allowance_ratio":    func(r sgd.SweepRow) float64 { return r.AllowanceRatio },
			"chi2_p":             func(r sgd.SweepRow) float64 { return r.ChiSquareP },
			"chi2_p_corrected":   func(r sgd.SweepRow) float64 { return r.ChiSquarePCorrected },
			"escaped":            func(r sgd.SweepRow) float64 { return r.Escaped },
			"grid_ratio":         func(r sgd.SweepRow) float64 { return r.GridErrorRatio },
			"passed":             func(r sgd.SweepRow) float64 { return b2f(r.Passed) },
		}
		if sd.Tail != nil {
			cols["alpha_fp"] = func(r sgd.SweepRow) float64 { return r.AlphaFP }
			cols["alpha_kesten"] = func(r sgd.SweepRow) float64 { return r.AlphaKesten }
			cols["alpha_fp_u"] = func(r sgd.SweepRow) float64 { return r.AlphaFPU }
			cols["alpha_sgd"] = func(r sgd.SweepRow) float64 { return r.AlphaSGD }
			cols["alpha_sgd_err"] = func(r sgd.SweepRow) float64 { return r.AlphaSGDErr }
		}
		for _, k := range sortedKeysOf(cols) {
			v := make([]float64, len(rows))
			for i, r := range rows {
				v[i] = cols[k](r)
			}
			if err := w.WriteDataset("/sgd/sweep/"+k, []int{len(rows)}, v, []string{"sgd_learning_rate"}); err != nil {
				return fail(err)
			}
		}
		if len(sd.Regions) > 0 {
			nr := len(sd.Regions)
			fp := make([]float64, 0, len(rows)*nr)
			sg := make([]float64, 0, len(rows)*nr)
			for _, r := range rows {
				for _, reg := range r.Regions {
					fp = append(fp, reg.FP)
					sg = append(sg, reg.SGD)
				}
			}
			if err := w.WriteDataset("/sgd/sweep/region_fp", []int{len(rows), nr}, fp, []string{"sgd_learning_rate", "sgd_region"}); err != nil {
				return fail(err)
			}
			if err := w.WriteDataset("/sgd/sweep/region_sgd", []int{len(rows), nr}, sg, []string{"sgd_learning_rate", "sgd_region"}); err != nil {
				return fail(err)
			}
		}
	}
	// Check metrics: validation's, against the first-order SDE, under
	// /particles/metrics as `fokker validate` writes them; the SGD-specific
	// ones under /sgd/check.
	if n := len(sd.Comparisons); n > 0 {
		type metric struct {
			path string
			f    func(c sgd.Comparison) float64
		}
		ms := []metric{
			{"/particles/metrics/l1", func(c sgd.Comparison) float64 { return c.FP.L1 }},
			{"/particles/metrics/l1_floor", func(c sgd.Comparison) float64 { return c.FP.L1Floor }},
			{"/particles/metrics/l1_ratio", func(c sgd.Comparison) float64 { return c.FP.Ratio() }},
			{"/particles/metrics/chi2", func(c sgd.Comparison) float64 { return c.FP.ChiSquare }},
			{"/particles/metrics/chi2_df", func(c sgd.Comparison) float64 { return float64(c.FP.ChiSquareDF) }},
			{"/particles/metrics/chi2_pvalue", func(c sgd.Comparison) float64 { return c.FP.ChiSquarePValue }},
			{"/particles/metrics/hellinger2", func(c sgd.Comparison) float64 { return c.FP.Hellinger2 }},
			{"/particles/metrics/hellinger2_floor", func(c sgd.Comparison) float64 { return c.FP.Hellinger2Floor }},
			{"/particles/metrics/ks", func(c sgd.Comparison) float64 { return c.FP.KS }},
			{"/particles/metrics/ks_pvalue", func(c sgd.Comparison) float64 { return c.FP.KSPValue }},
			{"/particles/metrics/consistent", func(c sgd.Comparison) float64 { return b2f(c.FP.Consistent) }},
			{"/sgd/check/allowance", func(c sgd.Comparison) float64 { return c.Allowance }},
			{"/sgd/check/l1_corrected", func(c sgd.Comparison) float64 { return c.Corrected.L1 }},
			{"/sgd/check/l1_ratio_corrected", func(c sgd.Comparison) float64 { return c.Corrected.Ratio() }},
			{"/sgd/check/chi2_pvalue_corrected", func(c sgd.Comparison) float64 { return c.Corrected.ChiSquarePValue }},
			{"/sgd/check/escaped", func(c sgd.Comparison) float64 { return c.Escaped }},
			{"/sgd/check/first_order_negative", func(c sgd.Comparison) float64 { return c.FirstOrderNegative }},
			{"/sgd/check/first_order_grid_error", func(c sgd.Comparison) float64 { return c.FirstOrderGridError }},
			{"/sgd/check/grid_error", func(c sgd.Comparison) float64 { return c.GridError }},
			{"/sgd/check/l1_ratio_sde_ensemble", func(c sgd.Comparison) float64 { return c.SDEEnsemble.Ratio() }}, // NaN (0/0) without one
			{"/sgd/check/passed", func(c sgd.Comparison) float64 { return b2f(c.Passed) }},
		}
		for _, m := range ms {
			v := make([]float64, n)
			for i, c := range sd.Comparisons {
				v[i] = m.f(c)
			}
			var err error
			if sol.Stationary {
				err = w.WriteDataset(m.path, nil, v[:1], nil)
			} else {
				err = w.WriteDataset(m.path, []int{n}, v, []string{data.DimTime})
			}
			if err != nil {
				return fail(err)
			}
		}
		ck := st.Check
		regimes := make([]string, n)
		for i, c := range sd.Comparisons {
			regimes[i] = c.Regime()
		}
		for _, kv := range []struct {
			k string
			v any
		}{{"coarsen", int64(ck.Coarsen)}, {"l1_ratio", sgd.L1Ratio}, {"regime", regimes}} {
			if err := w.SetAttr("/sgd/check", kv.k, kv.v); err != nil {
				return fail(err)
			}
		}
	}
	// Densities: the first-order SDE's, SGD's law to first order, and the
	// chains' histograms.
	hists := histDensities(g, sd)
	if sol.Stationary {
		if sol.Corrected != nil {
			if err := w.WriteGridDataset("/sgd/corrected", sol.Corrected[0]); err != nil {
				return fail(err)
			}
		}
		if hists != nil {
			hh := &sd.Chains.Histograms[0]
			if err := w.WriteGridDataset("/particles/histogram", hists[0]); err != nil {
				return fail(err)
			}
			if err := w.WriteDataset("/particles/survival", nil, []float64{1 - hh.EscapedFraction()}, nil); err != nil {
				return fail(err)
			}
			if err := setHistAttrs(w, st, sd); err != nil {
				return fail(err)
			}
		}
		if err := w.WriteStationary(sol.Densities[0], sol.Residual); err != nil {
			return fail(err)
		}
	} else {
		var corr, hist *data.Series
		var surv *data.Series
		if sol.Corrected != nil {
			if corr, err = w.NewGridSeries("/sgd/corrected"); err != nil {
				return fail(err)
			}
		}
		if hists != nil {
			if hist, err = w.NewGridSeries("/particles/histogram"); err != nil {
				return fail(err)
			}
			if surv, err = w.NewSeries("/particles/survival", nil, []string{data.DimTime}); err != nil {
				return fail(err)
			}
			if err := setHistAttrs(w, st, sd); err != nil {
				return fail(err)
			}
		}
		for i, t := range sol.Times {
			if corr != nil {
				if err := corr.Append(sol.Corrected[i]); err != nil {
					return fail(err)
				}
			}
			if hist != nil {
				if err := hist.Append(hists[i]); err != nil {
					return fail(err)
				}
				if err := surv.Append([]float64{1 - sd.Chains.Histograms[i].EscapedFraction()}); err != nil {
					return fail(err)
				}
			}
			if err := w.Append(t, sol.Densities[i]); err != nil {
				return fail(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		return failed(err)
	}
	return nil
}

func setHistAttrs(w *data.Writer, st *sgd.Setup, sd *sgd.Study) error {
	ch := sd.Chains
	h := ch.Histograms[len(ch.Histograms)-1]
	pps := float64(ch.ChainSteps) / ch.Duration.Seconds()
	for _, kv := range []struct {
		k string
		v any
	}{
		{"particles", h.Records}, {"chains", int64(ch.Chains)}, {"records_per_chain", h.Records / int64(max(ch.Chains, 1))},
		{"steps", int64(ch.Steps)}, {"seed", int64(st.Check.Seed)}, {"scheme", "sgd"}, {"convention", "ito"},
		{"threads", int64(ch.Threads)}, {"particle_steps_per_second", pps}, {"escaped", h.Escaped}, {"diverged", h.Diverged},
	} {
		if err := w.SetAttr("/particles", kv.k, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// histDensities returns the chains' histograms as densities, counts over
// (records × cell volume), one per snapshot, as `fokker validate` writes
// particle histograms (their mass is the fraction inside the grid); nil
// without chains.
func histDensities(g *grid.Grid, sd *sgd.Study) [][]float64 {
	if sd.Chains == nil {
		return nil
	}
	var out [][]float64
	for _, h := range sd.Chains.Histograms {
		v := make([]float64, g.Len())
		n := float64(h.Records)
		for l, c := range h.Counts {
			if n > 0 {
				v[l] = float64(c) / (n * g.Volume(l))
			}
		}
		out = append(out, v)
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sortedAttrKeys(m map[string]any) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func sortedKeysOf[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// reportSGD prints the run's summary table.
func reportSGD(w io.Writer, st *sgd.Setup, ls *sgd.Landscape, sd *sgd.Study, rows []sgd.SweepRow, evalTime time.Duration, out string, figs []string, dur time.Duration) {
	s := st.Spec
	g := st.Grid
	c := st.Config
	title := s.Title
	if title == "" {
		title = s.Path
	}
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(w, "  grid        %s, %d cells\n", g, g.Len())
	fmt.Fprintf(w, "  data        %s; columns %s\n", st.DataSource, strings.Join(st.Data.Names, ", "))
	fmt.Fprintf(w, "  sgd         loss %s; eta %g, batch %d %s (noise factor %.4g); t = steps·eta\n", st.Loss, c.LearningRate, c.BatchSize, c.Sampling, c.NoiseFactor(st.Data.Len()))
	op := sd.FP.Operator
	model := fmt.Sprintf("Itô, D = (eta/2n) f Cov[∇u]; max cell Péclet %.3g", op.MaxPeclet)
	if c.FreezeAt != nil {
		model = fmt.Sprintf("Itô, D frozen at %s (no noise-induced drift); max cell Péclet %.3g", fmtVec(c.FreezeAt), op.MaxPeclet)
	}
	if g.Dim() > 1 {
		model += fmt.Sprintf("; Selling stencil up to %d cells (%d cross directions)", op.MaxStencil, op.CrossDirections)
	}
	if r := st.Base.Operator.Regularization; r > 0 {
		model += fmt.Sprintf("; regularization %g tr(D)/d I", r)
	}
	if op.MaxFitError > 0 {
		model += fmt.Sprintf("; lattice fit of D on directions ≤ %d cells (largest relative change of D %.2g)", st.Base.Operator.MaxStencil, op.MaxFitError)
	}
	fmt.Fprintf(w, "  model       %s\n", model)
	if op.MaxPeclet > 10 {
		fmt.Fprintf(w, "  warning     cell Péclet numbers up to %.3g: where the diffusion along a connection is small against the drift, the flux is upwinded, with numerical diffusion of order |mu| h/2 (a rank-one D leaves little diffusion on the axes that carry the drift); refine the grid to check\n", op.MaxPeclet)
	}
	fmt.Fprintf(w, "  landscape   %d points × %d rows in %.2fs\n", ls.Evaluations, st.Data.Len(), evalTime.Seconds())
	sol := sd.FP
	if sol.Stationary {
		fmt.Fprintf(w, "  stationary  balance residual %.2e, %d linear iterations\n", sol.Residual, sol.Iterations)
	} else {
		fmt.Fprintf(w, "  transient   %d snapshots to t = %g (%d SGD steps)\n", len(sol.Times), sol.Times[len(sol.Times)-1], sol.Steps[len(sol.Steps)-1])
	}
	if ch := sd.Chains; ch != nil {
		rate := float64(ch.ChainSteps) / ch.Duration.Seconds()
		fmt.Fprintf(w, "  chains      %d chains, %d steps, %.3g steps/s on %d threads, seed %d\n", ch.Chains, ch.Steps, rate, ch.Threads, st.Check.Seed)
		ens := st.Check.SDEEnsemble > 0
		col := func(name string) string {
			if !ens {
				return ""
			}
			return fmt.Sprintf(" %9s", name)
		}
		fmt.Fprintf(w, "  check       %-10s %9s %10s %10s %9s%s %9s %9s  %-10s %s\n", "t", "L1/floor", "first ord", "allowance", "grid", col("SDE ens"), "chi² p", "escaped", "regime", "verdict")
		for _, cm := range sd.Comparisons {
			v := "ok"
			if !cm.Passed {
				v = "FAILED"
			}
			t := strconv.FormatFloat(cm.T, 'g', 4, 64)
			if sol.Stationary {
				t = "stationary"
			}
			fmt.Fprintf(w, "              %-10s %9.3g %10.3g %10.3g %9.3g%s %9.2g %9.2g  %-10s %s\n", t, cm.FP.Ratio(), cm.Corrected.Ratio(), cm.Allowance/cm.FP.L1Floor, cm.GridError/cm.FP.L1Floor, col(strconv.FormatFloat(cm.SDEEnsemble.Ratio(), 'g', 3, 64)), cm.FP.ChiSquarePValue, cm.Escaped, cm.Regime(), v)
		}
		if n := len(sd.Comparisons); n > 0 {
			cm := sd.Comparisons[n-1]
			fmt.Fprintf(w, "              (last: L1 %.4g, noise floor %.4g, %d records in the box; verdict: L1 ≤ %.3g·floor + allowance)\n", cm.FP.L1, cm.FP.L1Floor, cm.FP.Particles, sgd.L1Ratio)
			if sd.NoGridCheck != "" {
				fmt.Fprintf(w, "              (grid: no estimate of the density's discretisation error: %s)\n", sd.NoGridCheck)
			} else if !math.IsNaN(cm.GridError) {
				fmt.Fprintf(w, "              (grid: L1 between this density and the one on half the cells per axis, in floors: its discretisation error, about)\n")
			}
			if ens {
				fmt.Fprintf(w, "              (SDE ens: L1 between the chains and an Euler–Maruyama ensemble of the SDE itself, %d particles at steps of eta/%d, in floors; for one law about %.2g)\n", st.Check.SDEEnsemble, sgd.SDESubsteps, math.Sqrt(1+float64(st.Check.Chains)/float64(st.Check.SDEEnsemble)))
			}
		}
	}
	// The regions are taken at the last snapshot: say so when the
	// first-order law is not resolved there.
	resolved := true
	if n := len(sd.Comparisons); n > 0 {
		resolved = sd.Comparisons[n-1].FirstOrderResolved()
	}
	for _, r := range sd.Regions {
		fo := fmt.Sprintf("%.4f", r.Corrected)
		if !resolved {
			fo = "unresolved"
		}
		fmt.Fprintf(w, "  region      %s r=%g: FP %.4f, first order %s, SGD %.4f\n", fmtVec(r.Centre), r.Radius, r.FP, fo, r.SGD)
	}
	if !resolved {
		cm := sd.Comparisons[len(sd.Comparisons)-1]
		fl := cm.Corrected.L1Floor
		if cm.FirstOrderNegative > sgd.L1Ratio*fl {
			fmt.Fprintf(w, "              (the first-order law has negative mass %.3g on the compared bins, %.3g noise floors: not resolved on this grid)\n", cm.FirstOrderNegative, cm.FirstOrderNegative/fl)
		} else {
			fmt.Fprintf(w, "              (the first-order law differs from the one on half the cells per axis by %.3g noise floors on the compared bins: not resolved on this grid)\n", cm.FirstOrderGridError/fl)
		}
	}
	if tr := sd.Tail; tr != nil {
		k := fmtAlpha(tr.AlphaKesten)
		if tr.KestenErr != "" {
			k = "none (" + tr.KestenErr + ")"
		}
		fmt.Fprintf(w, "  tails       theta* = %.6g; index alpha of P(|theta−theta*| > z) ~ z^-alpha: FP formula %s, Kesten (data) %s\n", tr.ThetaStar, fmtAlpha(tr.AlphaFP), k)
		fmt.Fprintf(w, "              beyond u = %.4g (the FP %.3g quantile): FP %s, SGD %s ± %.2g (%d positions)\n", tr.U, st.Check.TailQuantile, fmtAlpha(tr.AlphaFPU), fmtAlpha(tr.AlphaSGD), tr.AlphaSGDErr, tr.K)
	}
	if len(rows) > 0 {
		tail := sd.Tail != nil
		hdr := fmt.Sprintf("  sweep       %-8s %9s %10s %10s %9s %9s  %-10s", "eta", "L1/floor", "first ord", "allowance", "grid", "escaped", "regime")
		if tail {
			hdr += fmt.Sprintf(" %8s %8s %8s %14s", "α FP", "α Kesten", "α FP(u)", "α SGD(u)")
		}
		for i := range rows[0].Regions {
			hdr += fmt.Sprintf("  %s FP/SGD", fmtVec(rows[0].Regions[i].Centre))
		}
		fmt.Fprintln(w, hdr)
		for _, r := range rows {
			line := fmt.Sprintf("              %-8.4g %9.3g %10.3g %10.3g %9.3g %9.2g  %-10s", r.LearningRate, r.Ratio, r.RatioCorrected, r.AllowanceRatio, r.GridErrorRatio, r.Escaped, r.Regime)
			if tail {
				line += fmt.Sprintf(" %8s %8s %8s %8s ± %-4.2g", fmtAlpha(r.AlphaFP), fmtAlpha(r.AlphaKesten), fmtAlpha(r.AlphaFPU), fmtAlpha(r.AlphaSGD), r.AlphaSGDErr)
			}
			for _, reg := range r.Regions {
				line += fmt.Sprintf("  %.3f/%.3f", reg.FP, reg.SGD)
			}
			fmt.Fprintln(w, line)
		}
		first := func(r sgd.SweepRow) float64 { return r.Ratio }
		corr := func(r sgd.SweepRow) float64 { return r.RatioCorrected }
		caveat := func(eta float64) {
			if g := gridLimited(rows, eta); g != "" {
				fmt.Fprintf(w, "              — but at eta = %s the distance is within the density's discretisation error (column grid): refine the grid before reading it as SGD parting\n", g)
			}
		}
		if eta, ok := partingRate(rows, first); ok {
			fmt.Fprintf(w, "              the first-order SDE parts from SGD at eta = %g (L1 above %.3g floors from there on)\n", eta, sgd.L1Ratio)
			caveat(eta)
		} else {
			fmt.Fprintf(w, "              the first-order SDE holds at every swept eta\n")
		}
		if eta, ok := partingRate(rows, corr); ok {
			if unresolvedFrom(rows, eta) {
				fmt.Fprintf(w, "              SGD's law to first order in eta is not resolved on this grid at some eta ≥ %g: the check cannot say where it parts\n", eta)
			} else {
				fmt.Fprintf(w, "              SGD's law to first order in eta parts at eta = %g\n", eta)
				caveat(eta)
			}
		}
	}
	fmt.Fprintf(w, "  output      %s, %s, %.2fs\n", out, strings.Join(figs, ", "), dur.Seconds())
}

// gridLimited lists the learning rates ≥ eta whose comparison is within the
// density's estimated discretisation error (regime "grid").
func gridLimited(rows []sgd.SweepRow, eta float64) string {
	var g []string
	for _, r := range rows {
		if r.LearningRate >= eta && r.Regime == "grid" {
			g = append(g, strconv.FormatFloat(r.LearningRate, 'g', 4, 64))
		}
	}
	return strings.Join(g, ", ")
}

// unresolvedFrom reports whether a row at a learning rate ≥ eta has an
// unresolved first-order law.
func unresolvedFrom(rows []sgd.SweepRow, eta float64) bool {
	for _, r := range rows {
		if r.LearningRate >= eta && !r.FirstOrderResolved {
			return true
		}
	}
	return false
}

// partingRate returns the smallest swept learning rate from which the
// ratio L1/floor exceeds L1Ratio at every larger rate.
func partingRate(rows []sgd.SweepRow, ratio func(sgd.SweepRow) float64) (float64, bool) {
	r := append([]sgd.SweepRow(nil), rows...)
	sort.Slice(r, func(i, j int) bool { return r[i].LearningRate < r[j].LearningRate })
	for i := range r {
		all := true
		for _, q := range r[i:] {
			if !(ratio(q) > sgd.L1Ratio) {
				all = false
			}
		}
		if all {
			return r[i].LearningRate, true
		}
	}
	return 0, false
}

func fmtAlpha(a float64) string {
	switch {
	case math.IsInf(a, 1):
		return "∞"
	case math.IsNaN(a):
		return "–"
	}
	return strconv.FormatFloat(a, 'g', 4, 64)
}

// plotSGD draws the density over loss contours with noise-drift arrows
// (2D), the log-log tails (1D) or the density (3D).
func plotSGD(path string, st *sgd.Setup, ls *sgd.Landscape, sd *sgd.Study, fields *sgd.Fields) error {
	g := st.Grid
	title := st.Spec.Title
	p := sd.FP.Last()
	o := &figure.Options{Title: title}
	if sd.FP.Stationary {
		o.Time = "stationary"
	} else {
		o.Time = figure.FormatTime(sd.FP.Times[len(sd.FP.Times)-1])
	}
	var fig *figure.Figure
	var err error
	switch g.Dim() {
	case 1:
		fig, err = tailFigure(st, ls, sd, o)
	case 2:
		fig, err = heatFigure(st, sd, fields, p, o)
	default:
		fig, err = figure.Slices3D(g, p, o)
	}
	if err != nil {
		return err
	}
	return figure.Save(fig, path)
}

func heatFigure(st *sgd.Setup, sd *sgd.Study, fields *sgd.Fields, p []float64, o *figure.Options) (*figure.Figure, error) {
	g := st.Grid
	// Loss contours: geometric levels above the minimum.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range fields.Loss {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	var levels []float64
	if hi > lo {
		for k := 0; k < 8; k++ {
			levels = append(levels, lo+(hi-lo)*math.Pow(10, -3+3*float64(k)/7))
		}
	}
	// Noise-induced drift −div D where the density lives, lengths
	// compressed by a square root so that the weak arrows show.
	mx := 0.0
	for _, v := range p {
		mx = math.Max(mx, v)
	}
	u := make([]float64, g.Len())
	v := make([]float64, g.Len())
	for l := range p {
		if p[l] < 1e-3*mx {
			continue
		}
		a, b := fields.NoiseDrift[0][l], fields.NoiseDrift[1][l]
		if m := math.Hypot(a, b); m > 0 {
			f := 1 / math.Sqrt(m)
			u[l], v[l] = a*f, b*f
		}
	}
	o.ColourLabel = "density"
	ov := []figure.Overlay{&figure.Contours{Field: fields.Loss, Levels: levels, Colour: color.NRGBA{R: 255, G: 255, B: 255, A: 150}}, &figure.Arrows{U: u, V: v}}
	if len(sd.Regions) > 0 {
		var xs, ys []float64
		for _, r := range sd.Regions {
			xs = append(xs, r.Centre[0])
			ys = append(ys, r.Centre[1])
		}
		ov = append(ov, &figure.Points{X: xs, Y: ys})
	}
	if st.Config.FreezeAt != nil {
		o.Title += " (contours: loss; D frozen: no noise-induced drift)"
	} else {
		o.Title += " (contours: loss; arrows: −div D, length ~ |·|^½)"
	}
	return figure.HeatMap2D(g, p, o, ov...)
}

// tailFigure draws the density of |theta − theta*| on log-log axes: the
// Fokker–Planck density, SGD's law to first order, the closed-form SDE
// density of a quadratic loss, and the chains' positions.
func tailFigure(st *sgd.Setup, ls *sgd.Landscape, sd *sgd.Study, o *figure.Options) (*figure.Figure, error) {
	g := st.Grid
	p := sd.FP.Last()
	centre := g.Centres(0)
	// Centre of the tails: theta* for a quadratic loss, else the mode.
	ts := centre[0]
	if sd.Tail != nil {
		ts = sd.Tail.ThetaStar
	} else {
		best := 0
		for l := range p {
			if p[l] > p[best] {
				best = l
			}
		}
		ts = centre[best]
	}
	h := g.Widths(0)[0]
	zmax := math.Max(g.Upper(0)-ts, ts-g.Lower(0))
	if sd.Tail != nil {
		for _, z := range sd.Tail.Positions {
			zmax = math.Max(zmax, z)
		}
	}
	zmin := h
	const nb = 60
	edges := make([]float64, nb+1)
	for i := range edges {
		edges[i] = zmin * math.Pow(zmax/zmin, float64(i)/nb)
	}
	tg, err := grid.New(grid.Stretched("z", edges))
	if err != nil {
		return nil, err
	}
	at := func(f []float64, x float64) float64 {
		if x < centre[0] || x > centre[len(centre)-1] {
			return 0
		}
		i := sort.SearchFloat64s(centre, x)
		if i == 0 {
			return f[0]
		}
		if i >= len(centre) {
			return f[len(f)-1]
		}
		t := (x - centre[i-1]) / (centre[i] - centre[i-1])
		return (1-t)*f[i-1] + t*f[i]
	}
	fold := func(f []float64) []float64 {
		out := make([]float64, nb)
		for i, z := range tg.Centres(0) {
			out[i] = at(f, ts+z) + at(f, ts-z)
		}
		return out
	}
	lines := []figure.Line{{Density: fold(p), Label: "Fokker–Planck (grid)"}}
	if sd.FP.Corrected != nil {
		lines = append(lines, figure.Line{Density: fold(sd.FP.Corrected[len(sd.FP.Corrected)-1]), Label: "SGD law to O(eta)", Colour: color.NRGBA{R: 0, G: 158, B: 115, A: 255}})
	}
	if q, err := ls.Quadratic1D(); err == nil {
		dens := q.DensityFP(st.Config)
		f := make([]float64, nb)
		for i, z := range tg.Centres(0) {
			f[i] = dens(ts+z) + dens(ts-z)
		}
		lines = append(lines, figure.Line{Density: f, Label: "SDE, closed form", Dashed: true})
		// Power laws z^-(1+alpha) through the closed form at u.
		if tr := sd.Tail; tr != nil && tr.U > 0 {
			anchor := dens(ts+tr.U) + dens(ts-tr.U)
			for _, a := range []struct {
				alpha float64
				label string
				c     color.Color
			}{{tr.AlphaFP, fmt.Sprintf("z^-(1+α), α_FP = %.3g", tr.AlphaFP), color.NRGBA{R: 120, G: 120, B: 120, A: 255}}, {tr.AlphaKesten, fmt.Sprintf("z^-(1+α), α_Kesten = %.3g", tr.AlphaKesten), color.NRGBA{R: 204, G: 121, B: 167, A: 255}}} {
				if math.IsInf(a.alpha, 0) || math.IsNaN(a.alpha) {
					continue
				}
				pl := make([]float64, nb)
				for i, z := range tg.Centres(0) {
					if z >= tr.U {
						pl[i] = anchor * math.Pow(z/tr.U, -(1+a.alpha))
					}
				}
				lines = append(lines, figure.Line{Density: pl, Label: a.label, Dashed: true, Colour: a.c})
			}
		}
	}
	var hists []figure.Histogram
	if tr := sd.Tail; tr != nil && len(tr.Positions) > 0 {
		hists = append(hists, figure.Histogram{Edges: edges, Counts: binCounts(edges, tr.Positions), N: float64(len(tr.Positions)), Label: "SGD chains", Points: true})
	}
	o.XScale, o.YScale = figure.Log, figure.Log
	o.XLabel = fmt.Sprintf("z = |%s − %.4g|", g.Names()[0], ts)
	o.YLabel = "density of z"
	o.Decades = 12
	return figure.Line1D(tg, lines, hists, o)
}

// sweepGrid returns a stretched grid whose cell centres are the swept
// learning rates (sorted), for Line1D, or nil if they repeat.
func sweepGrid(rows []sgd.SweepRow) (*grid.Grid, []sgd.SweepRow) {
	r := append([]sgd.SweepRow(nil), rows...)
	sort.Slice(r, func(i, j int) bool { return r[i].LearningRate < r[j].LearningRate })
	n := len(r)
	edges := make([]float64, n+1)
	for i := 1; i < n; i++ {
		edges[i] = math.Sqrt(r[i-1].LearningRate * r[i].LearningRate)
	}
	if n == 1 {
		edges[0], edges[1] = r[0].LearningRate/1.5, r[0].LearningRate*1.5
	} else {
		edges[0] = r[0].LearningRate * r[0].LearningRate / edges[1]
		edges[n] = r[n-1].LearningRate * r[n-1].LearningRate / edges[n-1]
	}
	g, err := grid.New(grid.Stretched("eta", edges))
	if err != nil {
		return nil, nil
	}
	return g, r
}

func sweepColumn(r []sgd.SweepRow, f func(sgd.SweepRow) float64) []float64 {
	v := make([]float64, len(r))
	for i, row := range r {
		v[i] = f(row)
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			v[i] = 0 // not drawn on a log axis
		}
	}
	return v
}

// plotSweep draws the L1 distances in noise floors against the learning
// rate.
func plotSweep(path string, st *sgd.Setup, rows []sgd.SweepRow) error {
	g, r := sweepGrid(rows)
	if g == nil {
		return nil
	}
	lines := []figure.Line{
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return x.Ratio }), Label: "first-order SDE"},
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return x.RatioCorrected }), Label: "SGD law to first order in eta", Colour: color.NRGBA{R: 0, G: 158, B: 115, A: 255}},
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return sgd.L1Ratio + x.AllowanceRatio }), Label: fmt.Sprintf("check: %.3g + allowance", sgd.L1Ratio), Dashed: true},
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return sgd.L1Ratio }), Label: fmt.Sprintf("%.3g (noise)", sgd.L1Ratio), Dashed: true, Colour: color.NRGBA{R: 150, G: 150, B: 150, A: 255}},
	}
	o := &figure.Options{Title: st.Spec.Title, Time: "sweep over eta", XScale: figure.Log, YScale: figure.Log, XLabel: "learning rate eta", YLabel: "L1 distance to SGD / noise floor", Decades: 5}
	fig, err := figure.Line1D(g, lines, nil, o)
	if err != nil {
		return err
	}
	return figure.Save(fig, path)
}

// plotExponents draws the tail indices of a quadratic 1D loss against the
// learning rate.
func plotExponents(path string, st *sgd.Setup, rows []sgd.SweepRow) error {
	g, r := sweepGrid(rows)
	if g == nil {
		return nil
	}
	lines := []figure.Line{
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return x.AlphaFP }), Label: "Fokker–Planck formula (asymptotic)"},
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return x.AlphaKesten }), Label: "Kesten, E|1 − eta h|^α = 1 (data)", Colour: color.NRGBA{R: 204, G: 121, B: 167, A: 255}},
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return x.AlphaFPU }), Label: "Fokker–Planck, Hill beyond u", Dashed: true},
		{Density: sweepColumn(r, func(x sgd.SweepRow) float64 { return x.AlphaSGD }), Label: "SGD chains, Hill beyond u", Colour: color.NRGBA{R: 213, G: 94, B: 0, A: 255}},
	}
	o := &figure.Options{Title: st.Spec.Title, Time: "tail index", XScale: figure.Log, YScale: figure.Log, XLabel: "learning rate eta", YLabel: "tail index α of P(|theta − theta*| > z)", Decades: 3}
	fig, err := figure.Line1D(g, lines, nil, o)
	if err != nil {
		return err
	}
	return figure.Save(fig, path)
}

// plotTails draws, for the swept learning rates, the SDE's stationary
// density of |theta − theta*| (closed form) and the SGD chains' on log-log
// axes.
func plotTails(path string, st *sgd.Setup, ls *sgd.Landscape, studies []*sgd.Study) error {
	q, err := ls.Quadratic1D()
	if err != nil {
		return nil
	}
	g := st.Grid
	ts := q.ThetaStar
	zmin := g.Widths(0)[0]
	zmax := math.Max(g.Upper(0)-ts, ts-g.Lower(0))
	for _, sd := range studies {
		if sd.Tail != nil {
			for _, z := range sd.Tail.Positions {
				zmax = math.Max(zmax, z)
			}
		}
	}
	const nb = 60
	edges := make([]float64, nb+1)
	for i := range edges {
		edges[i] = zmin * math.Pow(zmax/zmin, float64(i)/nb)
	}
	tg, err := grid.New(grid.Stretched("z", edges))
	if err != nil {
		return err
	}
	var lines []figure.Line
	var hists []figure.Histogram
	for i, sd := range studies {
		clr := sweepColour(i, len(studies))
		dens := q.DensityFP(sd.Config)
		f := make([]float64, nb)
		for j, z := range tg.Centres(0) {
			f[j] = dens(ts+z) + dens(ts-z)
		}
		lines = append(lines, figure.Line{Density: f, Label: fmt.Sprintf("eta = %g: SDE (line), SGD (points)", sd.Config.LearningRate), Colour: clr})
		if sd.Tail != nil && len(sd.Tail.Positions) > 0 {
			hists = append(hists, figure.Histogram{Edges: edges, Counts: binCounts(edges, sd.Tail.Positions), N: float64(len(sd.Tail.Positions)), Points: true, Colour: clr})
		}
	}
	o := &figure.Options{Title: st.Spec.Title, Time: "tails over the sweep", XScale: figure.Log, YScale: figure.Log,
		XLabel: fmt.Sprintf("z = |%s − %.4g|", g.Names()[0], ts), YLabel: "density of z", Decades: 10}
	fig, err := figure.Line1D(tg, lines, hists, o)
	if err != nil {
		return err
	}
	return figure.Save(fig, path)
}

func binCounts(edges, z []float64) []float64 {
	nb := len(edges) - 1
	counts := make([]float64, nb)
	for _, v := range z {
		if v < edges[0] || v > edges[nb] {
			continue
		}
		i := sort.SearchFloat64s(edges, v) - 1
		counts[max(0, min(i, nb-1))]++
	}
	return counts
}

// sweepColour returns colour i of n along a dark-to-light sweep.
func sweepColour(i, n int) color.Color {
	pal := []color.NRGBA{{0, 114, 178, 255}, {0, 158, 115, 255}, {230, 159, 0, 255}, {213, 94, 0, 255}, {204, 121, 167, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {120, 120, 120, 255}}
	return pal[i%len(pal)]
}
