package grid

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Boundary is the kind of condition on one side of an axis.
type Boundary int

const (
	// Reflecting means zero normal flux through the boundary face.
	Reflecting Boundary = iota
	// Absorbing means the density vanishes on the boundary face; mass that
	// reaches it leaves the domain.
	Absorbing
	// Periodic joins the upper side of an axis to its lower side. It must be
	// set on both sides of the axis.
	Periodic
)

// String returns the lower-case name used in specs: "reflecting",
// "absorbing" or "periodic".
func (b Boundary) String() string {
	switch b {
	case Reflecting:
		return "reflecting"
	case Absorbing:
		return "absorbing"
	case Periodic:
		return "periodic"
	}
	return fmt.Sprintf("Boundary(%d)", int(b))
}

// ParseBoundary returns the Boundary named s (case-insensitive).
func ParseBoundary(s string) (Boundary, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "reflecting", "reflect", "noflux", "no-flux":
		return Reflecting, nil
	case "absorbing", "absorb", "dirichlet":
		return Absorbing, nil
	case "periodic":
		return Periodic, nil
	}
	return 0, fmt.Errorf("grid: unknown boundary kind %q (want reflecting, absorbing or periodic)", s)
}

// Axis is one coordinate direction of a grid: a name and the coordinates of
// the cell faces, strictly increasing, with the boundary kind on each side.
type Axis struct {
	Name  string
	Edges []float64 // n+1 face coordinates for n cells
	Lower Boundary  // kind of the side at Edges[0]
	Upper Boundary  // kind of the side at Edges[n]
}

// Uniform returns an axis of n equal cells on [lo, hi] with reflecting sides.
// It panics if n < 1; New reports the other errors.
func Uniform(name string, lo, hi float64, n int) Axis {
	if n < 1 {
		panic("grid: Uniform needs n >= 1")
	}
	e := make([]float64, n+1)
	for i := range e {
		e[i] = lo + (hi-lo)*float64(i)/float64(n)
	}
	e[n] = hi
	return Axis{Name: name, Edges: e}
}

// Stretched returns an axis with the given face coordinates and reflecting
// sides. The slice is copied.
func Stretched(name string, edges []float64) Axis {
	return Axis{Name: name, Edges: append([]float64(nil), edges...)}
}

// WithBoundary returns a copy of a with the given kinds on its sides.
func (a Axis) WithBoundary(lower, upper Boundary) Axis {
	a.Lower, a.Upper = lower, upper
	return a
}

// Len returns the number of cells along the axis.
func (a Axis) Len() int { return len(a.Edges) - 1 }

// Grid is a Cartesian product of axes. A Grid is immutable after New and safe
// for concurrent use.
type Grid struct {
	axes    []Axis
	shape   []int
	strides []int
	n       int
	centres [][]float64
	widths  [][]float64
}

// New validates the axes and returns the grid they span.
func New(axes ...Axis) (*Grid, error) {
	if len(axes) == 0 {
		return nil, errors.New("grid: at least one axis is needed")
	}
	g := &Grid{n: 1}
	seen := map[string]bool{}
	for k, a := range axes {
		where := fmt.Sprintf("grid: axis %d (%q)", k, a.Name)
		if a.Name == "" {
			return nil, fmt.Errorf("grid: axis %d has no name", k)
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("%s: duplicate axis name", where)
		}
		seen[a.Name] = true
		if len(a.Edges) < 2 {
			return nil, fmt.Errorf("%s: needs at least one cell (two edges), got %d edges", where, len(a.Edges))
		}
		for i, x := range a.Edges {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%s: edge %d is %v", where, i, x)
			}
			if i > 0 && !(x > a.Edges[i-1]) {
				return nil, fmt.Errorf("%s: edges must increase strictly (edge %d = %g, edge %d = %g)", where, i-1, a.Edges[i-1], i, x)
			}
		}
		if (a.Lower == Periodic) != (a.Upper == Periodic) {
			return nil, fmt.Errorf("%s: periodic must be set on both sides (lower %v, upper %v)", where, a.Lower, a.Upper)
		}
		for _, b := range []Boundary{a.Lower, a.Upper} {
			if b < Reflecting || b > Periodic {
				return nil, fmt.Errorf("%s: invalid boundary kind %d", where, int(b))
			}
		}
		a.Edges = append([]float64(nil), a.Edges...)
		n := a.Len()
		c := make([]float64, n)
		w := make([]float64, n)
		for i := 0; i < n; i++ {
			c[i] = 0.5 * (a.Edges[i] + a.Edges[i+1])
			w[i] = a.Edges[i+1] - a.Edges[i]
		}
		if g.n > math.MaxInt32/n {
			return nil, fmt.Errorf("grid: too many cells (more than %d)", math.MaxInt32)
		}
		g.n *= n
		g.axes = append(g.axes, a)
		g.shape = append(g.shape, n)
		g.centres = append(g.centres, c)
		g.widths = append(g.widths, w)
	}
	d := len(axes)
	g.strides = make([]int, d)
	s := 1
	for k := d - 1; k >= 0; k-- {
		g.strides[k] = s
		s *= g.shape[k]
	}
	return g, nil
}

