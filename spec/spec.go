package spec

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/fokkerplanck/fokker/operators"
)

// Spec is a parsed problem specification. Field names follow the TOML keys.
type Spec struct {
	Title     string     `toml:"title"`
	Grid      Grid       `toml:"grid"`
	Model     *Model     `toml:"model"`
	SGD       *SGD       `toml:"sgd"`
	Initial   *Initial   `toml:"initial"`
	Time      *Time      `toml:"time"`
	Solver    Solver     `toml:"solver"`
	Output    Output     `toml:"output"`
	Particles *Particles `toml:"particles"`
	Exact     *Exact     `toml:"exact"`

	// Source is the TOML text and Path the file it came from ("" if none).
	Source string `toml:"-"`
	Path   string `toml:"-"`
}

// Grid is the [grid] table.
type Grid struct {
	Axes  []string  `toml:"axes"`
	Lower []float64 `toml:"lower"`
	Upper []float64 `toml:"upper"`
	Cells []int     `toml:"cells"`
	// Edges gives explicit face coordinates (a stretched axis) per axis
	// name; such an axis needs no lower/upper/cells entry (give 0).
	Edges map[string][]float64 `toml:"edges"`
	// Boundary is a string (all sides) or a table per axis of a string or
	// a [lower, upper] pair.
	Boundary any `toml:"boundary"`
}

// Model is the [model] table.
type Model struct {
	Drift      []string           `toml:"drift"`
	Potential  string             `toml:"potential"`
	Diffusion  any                `toml:"diffusion"`
	Convention string             `toml:"convention"`
	Params     map[string]float64 `toml:"params"`
}

// Initial is the [initial] table: exactly one of its fields.
type Initial struct {
	Density  string    `toml:"density"`
	Gaussian *Gaussian `toml:"gaussian"`
	// File is a fokker HDF5 file (relative to the spec's directory) whose
	// density starts the run: the snapshot nearest Time (default: the
	// last), or the stationary density of a steady file. Its grid must be
	// the spec's.
	File string   `toml:"file"`
	Time *float64 `toml:"time"`
}

// Gaussian is a normal initial density.
type Gaussian struct {
	Mean []float64   `toml:"mean"`
	Cov  [][]float64 `toml:"cov"`
}

// Time is the [time] table.
type Time struct {
	End       float64   `toml:"end"`
	Start     float64   `toml:"start"`
	Dt        float64   `toml:"dt"`
	Adaptive  bool      `toml:"adaptive"`
	Tolerance float64   `toml:"tolerance"`
	Method    string    `toml:"method"`
	Snapshots int       `toml:"snapshots"`
	Times     []float64 `toml:"times"`
}

// Solver is the optional [solver] table.
type Solver struct {
	Linear         string  `toml:"linear"`
	Preconditioner string  `toml:"preconditioner"`
	Tolerance      float64 `toml:"tolerance"`
	MaxIterations  int     `toml:"max_iterations"`
	Restart        int     `toml:"restart"`
	Scheme         string  `toml:"scheme"`
	Regularization float64 `toml:"regularization"`
	LatticeFit     bool    `toml:"lattice_fit"`
	MaxStencil     int     `toml:"max_stencil"`
}

// Output is the optional [output] table.
type Output struct {
	File string `toml:"file"`
}

// Particles is the optional [particles] table (used by fokker validate).
type Particles struct {
	Count  int     `toml:"count"`
	Dt     float64 `toml:"dt"`
	Scheme string  `toml:"scheme"`
	Seed   uint64  `toml:"seed"`
}

// Exact is the optional [exact] table: reference densities written beside
// the computed ones and compared with them.
type Exact struct {
	// Density is the exact transient density p(x, t), as given (not
	// normalised: with absorbing sides its mass decays).
	Density string `toml:"density"`
	// Stationary is the exact stationary density up to a constant factor;
	// it is normalised on the grid.
	Stationary string `toml:"stationary"`
}

// Error is a problem with a spec, located by file, line and field.
type Error struct {
	Path  string // file name, or "" for text without a file
	Line  int    // 1-based line, or 0 if unknown
	Field string // dotted key, e.g. "model.drift[1]"
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
	} else {
		b.WriteString("spec")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// MaxSize is the largest spec accepted, in bytes.
const MaxSize = 1 << 20

// Load reads and parses the spec file at path.
func Load(path string) (*Spec, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Path: path, Err: errors.Unwrap(err)}
	}
	if fi.IsDir() {
		return nil, &Error{Path: path, Err: errors.New("is a directory, not a spec file")}
	}
	if fi.Size() > MaxSize {
		return nil, &Error{Path: path, Err: fmt.Errorf("file is %d bytes; a spec is at most %d", fi.Size(), MaxSize)}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	return Parse(b, path)
}

