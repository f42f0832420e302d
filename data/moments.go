package data

import (
	"math"

	"github.com/fokkerplanck/fokker/grid"
)

// Moments are the mass, mean and covariance of a density on a grid, the
// quantities stored in /mass, /mean and /covariance.
//
//	Mass       = Σ_l p_l V_l
//	Mean[k]    = Σ_l x_k(l) p_l V_l / Mass
//	Cov[k*d+j] = Σ_l (x_k(l) - Mean[k]) (x_j(l) - Mean[j]) p_l V_l / Mass
//
// where V_l is the volume of cell l and x(l) its centre. Mean and Cov are NaN
// when Mass is zero.
type Moments struct {
	Mass float64
	Mean []float64 // length d
	Cov  []float64 // d×d, row-major

	idx []int // multi-index workspace
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
	if cap(dst.idx) < d {
		dst.idx = make([]int, d)
	}
	// The last axis runs fastest: loop over rows along it, with the weight
	// and the coordinates of the other axes fixed per row.
	last := d - 1
	idx, shape := dst.idx[:last], g.Shape()[:last]
	wl, xl := g.Widths(last), g.Centres(last)
	nl := len(wl)
	mean, cov := dst.Mean, dst.Cov

	// Two passes (mean, then centred second moments) so that the covariance
	// of a narrow density far from the origin does not lose digits.
	mass := 0.0
	clear(mean)
	clear(idx)
	for r := 0; r < len(p); r += nl {
		wo := 1.0
		for k, i := range idx {
			wo *= g.Widths(k)[i]
		}
		var s0, s1 float64
		for j, v := range p[r : r+nl] {
			w := v * wl[j]
			s0 += w
			s1 += w * xl[j]
		}
		s0 *= wo
		mass += s0
		for k, i := range idx {
			mean[k] += s0 * g.Centres(k)[i]
		}
		mean[last] += s1 * wo
		next(idx, shape)
	}
	dst.Mass = mass
	clear(cov)
	if mass == 0 {
		for k := range mean {
			mean[k] = math.NaN()
		}
		for k := range cov {
			cov[k] = math.NaN()
		}
		return
	}
	for k := range mean {
		mean[k] /= mass
	}
	ml := mean[last]
	clear(idx)
	for r := 0; r < len(p); r += nl {
		wo := 1.0
		for k, i := range idx {
			wo *= g.Widths(k)[i]
		}
		var s0, s1, s2 float64
		for j, v := range p[r : r+nl] {
			w := v * wl[j]
			dx := xl[j] - ml
			s0 += w
			s1 += w * dx
			s2 += w * dx * dx
		}
		s0, s1, s2 = s0*wo, s1*wo, s2*wo
		for k, i := range idx {
			dk := g.Centres(k)[i] - mean[k]
			for j := k; j < last; j++ {
				dj := g.Centres(j)[idx[j]] - mean[j]
				cov[k*d+j] += s0 * dk * dj
			}
			cov[k*d+last] += s1 * dk
		}
		cov[last*d+last] += s2
		next(idx, shape)
	}
	for k := 0; k < d; k++ {
		for j := k; j < d; j++ {
			c := cov[k*d+j] / mass
			cov[k*d+j] = c
			cov[j*d+k] = c
		}
	}
}

// next advances the row-major multi-index idx within shape.
func next(idx, shape []int) {
	for k := len(idx) - 1; k >= 0; k-- {
		idx[k]++
		if idx[k] < shape[k] {
			return
		}
		idx[k] = 0
	}
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
