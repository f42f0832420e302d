package spec

import (
	"fmt"
	"sort"
)

// SGD is the [sgd] table, given in place of [model]: the Fokker–Planck
// model of stochastic gradient descent on a per-sample loss, over the
// parameters named by the grid axes (fokker sgd; docs/sgd.md).
type SGD struct {
	// Loss is the per-sample loss u(theta, X): an expression in the axes
	// (theta), the data columns (X) and Params.
	Loss string `toml:"loss"`
	// Data is a CSV file whose header names the columns, or an HDF5
	// dataset "file.h5:/path" (a 2-D dataset of rows by columns), relative
	// to the spec's directory. Exactly one of Data and Generate.
	Data string `toml:"data"`
	// Columns names the columns of an HDF5 dataset that has no "columns"
	// attribute.
	Columns []string `toml:"columns"`
	// Generate draws a synthetic data set instead of reading one.
	Generate *Generate `toml:"generate"`
	// LearningRate is eta (> 0); time t = steps·eta.
	LearningRate float64 `toml:"learning_rate"`
	// BatchSize is n (≥ 1).
	BatchSize int `toml:"batch_size"`
	// Sampling is "with-replacement" (default) or "without-replacement".
	Sampling string `toml:"sampling"`
	// Params are named constants usable in Loss, in the generated columns
	// and in [initial].
	Params map[string]float64 `toml:"params"`
	// FreezeDiffusionAt, if given, replaces D(theta) by its value at this
	// point (one coordinate per axis): no noise-induced drift.
	FreezeDiffusionAt []float64 `toml:"freeze_diffusion_at"`
	// Sweep lists learning rates for the eta sweep (fokker sgd --sweep
	// overrides it).
	Sweep []float64 `toml:"sweep"`
	// Check configures the comparison with real SGD chains.
	Check *SGDCheck `toml:"check"`
}

// Generate is the generate table of [sgd]: N rows drawn column by column.
type Generate struct {
	// N is the number of rows (≥ 1).
	N int `toml:"n"`
	// Seed of the random draws.
	Seed uint64 `toml:"seed"`
	// Columns maps each column name to an expression in the other columns,
	// the parameters and the random draws normal(mean, sd) and
	// uniform(lo, hi).
	Columns map[string]string `toml:"columns"`
}

// SGDCheck is the [sgd.check] table: the real SGD chains that fokker sgd
// compares with the Fokker–Planck density.
type SGDCheck struct {
	// Chains is the number of independent chains (default 20000).
	Chains int `toml:"chains"`
	// Steps is the number of SGD steps before the first record of a
	// stationary check (burn-in; default: 10 relaxation times).
	Steps int `toml:"steps"`
	// Samples is the number of records per chain in a stationary check
	// (default 1), Thin the steps between them (default: one relaxation
	// time).
	Samples int `toml:"samples"`
	Thin    int `toml:"thin"`
	// Seed of the chains (default 1).
	Seed uint64 `toml:"seed"`
	// Coarsen compares on a grid of Coarsen×…×Coarsen blocks of cells
	// (default 1: the grid itself).
	Coarsen int `toml:"coarsen"`
	// TailQuantile sets where the measured tail exponent of 1D runs starts:
	// at this quantile of |theta − theta*| under the Fokker–Planck density
	// (default 0.99).
	TailQuantile float64 `toml:"tail_quantile"`
	// Points and Radius: the report gives the probability within Radius
	// of each point, under the Fokker–Planck density and the chains.
	Points [][]float64 `toml:"points"`
	Radius float64     `toml:"radius"`
	// Skip disables the check (fokker sgd --no-check does the same).
	Skip bool `toml:"skip"`
	// GridCheck, if false, skips the estimate of the density's
	// discretisation error on the compared bins (default true).
	GridCheck *bool `toml:"grid_check"`
	// SDEEnsemble, if positive, is the number of particles of an
	// Euler–Maruyama ensemble of the first-order SDE compared with the
	// chains beside the density (default 0: none).
	SDEEnsemble int `toml:"sde_ensemble"`
}

// SamplingNames are the accepted values of sgd.sampling.
var SamplingNames = []string{"with-replacement", "without-replacement"}

