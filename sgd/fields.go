package sgd

import (
	"github.com/fokkerplanck/fokker/grid"
)

// Fields are the coefficients of a Config at the cell centres, for output
// and plots. Component slices are indexed by cell.
type Fields struct {
	// Loss is the mean loss L.
	Loss []float64
	// Drift[k] is mu_k.
	Drift [][]float64
	// Diffusion[i*d+j] is D_ij (symmetric).
	Diffusion [][]float64
	// NoiseDrift[k] is −(div D)_k = −sum_j ∂_j D_kj, by central differences
	// of the centre values (one-sided in the first and last cell of an axis,
	// across the wrap on periodic axes): the drift that the Itô flux adds
	// to mu, pushing probability towards low gradient noise.
	NoiseDrift [][]float64
}

// Fields evaluates the coefficients of c at the cell centres.
func (ls *Landscape) Fields(c Config) (*Fields, error) {
	m, err := ls.Model(c)
	if err != nil {
		return nil, err
	}
	g := ls.g
	d, n := ls.d, g.Len()
	f := &Fields{Loss: ls.value, Drift: alloc2(d, n), Diffusion: alloc2(d*d, n), NoiseDrift: alloc2(d, n)}
	x := make([]float64, d)
	mu := make([]float64, d)
	dm := make([]float64, d*d)
	for l := 0; l < n; l++ {
		g.Centre(x, l)
		m.Drift(mu, x, 0)
		m.Diffusion(dm, x, 0)
		for k := 0; k < d; k++ {
			f.Drift[k][l] = mu[k]
		}
		for k := range dm {
			f.Diffusion[k][l] = dm[k]
		}
	}
	div := make([]float64, n)
	for k := 0; k < d; k++ {
		for j := 0; j < d; j++ {
			Derivative(div, g, f.Diffusion[k*d+j], j)
			for l := range div {
				f.NoiseDrift[k][l] -= div[l]
			}
		}
	}
	return f, nil
}

// Derivative writes the derivative of the cell field v along axis k into
// dst: central differences between the neighbouring centres (second order on
// uniform axes), one-sided in the first and last cell of a non-periodic
// axis. A field on an axis of one cell has derivative zero.
func Derivative(dst []float64, g *grid.Grid, v []float64, k int) {
	c := g.Centres(k)
	nk := len(c)
	s := g.Strides()[k]
	per := g.Periodic(k)
	L := g.Length(k)
	for l := range v {
		i := (l / s) % nk
		if nk == 1 {
			dst[l] = 0
			continue
		}
		lo, hi := i-1, i+1
		xlo, xhi := 0.0, 0.0
		switch {
		case i == 0 && per:
			lo = nk - 1
			xlo = c[lo] - L
		case i == 0:
			lo = 0
			xlo = c[0]
		default:
			xlo = c[lo]
		}
		switch {
		case i == nk-1 && per:
			hi = 0
			xhi = c[0] + L
		case i == nk-1:
			hi = nk - 1
			xhi = c[hi]
		default:
			xhi = c[hi]
		}
		dst[l] = (v[l+(hi-i)*s] - v[l+(lo-i)*s]) / (xhi - xlo)
	}
}

// Flux returns the probability flux of the density p under the
// coefficients f at the cell centres,
//
//	J_k = mu_k p − sum_j D_kj ∂_j p − (div D)_k p,
//
// with the derivatives of p by central differences (Derivative). For a
// stationary density its divergence vanishes; what is left is the
// circulation that a non-gradient, noise-driven stationary state carries
// (zero in 1D with reflecting walls).
func Flux(g *grid.Grid, f *Fields, p []float64) [][]float64 {
	d, n := g.Dim(), g.Len()
	J := alloc2(d, n)
	dp := alloc2(d, n)
	for j := 0; j < d; j++ {
		Derivative(dp[j], g, p, j)
	}
	for k := 0; k < d; k++ {
		for l := 0; l < n; l++ {
			v := (f.Drift[k][l] + f.NoiseDrift[k][l]) * p[l]
			for j := 0; j < d; j++ {
				v -= f.Diffusion[k*d+j][l] * dp[j][l]
			}
			J[k][l] = v
		}
	}
	return J
}
