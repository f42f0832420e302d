package validation

import (
	"fmt"
	"math"
	"sync"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// Coefficients are the drift mu and diffusion D of dX = mu dt + sqrt(2D) dW,
// evaluated on batches of points in structure-of-arrays form: x[k][i] is
// coordinate k of point i, for i < n = len(x[0]), and every row of x and dst
// has length n. Batches hold up to Settings.ChunkSize points.
//
// Implementations must be safe for concurrent use (Simulate calls them from
// several goroutines at once, on different batches), must not retain x or
// dst, and should not allocate. The optional interfaces ConstantDiffuser,
// DiagonalDiffuser, AffineDrifter, TimeVarying and Divergencer declare
// structure that Simulate exploits; PropertiesOf collects them.
type Coefficients interface {
	// Dim returns the number of space dimensions d.
	Dim() int
	// DriftBatch writes mu_k(x_i, t) into dst[k][i] (d rows).
	DriftBatch(dst, x [][]float64, t float64)
	// DiffusionBatch writes D_kl(x_i, t) into dst[k*d+l][i] (d*d rows,
	// row-major in (k, l)). D must be symmetric positive semi-definite.
	// If the coefficients declare Diagonal, only the rows k*d+k are read
	// and the others need not be written.
	DiffusionBatch(dst, x [][]float64, t float64)
}

// ConstantDiffuser is implemented by Coefficients that can report a
// diffusion matrix independent of x and t. Simulate then factors 2D once.
type ConstantDiffuser interface {
	// ConstantDiffusion returns D (d×d, row-major) and true if D is
	// constant; otherwise nil and false. The slice must not be modified.
	ConstantDiffusion() (d []float64, ok bool)
}

// DiagonalDiffuser is implemented by Coefficients that can declare D
// diagonal everywhere.
type DiagonalDiffuser interface {
	// Diagonal reports whether D is diagonal for all x and t.
	Diagonal() bool
}

// AffineDrifter is implemented by Coefficients that can report an affine,
// time-independent drift mu(x) = b − A x.
type AffineDrifter interface {
	// Affine returns b (length d) and A (d×d, row-major) and true if the
	// drift is affine; otherwise nil, nil, false. The slices must not be
	// modified.
	Affine() (b, a []float64, ok bool)
}

// TimeVarying is implemented by Coefficients that can report whether they
// depend on t. Simulate evaluates the coefficients at the time of each
// step (and stage) either way; the property is informational.
type TimeVarying interface {
	// TimeDependent reports whether mu or D depends on t.
	TimeDependent() bool
}

// Divergencer is implemented by Coefficients that can evaluate
// (div D)_k = sum_l ∂_l D_kl exactly (from symbolic derivatives, say).
// Without it Simulate differentiates DiffusionBatch numerically.
type Divergencer interface {
	// DivergenceBatch writes (div D)_k(x_i, t) into dst[k][i].
	DivergenceBatch(dst, x [][]float64, t float64)
}

// Properties collects the optional structure of Coefficients.
type Properties struct {
	// ConstantDiffusion is D (d×d, row-major) if it is constant, else nil.
	ConstantDiffusion []float64
	// Diagonal reports that D is diagonal everywhere.
	Diagonal bool
	// AffineB and AffineA describe an affine drift b − A x (nil if none).
	AffineB, AffineA []float64
	// TimeDependent reports that the coefficients depend on t. It is true
	// when the coefficients do not implement TimeVarying.
	TimeDependent bool
	// ExactDivergence reports that the coefficients implement Divergencer.
	ExactDivergence bool
}

// PropertiesOf returns the optional structure that c declares. A constant
// diffusion with zero off-diagonal entries, and any D in one dimension, is
// reported Diagonal.
func PropertiesOf(c Coefficients) Properties {
	d := c.Dim()
	var p Properties
	p.Diagonal = d == 1
	p.TimeDependent = true
	if tv, ok := c.(TimeVarying); ok {
		p.TimeDependent = tv.TimeDependent()
	}
	if dd, ok := c.(DiagonalDiffuser); ok && dd.Diagonal() {
		p.Diagonal = true
	}
	if cd, ok := c.(ConstantDiffuser); ok {
		if m, ok := cd.ConstantDiffusion(); ok {
			if len(m) != d*d {
				panic(fmt.Sprintf("validation: ConstantDiffusion has length %d, want %d", len(m), d*d))
			}
			p.ConstantDiffusion = m
			if !p.Diagonal {
				p.Diagonal = true
				for k := 0; k < d; k++ {
					for l := 0; l < d; l++ {
						if k != l && m[k*d+l] != 0 {
							p.Diagonal = false
						}
					}
				}
			}
		}
	}
	if af, ok := c.(AffineDrifter); ok {
		if b, a, ok := af.Affine(); ok {
			if len(b) != d || len(a) != d*d {
				panic(fmt.Sprintf("validation: Affine has lengths %d and %d, want %d and %d", len(b), len(a), d, d*d))
			}
			p.AffineB, p.AffineA = b, a
		}
	}
	_, p.ExactDivergence = c.(Divergencer)
	return p
}

// Linear is the Ornstein–Uhlenbeck family: affine drift mu(x) = B − A x and
// constant diffusion D, in any dimension. It implements every optional
// interface, so that Simulate runs it at full speed.
type Linear struct {
	A []float64 // d×d, row-major
	B []float64 // length d; nil means zero
	D []float64 // d×d, row-major, symmetric positive semi-definite
}

var (
	_ Coefficients     = Linear{}
	_ ConstantDiffuser = Linear{}
	_ DiagonalDiffuser = Linear{}
	_ AffineDrifter    = Linear{}
	_ TimeVarying      = Linear{}
)

// Dim returns d, from the length of D.
func (l Linear) Dim() int {
	d := int(math.Round(math.Sqrt(float64(len(l.D)))))
	if d*d != len(l.D) || len(l.A) != d*d || (l.B != nil && len(l.B) != d) {
		panic(fmt.Sprintf("validation: Linear has inconsistent lengths A %d, B %d, D %d", len(l.A), len(l.B), len(l.D)))
	}
	return d
}

// DriftBatch writes B − A x.
func (l Linear) DriftBatch(dst, x [][]float64, _ float64) {
	d := len(dst)
	for k := 0; k < d; k++ {
		affineRow(dst[k], x, l.bk(k), l.A[k*d:k*d+d])
	}
}

func (l Linear) bk(k int) float64 {
	if l.B == nil {
		return 0
	}
	return l.B[k]
}

// affineRow writes b − sum_j a[j] x[j] into dst, in one pass per nonzero
// a[j].
func affineRow(dst []float64, x [][]float64, b float64, a []float64) {
	first := true
	for j, aj := range a {
		if aj == 0 {
			continue
		}
		xj := x[j][:len(dst)]
		if first {
			for i := range dst {
				dst[i] = b - aj*xj[i]
			}
			first = false
			continue
		}
		for i := range dst {
			dst[i] -= aj * xj[i]
		}
	}
	if first {
		for i := range dst {
			dst[i] = b
		}
	}
}

// DiffusionBatch writes the constant D.
func (l Linear) DiffusionBatch(dst, _ [][]float64, _ float64) {
	for kl, row := range dst {
		v := l.D[kl]
		for i := range row {
			row[i] = v
		}
	}
}

// ConstantDiffusion returns D, true.
func (l Linear) ConstantDiffusion() ([]float64, bool) { return l.D, true }

// Diagonal reports whether the off-diagonal entries of D are zero.
func (l Linear) Diagonal() bool {
	d := l.Dim()
	for k := 0; k < d; k++ {
		for j := 0; j < d; j++ {
			if j != k && l.D[k*d+j] != 0 {
				return false
			}
		}
	}
	return true
}

// Affine returns B (zeros if nil) and A.
func (l Linear) Affine() (b, a []float64, ok bool) {
	b = l.B
	if b == nil {
		b = make([]float64, l.Dim())
	}
	return b, l.A, true
}

// TimeDependent returns false.
func (l Linear) TimeDependent() bool { return false }

// ModelCoefficients adapts an operators.Model, whose functions take one
// point at a time, to Coefficients: the batch methods loop over the points.
// A Potential U adds −grad U by central differences with step
// 1e-5 × (the grid's length along the axis), whose error is
// O(1e-10 U”') + O(1e-11 U/L) relative — far below any sampling noise.
type ModelCoefficients struct {
	m    operators.Model
	h    []float64 // difference steps for the potential
	pool sync.Pool // *modelScratch
}

type modelScratch struct {
	x, mu, dd []float64
}

var (
	_ Coefficients     = (*ModelCoefficients)(nil)
	_ DiagonalDiffuser = (*ModelCoefficients)(nil)
	_ TimeVarying      = (*ModelCoefficients)(nil)
)

// FromModel returns the Coefficients of m. The grid g (of the same
// dimension) sets the step of the potential's differences; it may be nil if
// m has no Potential. The convention is not part of the coefficients: set
// Problem.Convention, normally to m.Convention. It panics if m has no
// Diffusion or the dimensions disagree.
func FromModel(m operators.Model, g *grid.Grid) *ModelCoefficients {
	if m.Diffusion == nil {
		panic("validation: model has no Diffusion")
	}
	if m.Dim < 1 || (g != nil && g.Dim() != m.Dim) {
		panic(fmt.Sprintf("validation: model dimension %d does not fit the grid", m.Dim))
	}
	mc := &ModelCoefficients{m: m, h: make([]float64, m.Dim)}
	for k := range mc.h {
		mc.h[k] = 1e-5
		if g != nil {
			mc.h[k] = 1e-5 * g.Length(k)
		}
	}
	d := m.Dim
	mc.pool.New = func() any {
		return &modelScratch{x: make([]float64, d), mu: make([]float64, d), dd: make([]float64, d*d)}
	}
	return mc
}

// Model returns the adapted model.
func (mc *ModelCoefficients) Model() operators.Model { return mc.m }

// Dim returns the model's dimension.
func (mc *ModelCoefficients) Dim() int { return mc.m.Dim }

// Diagonal returns the model's Diagonal flag.
func (mc *ModelCoefficients) Diagonal() bool { return mc.m.Diagonal }

// TimeDependent returns the model's TimeDependent flag.
func (mc *ModelCoefficients) TimeDependent() bool { return mc.m.TimeDependent }

// DriftBatch evaluates Drift (and −grad U) point by point.
func (mc *ModelCoefficients) DriftBatch(dst, x [][]float64, t float64) {
	d := mc.m.Dim
	n := len(dst[0])
	s := mc.pool.Get().(*modelScratch)
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			s.x[k] = x[k][i]
		}
		if mc.m.Drift != nil {
			mc.m.Drift(s.mu, s.x, t)
		} else {
			clear(s.mu)
		}
		if mc.m.Potential != nil {
			for k := 0; k < d; k++ {
				xk, h := s.x[k], mc.h[k]
				s.x[k] = xk + h
				up := mc.m.Potential(s.x, t)
				s.x[k] = xk - h
				um := mc.m.Potential(s.x, t)
				s.x[k] = xk
				s.mu[k] -= (up - um) / (2 * h)
			}
		}
		for k := 0; k < d; k++ {
			dst[k][i] = s.mu[k]
		}
	}
	mc.pool.Put(s)
}

// DiffusionBatch evaluates Diffusion point by point.
func (mc *ModelCoefficients) DiffusionBatch(dst, x [][]float64, t float64) {
	d := mc.m.Dim
	n := len(x[0])
	s := mc.pool.Get().(*modelScratch)
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			s.x[k] = x[k][i]
		}
		mc.m.Diffusion(s.dd, s.x, t)
		if mc.m.Diagonal {
			for k := 0; k < d; k++ {
				dst[k*d+k][i] = s.dd[k*d+k]
			}
			continue
		}
		for kl, v := range s.dd {
			dst[kl][i] = v
		}
	}
	mc.pool.Put(s)
}