// Parse parses and checks a spec. path is used in messages only.
func Parse(text []byte, path string) (*Spec, error) {
	if len(text) > MaxSize {
		return nil, &Error{Path: path, Err: fmt.Errorf("spec is %d bytes; at most %d", len(text), MaxSize)}
	}
	s := &Spec{Source: string(text), Path: path}
	md, err := toml.Decode(string(text), s)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Path: path, Line: pe.Position.Line, Err: errors.New(strings.TrimPrefix(pe.Message, "toml: "))}
		}
		return nil, &Error{Path: path, Err: cleanTOMLError(err)}
	}
	// Unknown keys, except inside the free-form tables.
	var unknown []string
	for _, k := range md.Undecoded() {
		ks := k.String()
		if strings.HasPrefix(ks, "grid.boundary.") || strings.HasPrefix(ks, "model.diffusion.") {
			continue
		}
		unknown = append(unknown, ks)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, s.Errorf(unknown[0], "unknown key (known keys are listed in docs/spec.md)")
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

var tomlLine = regexp.MustCompile(`^toml: line (\d+)`)

func cleanTOMLError(err error) error {
	msg := err.Error()
	msg = tomlLine.ReplaceAllString(msg, "line $1")
	return errors.New(strings.TrimPrefix(msg, "toml: "))
}

// Errorf returns an *Error for field (a dotted key, optionally with an
// index such as "model.drift[1]"), with the line where the key is defined.
func (s *Spec) Errorf(field, format string, args ...any) *Error {
	return &Error{Path: s.Path, Line: s.Line(field), Field: field, Err: fmt.Errorf(format, args...)}
}

// Wrap returns err located at field.
func (s *Spec) Wrap(field string, err error) *Error {
	return &Error{Path: s.Path, Line: s.Line(field), Field: field, Err: err}
}

// Dim returns the number of axes.
func (s *Spec) Dim() int { return len(s.Grid.Axes) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reserved names that cannot be axes or parameters: they are the time, the
// constants and the functions of expressions.
var reserved = map[string]bool{
	"t": true, "pi": true, "e": true, "exp": true, "log": true, "sqrt": true, "abs": true,
	"sin": true, "cos": true, "tan": true, "sinh": true, "cosh": true, "tanh": true,
	"atan": true, "atan2": true, "pow": true, "min": true, "max": true, "erf": true,
	"true": true, "false": true, "nil": true, "normal": true, "uniform": true,
}

func (s *Spec) check() error {
	g := &s.Grid
	d := len(g.Axes)
	if d == 0 {
		return s.Errorf("grid.axes", "missing: give the axis names, e.g. axes = [\"x\", \"y\"]")
	}
	if d > 4 {
		return s.Errorf("grid.axes", "%d axes; fokker supports 1 to 4", d)
	}
	seen := map[string]bool{}
	for i, a := range g.Axes {
		f := fmt.Sprintf("grid.axes[%d]", i)
		if !identRE.MatchString(a) {
			return s.Errorf(f, "axis name %q is not an identifier (letters, digits, _)", a)
		}
		if reserved[a] {
			return s.Errorf(f, "axis name %q is reserved in expressions", a)
		}
		if seen[a] {
			return s.Errorf(f, "duplicate axis name %q", a)
		}
		seen[a] = true
	}
	for name := range g.Edges {
		if !seen[name] {
			return s.Errorf("grid.edges."+name, "no axis named %q", name)
		}
	}
	for _, arr := range []struct {
		name string
		n    int
	}{{"lower", len(g.Lower)}, {"upper", len(g.Upper)}, {"cells", len(g.Cells)}} {
		if arr.n == 0 && len(g.Edges) == d {
			continue
		}
		if arr.n != d {
			return s.Errorf("grid."+arr.name, "has %d entries, want one per axis (%d)", arr.n, d)
		}
	}
	for k, a := range g.Axes {
		if e, ok := g.Edges[a]; ok {
			f := "grid.edges." + a
			if len(e) < 2 {
				return s.Errorf(f, "needs at least 2 face coordinates, got %d", len(e))
			}
			for i, x := range e {
				if !finite(x) {
					return s.Errorf(f, "entry %d is %v", i, x)
				}
				if i > 0 && !(x > e[i-1]) {
					return s.Errorf(f, "faces must increase strictly (entry %d = %g after %g)", i, x, e[i-1])
				}
			}
			continue
		}
		lo, hi, n := g.Lower[k], g.Upper[k], g.Cells[k]
		if !finite(lo) || !finite(hi) {
			return s.Errorf("grid.lower", "axis %q: bounds must be finite (lower %v, upper %v)", a, lo, hi)
		}
		if !(lo < hi) {
			return s.Errorf("grid.upper", "axis %q: lower (%g) must be less than upper (%g)", a, lo, hi)
		}
		if n < 1 {
			return s.Errorf("grid.cells", "axis %q: cells must be at least 1, got %d", a, n)
		}
	}
	if _, err := s.Boundaries(); err != nil {
		return err
	}
	if s.Model != nil && s.SGD != nil {
		return s.Errorf("sgd", "give either [model] or [sgd], not both")
	}
	if s.Model == nil && s.SGD == nil {
		return s.Errorf("model", "missing: a spec needs a [model] (or [sgd]) table")
	}
	if s.SGD != nil {
		if err := s.checkSGD(seen); err != nil {
			return err
		}
	}
	if m := s.Model; m != nil {
		if len(m.Drift) > 0 && len(m.Drift) != d {
			return s.Errorf("model.drift", "has %d entries, want one per axis (%d)", len(m.Drift), d)
		}
		if m.Diffusion == nil {
			return s.Errorf("model.diffusion", "missing: give D as one string (D = s I), a list of %d strings (diagonal) or a %d×%d list of lists", d, d, d)
		}
		if _, err := s.DiffusionMatrix(); err != nil {
			return err
		}
		for name, v := range m.Params {
			f := "model.params." + name
			if !identRE.MatchString(name) {
				return s.Errorf(f, "parameter name %q is not an identifier", name)
			}
			if reserved[name] || seen[name] {
				return s.Errorf(f, "parameter name %q clashes with an axis, t, or a built-in name", name)
			}
			if !finite(v) {
				return s.Errorf(f, "value is %v", v)
			}
		}
	}
	if in := s.Initial; in != nil {
		n := 0
		if in.Density != "" {
			n++
		}
		if in.Gaussian != nil {
			n++
			gs := in.Gaussian
			if len(gs.Mean) != d {
				return s.Errorf("initial.gaussian", "mean has %d entries, want %d", len(gs.Mean), d)
			}
			if len(gs.Cov) != d {
				return s.Errorf("initial.gaussian", "cov has %d rows, want %d", len(gs.Cov), d)
			}
			for i, row := range gs.Cov {
				if len(row) != d {
					return s.Errorf("initial.gaussian", "cov row %d has %d entries, want %d", i, len(row), d)
				}
				for j, v := range row {
					if !finite(v) || !finite(gs.Mean[i]) {
						return s.Errorf("initial.gaussian", "entries must be finite")
					}
					if j < i && v != gs.Cov[j][i] {
						return s.Errorf("initial.gaussian", "cov is not symmetric (cov[%d][%d] = %g, cov[%d][%d] = %g)", i, j, v, j, i, gs.Cov[j][i])
					}
				}
			}
		}
		if in.File != "" {
			n++
		}
		if in.Time != nil && in.File == "" {
			return s.Errorf("initial.time", "only with initial.file (it selects the snapshot)")
		}
		if n != 1 {
			return s.Errorf("initial", "give exactly one of density, gaussian or file")
		}
	}
	if tm := s.Time; tm != nil {
		if !finite(tm.End) || !finite(tm.Start) || !(tm.End > tm.Start) {
			return s.Errorf("time.end", "end (%g) must be finite and after start (%g)", tm.End, tm.Start)
		}
		if !finite(tm.Dt) || tm.Dt < 0 || (tm.Dt == 0 && !tm.Adaptive && s.defined("time.dt")) {
			return s.Errorf("time.dt", "must be positive, got %g", tm.Dt)
		}
		if tm.Dt == 0 && !tm.Adaptive {
			return s.Errorf("time.dt", "missing: give dt, or adaptive = true")
		}
		if tm.Dt > tm.End-tm.Start {
			return s.Errorf("time.dt", "dt (%g) is longer than the run (%g)", tm.Dt, tm.End-tm.Start)
		}
		if tm.Tolerance < 0 || !finite(tm.Tolerance) {
			return s.Errorf("time.tolerance", "must be positive, got %g", tm.Tolerance)
		}
		if tm.Snapshots != 0 && len(tm.Times) != 0 {
			return s.Errorf("time.times", "give snapshots or times, not both")
		}
		if tm.Snapshots < 0 || tm.Snapshots == 1 {
			return s.Errorf("time.snapshots", "must be at least 2 (t = start and t = end), got %d", tm.Snapshots)
		}
		if tm.Snapshots > 100000 {
			return s.Errorf("time.snapshots", "%d snapshots is too many (at most 100000)", tm.Snapshots)
		}
		for i, x := range tm.Times {
			if !finite(x) || x < tm.Start || x > tm.End || (i > 0 && x <= tm.Times[i-1]) {
				return s.Errorf("time.times", "times must increase strictly within [start, end] = [%g, %g] (entry %d = %g)", tm.Start, tm.End, i, x)
			}
		}
	}
	if !finite(s.Solver.Tolerance) || s.Solver.Tolerance < 0 || s.Solver.Tolerance >= 1 {
		return s.Errorf("solver.tolerance", "must be in (0, 1), got %g", s.Solver.Tolerance)
	}
	if s.Solver.MaxIterations < 0 {
		return s.Errorf("solver.max_iterations", "must be positive")
	}
	if s.Solver.Regularization < 0 || !finite(s.Solver.Regularization) {
		return s.Errorf("solver.regularization", "must be >= 0")
	}
	if m := s.Solver.MaxStencil; m < 0 || m > operators.MaxStencilLimit {
		return s.Errorf("solver.max_stencil", "must be between 1 and %d cells (0 or absent: the default 8), got %d", operators.MaxStencilLimit, m)
	}
	if e := s.Exact; e != nil && e.Density == "" && e.Stationary == "" {
		return s.Errorf("exact", "give density (transient) or stationary")
	}
	if p := s.Particles; p != nil {
		if p.Count < 0 {
			return s.Errorf("particles.count", "must be positive")
		}
		if p.Dt < 0 || !finite(p.Dt) {
			return s.Errorf("particles.dt", "must be positive")
		}
	}
	return nil
}

// defined reports whether the dotted key is written in the spec itself (Line
// falls back to the parent table for a missing key; this does not).
func (s *Spec) defined(key string) bool {
	return findKey(s.Source, strings.Split(key, ".")) > 0
}

// Boundary kinds of one axis, as names.
type AxisBoundary struct{ Lower, Upper string }

// Boundaries returns the boundary kind names of each axis (default
// "reflecting").
func (s *Spec) Boundaries() ([]AxisBoundary, error) {
	d := len(s.Grid.Axes)
	out := make([]AxisBoundary, d)
	for i := range out {
		out[i] = AxisBoundary{"reflecting", "reflecting"}
	}
	valid := func(f, v string) error {
		switch v {
		case "reflecting", "absorbing", "periodic":
			return nil
		}
		return s.Errorf(f, "unknown boundary kind %q (want reflecting, absorbing or periodic)", v)
	}
	switch b := s.Grid.Boundary.(type) {
	case nil:
	case string:
		if err := valid("grid.boundary", b); err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = AxisBoundary{b, b}
		}
	case map[string]any:
		for name, v := range b {
			f := "grid.boundary." + name
			k := -1
			for i, a := range s.Grid.Axes {
				if a == name {
					k = i
				}
			}
			if k < 0 {
				return nil, s.Errorf(f, "no axis named %q", name)
			}
			switch v := v.(type) {
			case string:
				if err := valid(f, v); err != nil {
					return nil, err
				}
				out[k] = AxisBoundary{v, v}
			case []any:
				if len(v) != 2 {
					return nil, s.Errorf(f, "want [lower, upper], got %d entries", len(v))
				}
				lo, ok1 := v[0].(string)
				hi, ok2 := v[1].(string)
				if !ok1 || !ok2 {
					return nil, s.Errorf(f, "want two strings [lower, upper]")
				}
				if err := valid(f, lo); err != nil {
					return nil, err
				}
				if err := valid(f, hi); err != nil {
					return nil, err
				}
				out[k] = AxisBoundary{lo, hi}
			default:
				return nil, s.Errorf(f, "want a kind or [lower, upper]")
			}
			if (out[k].Lower == "periodic") != (out[k].Upper == "periodic") {
				return nil, s.Errorf(f, "periodic must be given on both sides of axis %q", name)
			}
		}
	default:
		return nil, s.Errorf("grid.boundary", "want a kind (\"reflecting\") or a table per axis")
	}
	return out, nil
}

// DiffusionMatrix returns the d×d matrix of diffusion expressions, and
// whether the spec gave D as diagonal (one string or a list).
func (s *Spec) DiffusionMatrix() ([][]string, error) {
	d := len(s.Grid.Axes)
	out := make([][]string, d)
	for i := range out {
		out[i] = make([]string, d)
		for j := range out[i] {
			out[i][j] = "0"
		}
	}
	const f = "model.diffusion"
	switch v := s.Model.Diffusion.(type) {
	case string:
		for i := 0; i < d; i++ {
			out[i][i] = v
		}
	case []any:
		if len(v) != d {
			return nil, s.Errorf(f, "has %d entries, want %d (a diagonal) or %d rows of %d", len(v), d, d, d)
		}
		for i, row := range v {
			switch r := row.(type) {
			case string:
				out[i][i] = r
			case []any:
				if len(r) != d {
					return nil, s.Errorf(fmt.Sprintf("%s[%d]", f, i), "row has %d entries, want %d", len(r), d)
				}
				for j, e := range r {
					str, ok := e.(string)
					if !ok {
						if x, ok := e.(float64); ok {
							str = fmt.Sprint(x)
						} else if x, ok := e.(int64); ok {
							str = fmt.Sprint(x)
						} else {
							return nil, s.Errorf(fmt.Sprintf("%s[%d][%d]", f, i, j), "want an expression string")
						}
					}
					out[i][j] = str
				}
			default:
				return nil, s.Errorf(fmt.Sprintf("%s[%d]", f, i), "want an expression string or a row of them")
			}
		}
		// Mixed forms are not allowed.
		_, first := v[0].(string)
		for i, row := range v {
			if _, ok := row.(string); ok != first {
				return nil, s.Errorf(fmt.Sprintf("%s[%d]", f, i), "mixes a diagonal list with matrix rows")
			}
		}
	case float64, int64:
		for i := 0; i < d; i++ {
			out[i][i] = fmt.Sprint(v)
		}
	default:
		return nil, s.Errorf(f, "want one string (D = s I), a list of %d strings (diagonal) or %d rows of %d", d, d, d)
	}
	return out, nil
}

// DiagonalDiffusion reports whether D was given as a scalar or a diagonal.
func (s *Spec) DiagonalDiffusion() bool {
	switch v := s.Model.Diffusion.(type) {
	case string, float64, int64:
		return true
	case []any:
		if len(v) > 0 {
			_, ok := v[0].(string)
			return ok
		}
	}
	return false
}

// OutputTimes returns the snapshot times: equally spaced including start
// and end (snapshots), the explicit list (with end appended if missing), or
// start and end.
func (s *Spec) OutputTimes() []float64 {
	tm := s.Time
	if tm == nil {
		return nil
	}
	if len(tm.Times) > 0 {
		out := append([]float64(nil), tm.Times...)
		if out[len(out)-1] < tm.End {
			out = append(out, tm.End)
		}
		return out
	}
	n := tm.Snapshots
	if n == 0 {
		n = 2
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = tm.Start + (tm.End-tm.Start)*float64(i)/float64(n-1)
	}
	out[n-1] = tm.End
	return out
}

// OutputPath returns the output file: override if not empty, else
// [output].file (relative to the spec's directory), else the spec's name
// with .h5.
func (s *Spec) OutputPath(override string) string {
	if override != "" {
		return override
	}
	if s.Output.File != "" {
		if filepath.IsAbs(s.Output.File) || s.Path == "" {
			return s.Output.File
		}
		return filepath.Join(filepath.Dir(s.Path), s.Output.File)
	}
	if s.Path == "" {
		return "fokker.h5"
	}
	base := strings.TrimSuffix(s.Path, filepath.Ext(s.Path))
	return base + ".h5"
}
