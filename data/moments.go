package data

import (
	"github.com/fokkerplanck/fokker/grid"
)

// Moments are the mass, mean and covariance of a density on a grid, the
// quantities stored in /mass, /mean and /covariance.
//
//	Mass       = Σ_l p_l V_l
//	Mean[k]    = Σ_l x_k(l) p_l V_l / Mass
//	Cov[k*d+j] = Σ_l (x_k(l) - Mean[k]) (x_j(l) - Mean[j]) p_l V_l / Mass
//
// where V_l is the volume of cell l and x(l) its centre (grid.Moments). Mean
// and Cov are NaN when Mass is zero.
type Moments struct {
	Mass float64
	Mean []float64 // length d
	Cov  []float64 // d×d, row-major
}

// ComputeMoments writes the moments of the density p (row-major on g, last
// axis fastest) into dst, resizing dst.Mean and dst.Cov if needed. It does not
// allocate once dst has been used with a grid of the same dimension. It
// panics if len(p) != g.Len().
func ComputeMoments(dst *Moments, g *grid.Grid, p []float64) {
	if len(p) != g.Len() {
		panic("data: ComputeMoments: density length does not match the grid")
	}
	d := g.Dim()
	dst.Mean = resize(dst.Mean, d)
	dst.Cov = resize(dst.Cov, d*d)
	dst.Mass = g.Moments(p, dst.Mean, dst.Cov)
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
