package sgd

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/fokkerplanck/fokker/expression"
	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/problem"
	"github.com/fokkerplanck/fokker/spec"
)

// Setup is everything fokker sgd needs, built from a spec with an [sgd]
// table: the grid and solver settings (through package problem, exactly as
// for [model] specs), the compiled loss, the data and the configuration.
type Setup struct {
	Spec *spec.Spec
	// Base carries the grid, the operator, linear and time-stepping
	// settings, the snapshot times and the [initial] density of the spec;
	// its Model is a placeholder (the model comes from a Landscape).
	Base *problem.Problem
	Grid *grid.Grid
	Loss *Loss
	Data *Data
	// DataSource describes where the data came from.
	DataSource string
	// Config is the run of the spec: eta, n, sampling, frozen diffusion.
	Config Config
	// Check configures the SGD chains.
	Check CheckSettings
	// SweepRates lists the learning rates of [sgd] sweep.
	SweepRates []float64
	// Progress, if not nil, is told which phase of Run or Sweep is under
	// way ("density", "first order", "chains", "grid check: …", prefixed
	// "eta = …: " in a sweep) and the fraction of it done, in [0, 1]. It is
	// called from the goroutine of Run or Sweep only.
	Progress func(phase string, frac float64)

	available int64 // memory for the grid check's setup (FromSpec)
}

// progress reports a phase to st.Progress, if set.
func (st *Setup) progress(phase string, frac float64) {
	if st.Progress != nil {
		st.Progress(phase, frac)
	}
}

// withPrefix returns a copy of st whose Progress prefixes its phases.
func (st *Setup) withPrefix(prefix string) *Setup {
	c := *st
	c.Progress = prefixed(st.Progress, prefix)
	return &c
}

// prefixed returns p with its phases prefixed (nil for nil).
func prefixed(p func(string, float64), prefix string) func(string, float64) {
	if p == nil {
		return nil
	}
	return func(phase string, frac float64) { p(prefix+phase, frac) }
}

// CheckSettings configures the comparison with real SGD chains.
type CheckSettings struct {
	// Skip disables the chains.
	Skip bool
	// Chains is the number of chains (zero value: 20000).
	Chains int
	// Steps is the burn-in of a stationary check (zero value: 1000).
	Steps int
	// Samples is the number of records per chain in a stationary check,
	// Thin the steps between them (zero values: 1 and 100).
	Samples, Thin int
	// Seed of the chains.
	Seed uint64
	// Coarsen: the comparison uses blocks of Coarsen cells along each axis
	// (zero value: 1).
	Coarsen int
	// TailQuantile: the measured tail index of 1D quadratic losses uses
	// the samples beyond this quantile of |theta − theta*| under the FP
	// density (zero value: 0.99).
	TailQuantile float64
	// Points and Radius: the report gives the probability within Radius
	// of each point (zero Radius: no such report).
	Points [][]float64
	Radius float64
	// NoGridCheck skips Setup.GridCheck.
	NoGridCheck bool
	// SDEEnsemble, if positive, runs an Euler–Maruyama ensemble of the
	// first-order SDE of that many particles beside the chains
	// (ChainSettings.SDESubsteps = SDESubsteps) and compares it with them
	// (Comparison.SDEEnsemble).
	SDEEnsemble int
}

// SDESubsteps is the number of Euler–Maruyama steps per SGD step of the
// check's SDE ensemble: its weak error is then a tenth of the O(eta) one
// the check looks for.
const SDESubsteps = 10

func (c *CheckSettings) defaults() {
	if c.Chains == 0 {
		c.Chains = 20000
	}
	if c.Steps == 0 {
		c.Steps = 1000
	}
	if c.Samples == 0 {
		c.Samples = 1
	}
	if c.Thin == 0 {
		c.Thin = 100
	}
	if c.TailQuantile == 0 {
		c.TailQuantile = 0.99
	}
	if c.Coarsen == 0 {
		c.Coarsen = 1
	}
}

// FromSpec builds the Setup of a spec with an [sgd] table. available is
// the memory the run may use in bytes (0: no check). Errors name the
// spec's file, line and field (*spec.Error).
func FromSpec(s *spec.Spec, available int64) (*Setup, error) {
	return fromSpec(s, nil, available)
}

// FromSpecData is FromSpec with the data set given in Go instead of by the
// spec's data or generate key (which is then not read).
func FromSpecData(s *spec.Spec, d *Data, available int64) (*Setup, error) {
	if d == nil {
		panic("sgd: FromSpecData with nil data")
	}
	return fromSpec(s, d, available)
}