func (s *Spec) checkSGD(axes map[string]bool) error {
	g := s.SGD
	d := len(s.Grid.Axes)
	if s.Particles != nil {
		return s.Errorf("particles", "not used with [sgd]: the SGD chains are configured in [sgd.check]")
	}
	if s.Exact != nil {
		return s.Errorf("exact", "not used with [sgd]")
	}
	if g.Loss == "" {
		return s.Errorf("sgd.loss", "missing: give the per-sample loss, e.g. loss = \"0.5*(a*x - y)^2\"")
	}
	params := map[string]bool{}
	for _, name := range sortedNames(g.Params) {
		f := "sgd.params." + name
		if !identRE.MatchString(name) {
			return s.Errorf(f, "parameter name %q is not an identifier", name)
		}
		if reserved[name] || axes[name] {
			return s.Errorf(f, "parameter name %q clashes with an axis, t, or a built-in name", name)
		}
		if !finite(g.Params[name]) {
			return s.Errorf(f, "value is %v", g.Params[name])
		}
		params[name] = true
	}
	column := func(f, name string) error {
		if !identRE.MatchString(name) {
			return s.Errorf(f, "column name %q is not an identifier (letters, digits, _)", name)
		}
		if reserved[name] || axes[name] || params[name] {
			return s.Errorf(f, "column name %q clashes with an axis, a parameter, t, or a built-in name", name)
		}
		return nil
	}
	switch {
	case g.Data != "" && g.Generate != nil:
		return s.Errorf("sgd.generate", "give either data or generate, not both")
	case g.Data == "" && g.Generate == nil:
		return s.Errorf("sgd.data", "missing: give a data file (CSV, or \"file.h5:/dataset\") or a generate table")
	}
	if len(g.Columns) > 0 && g.Generate != nil {
		return s.Errorf("sgd.columns", "names the columns of an HDF5 data set; generated columns are named in generate.columns")
	}
	seenCol := map[string]bool{}
	for i, c := range g.Columns {
		f := fmt.Sprintf("sgd.columns[%d]", i)
		if err := column(f, c); err != nil {
			return err
		}
		if seenCol[c] {
			return s.Errorf(f, "duplicate column name %q", c)
		}
		seenCol[c] = true
	}
	if gen := g.Generate; gen != nil {
		if gen.N < 1 || gen.N > 100_000_000 {
			return s.Errorf("sgd.generate.n", "must be between 1 and 1e8 rows, got %d", gen.N)
		}
		if len(gen.Columns) == 0 {
			return s.Errorf("sgd.generate.columns", "missing: give the columns, e.g. columns = { x = \"normal(0, 1)\", y = \"x + 0.5*normal(0, 1)\" }")
		}
		for _, name := range sortedNames(gen.Columns) {
			f := "sgd.generate.columns." + name
			if err := column(f, name); err != nil {
				return err
			}
			if gen.Columns[name] == "" {
				return s.Errorf(f, "empty expression")
			}
		}
	}
	if !finite(g.LearningRate) || g.LearningRate <= 0 {
		if g.LearningRate == 0 && !s.defined("sgd.learning_rate") {
			return s.Errorf("sgd.learning_rate", "missing: give the learning rate eta > 0")
		}
		return s.Errorf("sgd.learning_rate", "must be positive and finite, got %g", g.LearningRate)
	}
	if g.BatchSize < 1 {
		if g.BatchSize == 0 && !s.defined("sgd.batch_size") {
			return s.Errorf("sgd.batch_size", "missing: give the batch size n >= 1")
		}
		return s.Errorf("sgd.batch_size", "must be at least 1, got %d", g.BatchSize)
	}
	switch g.Sampling {
	case "", "with-replacement", "without-replacement":
	default:
		return s.Errorf("sgd.sampling", "unknown sampling %q (want with-replacement or without-replacement)", g.Sampling)
	}
	if gen := g.Generate; gen != nil && g.Sampling == "without-replacement" && g.BatchSize > gen.N {
		return s.Errorf("sgd.batch_size", "batch of %d without replacement from %d rows", g.BatchSize, gen.N)
	}
	if g.FreezeDiffusionAt != nil {
		if len(g.FreezeDiffusionAt) != d {
			return s.Errorf("sgd.freeze_diffusion_at", "has %d entries, want one per axis (%d)", len(g.FreezeDiffusionAt), d)
		}
		for i, v := range g.FreezeDiffusionAt {
			if !finite(v) {
				return s.Errorf("sgd.freeze_diffusion_at", "entry %d is %v", i, v)
			}
		}
	}
	for i, v := range g.Sweep {
		if !finite(v) || v <= 0 {
			return s.Errorf("sgd.sweep", "learning rates must be positive and finite (entry %d = %g)", i, v)
		}
	}
	if c := g.Check; c != nil {
		switch {
		case c.Chains < 0:
			return s.Errorf("sgd.check.chains", "must be positive, got %d", c.Chains)
		case c.Steps < 0:
			return s.Errorf("sgd.check.steps", "must be positive, got %d", c.Steps)
		case c.Samples < 0:
			return s.Errorf("sgd.check.samples", "must be positive, got %d", c.Samples)
		case c.Thin < 0:
			return s.Errorf("sgd.check.thin", "must be positive, got %d", c.Thin)
		case c.SDEEnsemble < 0 || c.SDEEnsemble > MaxSDEEnsemble:
			return s.Errorf("sgd.check.sde_ensemble", "must be between 0 and %d particles, got %d", MaxSDEEnsemble, c.SDEEnsemble)
		case c.Coarsen < 0:
			return s.Errorf("sgd.check.coarsen", "must be positive, got %d", c.Coarsen)
		case !finite(c.TailQuantile) || c.TailQuantile < 0 || c.TailQuantile >= 1:
			return s.Errorf("sgd.check.tail_quantile", "must be in (0, 1), got %g", c.TailQuantile)
		case !finite(c.Radius) || c.Radius < 0:
			return s.Errorf("sgd.check.radius", "must be positive, got %g", c.Radius)
		case len(c.Points) > 0 && c.Radius == 0:
			return s.Errorf("sgd.check.radius", "missing: give the radius of the regions around the points")
		}
		for i, p := range c.Points {
			if len(p) != d {
				return s.Errorf("sgd.check.points", "point %d has %d coordinates, want one per axis (%d)", i, len(p), d)
			}
			for _, v := range p {
				if !finite(v) {
					return s.Errorf("sgd.check.points", "point %d has a coordinate %v", i, v)
				}
			}
		}
	}
	return nil
}

// MaxSDEEnsemble bounds [sgd.check] sde_ensemble: 10⁷ particles keep a
// run's memory and time within reason (its noise is then a few per cent of
// a 20 000-chain floor).
const MaxSDEEnsemble = 10_000_000

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
