package problem

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/expression"
	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
	"github.com/fokkerplanck/fokker/spec"
)

// Problem is everything a run needs, built from a spec.
type Problem struct {
	Spec  *spec.Spec
	Grid  *grid.Grid
	Model operators.Model
	// Operator configures the discretisation.
	Operator operators.Settings
	// Linear configures linear solves.
	Linear solvers.LinearSettings
	// Step configures time stepping (zero if the spec has no [time]).
	Step solvers.StepSettings
	// Times are the snapshot times (nil without [time]).
	Times []float64
	// Start is the initial time.
	Start float64

	// Exprs are the compiled coefficient expressions: Drift[i], Diffusion[i][j]
	// (nil where zero by construction), Potential (nil if none).
	Drift     []*expression.Expr
	Diffusion [][]*expression.Expr
	Potential *expression.Expr
	// Vars are the expression variables in slot order: axes, t, params.
	Vars []string
}

// MaxCells bounds the grid size before a memory check: a grid larger than
// this is refused outright.
const MaxCells = 1 << 31

// bytesPerCell estimates the memory of a run per cell: the operator (CSR
// values and indices for the stencil), ILU factors, Krylov workspaces and
// density history, for a stencil of s entries per row.
func bytesPerCell(stencil int) int {
	csr := stencil * (8 + 8) // values + column indices
	ilu := stencil * 8
	vectors := 16 * 8 // Krylov workspaces, history, output buffers
	return 2*csr + ilu + vectors
}

// EstimateBytes returns the estimated peak memory of solving on g with a
// stencil of the given number of entries per row.
func EstimateBytes(cells, dim int, full bool) int64 {
	stencil := 2*dim + 1
	if full {
		stencil = dim*(dim+1) + 1
	}
	return int64(cells) * int64(bytesPerCell(stencil))
}

// Build compiles a spec into a Problem. available is the memory the run may
// use, in bytes (0: no check).
func Build(s *spec.Spec, available int64) (*Problem, error) {
	p := &Problem{Spec: s}
	g, err := buildGrid(s, available)
	if err != nil {
		return nil, err
	}
	p.Grid = g
	if s.Model == nil {
		return nil, s.Errorf("model", "missing [model] table")
	}
	if err := p.buildModel(); err != nil {
		return nil, err
	}
	if err := p.buildSettings(); err != nil {
		return nil, err
	}
	return p, nil
}

func buildGrid(s *spec.Spec, available int64) (*grid.Grid, error) {
	d := s.Dim()
	bs, err := s.Boundaries()
	if err != nil {
		return nil, err
	}
	cells := 1.0
	for k, name := range s.Grid.Axes {
		if e, ok := s.Grid.Edges[name]; ok {
			cells *= float64(len(e) - 1)
		} else {
			cells *= float64(s.Grid.Cells[k])
		}
	}
	full := s.Model != nil && !s.DiagonalDiffusion()
	if cells > MaxCells {
		return nil, s.Errorf("grid.cells", "%.3g cells is more than fokker supports (%d)", cells, MaxCells)
	}
	if need := EstimateBytes(int(cells), d, full); available > 0 && need > available {
		return nil, s.Errorf("grid.cells", "grid of %.0f cells needs about %s of memory, more than the %s available", cells, FormatBytes(need), FormatBytes(available))
	}
	axes := make([]grid.Axis, d)
	for k, name := range s.Grid.Axes {
		var a grid.Axis
		if e, ok := s.Grid.Edges[name]; ok {
			a = grid.Stretched(name, e)
		} else {
			a = grid.Uniform(name, s.Grid.Lower[k], s.Grid.Upper[k], s.Grid.Cells[k])
		}
		lo, _ := grid.ParseBoundary(bs[k].Lower)
		hi, _ := grid.ParseBoundary(bs[k].Upper)
		axes[k] = a.WithBoundary(lo, hi)
	}
	g, err := grid.New(axes...)
	if err != nil {
		return nil, s.Wrap("grid", errors.New(strings.TrimPrefix(err.Error(), "grid: ")))
	}
	return g, nil
}

