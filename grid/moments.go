package grid

import "math"

// Mass returns the integral of the density p over the grid: sum p_l V_l.
func (g *Grid) Mass(p []float64) float64 {
	return g.Moments(p, nil, nil)
}

// Moments returns the mass of the density p and writes its mean vector
// (length Dim) and covariance matrix (Dim×Dim, row-major) into mean and cov,
// normalised by the mass:
//
//	mass       = sum_l p_l V_l
//	mean[k]    = sum_l x_k(l) p_l V_l / mass
//	cov[k*d+j] = sum_l (x_k(l) − mean[k]) (x_j(l) − mean[j]) p_l V_l / mass
//
// with x(l) the centre of cell l (the midpoint rule). mean and cov may be
// nil to skip them; they are NaN when the mass is zero. The covariance is
// computed in a second pass about the mean, so that a narrow density far
// from the origin keeps its digits. Moments does not allocate.
func (g *Grid) Moments(p, mean, cov []float64) (mass float64) {
	d := g.Dim()
	if len(p) != g.n {
		panic("grid: wrong density length")
	}
	if mean != nil && len(mean) != d || cov != nil && len(cov) != d*d {
		panic("grid: wrong moment lengths")
	}
	// The last axis runs fastest: loop over rows along it, with the weight
	// and the coordinates of the other axes fixed per row.
	var idxBuf [8]int
	idx := idxBuf[:0]
	if d-1 <= len(idxBuf) {
		idx = idxBuf[:d-1]
	} else {
		idx = make([]int, d-1)
	}
	last := d - 1
	wl, xl := g.widths[last], g.centres[last]
	nl := len(wl)
	var m1Buf [8]float64
	m1 := m1Buf[:0]
	if d <= len(m1Buf) {
		m1 = m1Buf[:d]
	} else {
		m1 = make([]float64, d)
	}
	clear(idx)
	for r := 0; r < len(p); r += nl {
		wo := 1.0
		for k, i := range idx {
			wo *= g.widths[k][i]
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
			m1[k] += s0 * g.centres[k][i]
		}
		m1[last] += s1 * wo
		g.nextRow(idx)
	}
	if mean == nil && cov == nil {
		return mass
	}
	if mass == 0 {
		for k := range mean {
			mean[k] = math.NaN()
		}
		for k := range cov {
			cov[k] = math.NaN()
		}
		return mass
	}
	for k := range m1 {
		m1[k] /= mass
	}
	if mean != nil {
		copy(mean, m1)
	}
	if cov == nil {
		return mass
	}
	clear(cov)
	ml := m1[last]
	clear(idx)
	for r := 0; r < len(p); r += nl {
		wo := 1.0
		for k, i := range idx {
			wo *= g.widths[k][i]
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
			dk := g.centres[k][i] - m1[k]
			for j := k; j < last; j++ {
				dj := g.centres[j][idx[j]] - m1[j]
				cov[k*d+j] += s0 * dk * dj
			}
			cov[k*d+last] += s1 * dk
		}
		cov[last*d+last] += s2
		g.nextRow(idx)
	}
	for k := 0; k < d; k++ {
		for j := k; j < d; j++ {
			c := cov[k*d+j] / mass
			cov[k*d+j] = c
			cov[j*d+k] = c
		}
	}
	return mass
}

// nextRow advances the multi-index of the leading d−1 axes in row-major
// order.
func (g *Grid) nextRow(idx []int) {
	for k := len(idx) - 1; k >= 0; k-- {
		idx[k]++
		if idx[k] < g.shape[k] {
			return
		}
		idx[k] = 0
	}
}
