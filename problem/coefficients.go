package problem

import (
	"sync"

	"github.com/fokkerplanck/fokker/expression"
	"github.com/fokkerplanck/fokker/validation"
)

// Coefficients are the model's coefficients evaluated in batches over
// structure-of-arrays points, for particle simulations: the compiled
// expressions run column-wise (expression.EvalBatch), a potential's gradient
// and the divergence of D come from symbolic derivatives, and constant,
// diagonal and affine structure is reported so that the particle code can
// take its fast paths.
type Coefficients struct {
	d        int
	nv       int
	drift    []*expression.Expr   // per axis, nil if zero
	gradU    []*expression.Expr   // per axis, nil if no potential
	diff     [][]*expression.Expr // d×d, nil where zero
	div      [][]*expression.Expr // div[i][j] = ∂_j D_ij
	diagonal bool
	timeDep  bool
	constD   []float64
	affB     []float64
	affA     []float64
	scalars  [][]float64 // length-1 columns: t and the (bound) parameters
	pool     sync.Pool
}

var (
	_ validation.Coefficients     = (*Coefficients)(nil)
	_ validation.ConstantDiffuser = (*Coefficients)(nil)
	_ validation.DiagonalDiffuser = (*Coefficients)(nil)
	_ validation.AffineDrifter    = (*Coefficients)(nil)
	_ validation.TimeVarying      = (*Coefficients)(nil)
	_ validation.Divergencer      = (*Coefficients)(nil)
)

// Coefficients returns the batch coefficients of the problem's model.
func (p *Problem) Coefficients() (*Coefficients, error) {
	d := p.Grid.Dim()
	axes := p.Grid.Names()
	c := &Coefficients{d: d, nv: len(p.Vars), drift: p.Drift, diff: p.Diffusion, diagonal: p.Model.Diagonal, timeDep: p.Model.TimeDependent}
	if c.drift == nil {
		c.drift = make([]*expression.Expr, d)
	}
	if p.Potential != nil {
		c.gradU = make([]*expression.Expr, d)
		for k, a := range axes {
			g, err := p.Potential.Derivative(a)
			if err != nil {
				return nil, p.Spec.Wrap("model.potential", err)
			}
			c.gradU[k] = g
		}
	}
	c.div = make([][]*expression.Expr, d)
	for i := 0; i < d; i++ {
		c.div[i] = make([]*expression.Expr, d)
		for j := 0; j < d; j++ {
			if e := c.diff[i][j]; e != nil {
				g, err := e.Derivative(axes[j])
				if err != nil {
					return nil, p.Spec.Wrap("model.diffusion", err)
				}
				c.div[i][j] = g
			}
		}
	}
	c.scalars = make([][]float64, c.nv-d)
	for i := range c.scalars {
		c.scalars[i] = []float64{0}
	}
	// Constant diffusion.
	constant := true
	cd := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			if e := c.diff[i][j]; e != nil {
				if !e.IsConstant() {
					constant = false
				} else {
					cd[i*d+j] = e.Value()
				}
			}
		}
	}
	if constant {
		c.constD = cd
	}
	// Affine drift: every partial derivative of mu = drift − grad U is
	// constant and nothing depends on t. Then mu = b − A x with b = mu(0).
	affine := true
	a := make([]float64, d*d)
	b := make([]float64, d)
	x0 := make([]float64, c.nv)
	for i := 0; i < d && affine; i++ {
		terms := []struct {
			e    *expression.Expr
			sign float64
		}{{c.drift[i], 1}}
		if c.gradU != nil {
			terms = append(terms, struct {
				e    *expression.Expr
				sign float64
			}{c.gradU[i], -1})
		}
		for _, tm := range terms {
			if tm.e == nil {
				continue
			}
			if tm.e.Uses("t") {
				affine = false
				break
			}
			for j, ax := range axes {
				de, err := tm.e.Derivative(ax)
				if err != nil || !de.IsConstant() {
					affine = false
					break
				}
				a[i*d+j] -= tm.sign * de.Value()
			}
			b[i] += tm.sign * tm.e.Eval(x0)
		}
	}
	if affine {
		c.affA, c.affB = a, b
	}
	c.pool.New = func() any { s := make([]float64, 0, 4096); return &s }
	return c, nil
}

// Dim implements validation.Coefficients.
func (c *Coefficients) Dim() int { return c.d }

// cols lays out the expression columns: the coordinates, then t and the
// parameters as length-1 columns.
func (c *Coefficients) cols(buf [][]float64, x [][]float64, t []float64) [][]float64 {
	buf = append(buf[:0], x...)
	buf = append(buf, t)
	return append(buf, c.scalars[1:]...)
}

// DriftBatch implements validation.Coefficients.
func (c *Coefficients) DriftBatch(dst, x [][]float64, t float64) {
	var colBuf [16][]float64
	tt := [1]float64{t}
	cols := c.cols(colBuf[:0], x, tt[:])
	n := len(x[0])
	for i := 0; i < c.d; i++ {
		if e := c.drift[i]; e != nil {
			e.EvalBatch(dst[i][:n], cols)
		} else {
			clear(dst[i][:n])
		}
		if c.gradU != nil {
			sp := c.pool.Get().(*[]float64)
			s := grow(*sp, n)
			c.gradU[i].EvalBatch(s, cols)
			for k := range s {
				dst[i][k] -= s[k]
			}
			*sp = s
			c.pool.Put(sp)
		}
	}
}

// DiffusionBatch implements validation.Coefficients.
func (c *Coefficients) DiffusionBatch(dst, x [][]float64, t float64) {
	var colBuf [16][]float64
	tt := [1]float64{t}
	cols := c.cols(colBuf[:0], x, tt[:])
	n := len(x[0])
	for i := 0; i < c.d; i++ {
		for j := 0; j < c.d; j++ {
			if e := c.diff[i][j]; e != nil {
				e.EvalBatch(dst[i*c.d+j][:n], cols)
			} else {
				clear(dst[i*c.d+j][:n])
			}
		}
	}
}

// DivergenceBatch implements validation.Divergencer: (div D)_i = sum_j ∂_j D_ij
// from symbolic derivatives.
func (c *Coefficients) DivergenceBatch(dst, x [][]float64, t float64) {
	var colBuf [16][]float64
	tt := [1]float64{t}
	cols := c.cols(colBuf[:0], x, tt[:])
	n := len(x[0])
	sp := c.pool.Get().(*[]float64)
	s := grow(*sp, n)
	for i := 0; i < c.d; i++ {
		clear(dst[i][:n])
		for j := 0; j < c.d; j++ {
			if e := c.div[i][j]; e != nil {
				e.EvalBatch(s, cols)
				for k := range s {
					dst[i][k] += s[k]
				}
			}
		}
	}
	*sp = s
	c.pool.Put(sp)
}

// ConstantDiffusion implements validation.ConstantDiffuser.
func (c *Coefficients) ConstantDiffusion() ([]float64, bool) { return c.constD, c.constD != nil }

// Diagonal implements validation.DiagonalDiffuser.
func (c *Coefficients) Diagonal() bool { return c.diagonal }

// Affine implements validation.AffineDrifter: mu = b − A x.
func (c *Coefficients) Affine() (b, a []float64, ok bool) { return c.affB, c.affA, c.affA != nil }

// TimeDependent implements validation.TimeVarying.
func (c *Coefficients) TimeDependent() bool { return c.timeDep }

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