// FormatBytes formats n as "1.5 GiB".
func FormatBytes(n int64) string {
	const u = 1024
	if n < u {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(u), 0
	for m := n / u; m >= u; m /= u {
		div *= u
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// paramNames returns the parameter names in a fixed order.
func paramNames(params map[string]float64) []string {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Compile compiles an expression of the spec's variables (axes, t and
// parameters, the latter substituted by their values), located at field for
// errors.
func (p *Problem) Compile(field, src string) (*expression.Expr, error) {
	s := p.Spec
	e, err := expression.Compile(src, p.Vars)
	if err != nil {
		return nil, s.Wrap(field, err)
	}
	if s.Model != nil && len(s.Model.Params) > 0 {
		vals := map[string]float64{}
		for n, v := range s.Model.Params {
			vals[n] = v
		}
		if e, err = e.Bind(vals); err != nil {
			return nil, s.Wrap(field, err)
		}
	}
	return e, nil
}

func (p *Problem) buildModel() error {
	s := p.Spec
	m := s.Model
	d := s.Dim()
	p.Vars = append(append(append([]string(nil), s.Grid.Axes...), "t"), paramNames(m.Params)...)
	conv, err := operators.ParseConvention(m.Convention)
	if err != nil {
		return s.Errorf("model.convention", "unknown convention %q (want ito, stratonovich or anti-ito)", m.Convention)
	}
	timeDep := false
	if len(m.Drift) > 0 {
		p.Drift = make([]*expression.Expr, d)
		for i, src := range m.Drift {
			e, err := p.Compile(fmt.Sprintf("model.drift[%d]", i), src)
			if err != nil {
				return err
			}
			p.Drift[i] = e
			timeDep = timeDep || e.Uses("t")
		}
	}
	if m.Potential != "" {
		e, err := p.Compile("model.potential", m.Potential)
		if err != nil {
			return err
		}
		p.Potential = e
		timeDep = timeDep || e.Uses("t")
	}
	dm, err := s.DiffusionMatrix()
	if err != nil {
		return err
	}
	diag := s.DiagonalDiffusion()
	p.Diffusion = make([][]*expression.Expr, d)
	for i := range dm {
		p.Diffusion[i] = make([]*expression.Expr, d)
		for j := range dm[i] {
			if diag && i != j {
				continue
			}
			field := "model.diffusion"
			if !diag {
				field = fmt.Sprintf("model.diffusion[%d][%d]", i, j)
			} else if _, ok := m.Diffusion.([]any); ok {
				field = fmt.Sprintf("model.diffusion[%d]", i)
			}
			e, err := p.Compile(field, dm[i][j])
			if err != nil {
				return err
			}
			p.Diffusion[i][j] = e
			timeDep = timeDep || e.Uses("t")
		}
	}
	if !diag {
		// A full matrix whose off-diagonal entries are all constant zero is
		// diagonal.
		diag = true
		for i := range p.Diffusion {
			for j := range p.Diffusion[i] {
				if e := p.Diffusion[i][j]; i != j && !(e.IsConstant() && e.Value() == 0) {
					diag = false
				}
			}
		}
	}
	nv := len(p.Vars)
	drift, diff, pot := p.Drift, p.Diffusion, p.Potential
	// Expression evaluation needs the variables in one slice; a pool of
	// them keeps the coefficient functions allocation-free and safe for
	// concurrent use.
	pool := &sync.Pool{New: func() any { b := make([]float64, nv); return &b }}
	p.Model = operators.Model{
		Dim:           d,
		Diagonal:      diag,
		TimeDependent: timeDep,
		Convention:    conv,
		Diffusion: func(dst, x []float64, t float64) {
			vp := pool.Get().(*[]float64)
			defer pool.Put(vp)
			v := fillVars(*vp, x, t, nv)
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					if e := diff[i][j]; e != nil {
						dst[i*d+j] = e.Eval(v)
					} else {
						dst[i*d+j] = 0
					}
				}
			}
		},
	}
	if drift != nil {
		p.Model.Drift = func(dst, x []float64, t float64) {
			vp := pool.Get().(*[]float64)
			defer pool.Put(vp)
			v := fillVars(*vp, x, t, nv)
			for i, e := range drift {
				dst[i] = e.Eval(v)
			}
		}
	}
	if pot != nil {
		p.Model.Potential = func(x []float64, t float64) float64 {
			vp := pool.Get().(*[]float64)
			defer pool.Put(vp)
			return pot.Eval(fillVars(*vp, x, t, nv))
		}
	}
	return nil
}

func (p *Problem) buildSettings() error {
	s := p.Spec
	var err error
	if p.Operator.Scheme, err = operators.ParseScheme(s.Solver.Scheme); err != nil {
		return s.Errorf("solver.scheme", "unknown flux scheme %q (want exponential, central or upwind)", s.Solver.Scheme)
	}
	p.Operator.Regularization = s.Solver.Regularization
	p.Operator.LatticeFit = s.Solver.LatticeFit
	p.Operator.MaxStencil = s.Solver.MaxStencil
	if p.Linear.Method, err = solvers.ParseMethod(s.Solver.Linear); err != nil {
		return s.Errorf("solver.linear", "unknown linear solver %q (want auto, direct, bicgstab or gmres)", s.Solver.Linear)
	}
	if p.Linear.Preconditioner, err = solvers.ParsePreconditioner(s.Solver.Preconditioner); err != nil {
		return s.Errorf("solver.preconditioner", "unknown preconditioner %q (want ilu0, jacobi or none)", s.Solver.Preconditioner)
	}
	p.Linear.Tolerance = s.Solver.Tolerance
	p.Linear.MaxIterations = s.Solver.MaxIterations
	p.Linear.Restart = s.Solver.Restart
	if tm := s.Time; tm != nil {
		p.Step.Linear = p.Linear
		if p.Step.Method, err = solvers.ParseTimeMethod(tm.Method); err != nil {
			return s.Errorf("time.method", "unknown time method %q (want euler, bdf2 or cn)", tm.Method)
		}
		p.Step.Dt = tm.Dt
		p.Step.Adaptive = tm.Adaptive
		p.Step.Tolerance = tm.Tolerance
		p.Times = s.OutputTimes()
		p.Start = tm.Start
	}
	return nil
}

// NewOperator assembles the operator of the problem at its start time.
func (p *Problem) NewOperator() (*operators.Operator, error) {
	op, err := operators.New(p.Grid, p.Model, &p.Operator)
	if err != nil {
		return nil, p.Spec.Wrap("model", errors.New(strings.TrimPrefix(err.Error(), "operators: ")))
	}
	if p.Start != 0 && p.Model.TimeDependent {
		if _, err := op.Assemble(p.Start); err != nil {
			return nil, p.Spec.Wrap("model", errors.New(strings.TrimPrefix(err.Error(), "operators: ")))
		}
	}
	return op, nil
}

// InitialDensity evaluates the [initial] table on the grid into dst and
// normalises it to mass 1.
func (p *Problem) InitialDensity(dst []float64) error {
	s := p.Spec
	g := p.Grid
	in := s.Initial
	if in == nil {
		return s.Errorf("initial", "missing: a transient run needs an [initial] table (density or gaussian)")
	}
	d := g.Dim()
	x := make([]float64, len(p.Vars))
	field := "initial.density"
	if in.File != "" {
		if err := p.initialFromFile(dst); err != nil {
			return s.Wrap("initial.file", err)
		}
	} else if in.Gaussian != nil {
		field = "initial.gaussian"
		mean := in.Gaussian.Mean
		cov := make([]float64, d*d)
		for i := range in.Gaussian.Cov {
			copy(cov[i*d:], in.Gaussian.Cov[i])
		}
		inv, err := invertSPD(cov, d)
		if err != nil {
			return s.Wrap(field, err)
		}
		for l := range dst {
			g.Centre(x[:d], l)
			q := 0.0
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					q += (x[i] - mean[i]) * inv[i*d+j] * (x[j] - mean[j])
				}
			}
			dst[l] = math.Exp(-q / 2)
		}
	} else {
		e, err := p.Compile(field, in.Density)
		if err != nil {
			return err
		}
		x[d] = p.Start
		for l := range dst {
			g.Centre(x[:d], l)
			v := e.Eval(x)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return s.Errorf(field, "is %v at %s", v, formatPoint(g.Names(), x[:d]))
			}
			if v < 0 {
				return s.Errorf(field, "is negative (%g) at %s: a density must be non-negative", v, formatPoint(g.Names(), x[:d]))
			}
			dst[l] = v
		}
	}
	m := g.Mass(dst)
	if !(m > 0) || math.IsInf(m, 0) {
		return s.Errorf(field, "has mass %g on the grid: it must be positive and finite (is the density inside the domain?)", m)
	}
	for l := range dst {
		dst[l] /= m
	}
	return nil
}