func fromSpec(s *spec.Spec, given *Data, available int64) (*Setup, error) {
	sg := s.SGD
	if sg == nil {
		return nil, s.Errorf("sgd", "missing: fokker sgd needs an [sgd] table")
	}
	d := s.Dim()
	if d > maxDim {
		return nil, s.Errorf("grid.axes", "%d parameters; fokker sgd supports 1 to %d (full diffusion tensors)", d, maxDim)
	}
	// Grid, settings, times and [initial] come from package problem, with
	// a placeholder model of the right shape (a full D for the memory
	// estimate) that carries the [sgd] parameters for [initial].
	base := *s
	base.SGD = nil
	diff := make([]any, d)
	for i := range diff {
		row := make([]any, d)
		for j := range row {
			row[j] = "0"
		}
		row[i] = "1"
		diff[i] = row
	}
	if d == 1 {
		diff = []any{"1"}
	}
	base.Model = &spec.Model{Diffusion: diff, Params: sg.Params}
	bp, err := problem.Build(&base, available)
	if err != nil {
		return nil, err
	}
	st := &Setup{Spec: s, Base: bp, Grid: bp.Grid, SweepRates: sg.Sweep, available: available}

	// Data.
	switch {
	case given != nil:
		st.Data = given
		st.DataSource = fmt.Sprintf("given, %d rows", given.Len())
	case sg.Generate != nil:
		gen := sg.Generate
		st.Data, err = Generate(gen.N, gen.Seed, gen.Columns, sg.Params)
		if err != nil {
			var ce *ColumnError
			if errors.As(err, &ce) {
				return nil, s.Wrap("sgd.generate.columns."+ce.Column, ce.Err)
			}
			return nil, s.Wrap("sgd.generate", err)
		}
		st.DataSource = fmt.Sprintf("generated, %d rows, seed %d", gen.N, gen.Seed)
	default:
		path, dataset, isH5 := splitH5(sg.Data)
		if !filepath.IsAbs(path) && s.Path != "" {
			path = filepath.Join(filepath.Dir(s.Path), path)
		}
		if isH5 {
			st.Data, err = LoadHDF5(path, dataset, sg.Columns)
		} else {
			if len(sg.Columns) > 0 {
				return nil, s.Errorf("sgd.columns", "names the columns of an HDF5 dataset; a CSV file names them in its header")
			}
			st.Data, err = LoadCSV(path)
		}
		if err != nil {
			return nil, s.Wrap("sgd.data", errors.New(strings.TrimPrefix(err.Error(), "sgd: ")))
		}
		st.DataSource = sg.Data
		for _, name := range st.Data.Names {
			if reservedName(s, name) {
				return nil, s.Errorf("sgd.data", "column name %q clashes with an axis, a parameter, t, or a built-in name", name)
			}
		}
	}

	// Loss.
	st.Loss, err = NewLoss(sg.Loss, s.Grid.Axes, st.Data.Names, sg.Params)
	if err != nil {
		var ee *expression.Error
		if errors.As(err, &ee) && strings.Contains(ee.Msg, "unknown variable") {
			return nil, s.Wrap("sgd.loss", fmt.Errorf("%v (variables: the axes %s and the data columns %s)", err, strings.Join(s.Grid.Axes, ", "), strings.Join(st.Data.Names, ", ")))
		}
		return nil, s.Wrap("sgd.loss", err)
	}

	// Configuration.
	st.Config = Config{LearningRate: sg.LearningRate, BatchSize: sg.BatchSize, FreezeAt: sg.FreezeDiffusionAt}
	if st.Config.Sampling, err = ParseSampling(sg.Sampling); err != nil {
		return nil, s.Errorf("sgd.sampling", "%v", strings.TrimPrefix(err.Error(), "sgd: "))
	}
	if st.Config.Sampling == WithoutReplacement && sg.BatchSize > st.Data.Len() {
		return nil, s.Errorf("sgd.batch_size", "batch of %d rows without replacement from %d data rows", sg.BatchSize, st.Data.Len())
	}
	if c := sg.Check; c != nil {
		st.Check = CheckSettings{Skip: c.Skip, Chains: c.Chains, Steps: c.Steps, Samples: c.Samples, Thin: c.Thin, Seed: c.Seed, Coarsen: c.Coarsen, TailQuantile: c.TailQuantile, Points: c.Points, Radius: c.Radius}
		st.Check.NoGridCheck = c.GridCheck != nil && !*c.GridCheck
		st.Check.SDEEnsemble = c.SDEEnsemble
		// A region that misses the grid holds no probability of either
		// density or chains: a mistyped point, not a result.
		for i, p := range c.Points {
			d2 := 0.0
			for k, v := range p {
				lo, hi := st.Grid.Lower(k), st.Grid.Upper(k)
				d2 += math.Pow(max(lo-v, v-hi, 0), 2)
			}
			if math.Sqrt(d2) >= c.Radius {
				return nil, s.Errorf("sgd.check.points", "the region of radius %g around point %d %v lies outside the grid", c.Radius, i, p)
			}
		}
	}
	if st.Check.Seed == 0 {
		st.Check.Seed = 1
	}
	st.Check.defaults()
	return st, nil
}

// splitH5 splits "file.h5:/path" into the file and the dataset.
func splitH5(s string) (path, dataset string, ok bool) {
	i := strings.LastIndex(s, ":/")
	if i <= 0 {
		return s, "", false
	}
	ext := strings.ToLower(filepath.Ext(s[:i]))
	if ext != ".h5" && ext != ".hdf5" && ext != ".he5" && ext != ".nc" {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func reservedName(s *spec.Spec, name string) bool {
	for _, a := range s.Grid.Axes {
		if a == name {
			return true
		}
	}
	if _, ok := s.SGD.Params[name]; ok {
		return true
	}
	switch name {
	case "t", "pi", "e":
		return true
	}
	return false
}