// Dim returns the number of axes.
func (g *Grid) Dim() int { return len(g.axes) }

// Len returns the total number of cells.
func (g *Grid) Len() int { return g.n }

// Axis returns a copy of axis k.
func (g *Grid) Axis(k int) Axis {
	a := g.axes[k]
	a.Edges = append([]float64(nil), a.Edges...)
	return a
}

// Names returns the axis names in order.
func (g *Grid) Names() []string {
	s := make([]string, len(g.axes))
	for k, a := range g.axes {
		s[k] = a.Name
	}
	return s
}

// Shape returns the number of cells along each axis. The returned slice must
// not be modified.
func (g *Grid) Shape() []int { return g.shape }

// Strides returns the linear-index step of one cell along each axis. The
// returned slice must not be modified.
func (g *Grid) Strides() []int { return g.strides }

// Bounds returns the kinds on the lower and upper side of axis k.
func (g *Grid) Bounds(k int) (lower, upper Boundary) {
	return g.axes[k].Lower, g.axes[k].Upper
}

// Periodic reports whether axis k is periodic.
func (g *Grid) Periodic(k int) bool { return g.axes[k].Lower == Periodic }

// HasAbsorbing reports whether any side of the grid is absorbing.
func (g *Grid) HasAbsorbing() bool {
	for _, a := range g.axes {
		if a.Lower == Absorbing || a.Upper == Absorbing {
			return true
		}
	}
	return false
}

// Edges returns the face coordinates of axis k. The returned slice must not be
// modified.
func (g *Grid) Edges(k int) []float64 { return g.axes[k].Edges }

// Centres returns the cell-centre coordinates of axis k. The returned slice
// must not be modified.
func (g *Grid) Centres(k int) []float64 { return g.centres[k] }

// Widths returns the cell widths of axis k. The returned slice must not be
// modified.
func (g *Grid) Widths(k int) []float64 { return g.widths[k] }

// Lower returns the lower end of axis k.
func (g *Grid) Lower(k int) float64 { return g.axes[k].Edges[0] }

// Upper returns the upper end of axis k.
func (g *Grid) Upper(k int) float64 { e := g.axes[k].Edges; return e[len(e)-1] }

// Length returns Upper(k) - Lower(k).
func (g *Grid) Length(k int) float64 { return g.Upper(k) - g.Lower(k) }

// Index returns the linear index of the multi-index idx. It panics if idx is
// out of range.
func (g *Grid) Index(idx []int) int {
	if len(idx) != len(g.shape) {
		panic("grid: wrong multi-index length")
	}
	l := 0
	for k, i := range idx {
		if i < 0 || i >= g.shape[k] {
			panic("grid: multi-index out of range")
		}
		l += i * g.strides[k]
	}
	return l
}

// MultiIndex writes the multi-index of linear index l into dst and returns
// it. If dst is nil a new slice is allocated.
func (g *Grid) MultiIndex(dst []int, l int) []int {
	if l < 0 || l >= g.n {
		panic("grid: linear index out of range")
	}
	if dst == nil {
		dst = make([]int, len(g.shape))
	}
	if len(dst) != len(g.shape) {
		panic("grid: wrong multi-index length")
	}
	for k := range g.shape {
		dst[k] = l / g.strides[k]
		l -= dst[k] * g.strides[k]
	}
	return dst
}

// Centre writes the coordinates of the centre of cell l into dst and returns
// it. If dst is nil a new slice is allocated.
func (g *Grid) Centre(dst []float64, l int) []float64 {
	if dst == nil {
		dst = make([]float64, len(g.shape))
	}
	for k := range g.shape {
		i := l / g.strides[k]
		l -= i * g.strides[k]
		dst[k] = g.centres[k][i]
	}
	return dst
}

// Volume returns the volume (length, area) of cell l.
func (g *Grid) Volume(l int) float64 {
	v := 1.0
	for k := range g.shape {
		i := l / g.strides[k]
		l -= i * g.strides[k]
		v *= g.widths[k][i]
	}
	return v
}

// Volumes writes the volume of every cell into dst (length Len) and returns
// it. If dst is nil a new slice is allocated.
func (g *Grid) Volumes(dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, g.n)
	}
	if len(dst) != g.n {
		panic("grid: wrong length for Volumes")
	}
	for l := range dst {
		dst[l] = g.Volume(l)
	}
	return dst
}

// Uniform reports whether every axis has equal cell widths (to a relative
// 1e-12).
func (g *Grid) Uniform() bool {
	for k := range g.shape {
		w := g.widths[k]
		for _, x := range w {
			if math.Abs(x-w[0]) > 1e-12*math.Abs(w[0]) {
				return false
			}
		}
	}
	return true
}

// String returns a one-line summary such as "x[-4,4]x128 y[-4,4]x128".
func (g *Grid) String() string {
	var b strings.Builder
	for k, a := range g.axes {
		if k > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s[%g,%g]x%d", a.Name, g.Lower(k), g.Upper(k), a.Len())
	}
	return b.String()
}