func formatPoint(names []string, x []float64) string {
	var b strings.Builder
	b.WriteByte('(')
	for k, v := range x {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%.6g", names[k], v)
	}
	b.WriteByte(')')
	return b.String()
}

// invertSPD inverts a symmetric positive-definite matrix (gonum's Cholesky).
func invertSPD(a []float64, d int) ([]float64, error) {
	var ch mat.Cholesky
	if !ch.Factorize(mat.NewSymDense(d, append([]float64(nil), a...))) {
		return nil, errors.New("cov is not positive definite")
	}
	var inv mat.SymDense
	if err := ch.InverseTo(&inv); err != nil {
		return nil, errors.New("cov is singular")
	}
	out := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			out[i*d+j] = inv.At(i, j)
		}
	}
	return out, nil
}

// fillVars lays out the expression variables (x, t, then the bound
// parameters, whose slots are unused) in buf, of length nv.
func fillVars(buf, x []float64, t float64, nv int) []float64 {
	v := buf[:nv]
	copy(v, x)
	v[len(x)] = t
	return v
}

// initialFromFile reads the starting density from [initial] file into dst.
func (p *Problem) initialFromFile(dst []float64) error {
	s := p.Spec
	path := s.Initial.File
	if !filepath.IsAbs(path) && s.Path != "" {
		path = filepath.Join(filepath.Dir(s.Path), path)
	}
	f, err := data.Open(path)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "data: "))
	}
	defer f.Close()
	fg, err := f.Grid()
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	g := p.Grid
	same := fg.Dim() == g.Dim()
	for k := 0; same && k < g.Dim(); k++ {
		a, b := fg.Edges(k), g.Edges(k)
		if len(a) != len(b) {
			same = false
			break
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12*(math.Abs(a[i])+math.Abs(b[i])+1) {
				same = false
				break
			}
		}
	}
	if !same {
		return fmt.Errorf("%s has grid %s, the spec has %s: they must be the same", path, fg, g)
	}
	var rho []float64
	if f.Kind() == data.Steady {
		rho, _, err = f.Stationary(dst)
	} else {
		ts := f.Times()
		if len(ts) == 0 {
			return fmt.Errorf("%s has no complete snapshot", path)
		}
		i := len(ts) - 1
		if s.Initial.Time != nil {
			best := math.Inf(1)
			for j, t := range ts {
				if dd := math.Abs(t - *s.Initial.Time); dd < best {
					best, i = dd, j
				}
			}
		}
		rho, err = f.Density(dst, i)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "data: "))
	}
	copy(dst, rho)
	x := make([]float64, g.Dim())
	for l, v := range dst {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			g.Centre(x, l)
			return fmt.Errorf("%s: density is %v at %s", path, v, formatPoint(g.Names(), x))
		}
	}
	return nil
}
